// AVX-512 (F, BW, VL, DQ, VNNI) GEMM for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS against Q8_K.
//
// Scheme (all six types): a weight super-block is unpacked once into four zmm of unsigned 8-bit
// codes in natural element order (element 64j + i in byte i of vector j) plus, per vector, the
// int16 sub-block scale of every element pair. Then, for each of up to kTileTokens tokens,
//   vpmaddubsw  (u8 code x s8 activation, adjacent pairs summed to int16; never saturates here:
//               codes are < 64, |activation| <= 127)
//   vpdpwssd    (int16 pair sums x int16 scales, summed into int32 lanes)
// gives the scaled integer dot product, and one vpmaddwd of per-16 int16 weights with the Q8_K
// bsums gives the remaining term: the minimum of Q2_K/Q4_K/Q5_K (weighted by -dmin) or the code
// offset of Q3_K (-4) and Q6_K (-32), which lets their codes stay unsigned. Per block and token:
//   acc += d_a * (d * isum + dbsum * bsum_term)        (float32, 16 lanes, reduced at the end)
// IQ4_XS's codes are signed lookup values: their sign moves to the activation (masked negate) and
// vpmaddubsw takes their magnitude.
//
// Tiling: one weight row at a time is dotted with a tile of up to kTileTokens tokens, so each
// super-block is unpacked once per tile; rows are taken in chunks that stay in L2 while every
// token tile passes over them. Decode (one token) streams each row once.
// GCC 12's AVX-512 headers make the "undefined" pass-through operand of many intrinsics from a
// self-initialised variable, which -Wuninitialized then reports at every inlined use (GCC PR
// 105593, fixed in GCC 13). The state at the header's lines is what counts, so this precedes it.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

// Everything below the GEMM entry points must inline into the tile loop: an out-of-line call
// would spill the unpacked block to memory (and GCC inserts vzeroupper at every call).
#define LEM_INLINE [[gnu::always_inline]] inline

constexpr int kTileTokens = 8;
constexpr size_t kRowChunkBytes = 256 * 1024;  // weights kept in L2 while token tiles pass

constexpr size_t kActQs = offsetof(BlockQ8_K, qs);
constexpr size_t kActBsums = offsetof(BlockQ8_K, bsums);

// One unpacked weight super-block.
struct Unpacked {
  __m512i q[4];        // unsigned codes, element 64j + i in byte i of q[j]
  __m512i scales[4];   // int16 scale of the sub-block holding each element pair of q[j]
  __m256i bsum_w;      // int16 weight of each of the 16 activation bsums
  __m512 d;            // factor of the scaled integer dot
  __m512 dbsum;        // factor of the bsums term
};

// --- helpers ---------------------------------------------------------------------------------------

LEM_INLINE __m512i load512(const uint8_t* p) { return _mm512_loadu_si512(p); }
LEM_INLINE __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
LEM_INLINE __m128i load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

LEM_INLINE float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// [v, v >> shift] as one zmm (16-bit shifts: callers mask bits that stay inside each byte).
LEM_INLINE __m512i with_shifted_copy(__m256i v, int shift) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(v), _mm256_srli_epi16(v, shift), 1);
}

// vpermw indices that spread one int16 scale per `Span` elements (16 or 32) over the element pairs
// of vector j: pair i covers elements 64j + 2i and 64j + 2i + 1.
template <int Span>
struct ScaleIndex {
  alignas(64) int16_t v[4][32] = {};
  constexpr ScaleIndex() {
    for (int j = 0; j < 4; ++j)
      for (int i = 0; i < 32; ++i) v[j][i] = static_cast<int16_t>((64 * j + 2 * i) / Span);
  }
};
template <int Span>
constexpr ScaleIndex<Span> kScaleIndex{};

// s16 holds the block's int16 scales in its low lanes (16 of them for Span 16, 8 for Span 32).
template <int Span>
LEM_INLINE void spread_scales(__m256i s16, __m512i (&out)[4]) {
  const __m512i s = _mm512_castsi256_si512(s16);
  for (int j = 0; j < 4; ++j) out[j] = _mm512_permutexvar_epi16(_mm512_load_si512(kScaleIndex<Span>.v[j]), s);
}

