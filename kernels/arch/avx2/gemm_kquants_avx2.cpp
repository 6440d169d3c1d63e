// AVX2 (+FMA, F16C) GEMM for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS against Q8_K activations.
//
// AVX2 has no vpdpbusd (AVX-VNNI is not part of this level), so the integer dot products are
// vpmaddubsw + vpmaddwd. A super-block is unpacked once into eight ymm of unsigned codes in
// natural element order (element 32j + i in byte i of vector j) plus, per vector, the int16
// sub-block scale of every element pair; then, per token,
//   vpmaddubsw (u8 code x s8 activation -> int16 pair sums; never saturates: codes < 64 and
//               |activation| <= 127)
//   vpmaddwd   (x int16 scale -> int32 lanes, summed over the block)
// and one vpmaddwd of per-16 weights with the Q8_K bsums gives the rest: the minimum of
// Q2_K/Q4_K/Q5_K (weighted by -dmin) or the code offset of Q3_K (codes stored +4) and Q6_K (+32),
// which keeps their codes unsigned:
//   acc += d_a * (d * isum + dbsum * bsum_term)           (float32, 8 lanes, reduced at the end)
// IQ4_XS's values are signed: vpmaddubsw takes |value| and vpsignb moves the value's sign onto
// the activation. One row is dotted with a tile of up to kTileTokens tokens, so each block is
// unpacked once per tile; rows are taken in chunks that stay in L2 while the tiles pass.
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

constexpr int kTileTokens = 4;
constexpr size_t kRowChunkBytes = 256 * 1024;  // weights kept in L2 while token tiles pass

constexpr size_t kActQs = offsetof(BlockQ8_K, qs);
constexpr size_t kActBsums = offsetof(BlockQ8_K, bsums);

struct Unpacked {
  __m256i q[8];        // unsigned codes, element 32j + i in byte i of q[j]
  __m256i scales[8];   // int16 scale of the sub-block holding each element pair of q[j]
  __m256i bsum_w;      // int16 weight of each of the 16 activation bsums
  __m256 d;            // factor of the scaled integer dot
  __m256 dbsum;        // factor of the bsums term
};

// --- helpers ---------------------------------------------------------------------------------------

LEM_INLINE __m256i load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
LEM_INLINE __m128i load128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

LEM_INLINE float load_f16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}

// vpshufb controls that spread one int16 scale per `Span` elements (16 or 32) over the element
// pairs of vector j. vpshufb stays inside 128-bit lanes, so the scales are first broadcast: the
// source of vector j is scales 0..7 (`half` 0) or 8..15 (`half` 1) in both lanes.
template <int Span>
struct ScaleShuffle {
  alignas(32) uint8_t ctrl[8][32] = {};
  int half[8] = {};
  constexpr ScaleShuffle() {
    for (int j = 0; j < 8; ++j) {
      half[j] = (32 * j / Span) / 8;
      for (int b = 0; b < 32; ++b) {
        const int s = (32 * j + 2 * (b / 2)) / Span;  // scale of the element pair holding byte b
        ctrl[j][b] = static_cast<uint8_t>(2 * (s % 8) + b % 2);
      }
    }
  }
};
template <int Span>
constexpr ScaleShuffle<Span> kScaleShuffle{};

// s16: the block's int16 scales (16 of them for Span 16, 8 in the low lanes for Span 32).
template <int Span>
LEM_INLINE void spread_scales(__m256i s16, __m256i (&out)[8]) {
  const __m256i halves[2] = {_mm256_permute2x128_si256(s16, s16, 0x00), _mm256_permute2x128_si256(s16, s16, 0x11)};
  for (int j = 0; j < 8; ++j)
    out[j] = _mm256_shuffle_epi8(halves[kScaleShuffle<Span>.half[j]],
                                 _mm256_load_si256(reinterpret_cast<const __m256i*>(kScaleShuffle<Span>.ctrl[j])));
}

