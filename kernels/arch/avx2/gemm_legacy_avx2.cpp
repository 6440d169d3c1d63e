// AVX2 GEMM for the 32-element formats: Q4_0, Q5_0, Q8_0, IQ4_NL x Q8_0 and Q4_1, Q5_1 x Q8_1
// (reference: kernels/arch/scalar/gemm_legacy_scalar.cpp).
//
// One 256-bit register holds one block. vpmaddubsw multiplies UNSIGNED by SIGNED bytes and adds
// pairs into saturating int16, so:
// * signed weights (Q4_0, Q5_0, Q8_0, IQ4_NL) use the sign trick: |w| (unsigned) times a with
//   w's sign moved onto it (vpsignb). |w| <= 128, |a| <= 127, so a pair sums to at most
//   2·128·127 = 32512 and never saturates. (Offsetting w to unsigned instead would overflow.)
// * the _1 formats are unsigned already (q <= 31) and multiply a directly.
// vpmaddwd with ones then widens the pairs to int32; the int32 lanes are scaled by d_w·d_a per
// block and accumulated in float, and reduced once per (row, token) at the end.
// A tile of 4 rows x 2 tokens reuses each unpacked weight block for two tokens.
#include <immintrin.h>

#include <cstddef>
#include <cstring>

#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// An f16 bit pattern broadcast to 8 float lanes.
__m256 broadcast_f16(uint16_t h) { return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(h))); }

// --- Activation formats ------------------------------------------------------------------------

struct ActQ8_0 {
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr size_t kQs = offsetof(BlockQ8_0, qs);
  static constexpr size_t kD = offsetof(BlockQ8_0, d);
  static constexpr size_t kS = 0;  // unused: no block sum
};

struct ActQ8_1 {
  static constexpr size_t kBytes = sizeof(BlockQ8_1);
  static constexpr size_t kQs = offsetof(BlockQ8_1, qs);
  static constexpr size_t kD = offsetof(BlockQ8_1, d);
  static constexpr size_t kS = offsetof(BlockQ8_1, s);
};

// --- Weight formats: one block -> 32 bytes q in element order ---------------------------------

// Low nibbles of 16 bytes as elements 0..15, high nibbles as 16..31.
__m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// 0x10 in byte j where bit j of the little-endian u32 qh is set (the fifth bit of Q5_*): byte j
// gets qh's byte j / 8 (vpshufb), then tests its bit j % 8.
__m256i fifth_bits(const uint8_t* qh) {
  const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(load_u32(qh))),
                                             _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202,
                                                                0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
}

struct Q4_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) {
    return _mm256_sub_epi8(unpack_nibbles(b + offsetof(BlockQ4_0, qs)), _mm256_set1_epi8(8));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ4_0, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

struct Q4_1 {
  using Act = ActQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr bool kSigned = false;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* b) { return unpack_nibbles(b + offsetof(BlockQ4_1, qs)); }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ4_1, d)); }
  static uint16_t m(const uint8_t* b) { return load_u16(b + offsetof(BlockQ4_1, m)); }
};

struct Q5_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) {
    const __m256i q = _mm256_or_si256(unpack_nibbles(b + offsetof(BlockQ5_0, qs)), fifth_bits(b + offsetof(BlockQ5_0, qh)));
    return _mm256_sub_epi8(q, _mm256_set1_epi8(16));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ5_0, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

struct Q5_1 {
  using Act = ActQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr bool kSigned = false;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* b) {
    return _mm256_or_si256(unpack_nibbles(b + offsetof(BlockQ5_1, qs)), fifth_bits(b + offsetof(BlockQ5_1, qh)));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ5_1, d)); }
  static uint16_t m(const uint8_t* b) { return load_u16(b + offsetof(BlockQ5_1, m)); }
};

struct Q8_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + offsetof(BlockQ8_0, qs)));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ8_0, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

