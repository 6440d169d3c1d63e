// AVX2 + FMA + F16C GEMM for float weights (F32, F16, BF16) x float32 activations (reference:
// kernels/arch/scalar/gemm_float_scalar.cpp; why float32 activations: kernels/arch/legacy_kernels.hpp).
//
// Weights are widened to float32 in registers (vcvtph2ps for F16, a 16-bit shift for BF16, both
// exact). A 4-row x 2-token tile keeps 8 accumulators, so each weight vector is widened once for
// two tokens. Token chunks are sized so that their activations stay in L2 (as in the AVX-512 file).
#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "kernels/arch/legacy_kernels.hpp"

namespace lem {
namespace {

constexpr size_t kActChunkBytes = 256 * 1024;

struct F32 {
  static constexpr size_t kSize = 4;
  static __m256 load(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
};

struct F16 {
  static constexpr size_t kSize = 2;
  static __m256 load(const uint8_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
};

// bf16 is the upper half of a float32.
struct BF16 {
  static constexpr size_t kSize = 2;
  static __m256 load(const uint8_t* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
};

// The last n < 8 elements, zero-padded to a full vector.
template <typename W>
__m256 load_tail(const uint8_t* p, int64_t n) {
  alignas(32) uint8_t buf[8 * W::kSize] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * W::kSize);
  return W::load(buf);
}

float reduce_add(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// R rows x T tokens over the whole row length k.
template <typename W, int R, int T>
void tile(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y, size_t y_stride) {
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    __m256 x[T];
    for (int t = 0; t < T; ++t) x[t] = F32::load(a + t * a_stride + i * 4);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = W::load(w + r * w_stride + i * W::kSize);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, x[t], acc[r][t]);
    }
  }
  if (i < k) {
    __m256 x[T];
    for (int t = 0; t < T; ++t) x[t] = load_tail<F32>(a + t * a_stride + i * 4, k - i);
    for (int r = 0; r < R; ++r) {
      const __m256 wv = load_tail<W>(w + r * w_stride + i * W::kSize, k - i);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, x[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = reduce_add(acc[r][t]);
}

template <typename W, int R>
void tile_tokens(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, int64_t n_tok,
                 float* y, size_t y_stride) {
  int64_t t = 0;
  for (; t + 2 <= n_tok; t += 2) tile<W, R, 2>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride);
  if (t < n_tok) tile<W, R, 1>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride);
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  const size_t act_row_bytes = static_cast<size_t>(k) * 4;
  int64_t chunk = static_cast<int64_t>(kActChunkBytes / (act_row_bytes > 0 ? act_row_bytes : 1)) / 2 * 2;
  if (chunk < 2) chunk = 2;
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

void gemm_f32_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                   int64_t n_tok, float* y, size_t y_stride) {
  gemm<F32>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_f16_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                   int64_t n_tok, float* y, size_t y_stride) {
  gemm<F16>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_bf16_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<BF16>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