// Q4_K/Q5_K: 8 scales and 8 mins of 6 bits packed in 12 bytes (ggml's get_scale_min_k4), as
// bytes 0..7 = scales, 8..15 = mins. With u0, u1, u2 the three 32-bit words: scales 0..3 =
// u0 & 63, mins 0..3 = u1 & 63 (per byte); scales 4..7 = low nibbles of u2 | top 2 bits of u0 << 4,
// mins 4..7 = high nibbles of u2 | top 2 bits of u1 << 4. (Reads 16 bytes: the block goes on.)
LEM_INLINE __m128i k4_scales_mins(const uint8_t* p) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i low = _mm_and_si128(_mm_srlv_epi32(_mm_shuffle_epi32(x, _MM_SHUFFLE(2, 1, 2, 0)), _mm_setr_epi32(0, 0, 0, 4)),
                                    _mm_setr_epi32(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F));
  const __m128i top = _mm_and_si128(_mm_srli_epi32(_mm_shuffle_epi32(x, _MM_SHUFFLE(1, 1, 0, 0)), 2),
                                    _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
  return _mm_or_si128(low, top);
}

LEM_INLINE void k4_scales(const uint8_t* p, float d, float dmin, Unpacked& u) {
  const __m256i sm16 = _mm256_cvtepu8_epi16(k4_scales_mins(p));  // int16: 0..7 scales, 8..15 mins
  spread_scales<32>(sm16, u.scales);
  // Min m of sub-block b weighs bsums 2b and 2b + 1: int16 lanes [m0 m0 m1 m1 ... m7 m7].
  const __m256i mins = _mm256_permute2x128_si256(sm16, sm16, 0x11);
  u.bsum_w = _mm256_shuffle_epi8(mins, _mm256_setr_epi8(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 8, 9, 10, 11,
                                                        10, 11, 12, 13, 12, 13, 14, 15, 14, 15));
  u.d = _mm256_set1_ps(d);
  u.dbsum = _mm256_set1_ps(-dmin);
}

// Q4_K/Q5_K: qs[32g + l] holds element 64g + l (low nibble) and 64g + 32 + l (high nibble).
LEM_INLINE void k4_nibbles(const uint8_t* qs, Unpacked& u) {
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int g = 0; g < 4; ++g) {
    const __m256i raw = load256(qs + 32 * g);
    u.q[2 * g] = _mm256_and_si256(raw, m4);
    u.q[2 * g + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
  }
}

// Q2_K/Q3_K: element 128h + 32j + l is crumb j of qs[32h + l].
LEM_INLINE void crumbs(const uint8_t* qs, Unpacked& u) {
  const __m256i m2 = _mm256_set1_epi8(3);
  for (int h = 0; h < 2; ++h) {
    const __m256i raw = load256(qs + 32 * h);
    u.q[4 * h] = _mm256_and_si256(raw, m2);
    u.q[4 * h + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 2), m2);
    u.q[4 * h + 2] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m2);
    u.q[4 * h + 3] = _mm256_and_si256(_mm256_srli_epi16(raw, 6), m2);
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
    u.d = _mm256_set1_ps(load_f16(b + offsetof(Block, d)));
    u.dbsum = _mm256_set1_ps(-load_f16(b + offsetof(Block, dmin)));
  }
};

struct Q3K {
  using Block = BlockQ3_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    crumbs(b + offsetof(Block, qs), u);
    // The high bit of element 32m + l (m = 4h + j) is bit m of hmask[l]; moved to bit 2 it makes
    // code = crumb + 4 * bit in 0..7.
    const __m256i hm = load256(b + offsetof(Block, hmask));
    const __m256i bit2 = _mm256_set1_epi8(4);
    const __m256i high[8] = {_mm256_slli_epi16(hm, 2), _mm256_slli_epi16(hm, 1), hm, _mm256_srli_epi16(hm, 1),
                             _mm256_srli_epi16(hm, 2), _mm256_srli_epi16(hm, 3), _mm256_srli_epi16(hm, 4),
                             _mm256_srli_epi16(hm, 5)};
    for (int m = 0; m < 8; ++m) u.q[m] = _mm256_or_si256(u.q[m], _mm256_and_si256(high[m], bit2));
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
    u.d = _mm256_set1_ps(load_f16(b + offsetof(Block, d)));
    u.dbsum = _mm256_set1_ps(-load_f16(b + offsetof(Block, d)));
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
    // Bit j of qh[l] adds 16 to element 32j + l: move it to bit 4.
    const __m256i qh = load256(b + offsetof(Block, qh));
    const __m256i bit4 = _mm256_set1_epi8(0x10);
    const __m256i high[8] = {_mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 3), _mm256_slli_epi16(qh, 2),
                             _mm256_slli_epi16(qh, 1), qh, _mm256_srli_epi16(qh, 1), _mm256_srli_epi16(qh, 2),
                             _mm256_srli_epi16(qh, 3)};
    for (int j = 0; j < 8; ++j) u.q[j] = _mm256_or_si256(u.q[j], _mm256_and_si256(high[j], bit4));
    k4_scales(b + offsetof(Block, scales), load_f16(b + offsetof(Block, d)), load_f16(b + offsetof(Block, dmin)), u);
  }
};

