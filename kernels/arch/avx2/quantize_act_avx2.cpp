// AVX2 activation quantisers (AVX2, FMA, F16C), byte-identical with the scalar reference in
// kernels/quant/quantize_act.cpp for every input. The reference's roundings are reproduced
// exactly, not approximated by the CPU's default ones:
// * Q8_0/Q8_1 round with std::roundf (ties away from zero). With t = trunc(v), v - t is exact and
//   lies in (-1, 1), so trunc(2 (v - t)) is +-1 exactly when the fraction is at least one half:
//   roundf(v) = trunc(v) + trunc(2 (v - t)).
// * Q8_K rounds with ggml's nearest_int: the same magic-number add and bit masking, per lane.
// * amax skips NaN as std::fmax does: max_ps(a, b) returns b when either is NaN, and b is the
//   running maximum, which starts at 0 and so never becomes NaN.
// * The integer -> int8 narrowing keeps the low byte, as static_cast<int8_t> does.
// * f16 uses F16C (round to nearest even, subnormals and overflow to inf as the reference) and
//   then rewrites NaNs to sign | 0x7E00; bf16 is the reference's integer rounding per lane.
// kernels/fp16.hpp is deliberately not included: an inline function compiled here with AVX flags
// could be the copy the linker keeps for baseline code (kernels/arch/tables.hpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/arch/tables.hpp"
#include "kernels/quant/formats.hpp"

namespace lem {
namespace {

__m256 abs_ps(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }

// max |x[j]| over j < n (n a multiple of 32), skipping NaN.
float max_abs(const float* x, int n) {
  __m256 m0 = _mm256_setzero_ps(), m1 = m0, m2 = m0, m3 = m0;
  for (int j = 0; j < n; j += 32) {
    m0 = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + j)), m0);
    m1 = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + j + 8)), m1);
    m2 = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + j + 16)), m2);
    m3 = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + j + 24)), m3);
  }
  const __m256 m = _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ps(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// Index of the first j with |x[j]| == amax: the reference keeps the first of equal maxima.
int first_index_of_abs(const float* x, int n, float amax) {
  const __m256 target = _mm256_set1_ps(amax);
  for (int j = 0; j < n; j += 8) {
    const int hits = _mm256_movemask_ps(_mm256_cmp_ps(abs_ps(_mm256_loadu_ps(x + j)), target, _CMP_EQ_OQ));
    if (hits != 0) return j + __builtin_ctz(static_cast<unsigned>(hits));
  }
  return 0;  // not reached: amax is one of the |x[j]|
}

// std::roundf per lane, as int32.
__m256i round_half_away(__m256 v) {
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_sub_ps(v, t);
  return _mm256_add_epi32(_mm256_cvttps_epi32(t), _mm256_cvttps_epi32(_mm256_add_ps(frac, frac)));
}

// ggml's nearest_int per lane (ties to even, for |v| < 2^22), then the reference's top clamp.
__m256i nearest_int_max127(__m256 v) {
  const __m256i bits = _mm256_castps_si256(_mm256_add_ps(v, _mm256_set1_ps(12582912.f)));
  const __m256i mantissa = _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff));
  const __m256i q = _mm256_sub_epi32(mantissa, _mm256_set1_epi32(0x00400000));
  return _mm256_min_epi32(q, _mm256_set1_epi32(127));
}

// The low bytes of 4 x 8 int32 lanes, in order.
__m256i low_bytes(__m256i a, __m256i b, __m256i c, __m256i d) {
  const __m256i byte_mask = _mm256_set1_epi32(0xFF);
  // Values 0..255 pass both unsigned-saturating packs unchanged. Per 128-bit lane, ab holds
  // a0-3 b0-3 | a4-7 b4-7 and abcd a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7.
  const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, byte_mask), _mm256_and_si256(b, byte_mask));
  const __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, byte_mask), _mm256_and_si256(d, byte_mask));
  const __m256i abcd = _mm256_packus_epi16(ab, cd);
  return _mm256_permutevar8x32_epi32(abcd, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

// Sums of 4 neighbouring int8 values: lane i = q[4i] + ... + q[4i + 3].
__m256i sum_quads_i8(__m256i q) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), q), _mm256_set1_epi16(1));
}

// F16C keeps a NaN's sign and top payload bits (with the quiet bit 0x200 set); the reference
// turns every NaN into sign | 0x7E00, i.e. clears the 9 payload bits below the quiet bit.
__m128i f16_nan_as_reference(__m128i h) {
  const __m128i is_nan = _mm_cmpgt_epi16(_mm_and_si128(h, _mm_set1_epi16(0x7FFF)), _mm_set1_epi16(0x7C00));
  return _mm_andnot_si128(_mm_and_si128(is_nan, _mm_set1_epi16(0x01FF)), h);
}

__m128i f16x8(__m256 v) { return f16_nan_as_reference(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); }

uint16_t f16_bits(float f) {
  const __m128i h = f16_nan_as_reference(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT));
  return static_cast<uint16_t>(_mm_extract_epi16(h, 0));
}

// f32_to_bf16 per lane: round to nearest even on the bits; a NaN is truncated and made quiet.
__m128i bf16x8(__m256 v) {
  const __m256i u = _mm256_castps_si256(v);
  const __m256i magnitude = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
  const __m256i is_nan = _mm256_cmpgt_epi32(magnitude, _mm256_set1_epi32(0x7F800000));
  const __m256i high = _mm256_srli_epi32(u, 16);
  const __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7FFF), _mm256_and_si256(high, _mm256_set1_epi32(1)));
  const __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, bias), 16);
  const __m256i quiet_nan = _mm256_or_si256(high, _mm256_set1_epi32(0x40));
  const __m256i r = _mm256_blendv_epi8(rounded, quiet_nan, is_nan);
  return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));  // all lanes <= 0xFFFF
}

