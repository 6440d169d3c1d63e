// AVX-512 decoding of Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS super-blocks into unsigned 8-bit
// codes and float sub-block scales, for the GEMM in gemm_kquants_avx512.cpp. Included only by
// translation units compiled with the AVX-512 flags; everything is internal to each of them.
//
// Every type is reduced to the same form: 256 unsigned codes c (for vpdpbusd, which multiplies
// unsigned by signed bytes) and per sub-block a float scale `d` and either a float min `m`
// (Q2_K, Q4_K, Q5_K: w = d * c - m) or a code offset shared by the type (Q3_K: 4, Q6_K: 32,
// IQ4_XS: 128, the value table shifted: w = d * (c - offset)).
//
// Codes come in two orders:
// * natural (element e in byte e), for the repacked path that interleaves 16 rows;
// * a "lane layout" for the direct path: four 64-byte vectors W[0..3] where qword slot p of W[j]
//   holds the 8 elements starting at Layout::element[j][p]. It is chosen so that every int32 lane
//   of a vpdpbusd accumulator only ever sees one sub-block: with sub-blocks of 32 (Q4_K, Q5_K,
//   IQ4_XS) slot p of all four vectors is sub-block p (one accumulator); with sub-blocks of 16
//   (Q2_K, Q3_K, Q6_K) slot p of W[0], W[1] is one sub-block and of W[2], W[3] another (two
//   accumulators). The layouts keep the weight decode to a few qword permutes and per-qword
//   variable shifts; the activations are rearranged to match once per call.
#pragma once

// GCC 12's AVX-512 headers make the "undefined" pass-through operand of many intrinsics from a
// self-initialised variable, which -Wuninitialized then reports at every inlined use (GCC PR
// 105593, fixed in GCC 13). The state at the header's lines is what counts, so this precedes it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

// Everything here must inline into the GEMM loops: an out-of-line call would spill the decoded
// block to memory (and GCC inserts vzeroupper at every call).
#define LEM_INLINE [[gnu::always_inline]] inline

// --- lane layouts ----------------------------------------------------------------------------------

struct Layout {
  int element[4][8];  // first element of qword slot p of W[j]; each slot holds 8 consecutive elements
  int accumulators;   // 1: all four W[j] share lane sub-blocks; 2: W[0..1] and W[2..3]
  int span;           // elements per sub-block (32 or 16)
  bool has_min;       // w = d * c - m (else w = d * (c - code_offset))
  float code_offset;
};

// Q4_K, Q5_K, IQ4_XS: slot p of W[j] = quarter j of sub-block p.
constexpr Layout make_quarter_layout(bool has_min, float code_offset) {
  Layout l{};
  for (int j = 0; j < 4; ++j)
    for (int p = 0; p < 8; ++p) l.element[j][p] = 32 * p + 8 * j;
  l.accumulators = 1;
  l.span = 32;
  l.has_min = has_min;
  l.code_offset = code_offset;
  return l;
}

// Q2_K, Q3_K, Q6_K: W[1] = W[0] + 8 elements (the other half of the same 16-element sub-block),
// W[2], W[3] = W[0], W[1] + 64. `first(p)` gives W[0]'s slots.
template <typename First>
constexpr Layout make_half_layout(First first, bool has_min, float code_offset) {
  Layout l{};
  for (int p = 0; p < 8; ++p) {
    l.element[0][p] = first(p);
    l.element[1][p] = first(p) + 8;
    l.element[2][p] = first(p) + 64;
    l.element[3][p] = first(p) + 72;
  }
  l.accumulators = 2;
  l.span = 16;
  l.has_min = has_min;
  l.code_offset = code_offset;
  return l;
}

// Q2_K/Q3_K: slot p of W[0] is crumb p % 2 of qs qword 2 (p / 2): element 128h + 32j + 16k with
// (h, k, j) = (p / 4, p / 2 % 2, p % 2).
constexpr int crumb_first(int p) { return 128 * (p / 4) + 32 * (p % 2) + 16 * (p / 2 % 2); }
// Q6_K: slot p of W[0] is the low nibbles of ql qword 2p: element 128 (p / 4) + 16 (p % 4).
constexpr int q6_first(int p) { return 128 * (p / 4) + 16 * (p % 4); }

constexpr Layout kQ2KLayout = make_half_layout(crumb_first, true, 0.0f);
constexpr Layout kQ3KLayout = make_half_layout(crumb_first, false, 4.0f);
constexpr Layout kQ4KLayout = make_quarter_layout(true, 0.0f);
constexpr Layout kQ6KLayout = make_half_layout(q6_first, false, 32.0f);
constexpr Layout kIQ4XSLayout = make_quarter_layout(false, 128.0f);

