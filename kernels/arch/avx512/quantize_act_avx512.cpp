// AVX-512 activation quantisers (F, BW, VL, DQ only: no VNNI or BF16 instructions), byte-identical
// with the scalar reference in kernels/quant/quantize_act.cpp for every input. The reference's
// roundings are reproduced exactly, not approximated by the CPU's default ones:
// * Q8_0/Q8_1 round with std::roundf (ties away from zero). With t = trunc(v), v - t is exact and
//   lies in (-1, 1), so trunc(2 (v - t)) is +-1 exactly when the fraction is at least one half:
//   roundf(v) = trunc(v) + trunc(2 (v - t)).
// * Q8_K rounds with ggml's nearest_int: the same magic-number add and bit masking, per lane.
// * amax skips NaN as std::fmax does: max_ps(a, b) returns b when either is NaN, and b is the
//   running maximum, which starts at 0 and so never becomes NaN.
// * The int32 -> int8 narrowing (vpmovdb) keeps the low byte, as static_cast<int8_t> does.
// * f16 uses vcvtps2ph (round to nearest even, subnormals and overflow to inf as the reference)
//   and then rewrites NaNs to sign | 0x7E00. bf16 is the reference's integer rounding per lane:
//   vcvtneps2bf16 would flush subnormals.
// kernels/fp16.hpp is deliberately not included: an inline function compiled here with AVX flags
// could be the copy the linker keeps for baseline code (kernels/arch/tables.hpp).
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* placeholders (GCC PR105593);
// the warning fires where the intrinsics are inlined, so it stays off for the whole file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/arch/tables.hpp"
#include "kernels/quant/formats.hpp"

namespace lem {
namespace {

// max |x[j]| over j < n (n a multiple of 32), skipping NaN.
float max_abs(const float* x, int n) {
  __m512 m0 = _mm512_setzero_ps(), m1 = m0;
  for (int j = 0; j < n; j += 32) {
    m0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + j)), m0);
    m1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + j + 16)), m1);
  }
  const __m512 m16 = _mm512_max_ps(m0, m1);
  const __m256 m8 = _mm256_max_ps(_mm512_castps512_ps256(m16), _mm512_extractf32x8_ps(m16, 1));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m8), _mm256_extractf128_ps(m8, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ps(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// Index of the first j with |x[j]| == amax: the reference keeps the first of equal maxima.
int first_index_of_abs(const float* x, int n, float amax) {
  const __m512 target = _mm512_set1_ps(amax);
  for (int j = 0; j < n; j += 16) {
    const __mmask16 hits = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), target, _CMP_EQ_OQ);
    if (hits != 0) return j + __builtin_ctz(static_cast<unsigned>(hits));
  }
  return 0;  // not reached: amax is one of the |x[j]|
}

// std::roundf per lane, as int32.
__m512i round_half_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_sub_ps(v, t);
  return _mm512_add_epi32(_mm512_cvttps_epi32(t), _mm512_cvttps_epi32(_mm512_add_ps(frac, frac)));
}

// ggml's nearest_int per lane (ties to even, for |v| < 2^22), then the reference's top clamp.
__m512i nearest_int_max127(__m512 v) {
  const __m512i bits = _mm512_castps_si512(_mm512_add_ps(v, _mm512_set1_ps(12582912.f)));
  const __m512i mantissa = _mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff));
  const __m512i q = _mm512_sub_epi32(mantissa, _mm512_set1_epi32(0x00400000));
  return _mm512_min_epi32(q, _mm512_set1_epi32(127));
}

int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

// F16 conversion keeps a NaN's sign and top payload bits (with the quiet bit 0x200 set); the
// reference turns every NaN into sign | 0x7E00, i.e. clears the 9 payload bits below the quiet bit.
__m256i f16_nan_as_reference(__m256i h) {
  const __m256i is_nan = _mm256_cmpgt_epi16(_mm256_and_si256(h, _mm256_set1_epi16(0x7FFF)), _mm256_set1_epi16(0x7C00));
  return _mm256_andnot_si256(_mm256_and_si256(is_nan, _mm256_set1_epi16(0x01FF)), h);
}

__m256i f16x16(__m512 v) { return f16_nan_as_reference(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT)); }

uint16_t f16_bits(float f) {
  const auto h = static_cast<uint16_t>(_mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT), 0));
  return (h & 0x7FFF) > 0x7C00 ? static_cast<uint16_t>((h & 0x8000) | 0x7E00) : h;  // NaN as the reference
}