// Q4_K/Q5_K: 8 scales and 8 mins of 6 bits packed in 12 bytes (ggml's get_scale_min_k4) as
// bytes 0..7 = scales, 8..15 = mins. Scales/mins 0..3 are the low 6 bits of bytes 0..3 / 4..7;
// 4..7 take their low 4 bits from the nibbles of bytes 8..11 and the top 2 from bytes 0..3 / 4..7.
LEM_INLINE __m128i k4_scales_mins(const uint8_t* p) {
  uint32_t s[3];
  std::memcpy(s, p, sizeof s);
  const uint32_t sc_lo = s[0] & 0x3F3F3F3Fu;
  const uint32_t sc_hi = (s[2] & 0x0F0F0F0Fu) | (((s[0] >> 6) & 0x03030303u) << 4);
  const uint32_t mn_lo = s[1] & 0x3F3F3F3Fu;
  const uint32_t mn_hi = ((s[2] >> 4) & 0x0F0F0F0Fu) | (((s[1] >> 6) & 0x03030303u) << 4);
  return _mm_set_epi32(static_cast<int>(mn_hi), static_cast<int>(mn_lo), static_cast<int>(sc_hi),
                       static_cast<int>(sc_lo));
}

// Q4_K/Q5_K scales and mins into `u`; the mins weight pairs of bsums (one min per 32 elements).
LEM_INLINE void k4_scales(const uint8_t* p, float d, float dmin, Unpacked& u) {
  const __m256i sm16 = _mm256_cvtepu8_epi16(k4_scales_mins(p));  // int16: 0..7 scales, 8..15 mins
  spread_scales<32>(sm16, u.scales);
  const __m256i min_idx = _mm256_set_epi16(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
  u.bsum_w = _mm256_permutexvar_epi16(min_idx, sm16);
  u.d = _mm512_set1_ps(d);
  u.dbsum = _mm512_set1_ps(-dmin);
}

// Q4_K/Q5_K low nibbles: qs[32g + l] holds element 64g + l (low nibble) and 64g + 32 + l (high).
// Loading 64 bytes gives [e0..31 | e64..95] (low) and [e32..63 | e96..127] (high); 128-bit lane
// shuffles restore element order.
LEM_INLINE void k4_nibbles(const uint8_t* qs, Unpacked& u) {
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (int h = 0; h < 2; ++h) {
    const __m512i raw = load512(qs + 64 * h);
    const __m512i lo = _mm512_and_si512(raw, m4);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
    u.q[2 * h] = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
    u.q[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
  }
}

// Q2_K/Q3_K crumbs: element 128h + 32j + l is crumb j of qs[32h + l].
LEM_INLINE void crumbs(const uint8_t* qs, Unpacked& u) {
  const __m512i m2 = _mm512_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m512i q2 = with_shifted_copy(load256(qs + 32 * h), 2);  // crumbs j = 0 | 1 in bits 0..1
    u.q[2 * h] = _mm512_and_si512(q2, m2);
    u.q[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(q2, 4), m2);  // j = 2 | 3
  }
}

// --- per-type unpacking ----------------------------------------------------------------------------

struct Q2K {
  using Block = BlockQ2_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    crumbs(b + offsetof(Block, qs), u);
    // scales[s]: low nibble scales the 16 elements of sub-block s, high nibble is their min.
    const __m128i s = load128(b + offsetof(Block, scales));
    const __m128i m4 = _mm_set1_epi8(0x0F);
    spread_scales<16>(_mm256_cvtepu8_epi16(_mm_and_si128(s, m4)), u.scales);
    u.bsum_w = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), m4));
    u.d = _mm512_set1_ps(load_f16(b + offsetof(Block, d)));
    u.dbsum = _mm512_set1_ps(-load_f16(b + offsetof(Block, dmin)));
  }
};