// --- helpers ---------------------------------------------------------------------------------------

// Float scales (and mins) of a super-block's sub-blocks: lane s is sub-block s.
struct SubBlockScales {
  __m512 d;
  __m512 m;  // types with mins only
};

LEM_INLINE __m512i load512(const uint8_t* p) { return _mm512_loadu_si512(p); }
LEM_INLINE __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
LEM_INLINE __m128i load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

LEM_INLINE float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

LEM_INLINE __m512i qwords(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g, int64_t h) {
  return _mm512_set_epi64(h, g, f, e, d, c, b, a);
}

// [v, v >> shift] as one zmm (16-bit shifts: callers mask bits that stay inside each byte).
LEM_INLINE __m512i with_shifted_copy(__m256i v, int shift) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, shift), 1);
}

// Ternary-logic immediate for a | (b & c).
constexpr int kOrAnd = 0xF8;

// Q4_K/Q5_K: 8 scales and 8 mins of 6 bits packed in 12 bytes (ggml's get_scale_min_k4), as
// bytes 0..7 = scales, 8..15 = mins. With u0, u1, u2 the three 32-bit words: scales 0..3 =
// u0 & 63, mins 0..3 = u1 & 63 (per byte); scales 4..7 = low nibbles of u2 | top 2 bits of u0 << 4,
// mins 4..7 = high nibbles of u2 | top 2 bits of u1 << 4. (Reads 16 bytes: the block goes on.)
LEM_INLINE __m128i k4_scales_mins(const uint8_t* p) {
  const __m128i x = load128(p);
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(x, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4)),
                                    _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
  const __m128i top = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(x, _MM_SHUFFLE(1, 1, 0, 0)), 2),
                                    _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(low, top);
}

// Q4_K/Q5_K: d * scale and dmin * min; d and dmin are the two f16 at `d`.
LEM_INLINE SubBlockScales k4_scales(const uint8_t* scales, const uint8_t* d) {
  const __m512 sm = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(k4_scales_mins(scales)));  // sc0..7, m0..7
  uint32_t d_dmin;
  std::memcpy(&d_dmin, d, sizeof d_dmin);
  const __m512 factors = _mm512_permutexvar_ps(_mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0),
                                               _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(d_dmin)))));
  const __m512 v = _mm512_mul_ps(sm, factors);  // d * sc0..7, dmin * m0..7
  return {v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2))};
}

// Q4_K/Q5_K low 4 bits. qs[32g + l] holds element 64g + l (low nibble) and 64g + 32 + l (high).
// Lane layout: slot p of W[j] is qs qword 4 (p / 2) + j, low nibble for even p and high for odd
// p: a two-source qword permute, then a per-qword shift by 0 or 4.
LEM_INLINE void k4_nibbles_lanes(const uint8_t* qs, __m512i (&q)[4]) {
  const __m512i q0 = load512(qs), q1 = load512(qs + 64);
  const __m512i nibble_shift = qwords(0, 4, 0, 4, 0, 4, 0, 4);
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int j = 0; j < 4; ++j) {
    const __m512i x = _mm512_permutex2var_epi64(q0, qwords(j, j, 4 + j, 4 + j, 8 + j, 8 + j, 12 + j, 12 + j), q1);
    q[j] = _mm512_and_si512(_mm512_srlv_epi64(x, nibble_shift), m4);
  }
}