// f32_to_bf16 per lane: round to nearest even on the bits; a NaN is truncated and made quiet.
__m256i bf16x16(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i magnitude = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
  const __mmask16 is_nan = _mm512_cmpgt_epi32_mask(magnitude, _mm512_set1_epi32(0x7F800000));
  const __m512i high = _mm512_srli_epi32(u, 16);
  const __m512i bias = _mm512_add_epi32(_mm512_set1_epi32(0x7FFF), _mm512_and_si512(high, _mm512_set1_epi32(1)));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, bias), 16);
  const __m512i quiet_nan = _mm512_or_si512(high, _mm512_set1_epi32(0x40));
  return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(is_nan, rounded, quiet_nan));
}

struct ToF16 {
  static __m256i convert(__m512 v) { return f16x16(v); }
};
struct ToBf16 {
  static __m256i convert(__m512 v) { return bf16x16(v); }
};

// Applies a 16-lane float -> 16-bit conversion to a row, the tail with masked loads and stores.
template <typename To>
void convert_row_16bit(const float* x, uint16_t* out, int64_t k) {
  int64_t i = 0;
  for (; i + 16 <= k; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), To::convert(_mm512_loadu_ps(x + i)));
  if (i < k) {
    const __mmask16 tail = static_cast<__mmask16>((1u << (k - i)) - 1u);
    _mm256_mask_storeu_epi16(out + i, tail, To::convert(_mm512_maskz_loadu_ps(tail, x + i)));
  }
}

// 32 values x * id rounded half away from zero, as int8.
__m256i round_block_32(const float* x, float id) {
  const __m512 vid = _mm512_set1_ps(id);
  const __m128i lo = _mm512_cvtepi32_epi8(round_half_away(_mm512_mul_ps(_mm512_loadu_ps(x), vid)));
  const __m128i hi = _mm512_cvtepi32_epi8(round_half_away(_mm512_mul_ps(_mm512_loadu_ps(x + 16), vid)));
  return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
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
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK) {
    const float d = max_abs(x, kQK) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const __m256i q = round_block_32(x, id);
    out[b].d = f16_bits(d);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs), q);
    const int sum = hsum_i32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16));
    // s is computed from the float32 d, not the rounded f16 one (ggml does the same).
    out[b].s = f16_bits(static_cast<float>(sum) * d);
  }
}

// bsums[g] = qs[16g] + ... + qs[16g + 15], g < 16.
void store_bsums(const int8_t* qs, int16_t* bsums) {
  const __m512i ones8 = _mm512_set1_epi8(1), ones16 = _mm512_set1_epi16(1);
  __m512i quads[4];  // quads[c] lane i: qs[64c + 4i] + ... + qs[64c + 4i + 3]; 4 lanes per group
  for (int c = 0; c < 4; ++c)
    quads[c] = _mm512_madd_epi16(_mm512_maddubs_epi16(ones8, _mm512_loadu_si512(qs + 64 * c)), ones16);
  // Adding the even and the odd lanes of a register pair halves the lanes per group: 4 -> 2 -> 1.
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i halves_0_7 = _mm512_add_epi32(_mm512_permutex2var_epi32(quads[0], even, quads[1]),
                                              _mm512_permutex2var_epi32(quads[0], odd, quads[1]));
  const __m512i halves_8_15 = _mm512_add_epi32(_mm512_permutex2var_epi32(quads[2], even, quads[3]),
                                               _mm512_permutex2var_epi32(quads[2], odd, quads[3]));
  const __m512i sums = _mm512_add_epi32(_mm512_permutex2var_epi32(halves_0_7, even, halves_8_15),
                                        _mm512_permutex2var_epi32(halves_0_7, odd, halves_8_15));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(bsums), _mm512_cvtepi32_epi16(sums));  // |sum| <= 2048
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
    const __m512 vscale = _mm512_set1_ps(iscale);
    for (int j = 0; j < kQK_K; j += 16) {
      const __m512i q = nearest_int_max127(_mm512_mul_ps(_mm512_loadu_ps(x + j), vscale));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(y.qs + j), _mm512_cvtepi32_epi8(q));
    }
    store_bsums(y.qs, y.bsums);
    y.d = 1.0f / iscale;
  }
}

}  // namespace

void quantize_activation_row_avx512(ActType a, const float* x, void* out, int64_t k) {
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
