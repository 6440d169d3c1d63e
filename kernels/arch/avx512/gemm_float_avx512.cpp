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
// As in the quantised kernels, each row also prefetches the position that is read about this many
// bytes later in the weight stream (the hardware prefetcher lags behind).
constexpr size_t kPrefetchBytes = 8192;

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

// Elements i..i+15 (masked to `m`) of R rows x T tokens into acc.
template <typename W, int R, int T, bool kTail>
inline __attribute__((always_inline)) void tile_step(int64_t i, __mmask16 m, const uint8_t* w, size_t w_stride,
                                                     size_t prefetch_ahead, const uint8_t* a, size_t a_stride,
                                                     __m512 (&acc)[R][T]) {
  __m512 x[T];
  for (int t = 0; t < T; ++t)
    x[t] = kTail ? _mm512_maskz_loadu_ps(m, a + t * a_stride + i * 4) : _mm512_loadu_ps(a + t * a_stride + i * 4);
  for (int r = 0; r < R; ++r) {
    const uint8_t* wr = w + r * w_stride + i * W::kSize;
    if (!kTail && i % (64 / W::kSize) == 0)  // once per cache line
      _mm_prefetch(reinterpret_cast<const char*>(wr + prefetch_ahead), _MM_HINT_T0);
    const __m512 wv = kTail ? W::load_tail(wr, m) : W::load(wr);
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, x[t], acc[r][t]);
  }
}

// R rows x T tokens over the whole row length k (any k: the last < 16 elements are masked), with
// kChains accumulators per (row, token) that take 16-element steps in turn.
template <typename W, int R, int T, int kChains>
void tile(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, float* y, size_t y_stride) {
  // Whole tiles of R rows ahead, at least kPrefetchBytes (a single row may have a zero stride).
  const size_t prefetch_ahead = w_stride ? (kPrefetchBytes / w_stride / R + 1) * R * w_stride : kPrefetchBytes;
  __m512 acc[kChains][R][T];
  for (int c = 0; c < kChains; ++c)
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[c][r][t] = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 * kChains <= k; i += 16 * kChains)
    for (int c = 0; c < kChains; ++c)
      tile_step<W, R, T, false>(i + 16 * c, 0, w, w_stride, prefetch_ahead, a, a_stride, acc[c]);
  for (; i + 16 <= k; i += 16) tile_step<W, R, T, false>(i, 0, w, w_stride, prefetch_ahead, a, a_stride, acc[0]);
  if (i < k) {
    const __mmask16 m = static_cast<__mmask16>((1u << (k - i)) - 1u);
    tile_step<W, R, T, true>(i, m, w, w_stride, prefetch_ahead, a, a_stride, acc[0]);
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      __m512 sum = acc[0][r][t];
      for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c][r][t]);
      y[t * y_stride + r] = _mm512_reduce_add_ps(sum);
    }
  }
}

template <typename W, int R>
void tile_tokens(int64_t k, const uint8_t* w, size_t w_stride, const uint8_t* a, size_t a_stride, int64_t n_tok,
                 float* y, size_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n_tok; t += 4) tile<W, R, 4, 1>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride);
  switch (n_tok - t) {
    case 3: tile<W, R, 3, 1>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride); break;
    case 2: tile<W, R, 2, 1>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride); break;
    case 1: tile<W, R, 1, 1>(k, w, w_stride, a + t * a_stride, a_stride, y + t * y_stride, y_stride); break;
    default: break;
  }
}

// Two paths, each computing a (row, token) the same way in any call (batch invariance,
// kernels/kernels.hpp):
// * narrow (fewer than kFloatAvx512WideMinTokens tokens, decode): each (row, token) alone, one row
//   streaming after another; a lone (row, token) would be one chain of dependent FMAs, so four
//   accumulators rotate;
// * wide: 4-row x 4-token tiles with one accumulator per (row, token), remainders alike.
template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  if (n_tok < kFloatAvx512WideMinTokens) {
    for (int64_t r = 0; r < n_rows; ++r)
      for (int64_t t = 0; t < n_tok; ++t)
        tile<W, 1, 1, 4>(k, wb + r * w_stride, w_stride, ab + t * a_stride, a_stride, y + t * y_stride + r, y_stride);
    return;
  }
  const size_t act_row_bytes = static_cast<size_t>(k) * 4;
  int64_t chunk = static_cast<int64_t>(kActChunkBytes / (act_row_bytes > 0 ? act_row_bytes : 1)) / 4 * 4;
  if (chunk < 4) chunk = 4;
  for (int64_t t0 = 0; t0 < n_tok; t0 += chunk) {
    const int64_t nt = n_tok - t0 < chunk ? n_tok - t0 : chunk;
    const uint8_t* at = ab + t0 * a_stride;
    float* yt = y + t0 * y_stride;
    int64_t r = 0;
    if (nt > 1)
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