// Natural order: 64 bytes of qs give [e0..31 | e64..95] (low nibbles) and [e32..63 | e96..127]
// (high); 128-bit lane shuffles put them in order.
LEM_INLINE void k4_nibbles_natural(const uint8_t* qs, __m512i (&q)[4]) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int h = 0; h < 2; ++h) {
    const __m512i raw = load512(qs + 64 * h);
    const __m512i lo = _mm512_and_si512(raw, m4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
    q[2 * h] = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    q[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
  }
}

// Q2_K/Q3_K crumbs (element 128h + 32j + l is crumb j of qs[32h + l]). Lane layout: slot p of
// W[0] is crumb p % 2 of qs qword 2 (p / 2), W[1] the next qword, W[2], W[3] the crumbs 2 higher.
LEM_INLINE void crumbs_lanes(const uint8_t* qs, __m512i (&q)[4]) {
  const __m512i raw = load512(qs);
  const __m512i even = _mm512_permutexvar_epi64(qwords(0, 0, 2, 2, 4, 4, 6, 6), raw);
  const __m512i odd = _mm512_permutexvar_epi64(qwords(1, 1, 3, 3, 5, 5, 7, 7), raw);
  const __m512i low = qwords(0, 2, 0, 2, 0, 2, 0, 2), high = qwords(4, 6, 4, 6, 4, 6, 4, 6);
  const __m512i m2 = _mm512_set1_epi8(3);
  q[0] = _mm512_and_si512(_mm512_srlv_epi64(even, low), m2);
  q[1] = _mm512_and_si512(_mm512_srlv_epi64(odd, low), m2);
  q[2] = _mm512_and_si512(_mm512_srlv_epi64(even, high), m2);
  q[3] = _mm512_and_si512(_mm512_srlv_epi64(odd, high), m2);
}

// Natural order: vector m (elements 64m..) is crumbs j = 2 (m % 2), +1 of qs[32 (m / 2) + l].
LEM_INLINE void crumbs_natural(const uint8_t* qs, __m512i (&q)[4]) {
  const __m512i m2 = _mm512_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m512i q2 = with_shifted_copy(load256(qs + 32 * h), 2);  // crumbs j = 0 | 1 in bits 0..1
    q[2 * h] = _mm512_and_si512(q2, m2);
    q[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(q2, 4), m2);  // j = 2 | 3
  }
}

// --- per-type decoding -----------------------------------------------------------------------------
//
// Each type provides: Block, kLayout, lanes(block, q) (codes in the lane layout), natural(block,
// q) (codes in element order, q[m] = elements 64m..64m + 63) and scales(block).

struct Q2K {
  using Block = BlockQ2_K;
  static constexpr const Layout& kLayout = kQ2KLayout;
  LEM_INLINE static void lanes(const uint8_t* b, __m512i (&q)[4]) { crumbs_lanes(b + offsetof(Block, qs), q); }
  LEM_INLINE static void natural(const uint8_t* b, __m512i (&q)[4]) { crumbs_natural(b + offsetof(Block, qs), q); }
  // scales[s]: low nibble scales the 16 elements of sub-block s, high nibble is their min.
  LEM_INLINE static SubBlockScales scales(const uint8_t* b) {
    const __m128i s = load128(b + offsetof(Block, scales));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    return {_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(s, m4))),
                          _mm512_set1_ps(load_f16(b + offsetof(Block, d)))),
            _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(s, 4), m4))),
                          _mm512_set1_ps(load_f16(b + offsetof(Block, dmin))))};
  }
};

// Rotations (per qword slot of W[0..1] and W[2..3]) that bring hmask bit 4h + j of Q3_K's lane
// layout to bit 2. Rotating a 64-bit lane left by up to 2 or right by up to 5 keeps bit 2 of every
// byte within its byte.
struct Q3KHighBitRotation {
  alignas(64) int64_t rot[2][8] = {};
  constexpr Q3KHighBitRotation() {
    for (int half = 0; half < 2; ++half)
      for (int p = 0; p < 8; ++p) rot[half][p] = (2 - (4 * (p / 4) + 2 * half + p % 2)) & 63;
  }
};

// The high bit of element 128h + 32j + 16k + i is bit 4h + j of hmask[16k + i]; set, it adds 4 to
// the code (code = q + 4 in 0..7).
struct Q3K {
  using Block = BlockQ3_K;
  static constexpr const Layout& kLayout = kQ3KLayout;

  // Slot p of W[0] needs hmask qword 2k, W[1] qword 2k + 1.
  LEM_INLINE static void lanes(const uint8_t* b, __m512i (&q)[4]) {
    static constexpr Q3KHighBitRotation kRot;
    crumbs_lanes(b + offsetof(Block, qs), q);
    const __m512i hm = _mm512_castsi256_si512(load256(b + offsetof(Block, hmask)));
    const __m512i hm_even = _mm512_permutexvar_epi64(qwords(0, 0, 2, 2, 0, 0, 2, 2), hm);
    const __m512i hm_odd = _mm512_permutexvar_epi64(qwords(1, 1, 3, 3, 1, 1, 3, 3), hm);
    const __m512i bit2 = _mm512_set1_epi8(4);
    const __m512i rot_low = _mm512_load_si512(kRot.rot[0]), rot_high = _mm512_load_si512(kRot.rot[1]);
    q[0] = _mm512_ternarylogic_epi64(q[0], _mm512_rolv_epi64(hm_even, rot_low), bit2, kOrAnd);
    q[1] = _mm512_ternarylogic_epi64(q[1], _mm512_rolv_epi64(hm_odd, rot_low), bit2, kOrAnd);
    q[2] = _mm512_ternarylogic_epi64(q[2], _mm512_rolv_epi64(hm_even, rot_high), bit2, kOrAnd);
    q[3] = _mm512_ternarylogic_epi64(q[3], _mm512_rolv_epi64(hm_odd, rot_high), bit2, kOrAnd);
  }