struct Q3K {
  using Block = BlockQ3_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    crumbs(b + offsetof(Block, qs), u);
    // The high bit of element 128h + 32j + l is bit 4h + j of hmask[l]; vector m = 2h + j/2 needs
    // bit 2m of [hmask | hmask >> 1], moved to bit 2 so that code = crumb + 4 * bit in 0..7.
    const __m512i hm = with_shifted_copy(load256(b + offsetof(Block, hmask)), 1);
    const __m512i bit2 = _mm512_set1_epi8(4);
    const __m512i high[4] = {_mm512_slli_epi16(hm, 2), hm, _mm512_srli_epi16(hm, 2), _mm512_srli_epi16(hm, 4)};
    for (int m = 0; m < 4; ++m) u.q[m] = _mm512_or_si512(u.q[m], _mm512_and_si512(high[m], bit2));
    // 16 6-bit scales, stored +32: low nibbles in bytes 0..7 (scales 0..7 low, 8..15 high
    // nibble), top 2 bits in the crumbs of bytes 8..11 (scale s in crumb s / 4 of byte 8 + s % 4).
    uint32_t a[3];
    std::memcpy(a, b + offsetof(Block, scales), sizeof a);
    const uint32_t m4 = 0x0F0F0F0Fu, m2 = 0x03030303u;
    const __m128i s = _mm_set_epi32(static_cast<int>(((a[1] >> 4) & m4) | (((a[2] >> 6) & m2) << 4)),
                                    static_cast<int>(((a[0] >> 4) & m4) | (((a[2] >> 4) & m2) << 4)),
                                    static_cast<int>((a[1] & m4) | (((a[2] >> 2) & m2) << 4)),
                                    static_cast<int>((a[0] & m4) | ((a[2] & m2) << 4)));
    const __m256i s16 = _mm256_cvtepi8_epi16(_mm_sub_epi8(s, _mm_set1_epi8(32)));
    spread_scales<16>(s16, u.scales);
    // Codes are q + 4: subtract 4 * scale * (sum of the 16 activations).
    u.bsum_w = _mm256_slli_epi16(s16, 2);
    u.d = _mm512_set1_ps(load_f16(b + offsetof(Block, d)));
    u.dbsum = _mm512_set1_ps(-load_f16(b + offsetof(Block, d)));
  }
};

struct Q4K {
  using Block = BlockQ4_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    k4_nibbles(b + offsetof(Block, qs), u);
    k4_scales(b + offsetof(Block, scales), load_f16(b + offsetof(Block, d)), load_f16(b + offsetof(Block, dmin)), u);
  }
};

struct Q5K {
  using Block = BlockQ5_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    k4_nibbles(b + offsetof(Block, qs), u);
    // Bit 2g + t of qh[l] adds 16 to element 64g + 32t + l: vector g needs bit 2g of
    // [qh | qh >> 1], moved to bit 4.
    const __m512i qh = with_shifted_copy(load256(b + offsetof(Block, qh)), 1);
    const __m512i bit4 = _mm512_set1_epi8(0x10);
    const __m512i high[4] = {_mm512_slli_epi16(qh, 4), _mm512_slli_epi16(qh, 2), qh, _mm512_srli_epi16(qh, 2)};
    for (int g = 0; g < 4; ++g) u.q[g] = _mm512_or_si512(u.q[g], _mm512_and_si512(high[g], bit4));
    k4_scales(b + offsetof(Block, scales), load_f16(b + offsetof(Block, d)), load_f16(b + offsetof(Block, dmin)), u);
  }
};