struct ToF16 {
  static __m128i convert(__m256 v) { return f16x8(v); }
};
struct ToBf16 {
  static __m128i convert(__m256 v) { return bf16x8(v); }
};

// Applies an 8-lane float -> 16-bit conversion to a row, the tail through a padded copy.
template <typename To>
void convert_row_16bit(const float* x, uint16_t* out, int64_t k) {
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), To::convert(_mm256_loadu_ps(x + i)));
  if (i < k) {
    const size_t n = static_cast<size_t>(k - i);
    float tail[8] = {};
    uint16_t converted[8];
    std::memcpy(tail, x + i, n * sizeof(float));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(converted), To::convert(_mm256_loadu_ps(tail)));
    std::memcpy(out + i, converted, n * sizeof(uint16_t));
  }
}

// 32 values x * id rounded half away from zero, as int8.
__m256i round_block_32(const float* x, float id) {
  const __m256 vid = _mm256_set1_ps(id);
  return low_bytes(round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x), vid)),
                   round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 8), vid)),
                   round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 16), vid)),
                   round_half_away(_mm256_mul_ps(_mm256_loadu_ps(x + 24), vid)));
}

void quantize_q8_0(const float* x, BlockQ8_0* out, int64_t k) {
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK) {
    const float d = max_abs(x, kQK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f16_bits(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), round_block_32(x, id));
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* out, int64_t k) {
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK) {
    const float d = max_abs(x, kQK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256i q = round_block_32(x, id);
    out[b].d = f16_bits(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), q);
    // s is computed from the float32 d, not the rounded f16 one (ggml does the same).
    out[b].s = f16_bits(static_cast<float>(hsum_i32(sum_quads_i8(q))) * d);
  }
}

// bsums[g] = qs[16g] + ... + qs[16g + 15], g < 16.
void store_bsums(const int8_t* qs, int16_t* bsums) {
  __m256i quads[8];  // quads[i]: 4 sums of 4 of group 2i in the low 128-bit lane, of group 2i + 1 in the high one
  for (int i = 0; i < 8; ++i)
    quads[i] = sum_quads_i8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * i)));
  // hadd adds neighbouring pairs within each 128-bit lane: 4 sums per group -> 2 -> 1.
  const __m256i g0_7 = _mm256_hadd_epi32(_mm256_hadd_epi32(quads[0], quads[1]), _mm256_hadd_epi32(quads[2], quads[3]));
  const __m256i g8_15 = _mm256_hadd_epi32(_mm256_hadd_epi32(quads[4], quads[5]), _mm256_hadd_epi32(quads[6], quads[7]));
  // g0_7 = g0 g2 g4 g6 | g1 g3 g5 g7; packed = g0 g2 .. g14 | g1 g3 .. g15 as int16 (|sum| <= 2048).
  const __m256i packed = _mm256_packs_epi32(g0_7, g8_15);
  const __m128i even = _mm256_castsi256_si128(packed);
  const __m128i odd = _mm256_extracti128_si256(packed, 1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(bsums), _mm_unpacklo_epi16(even, odd));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(bsums + 8), _mm_unpackhi_epi16(even, odd));
}

void quantize_q8_k(const float* x, BlockQ8_K* out, int64_t k) {
  for (int64_t b = 0; b < k / kQK_K; ++b, x += kQK_K) {
    BlockQ8_K& y = out[b];
    const float amax = max_abs(x, kQK_K);
    if (amax == 0.0f) {
      std::memset(&y, 0, sizeof y);  // as the reference
      continue;
    }
    const float max = x[first_index_of_abs(x, kQK_K, amax)];
    const float iscale = -127.0f / max;
    const __m256 vscale = _mm256_set1_ps(iscale);
    for (int j = 0; j < kQK_K; j += 32) {
      const __m256i q = low_bytes(nearest_int_max127(_mm256_mul_ps(_mm256_loadu_ps(x + j), vscale)),
                                  nearest_int_max127(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8), vscale)),
                                  nearest_int_max127(_mm256_mul_ps(_mm256_loadu_ps(x + j + 16), vscale)),
                                  nearest_int_max127(_mm256_mul_ps(_mm256_loadu_ps(x + j + 24), vscale)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + j), q);
    }
    store_bsums(y.qs, y.bsums);
    y.d = 1.0f / iscale;
  }
}

}  // namespace

void quantize_activation_row_avx2(ActType a, const float* x, void* out, int64_t k) {
  switch (a) {
    case ActType::F32: std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float)); return;
    case ActType::F16: convert_row_16bit<ToF16>(x, static_cast<uint16_t*>(out), k); return;
    case ActType::BF16: convert_row_16bit<ToBf16>(x, static_cast<uint16_t*>(out), k); return;
    case ActType::Q8_0: quantize_q8_0(x, static_cast<BlockQ8_0*>(out), k); return;
    case ActType::Q8_1: quantize_q8_1(x, static_cast<BlockQ8_1*>(out), k); return;
    case ActType::Q8_K: quantize_q8_k(x, static_cast<BlockQ8_K*>(out), k); return;
  }
}

}  // namespace lem