  // Natural vector m needs bit 2m of [hmask | hmask >> 1], moved to bit 2.
  LEM_INLINE static void natural(const uint8_t* b, __m512i (&q)[4]) {
    crumbs_natural(b + offsetof(Block, qs), q);
    const __m512i hm = with_shifted_copy(load256(b + offsetof(Block, hmask)), 1);
    const __m512i bit2 = _mm512_set1_epi8(4);
    const __m512i high[4] = {_mm512_slli_epi16(hm, 2), hm, _mm512_srli_epi16(hm, 2), _mm512_srli_epi16(hm, 4)};
    for (int m = 0; m < 4; ++m) q[m] = _mm512_ternarylogic_epi64(q[m], high[m], bit2, kOrAnd);
  }

  // 16 6-bit scales, stored +32: low nibbles in bytes 0..7 (scales 0..7 low, 8..15 high nibble),
  // top 2 bits in the crumbs of bytes 8..11 (scale s in crumb s / 4 of byte 8 + s % 4).
  LEM_INLINE static SubBlockScales scales(const uint8_t* b) {
    uint32_t a[3];
    std::memcpy(a, b + offsetof(Block, scales), sizeof a);
    const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
    const __m128i s = _mm_set_epi32(static_cast<int>(((a[1] >> 4) & m4) | (((a[2] >> 6) & m2) << 4)),
                                    static_cast<int>(((a[0] >> 4) & m4) | (((a[2] >> 4) & m2) << 4)),
                                    static_cast<int>((a[1] & m4) | (((a[2] >> 2) & m2) << 4)),
                                    static_cast<int>((a[0] & m4) | ((a[2] & m2) << 4)));
    return {_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_sub_epi8(s, _mm_set1_epi8(32)))),
                          _mm512_set1_ps(load_f16(b + offsetof(Block, d)))),
            _mm512_setzero_ps()};
  }
};

struct Q4K {
  using Block = BlockQ4_K;
  static constexpr const Layout& kLayout = kQ4KLayout;
  static_assert(offsetof(Block, dmin) == offsetof(Block, d) + 2);
  LEM_INLINE static void lanes(const uint8_t* b, __m512i (&q)[4]) { k4_nibbles_lanes(b + offsetof(Block, qs), q); }
  LEM_INLINE static void natural(const uint8_t* b, __m512i (&q)[4]) { k4_nibbles_natural(b + offsetof(Block, qs), q); }
  LEM_INLINE static SubBlockScales scales(const uint8_t* b) {
    return k4_scales(b + offsetof(Block, scales), b + offsetof(Block, d));
  }
};

// Rotations that bring bit p of a byte to bit 4 (slot p of the quarter layout is sub-block p).
// Rotating a 64-bit lane left by up to 4 or right by up to 3 keeps bit 4 of every byte in its byte.
constexpr int64_t q5_rot(int p) { return (4 - p) & 63; }

// Q4_K plus a fifth bit: bit 2g + t of qh[l] adds 16 to element 64g + 32t + l.
struct Q5K {
  using Block = BlockQ5_K;
  static constexpr const Layout& kLayout = kQ4KLayout;
  static_assert(offsetof(Block, dmin) == offsetof(Block, d) + 2);

  // Element 32p + 8j + i (sub-block p) takes bit p of qh[8j + i]: W[j] needs qh qword j in every
  // slot, bit p of slot p.
  LEM_INLINE static void lanes(const uint8_t* b, __m512i (&q)[4]) {
    k4_nibbles_lanes(b + offsetof(Block, qs), q);
    const uint8_t* qh = b + offsetof(Block, qh);
    const __m512i rot = qwords(q5_rot(0), q5_rot(1), q5_rot(2), q5_rot(3), q5_rot(4), q5_rot(5), q5_rot(6), q5_rot(7));
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    for (int j = 0; j < 4; ++j) {
      int64_t h;
      std::memcpy(&h, qh + 8 * j, sizeof h);
      q[j] = _mm512_ternarylogic_epi64(q[j], _mm512_rolv_epi64(_mm512_set1_epi64(h), rot), bit4, kOrAnd);
    }
  }