struct Q6K {
  using Block = BlockQ6_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    // Element 128h + 32c + l: low nibble (c < 2) or high nibble (c >= 2) of ql[64h + 32(c % 2) + l],
    // top 2 bits from crumb c of qh[32h + l]. A 64-byte load of ql gives c = 0 | 1 in its low
    // nibbles and c = 2 | 3 in its high ones; [qh | qh >> 2] has crumbs 0 | 1 in bits 0..1 and
    // 2 | 3 in bits 4..5.
    const __m512i m4 = _mm512_set1_epi8(0x0F), m2hi = _mm512_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m512i ql = load512(b + offsetof(Block, ql) + 64 * h);
      const __m512i qh = with_shifted_copy(load256(b + offsetof(Block, qh) + 32 * h), 2);
      u.q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_slli_epi16(qh, 4), m2hi));
      u.q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), _mm512_and_si512(qh, m2hi));
    }
    const __m256i s16 = _mm256_cvtepi8_epi16(load128(b + offsetof(Block, scales)));
    spread_scales<16>(s16, u.scales);
    // Codes are q + 32: subtract 32 * scale * (sum of the 16 activations).
    u.bsum_w = _mm256_slli_epi16(s16, 5);
    u.d = _mm512_set1_ps(load_f16(b + offsetof(Block, d)));
    u.dbsum = _mm512_set1_ps(-load_f16(b + offsetof(Block, d)));
  }
};

// One block of activations against an unpacked Q2_K..Q6_K super-block: acc += w . a.
LEM_INLINE void dot_block(const Unpacked& u, const uint8_t* act, __m512& acc) {
  __m512i isum = _mm512_setzero_si512();
  for (int j = 0; j < 4; ++j) {
    const __m512i pairs = _mm512_maddubs_epi16(u.q[j], load512(act + kActQs + 64 * j));
    isum = _mm512_dpwssd_epi32(isum, pairs, u.scales[j]);
  }
  const __m256i bsum = _mm256_madd_epi16(u.bsum_w, load256(act + kActBsums));
  __m512 t = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), u.d);
  t = _mm512_fmadd_ps(_mm512_zextps256_ps512(_mm256_cvtepi32_ps(bsum)), u.dbsum, t);
  float da;
  std::memcpy(&da, act, sizeof da);
  acc = _mm512_fmadd_ps(t, _mm512_set1_ps(da), acc);
}

template <class Type>
struct KQuant {
  using Block = typename Type::Block;
  using Prepared = Unpacked;
  LEM_INLINE static void unpack(const uint8_t* b, Prepared& u) { Type::unpack(b, u); }
  LEM_INLINE static void dot(const Prepared& u, const uint8_t* act, __m512& acc) { dot_block(u, act, acc); }
};

// IQ4_XS: signed non-linear values, so vpmaddubsw takes |value| and the activation gets its sign.
struct IQ4XS {
  using Block = BlockIQ4_XS;
  struct Prepared {
    __m512i magnitude[4];  // |kValuesIq4nl[code]|, natural element order
    __mmask64 negative[4]; // elements whose value is negative
    __m512i scales[4];     // int16 (ls - 32) per element pair
    __m512 d;
  };

  LEM_INLINE static void unpack(const uint8_t* b, Prepared& u) {
    // qs[16ib + j]: element 32ib + j in the low nibble, 32ib + 16 + j in the high one. A 64-byte load
    // gives low nibbles of groups 0..3 in its four 128-bit lanes and high nibbles likewise; the
    // two-source permute interleaves them back into element order.
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i values = _mm512_broadcast_i32x4(load128(reinterpret_cast<const uint8_t*>(iq::kValuesIq4nl)));
    const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0), second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    for (int h = 0; h < 2; ++h) {
      const __m512i raw = load512(b + offsetof(Block, qs) + 64 * h);
      const __m512i lo = _mm512_and_si512(raw, m4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(raw, 4), m4);
      const __m512i codes[2] = {_mm512_permutex2var_epi64(lo, first, hi), _mm512_permutex2var_epi64(lo, second, hi)};
      for (int x = 0; x < 2; ++x) {
        const __m512i v = _mm512_shuffle_epi8(values, codes[x]);
        u.magnitude[2 * h + x] = _mm512_abs_epi8(v);
        u.negative[2 * h + x] = _mm512_movepi8_mask(v);
      }
    }
    // 6-bit scales, stored +32: low 4 bits in the nibbles of scales_l, top 2 in crumbs of scales_h.
    uint16_t sh;
    std::memcpy(&sh, b + offsetof(Block, scales_h), 2);
    const uint8_t* sl = b + offsetof(Block, scales_l);
    alignas(16) int16_t ls[16] = {};
    for (int ib = 0; ib < 8; ++ib)
      ls[ib] = static_cast<int16_t>((((sl[ib / 2] >> (4 * (ib % 2))) & 0x0F) | (((sh >> (2 * ib)) & 3) << 4)) - 32);
    spread_scales<32>(_mm256_load_si256(reinterpret_cast<const __m256i*>(ls)), u.scales);
    u.d = _mm512_set1_ps(load_f16(b + offsetof(Block, d)));
  }

  LEM_INLINE static void dot(const Prepared& u, const uint8_t* act, __m512& acc) {
    __m512i isum = _mm512_setzero_si512();
    for (int j = 0; j < 4; ++j) {
      const __m512i a = load512(act + kActQs + 64 * j);
      const __m512i signed_a = _mm512_mask_sub_epi8(a, u.negative[j], _mm512_setzero_si512(), a);
      isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(u.magnitude[j], signed_a), u.scales[j]);
    }
    float da;
    std::memcpy(&da, act, sizeof da);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(u.d, _mm512_set1_ps(da)), acc);
  }
};

