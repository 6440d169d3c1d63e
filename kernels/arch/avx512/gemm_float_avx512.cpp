// AVX-512 GEMM for float weights (F32, F16, BF16) x float32 activations (reference:
// kernels/arch/scalar/gemm_float_scalar.cpp; why float32 activations: kernels/arch/legacy_kernels.hpp).
//
// Weights are widened to float32 in registers (vcvtph2ps for F16, a 16-bit shift for BF16, both
// exact) and multiplied with fused multiply-adds. A 4-row x 4-token tile keeps 16 accumulators
// of 16 lanes, so each weight vector is widened once and used for 4 tokens, and each activation
// vector is loaded once for 4 rows. For many tokens, the token loop is cut into chunks whose
// activations fit in L2, so that they are read from cache once per 4 rows.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* placeholders (GCC PR105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>

#include "kernels/arch/legacy_kernels.hpp"

namespace lem {
namespace {

// Activations of one chunk of tokens should stay in L2 (1 MiB per core on Zen 4/5; leave room).
constexpr size_t kActChunkBytes = 256 * 1024;

struct F32 {
  static constexpr size_t kSize = 4;
  static __m512 load(const uint8_t* p) { return _mm512_loadu_ps(p); }
  static __m512 load_tail(const uint8_t* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};

struct F16 {
  static constexpr size_t kSize = 2;
  static __m512 load(const uint8_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 load_tail(const uint8_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
};

// bf16 is the upper half of a float32.
struct BF16 {
  static constexpr size_t kSize = 2;
  static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
  static __m512 load(const uint8_t* p) { return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 load_tail(const uint8_t* p, __mmask16 m) { return widen(_mm256_maskz_loadu_epi16(m, p)); }
};

// R rows x T tokens over the whole row length k (any k: the last < 16 elements are masked).
template <typename W, int R, int T>
void tile(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y, size_t y_stride) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= k; i += 16) {
    __m512 x[T];
    for (int t = 0; t < T; ++t) x[t] = _mm512_loadu_ps(a + t * a_stride + i * 4);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = W::load(w + r * w_stride + i * W::kSize);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, x[t], acc[r][t]);
    }
  }
  if (i < k) {
    const __mmask16 m = static_cast<__mmask16>((1u << (k - i)) - 1u);
    __m512 x[T];
    for (int t = 0; t < T; ++t) x[t] = _mm512_maskz_loadu_ps(m, a + t * a_stride + i * 4);
    for (int r = 0; r < R; ++r) {
      const __m512 wv = W::load_tail(w + r * w_stride + i * W::kSize, m);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, x[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <typename W, int R>
void tile_tokens(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, int64_t n_tok,
                 float* y, size_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n_tok; t += 4) tile<W, R, 4>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride);
  switch (n_tok - t) {
    case 3: tile<W, R, 3>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride); break;
    case 2: tile<W, R, 2>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride); break;
    case 1: tile<W, R, 1>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride); break;
    default: break;
  }
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  const size_t act_row_bytes = static_cast<size_t>(k) * 4;
  int64_t chunk = static_cast<int64_t>(kActChunkBytes / (act_row_bytes > 0 ? act_row_bytes : 1)) / 4 * 4;
  if (chunk < 4) chunk = 4;
  for (int64_t t0 = 0; t0 < n_tok; t0 += chunk) {
    const int64_t nt = n_tok - t0 < chunk ? n_tok - t0 : chunk;
    const uint8_t* at = ab + t0 * a_stride;
    float* yt = y + t0 * y_stride;
    int64_t r = 0;
    for (; r + 4 <= n_rows; r += 4) tile_tokens<W, 4>(k, wb + r * w_stride, w_stride, at, a_stride, nt, yt + r, y_stride);
    for (; r < n_rows; ++r) tile_tokens<W, 1>(k, wb + r * w_stride, w_stride, at, a_stride, nt, yt + r, y_stride);
  }
}

}  // namespace

void gemm_f32_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                     int64_t n_tok, float* y, size_t y_stride) {
  gemm<F32>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_f16_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                     int64_t n_tok, float* y, size_t y_stride) {
  gemm<F16>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_bf16_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<BF16>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