  // Natural vector g needs bit 2g of [qh | qh >> 1], moved to bit 4.
  LEM_INLINE static void natural(const uint8_t* b, __m512i (&q)[4]) {
    k4_nibbles_natural(b + offsetof(Block, qs), q);
    const __m512i qh = with_shifted_copy(load256(b + offsetof(Block, qh)), 1);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    const __m512i high[4] = {_mm512_slli_epi16(qh, 4), _mm512_slli_epi16(qh, 2), qh, _mm512_srli_epi16(qh, 2)};
    for (int g = 0; g < 4; ++g) q[g] = _mm512_ternarylogic_epi64(q[g], high[g], bit4, kOrAnd);
  }

  LEM_INLINE static SubBlockScales scales(const uint8_t* b) {
    return k4_scales(b + offsetof(Block, scales), b + offsetof(Block, d));
  }
};

// Element 128h + 32c + l: low nibble (c < 2) or high nibble (c >= 2) of ql[64h + 32 (c % 2) + l],
// top 2 bits from crumb c of qh[32h + l]; stored +32.
struct Q6K {
  using Block = BlockQ6_K;
  static constexpr const Layout& kLayout = kQ6KLayout;

  // ql qword r of half h (bytes 64h + 8r..) holds elements 128h + 8r + i (low nibbles) and
  // 128h + 64 + 8r + i (high): even qwords make W[0] / W[2], odd ones W[1] / W[3]. For slot p of
  // W[0] the top bits are in qh qword 4h + 2 (p % 2), crumb c = p % 4 / 2 (W[2]: c + 2); W[1], W[3]
  // take the next qword.
  LEM_INLINE static void lanes(const uint8_t* b, __m512i (&q)[4]) {
    const __m512i ql0 = load512(b + offsetof(Block, ql)), ql1 = load512(b + offsetof(Block, ql) + 64);
    const __m512i even = _mm512_permutex2var_epi64(ql0, qwords(0, 2, 4, 6, 8, 10, 12, 14), ql1);
    const __m512i odd = _mm512_permutex2var_epi64(ql0, qwords(1, 3, 5, 7, 9, 11, 13, 15), ql1);
    const __m512i qh = load512(b + offsetof(Block, qh));
    const __m512i qh_even = _mm512_permutexvar_epi64(qwords(0, 2, 0, 2, 4, 6, 4, 6), qh);
    const __m512i qh_odd = _mm512_permutexvar_epi64(qwords(1, 3, 1, 3, 5, 7, 5, 7), qh);
    const __m512i to_low = qwords(4, 4, 2, 2, 4, 4, 2, 2);   // crumb 0 / 1 up to bits 4..5
    const __m512i to_high = qwords(0, 0, 2, 2, 0, 0, 2, 2);  // crumb 2 / 3 down to bits 4..5
    const __m512i m4 = _mm512_set1_epi8(0x0F), top = _mm512_set1_epi8(0x30);
    const __m512i lo_even = _mm512_and_si512(even, m4), lo_odd = _mm512_and_si512(odd, m4);
    const __m512i hi_even = _mm512_and_si512(_mm512_srli_epi16(even, 4), m4);
    const __m512i hi_odd = _mm512_and_si512(_mm512_srli_epi16(odd, 4), m4);
    q[0] = _mm512_ternarylogic_epi64(lo_even, _mm512_sllv_epi64(qh_even, to_low), top, kOrAnd);
    q[1] = _mm512_ternarylogic_epi64(lo_odd, _mm512_sllv_epi64(qh_odd, to_low), top, kOrAnd);
    q[2] = _mm512_ternarylogic_epi64(hi_even, _mm512_srlv_epi64(qh_even, to_high), top, kOrAnd);
    q[3] = _mm512_ternarylogic_epi64(hi_odd, _mm512_srlv_epi64(qh_odd, to_high), top, kOrAnd);
  }