struct Q6K {
  using Block = BlockQ6_K;
  LEM_INLINE static void unpack(const uint8_t* b, Unpacked& u) {
    // Element 128h + 32c + l: low nibble (c < 2) or high nibble (c >= 2) of ql[64h + 32(c % 2) + l],
    // top 2 bits from crumb c of qh[32h + l], moved to bits 4..5.
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2hi = _mm256_set1_epi8(0x30);
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(b + offsetof(Block, ql) + 64 * h);
      const __m256i ql1 = load256(b + offsetof(Block, ql) + 64 * h + 32);
      const __m256i qh = load256(b + offsetof(Block, qh) + 32 * h);
      const __m256i low[4] = {_mm256_and_si256(ql0, m4), _mm256_and_si256(ql1, m4),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4)};
      const __m256i high[4] = {_mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 2), qh, _mm256_srli_epi16(qh, 2)};
      for (int c = 0; c < 4; ++c) u.q[4 * h + c] = _mm256_or_si256(low[c], _mm256_and_si256(high[c], m2hi));
    }
    const __m256i s16 = _mm256_cvtepi8_epi16(load128(b + offsetof(Block, scales)));
    spread_scales<16>(s16, u.scales);
    // Codes are q + 32: subtract 32 * scale * (sum of the 16 activations).
    u.bsum_w = _mm256_slli_epi16(s16, 5);
    u.d = _mm256_set1_ps(load_f16(b + offsetof(Block, d)));
    u.dbsum = _mm256_set1_ps(-load_f16(b + offsetof(Block, d)));
  }
};

LEM_INLINE float load_act_d(const uint8_t* act) {
  float d;
  std::memcpy(&d, act, sizeof d);
  return d;
}

template <class Type>
struct KQuant {
  using Block = typename Type::Block;
  using Prepared = Unpacked;
  LEM_INLINE static void unpack(const uint8_t* b, Prepared& u) { Type::unpack(b, u); }

  LEM_INLINE static void dot(const Prepared& u, const uint8_t* act, __m256& acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i pairs = _mm256_maddubs_epi16(u.q[j], load256(act + kActQs + 32 * j));
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pairs, u.scales[j]));
    }
    const __m256i bsum = _mm256_madd_epi16(u.bsum_w, load256(act + kActBsums));
    const __m256 t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(bsum), u.dbsum, _mm256_mul_ps(_mm256_cvtepi32_ps(isum), u.d));
    acc = _mm256_fmadd_ps(t, _mm256_set1_ps(load_act_d(act)), acc);
  }
};

// IQ4_XS: signed non-linear values, so vpmaddubsw takes |value| and vpsignb gives the activation
// the value's sign (values are never 0, which vpsignb would turn into a zero product).
struct IQ4XS {
  using Block = BlockIQ4_XS;
  struct Prepared {
    __m256i value[8];      // kValuesIq4nl[code], natural element order
    __m256i magnitude[8];  // |value|
    __m256i scales[8];     // int16 (ls - 32) per element pair
    __m256 d;
  };