struct IQ4_NL {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockIQ4_NL);
  static constexpr bool kSigned = true;
  static constexpr bool kHasMin = false;
  // vpshufb looks the nibbles up in the 16 signed levels, in both lanes.
  static __m256i unpack(const uint8_t* b) {
    const __m128i levels = _mm_loadu_si128(reinterpret_cast<const __m128i*>(iq::kValuesIq4nl));
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(levels), unpack_nibbles(b + offsetof(BlockIQ4_NL, qs)));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockIQ4_NL, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

// One weight block as the dot product needs it: the multiplier bytes (|w| or w), the weights
// themselves for the sign trick, and the scale (and min) broadcast to 8 lanes.
struct WeightBlock {
  __m256i mag;
  __m256i q;
  __m256 d;
  __m256 m;
};

template <typename W>
WeightBlock load_weight_block(const uint8_t* blk) {
  WeightBlock o;
  o.q = W::unpack(blk);
  o.mag = W::kSigned ? _mm256_abs_epi8(o.q) : o.q;
  o.d = broadcast_f16(W::d(blk));
  // m·s is added once per block, spread over 8 lanes as m·(s/8).
  o.m = W::kHasMin ? _mm256_mul_ps(broadcast_f16(W::m(blk)), _mm256_set1_ps(0.125f)) : _mm256_setzero_ps();
  return o;
}

// Σ w·a of one block in 8 int32 lanes.
template <typename W>
__m256i block_dot(const WeightBlock& wb, __m256i a) {
  const __m256i signed_a = W::kSigned ? _mm256_sign_epi8(a, wb.q) : a;
  const __m256i pairs = _mm256_maddubs_epi16(wb.mag, signed_a);
  return _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
}

float reduce_add(__m256 v) {
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// R rows x T tokens, all nb blocks.
template <typename W, int R, int T>
void tile(const uint8_t* w, size_t w_stride, int64_t nb, const uint8_t* a, size_t a_stride, float* y, size_t y_stride) {
  using A = typename W::Act;
  __m256 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    WeightBlock wb[R];
    for (int r = 0; r < R; ++r) wb[r] = load_weight_block<W>(w + r * w_stride + b * W::kBytes);
    for (int t = 0; t < T; ++t) {
      const uint8_t* ablk = a + t * a_stride + b * A::kBytes;
      const __m256i aq = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ablk + A::kQs));
      const __m256 ad = broadcast_f16(load_u16(ablk + A::kD));
      for (int r = 0; r < R; ++r) {
        const __m256 sum = _mm256_cvtepi32_ps(block_dot<W>(wb[r], aq));
        acc[r][t] = _mm256_fmadd_ps(sum, _mm256_mul_ps(wb[r].d, ad), acc[r][t]);
        if constexpr (W::kHasMin) acc[r][t] = _mm256_fmadd_ps(wb[r].m, broadcast_f16(load_u16(ablk + A::kS)), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = reduce_add(acc[r][t]);
}

template <typename W, int R>
void tile_tokens(const uint8_t* w, size_t w_stride, int64_t nb, const uint8_t* a, size_t a_stride, int64_t n_tok,
                 float* y, size_t y_stride) {
  int64_t t = 0;
  for (; t + 2 <= n_tok; t += 2) tile<W, R, 2>(w, w_stride, nb, a + t * a_stride, a_stride, y + t * y_stride, y_stride);
  if (t < n_tok) tile<W, R, 1>(w, w_stride, nb, a + t * a_stride, a_stride, y + t * y_stride, y_stride);
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const int64_t nb = k / kQK;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) tile_tokens<W, 4>(wb + r * w_stride, w_stride, nb, ab, a_stride, n_tok, y + r, y_stride);
  for (; r < n_rows; ++r) tile_tokens<W, 1>(wb + r * w_stride, w_stride, nb, ab, a_stride, n_tok, y + r, y_stride);
}

}  // namespace

void gemm_q4_0_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q4_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_1_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q4_1>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_0_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q5_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_1_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q5_1>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q8_0_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q8_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_nl_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<IQ4_NL>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