  // A 64-byte load of ql gives elements 128h + 0..63 in its low nibbles and 128h + 64..127 in its
  // high ones; [qh | qh >> 2] has their crumbs 0 | 1 in bits 0..1 and 2 | 3 in bits 4..5.
  LEM_INLINE static void natural(const uint8_t* b, __m512i (&q)[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), top = _mm512_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = load512(b + offsetof(Block, ql) + 64 * h);
      const __m512i qh = with_shifted_copy(load256(b + offsetof(Block, qh) + 32 * h), 2);
      q[2 * h] = _mm512_ternarylogic_epi64(_mm512_and_si512(ql, m4), _mm512_slli_epi16(qh, 4), top, kOrAnd);
      q[2 * h + 1] = _mm512_ternarylogic_epi64(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), qh, top, kOrAnd);
    }
  }

  LEM_INLINE static SubBlockScales scales(const uint8_t* b) {
    return {_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load128(b + offsetof(Block, scales)))),
                          _mm512_set1_ps(load_f16(b + offsetof(Block, d)))),
            _mm512_setzero_ps()};
  }
};

// qs[16ib + i]: element 32ib + i (low nibble) and 32ib + 16 + i (high); codes are the value
// table + 128 (unsigned).
struct IQ4XS {
  using Block = BlockIQ4_XS;
  static constexpr const Layout& kLayout = kIQ4XSLayout;

  LEM_INLINE static __m512i shifted_values() {
    return _mm512_broadcast_i32x4(
        _mm_xor_si128(load128(reinterpret_cast<const uint8_t*>(iq::kValuesIq4nl)), _mm_set1_epi8(-128)));
  }

  // Even qs qwords give quarters 0 (low nibbles) and 2 (high) of sub-block ib, odd ones 1 and 3.
  LEM_INLINE static void lanes(const uint8_t* b, __m512i (&q)[4]) {
    const uint8_t* qs = b + offsetof(Block, qs);
    const __m512i q0 = load512(qs), q1 = load512(qs + 64);
    const __m512i even = _mm512_permutex2var_epi64(q0, qwords(0, 2, 4, 6, 8, 10, 12, 14), q1);
    const __m512i odd = _mm512_permutex2var_epi64(q0, qwords(1, 3, 5, 7, 9, 11, 13, 15), q1);
    const __m512i m4 = _mm512_set1_epi8(0x0F), table = shifted_values();
    q[0] = _mm512_shuffle_epi8(table, _mm512_and_si512(even, m4));
    q[1] = _mm512_shuffle_epi8(table, _mm512_and_si512(odd, m4));
    q[2] = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(even, 4), m4));
    q[3] = _mm512_shuffle_epi8(table, _mm512_and_si512(_mm512_srli_epi16(odd, 4), m4));
  }

  // A 64-byte load holds the low nibbles of groups 0..3 in its 128-bit lanes and the high nibbles
  // likewise; a two-source permute interleaves them into element order.
  LEM_INLINE static void natural(const uint8_t* b, __m512i (&q)[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), table = shifted_values();
    const __m512i first = qwords(0, 1, 8, 9, 2, 3, 10, 11), second = qwords(4, 5, 12, 13, 6, 7, 14, 15);
    for (int h = 0; h < 2; ++h) {
      const __m512i raw = load512(b + offsetof(Block, qs) + 64 * h);
      const __m512i lo = _mm512_and_si512(raw, m4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
      q[2 * h] = _mm512_shuffle_epi8(table, _mm512_permutex2var_epi64(lo, first, hi));
      q[2 * h + 1] = _mm512_shuffle_epi8(table, _mm512_permutex2var_epi64(lo, second, hi));
    }
  }

  // 6-bit scales, stored +32: low 4 bits in nibble ib % 2 of scales_l[ib / 2], top 2 in crumb ib
  // of scales_h (computed in lanes 0..7).
  LEM_INLINE static SubBlockScales scales(const uint8_t* b) {
    uint32_t sl;
    uint16_t sh;
    std::memcpy(&sl, b + offsetof(Block, scales_l), sizeof sl);
    std::memcpy(&sh, b + offsetof(Block, scales_h), sizeof sh);
    const __m512i ib = _mm512_and_si512(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                        _mm512_set1_epi32(7));
    const __m512i low = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(sl)), _mm512_slli_epi32(ib, 2)),
                                         _mm512_set1_epi32(0x0F));
    const __m512i high = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32(sh), _mm512_slli_epi32(ib, 1)),
                                          _mm512_set1_epi32(3));
    const __m512i ls = _mm512_sub_epi32(_mm512_or_si512(low, _mm512_slli_epi32(high, 4)), _mm512_set1_epi32(32));
    return {_mm512_mul_ps(_mm512_cvtepi32_ps(ls), _mm512_set1_ps(load_f16(b + offsetof(Block, d)))), _mm512_setzero_ps()};
  }
};

#undef LEM_INLINE

}  // namespace
}  // namespace lem