  LEM_INLINE static void unpack(const uint8_t* b, Prepared& u) {
    // qs[16ib + j]: element 32ib + j in the low nibble, 32ib + 16 + j in the high one. A 32-byte
    // load holds groups 2p and 2p + 1 in its two lanes; lane permutes put low and high back in order.
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i values = _mm256_broadcastsi128_si256(load128(reinterpret_cast<const uint8_t*>(iq::kValuesIq4nl)));
    for (int p = 0; p < 4; ++p) {
      const __m256i raw = load256(b + offsetof(Block, qs) + 32 * p);
      const __m256i lo = _mm256_and_si256(raw, m4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4);
      const __m256i codes[2] = {_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31)};
      for (int x = 0; x < 2; ++x) {
        u.value[2 * p + x] = _mm256_shuffle_epi8(values, codes[x]);
        u.magnitude[2 * p + x] = _mm256_abs_epi8(u.value[2 * p + x]);
      }
    }
    // 6-bit scales, stored +32: low 4 bits in nibble ib % 2 of scales_l[ib / 2], top 2 in crumb ib
    // of scales_h; computed for ib = 0..7 in int32 lanes, then narrowed to int16.
    uint32_t sl;
    uint16_t sh;
    std::memcpy(&sl, b + offsetof(Block, scales_l), sizeof sl);
    std::memcpy(&sh, b + offsetof(Block, scales_h), sizeof sh);
    const __m256i low = _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(sl)),
                                                           _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
                                         _mm256_set1_epi32(0x0F));
    const __m256i high = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32(sh), _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14)), _mm256_set1_epi32(3));
    const __m256i ls = _mm256_sub_epi32(_mm256_or_si256(low, _mm256_slli_epi32(high, 4)), _mm256_set1_epi32(32));
    // vpackssdw packs per 128-bit lane: [ls0..3 ls0..3 | ls4..7 ls4..7]; qwords 0 and 2 in order.
    const __m256i ls16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(ls, ls), _MM_SHUFFLE(3, 1, 2, 0));
    spread_scales<32>(ls16, u.scales);
    u.d = _mm256_set1_ps(load_f16(b + offsetof(Block, d)));
  }

  LEM_INLINE static void dot(const Prepared& u, const uint8_t* act, __m256& acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int j = 0; j < 8; ++j) {
      const __m256i a = _mm256_sign_epi8(load256(act + kActQs + 32 * j), u.value[j]);
      isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(u.magnitude[j], a), u.scales[j]));
    }
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(u.d, _mm256_set1_ps(load_act_d(act))), acc);
  }
};

// --- tiling ------------------------------------------------------------------------------------------

LEM_INLINE float reduce_add(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// y[t * y_stride] = row . act_t for T tokens whose blocks are a_stride bytes apart.
template <class K, int T>
void row_times_tokens(const uint8_t* row, const uint8_t* act, size_t a_stride, int64_t n_blocks, float* y,
                      size_t y_stride) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  typename K::Prepared u;
  for (int64_t i = 0; i < n_blocks; ++i) {
    K::unpack(row + i * static_cast<int64_t>(sizeof(typename K::Block)), u);
    const uint8_t* a = act + i * static_cast<int64_t>(sizeof(BlockQ8_K));
    for (int t = 0; t < T; ++t) K::dot(u, a + t * a_stride, acc[t]);
  }
  for (int t = 0; t < T; ++t) y[t * y_stride] = reduce_add(acc[t]);
}

template <class K>
void row_times_tile(int n, const uint8_t* row, const uint8_t* act, size_t a_stride, int64_t n_blocks, float* y,
                    size_t y_stride) {
  switch (n) {
    case 1: return row_times_tokens<K, 1>(row, act, a_stride, n_blocks, y, y_stride);
    case 2: return row_times_tokens<K, 2>(row, act, a_stride, n_blocks, y, y_stride);
    case 3: return row_times_tokens<K, 3>(row, act, a_stride, n_blocks, y, y_stride);
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

void gemm_q2_K_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q2K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q3_K_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q3K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_K_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q4K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_K_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q5K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q6_K_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                    int64_t n_tok, float* y, size_t y_stride) {
  gemm<KQuant<Q6K>>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_xs_avx2(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<IQ4XS>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