// --- tiling ------------------------------------------------------------------------------------------

// y[t * y_stride] = row . act_t for T tokens whose blocks are a_stride bytes apart.
template <class K, int T>
void row_times_tokens(const uint8_t* row, const uint8_t* act, size_t a_stride, int64_t n_blocks, float* y,
                      size_t y_stride) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  typename K::Prepared u;
  for (int64_t i = 0; i < n_blocks; ++i) {
    K::unpack(row + i * static_cast<int64_t>(sizeof(typename K::Block)), u);
    const uint8_t* a = act + i * static_cast<int64_t>(sizeof(BlockQ8_K));
    for (int t = 0; t < T; ++t) K::dot(u, a + t * a_stride, acc[t]);
  }
  for (int t = 0; t < T; ++t) y[t * y_stride] = _mm512_reduce_add_ps(acc[t]);
}

template <class K>
void row_times_tile(int n, const uint8_t* row, const uint8_t* act, size_t a_stride, int64_t n_blocks, float* y,
                    size_t y_stride) {
  switch (n) {
    case 1: return row_times_tokens<K, 1>(row, act, a_stride, n_blocks, y, y_stride);
    case 2: return row_times_tokens<K, 2>(row, act, a_stride, n_blocks, y, y_stride);
    case 3: return row_times_tokens<K, 3>(row, act, a_stride, n_blocks, y, y_stride);
    case 4: return row_times_tokens<K, 4>(row, act, a_stride, n_blocks, y, y_stride);
    case 5: return row_times_tokens<K, 5>(row, act, a_stride, n_blocks, y, y_stride);
    case 6: return row_times_tokens<K, 6>(row, act, a_stride, n_blocks, y, y_stride);
    case 7: return row_times_tokens<K, 7>(row, act, a_stride, n_blocks, y, y_stride);
    default: return row_times_tokens<K, kTileTokens>(row, act, a_stride, n_blocks, y, y_stride);
  }
}

template <class K>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  const int64_t n_blocks = k / kQK_K;
  const int64_t chunk = w_stride >= kRowChunkBytes ? 1 : static_cast<int64_t>(kRowChunkBytes / w_stride);
  for (int64_t r0 = 0; r0 < n_rows; r0 += chunk) {
    const int64_t r1 = r0 + chunk < n_rows ? r0 + chunk : n_rows;
    for (int64_t t0 = 0; t0 < n_tok; t0 += kTileTokens) {
      const int n = static_cast<int>(n_tok - t0 < kTileTokens ? n_tok - t0 : kTileTokens);
      for (int64_t r = r0; r < r1; ++r)
        row_times_tile<K>(n, wb + r * static_cast<int64_t>(w_stride), ab + t0 * static_cast<int64_t>(a_stride), a_stride,
                          n_blocks, y + t0 * static_cast<int64_t>(y_stride) + r, y_stride);
    }
  }
}

#undef LEM_INLINE

}  // namespace

void gemm_q2_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q2K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q3_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q3K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q4K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q5K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q6_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q6K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_xs_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride) {
  gemm<IQ4XS>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
