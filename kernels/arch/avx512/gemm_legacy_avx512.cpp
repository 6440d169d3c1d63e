// AVX-512 VNNI GEMM for the 32-element formats: Q4_0, Q5_0, Q8_0, IQ4_NL x Q8_0 and
// Q4_1, Q5_1 x Q8_1 (reference: kernels/arch/scalar/gemm_legacy_scalar.cpp).
//
// The integer dot products use vpdpbusd, which multiplies UNSIGNED bytes by SIGNED bytes. Each
// weight block is therefore unpacked to u[j] = q[j] + kOffset in 0..255 (Q8_0 and IQ4_NL: +128,
// Q4_0: +8, Q5_0: +16, the _1 formats are unsigned already), and the kernel starts each block's
// int32 sum at -kOffset·Σa (Σa = sum of the activation block's int8 values, computed once per
// call and reused by every row): Σ(q + off)·a - off·Σa = Σ q·a exactly. Treating signed weights
// as unsigned without that correction is the bug of spec §6 "Hazard".
//
// Two paths:
// * direct (few tokens, decode): 4 weight rows at a time, two blocks per 512-bit register; the
//   per-lane int32 sums are scaled by d_w·d_a per block and accumulated in float, reduced once
//   per row at the end. A pair of blocks b, c sits in the register as four 16-byte quarters
//   [b 0..15 | c 0..15 | b 16..31 | c 16..31] ("pair order"): the low and high nibbles of two
//   4-bit blocks then unpack with one shift and one mask, and the activations are prepared in
//   the same order.
// * repacked (prefill): 16 rows are unpacked and transposed so that one 512-bit register holds
//   4 consecutive weights of each of the 16 rows; then one vpdpbusd with 4 broadcast activation
//   bytes advances 16 rows at once and needs no horizontal sums. The 16 rows are repacked once
//   per call and reused by every token.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* placeholders (GCC PR105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/arch/scratch.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

// Below this many tokens the direct path is faster than repacking the weights.
#ifndef RMT
#define RMT 8
#endif
constexpr int64_t kRepackMinTokens = RMT;
#ifndef PF
#define PF 8192
#endif
// The direct path streams the weights once, R rows side by side. The hardware prefetcher does not
// run far enough ahead of so many streams, so each row also prefetches the same position in the
// row that will be read about kPrefetchBytes (of the whole stream) later.
constexpr size_t kPrefetchBytes = PF;

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

// --- Weight formats: one block -> 32 unsigned bytes q + kOffset, in element order -------------

// Low nibbles of 16 bytes as elements 0..15, high nibbles as 16..31.
__m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Adds 16 to element j where bit j of the little-endian u32 qh is set (the fifth bit of Q5_*).
__m256i add_fifth_bit(__m256i q, const uint8_t* qh) {
  return _mm256_mask_add_epi8(q, static_cast<__mmask32>(load_u32(qh)), q, _mm256_set1_epi8(16));
}

// Two single-block unpacks [lo|hi] as one register in pair order (see the top of the file).
__m512i pair_of(__m256i b, __m256i c) {
  const __m512i bc = _mm512_inserti64x4(_mm512_castsi256_si512(b), c, 1);  // [b lo, b hi, c lo, c hi]
  return _mm512_shuffle_i64x2(bc, bc, _MM_SHUFFLE(3, 1, 2, 0));
}

// The nibbles of two blocks' 16-byte qs in pair order: [b low, c low, b high, c high].
__m512i pair_nibbles(const uint8_t* qs_b, const uint8_t* qs_c) {
  const __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs_b))),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs_c)), 1);
  const __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(q), _mm256_srli_epi16(q, 4), 1);
  return _mm512_and_si512(both, _mm512_set1_epi8(0x0F));
}

// add_fifth_bit for a pair: the two u32 qh rearranged into pair order.
__m512i add_fifth_bits_pair(__m512i q, const uint8_t* qh_b, const uint8_t* qh_c) {
  const uint64_t hb = load_u32(qh_b), hc = load_u32(qh_c);
  const uint64_t mask = (hb & 0xFFFF) | (hc & 0xFFFF) << 16 | (hb >> 16) << 32 | (hc >> 16) << 48;
  return _mm512_mask_add_epi8(q, static_cast<__mmask64>(mask), q, _mm512_set1_epi8(16));
}

struct Q4_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) { return unpack_nibbles(b + offsetof(BlockQ4_0, qs)); }
  static __m512i unpack_pair(const uint8_t* b) {
    return pair_nibbles(b + offsetof(BlockQ4_0, qs), b + kBytes + offsetof(BlockQ4_0, qs));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ4_0, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

struct Q4_1 {
  using Act = ActQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* b) { return unpack_nibbles(b + offsetof(BlockQ4_1, qs)); }
  static __m512i unpack_pair(const uint8_t* b) {
    return pair_nibbles(b + offsetof(BlockQ4_1, qs), b + kBytes + offsetof(BlockQ4_1, qs));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ4_1, d)); }
  static uint16_t m(const uint8_t* b) { return load_u16(b + offsetof(BlockQ4_1, m)); }
};

struct Q5_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) {
    return add_fifth_bit(unpack_nibbles(b + offsetof(BlockQ5_0, qs)), b + offsetof(BlockQ5_0, qh));
  }
  static __m512i unpack_pair(const uint8_t* b) {
    const __m512i q = pair_nibbles(b + offsetof(BlockQ5_0, qs), b + kBytes + offsetof(BlockQ5_0, qs));
    return add_fifth_bits_pair(q, b + offsetof(BlockQ5_0, qh), b + kBytes + offsetof(BlockQ5_0, qh));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ5_0, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

struct Q5_1 {
  using Act = ActQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* b) {
    return add_fifth_bit(unpack_nibbles(b + offsetof(BlockQ5_1, qs)), b + offsetof(BlockQ5_1, qh));
  }
  static __m512i unpack_pair(const uint8_t* b) {
    const __m512i q = pair_nibbles(b + offsetof(BlockQ5_1, qs), b + kBytes + offsetof(BlockQ5_1, qs));
    return add_fifth_bits_pair(q, b + offsetof(BlockQ5_1, qh), b + kBytes + offsetof(BlockQ5_1, qh));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ5_1, d)); }
  static uint16_t m(const uint8_t* b) { return load_u16(b + offsetof(BlockQ5_1, m)); }
};

struct Q8_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  // q + 128 as an unsigned byte is q with its sign bit flipped.
  static __m256i unpack(const uint8_t* b) {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + offsetof(BlockQ8_0, qs)));
    return _mm256_xor_si256(q, _mm256_set1_epi8(static_cast<char>(0x80)));
  }
  static __m512i unpack_pair(const uint8_t* b) { return pair_of(unpack(b), unpack(b + kBytes)); }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockQ8_0, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

struct IQ4_NL {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockIQ4_NL);
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  // vpshufb looks the nibbles up in the 16 levels (+128, so they are unsigned), in both lanes.
  static __m256i unpack(const uint8_t* b) {
    const __m128i levels = _mm_loadu_si128(reinterpret_cast<const __m128i*>(iq::kValuesIq4nl));
    const __m256i table = _mm256_xor_si256(_mm256_broadcastsi128_si256(levels), _mm256_set1_epi8(static_cast<char>(0x80)));
    return _mm256_shuffle_epi8(table, unpack_nibbles(b + offsetof(BlockIQ4_NL, qs)));
  }
  static __m512i unpack_pair(const uint8_t* b) {
    const __m128i levels = _mm_loadu_si128(reinterpret_cast<const __m128i*>(iq::kValuesIq4nl));
    const __m512i table = _mm512_xor_si512(_mm512_broadcast_i32x4(levels), _mm512_set1_epi8(static_cast<char>(0x80)));
    return _mm512_shuffle_epi8(table, pair_nibbles(b + offsetof(BlockIQ4_NL, qs), b + kBytes + offsetof(BlockIQ4_NL, qs)));
  }
  static uint16_t d(const uint8_t* b) { return load_u16(b + offsetof(BlockIQ4_NL, d)); }
  static uint16_t m(const uint8_t*) { return 0; }
};

// Sum of 32 signed bytes: vpsadbw sums unsigned bytes, so flip them to a + 128 and take 32·128 off.
int32_t sum_i8(__m256i a) {
  const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(a, _mm256_set1_epi8(static_cast<char>(0x80))), _mm256_setzero_si256());
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
  return static_cast<int32_t>(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1)) - 32 * 128;
}

float f16_to_f32_f16c(uint16_t h) { return _cvtsh_ss(h); }

// Per activation block: its scale, and either -kOffset·Σa (formats without a min) or s (Q8_1).
struct ActBlockScales {
  float d;
  int32_t bias;
  float s;
};

template <typename W>
ActBlockScales act_block_scales(const uint8_t* blk) {
  using A = typename W::Act;
  ActBlockScales o{};
  o.d = f16_to_f32_f16c(load_u16(blk + A::kD));
  if constexpr (W::kHasMin) {
    o.s = f16_to_f32_f16c(load_u16(blk + A::kS));
  } else {
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + A::kQs));
    o.bias = -W::kOffset * sum_i8(q);
  }
  return o;
}

// ================================ direct path ==================================================

// Two consecutive activation blocks laid out for the direct kernel, in pair order: the 64 int8
// values, and per int32 lane (4 bytes) the scale of its block, the bias in the block's first
// lane (lanes 0 and 4), and s/8 (each block has 8 lanes; eight times m·s/8 adds up to m·s).
// An odd last block has a zero partner.
struct alignas(64) ActPair {
  int8_t qs[64];
  float d[16];
  int32_t bias[16];
  float s_eighth[16];
};

template <typename W>
void prepare_act_pairs(const uint8_t* a, size_t a_stride, int64_t n_tok, int64_t nb, ActPair* out) {
  using A = typename W::Act;
  const int64_t n_pairs = (nb + 1) / 2;
  for (int64_t t = 0; t < n_tok; ++t) {
    const uint8_t* row = a + t * a_stride;
    for (int64_t p = 0; p < n_pairs; ++p) {
      ActPair& o = out[t * n_pairs + p];
      std::memset(&o, 0, sizeof o);
      for (int h = 0; h < 2 && 2 * p + h < nb; ++h) {
        const uint8_t* blk = row + (2 * p + h) * A::kBytes;
        const ActBlockScales sc = act_block_scales<W>(blk);
        std::memcpy(o.qs + 16 * h, blk + A::kQs, 16);
        std::memcpy(o.qs + 32 + 16 * h, blk + A::kQs + 16, 16);
        o.bias[4 * h] = sc.bias;
        for (int l = 0; l < 4; ++l) {
          o.d[4 * h + l] = o.d[8 + 4 * h + l] = sc.d;
          o.s_eighth[4 * h + l] = o.s_eighth[8 + 4 * h + l] = sc.s * 0.125f;
        }
      }
    }
  }
}

// Two f16 scales as float lanes in pair order: d_b in lanes 0..3 and 8..11, d_c in 4..7 and 12..15.
__m512 pair_scale(uint16_t d_b, uint16_t d_c) {
  const __m128i both = _mm_cvtsi32_si128(static_cast<int>(d_b | static_cast<uint32_t>(d_c) << 16));
  const __m256i spread = _mm256_permutexvar_epi16(_mm256_setr_epi16(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1),
                                                  _mm256_castsi128_si256(both));
  return _mm512_cvtph_ps(spread);
}

// R rows x T tokens, all blocks. `w` is the first row, `act` the first token's pairs.
template <typename W, int R, int T>
void direct_tile(const uint8_t* w, size_t w_stride, int64_t nb, const ActPair* act, int64_t n_pairs, float* y,
                 size_t y_stride) {
  // Whole tiles of R rows, at least kPrefetchBytes of weights ahead.
  const size_t rows_ahead = (kPrefetchBytes / w_stride / R + 1) * R;
  const size_t prefetch_ahead = rows_ahead * w_stride;
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();

  for (int64_t p = 0; p < n_pairs; ++p) {
    const bool full = 2 * p + 1 < nb;
    __m512i wq[R];
    __m512 wd[R], wm[R];
    for (int r = 0; r < R; ++r) {
      const uint8_t* b0 = w + r * w_stride + 2 * p * W::kBytes;
      const uint8_t* b1 = b0 + W::kBytes;
      // A pair of Q8_0 blocks (68 bytes) spans two cache lines.
      for (size_t line = 0; line < 2 * W::kBytes; line += 64)
        _mm_prefetch(reinterpret_cast<const char*>(b0 + prefetch_ahead + line), _MM_HINT_T0);
      if (full) {
        wq[r] = W::unpack_pair(b0);
        wd[r] = pair_scale(W::d(b0), W::d(b1));
        if constexpr (W::kHasMin) wm[r] = pair_scale(W::m(b0), W::m(b1));
      } else {  // odd last block: its partner is zero, as is the activation's
        wq[r] = pair_of(W::unpack(b0), _mm256_setzero_si256());
        wd[r] = pair_scale(W::d(b0), 0);
        if constexpr (W::kHasMin) wm[r] = pair_scale(W::m(b0), 0);
      }
    }
    for (int t = 0; t < T; ++t) {
      const ActPair& ap = act[t * n_pairs + p];
      const __m512i aq = _mm512_load_si512(ap.qs);
      const __m512 ad = _mm512_load_ps(ap.d);
      const __m512i bias = W::kHasMin ? _mm512_setzero_si512() : _mm512_load_si512(ap.bias);
      for (int r = 0; r < R; ++r) {
        const __m512i sum = _mm512_dpbusd_epi32(bias, wq[r], aq);
        acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(wd[r], ad), acc[r][t]);
        if constexpr (W::kHasMin) acc[r][t] = _mm512_fmadd_ps(wm[r], _mm512_load_ps(ap.s_eighth), acc[r][t]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * y_stride + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <typename W, int R>
void direct_rows(const uint8_t* w, size_t w_stride, int64_t nb, const ActPair* act, int64_t n_pairs, int64_t n_tok,
                 float* y, size_t y_stride) {
  int64_t t = 0;
  for (; t + 4 <= n_tok; t += 4)
    direct_tile<W, R, 4>(w, w_stride, nb, act + t * n_pairs, n_pairs, y + t * y_stride, y_stride);
  switch (n_tok - t) {
    case 3: direct_tile<W, R, 3>(w, w_stride, nb, act + t * n_pairs, n_pairs, y + t * y_stride, y_stride); break;
    case 2: direct_tile<W, R, 2>(w, w_stride, nb, act + t * n_pairs, n_pairs, y + t * y_stride, y_stride); break;
    case 1: direct_tile<W, R, 1>(w, w_stride, nb, act + t * n_pairs, n_pairs, y + t * y_stride, y_stride); break;
    default: break;
  }
}

template <typename W>
void gemm_direct(int64_t nb, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* a, size_t a_stride,
                 int64_t n_tok, float* y, size_t y_stride) {
  const int64_t n_pairs = (nb + 1) / 2;
  auto* act = reinterpret_cast<ActPair*>(
      kernel_scratch(ScratchSlot::Activations, static_cast<size_t>(n_tok * n_pairs) * sizeof(ActPair)));
  prepare_act_pairs<W>(a, a_stride, n_tok, nb, act);
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) direct_rows<W, 4>(w + r * w_stride, w_stride, nb, act, n_pairs, n_tok, y + r, y_stride);
  for (; r < n_rows; ++r) direct_rows<W, 1>(w + r * w_stride, w_stride, nb, act, n_pairs, n_tok, y + r, y_stride);
}

// ================================ repacked path ================================================

constexpr int kGroupRows = 16;
#ifndef PT
#define PT 8
#endif
constexpr int kPackedTokens = PT;                  // tokens per register tile
#ifndef PCB
#define PCB 256
#define ACB 128
#endif
constexpr size_t kPackedChunkBytes = PCB * 1024;  // repacked rows kept in L2 while all tokens pass
constexpr size_t kActChunkBytes = ACB * 1024;     // activations kept in L2 while a chunk of rows passes

// One block of 16 rows: q[j] lane i holds weights 4j..4j+3 of row i (unsigned, with the offset);
// d and m are the rows' scales and mins as float.
struct alignas(64) PackedBlock {
  uint8_t q[8][64];
  float d[kGroupRows];
  float m[kGroupRows];
};

// 16 bytes at offset `off` of four blocks, one block per 128-bit lane.
__m512i load_quad(const uint8_t* const* blk, size_t off) {
  __m512i v = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[0] + off)));
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[1] + off)), 1);
  v = _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[2] + off)), 2);
  return _mm512_inserti32x4(v, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk[3] + off)), 3);
}

// Weights 0..15 (lo) and 16..31 (hi) of four blocks, one block per 128-bit lane: what each
// format's unpack_quad() returns, unsigned with the format's offset.
struct Quad {
  __m512i lo, hi;
};

Quad quad_nibbles(const uint8_t* const* blk, size_t qs) {
  const __m512i q = load_quad(blk, qs);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  return {_mm512_and_si512(q, mask), _mm512_and_si512(_mm512_srli_epi16(q, 4), mask)};
}

// Adds the fifth bits of four Q5_* blocks: bits 0..15 of each qh belong to lo, 16..31 to hi.
Quad add_fifth_bits_quad(Quad q, const uint8_t* const* blk, size_t qh) {
  uint64_t lo = 0, hi = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t h = load_u32(blk[i] + qh);
    lo |= (h & 0xFFFF) << (16 * i);
    hi |= (h >> 16) << (16 * i);
  }
  const __m512i sixteen = _mm512_set1_epi8(16);
  return {_mm512_mask_add_epi8(q.lo, lo, q.lo, sixteen), _mm512_mask_add_epi8(q.hi, hi, q.hi, sixteen)};
}

template <typename W>
Quad unpack_quad(const uint8_t* const* blk);

template <>
Quad unpack_quad<Q4_0>(const uint8_t* const* blk) {
  return quad_nibbles(blk, offsetof(BlockQ4_0, qs));
}
template <>
Quad unpack_quad<Q4_1>(const uint8_t* const* blk) {
  return quad_nibbles(blk, offsetof(BlockQ4_1, qs));
}
template <>
Quad unpack_quad<Q5_0>(const uint8_t* const* blk) {
  return add_fifth_bits_quad(quad_nibbles(blk, offsetof(BlockQ5_0, qs)), blk, offsetof(BlockQ5_0, qh));
}
template <>
Quad unpack_quad<Q5_1>(const uint8_t* const* blk) {
  return add_fifth_bits_quad(quad_nibbles(blk, offsetof(BlockQ5_1, qs)), blk, offsetof(BlockQ5_1, qh));
}
template <>
Quad unpack_quad<Q8_0>(const uint8_t* const* blk) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  return {_mm512_xor_si512(load_quad(blk, offsetof(BlockQ8_0, qs)), flip),
          _mm512_xor_si512(load_quad(blk, offsetof(BlockQ8_0, qs) + 16), flip)};
}
template <>
Quad unpack_quad<IQ4_NL>(const uint8_t* const* blk) {
  const __m128i levels = _mm_loadu_si128(reinterpret_cast<const __m128i*>(iq::kValuesIq4nl));
  const __m512i table = _mm512_xor_si512(_mm512_broadcast_i32x4(levels), _mm512_set1_epi8(static_cast<char>(0x80)));
  const Quad q = quad_nibbles(blk, offsetof(BlockIQ4_NL, qs));
  return {_mm512_shuffle_epi8(table, q.lo), _mm512_shuffle_epi8(table, q.hi)};
}

// permutex2var indices for one butterfly step of a transpose: the step swaps bit `lb` of the lane
// index with the register bit that tells the lower output from the upper one. Output lane L then
// takes the step's result at lane lane_map[L], which folds a final lane reordering in.
struct alignas(64) PermuteIndices {
  int32_t lane[16];
};

constexpr PermuteIndices transpose_step(int lb, bool upper, const int (&lane_map)[16]) {
  PermuteIndices p{};
  for (int out = 0; out < 16; ++out) {
    const int l = lane_map[out];
    const int from_upper_input = ((l >> lb) & 1) * 16;
    p.lane[out] = from_upper_input + (upper ? (l | (1 << lb)) : (l & ~(1 << lb)));
  }
  return p;
}

constexpr int kIdentityLanes[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr int kRowsToLanes[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
constexpr PermuteIndices kStep0Lower = transpose_step(0, false, kIdentityLanes);
constexpr PermuteIndices kStep0Upper = transpose_step(0, true, kIdentityLanes);
constexpr PermuteIndices kStep1Lower = transpose_step(1, false, kRowsToLanes);
constexpr PermuteIndices kStep1Upper = transpose_step(1, true, kRowsToLanes);

// in[g] lane 4m + i is dword i of row 4g + m (four rows of 16 bytes); out[i] lane 4g + m is the
// same dword: the rows move to the lanes. Register bits (g1 g0) and lane bits (m1 m0 i1 i0) become,
// after swapping g0 with i0 and g1 with i1, (i1 i0) and (m1 m0 g1 g0); the second step also
// reorders the lanes to (g1 g0 m1 m0).
inline __attribute__((always_inline)) void transpose_quads(const __m512i (&in)[4], __m512i* out) {
  const __m512i l0 = _mm512_load_si512(kStep0Lower.lane), u0 = _mm512_load_si512(kStep0Upper.lane);
  const __m512i l1 = _mm512_load_si512(kStep1Lower.lane), u1 = _mm512_load_si512(kStep1Upper.lane);
  const __m512i a0 = _mm512_permutex2var_epi32(in[0], l0, in[1]), a1 = _mm512_permutex2var_epi32(in[0], u0, in[1]);
  const __m512i a2 = _mm512_permutex2var_epi32(in[2], l0, in[3]), a3 = _mm512_permutex2var_epi32(in[2], u0, in[3]);
  out[0] = _mm512_permutex2var_epi32(a0, l1, a2);
  out[2] = _mm512_permutex2var_epi32(a0, u1, a2);
  out[1] = _mm512_permutex2var_epi32(a1, l1, a3);
  out[3] = _mm512_permutex2var_epi32(a1, u1, a3);
}

// Repacks rows [0, n) (n <= 16) of every block; missing rows read a zero block (scale 0).
template <typename W>
void repack_group(const uint8_t* w, size_t w_stride, int n, int64_t nb, PackedBlock* out) {
  static const uint8_t kZeroBlock[64] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk[kGroupRows];
    alignas(32) uint16_t d[kGroupRows], m[kGroupRows];
    for (int i = 0; i < kGroupRows; ++i) {
      blk[i] = i < n ? w + i * w_stride + b * W::kBytes : kZeroBlock;
      d[i] = W::d(blk[i]);
      m[i] = W::m(blk[i]);
    }
    __m512i lo[4], hi[4];
    for (int g = 0; g < 4; ++g) {
      const Quad q = unpack_quad<W>(blk + 4 * g);
      lo[g] = q.lo;
      hi[g] = q.hi;
    }
    __m512i q[8];
    transpose_quads(lo, q);      // weights 0..15: registers 0..3
    transpose_quads(hi, q + 4);  // weights 16..31: registers 4..7
    PackedBlock& o = out[b];
    for (int j = 0; j < 8; ++j) _mm512_store_si512(o.q[j], q[j]);
    _mm512_store_ps(o.d, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d))));
    _mm512_store_ps(o.m, _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(m))));
  }
}

// 16 rows x T tokens. `a` and `sc` start at the first token; sc holds the activation block
// scales with rows of nb entries.
template <typename W, int T>
void packed_tile(const PackedBlock* pw, int64_t nb, const uint8_t* a, size_t a_stride, const ActBlockScales* sc,
                 __mmask16 row_mask, float* y, size_t y_stride) {
  using A = typename W::Act;
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const PackedBlock& pb = pw[b];
    __m512i sum[T];
    for (int t = 0; t < T; ++t) sum[t] = _mm512_set1_epi32(W::kHasMin ? 0 : sc[t * nb + b].bias);
    for (int j = 0; j < 8; ++j) {
      const __m512i wq = _mm512_load_si512(pb.q[j]);
      for (int t = 0; t < T; ++t) {
        const uint8_t* aq = a + t * a_stride + b * A::kBytes + A::kQs + 4 * j;
        sum[t] = _mm512_dpbusd_epi32(sum[t], wq, _mm512_set1_epi32(static_cast<int>(load_u32(aq))));
      }
    }
    const __m512 wd = _mm512_load_ps(pb.d);
    for (int t = 0; t < T; ++t)
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[t]), _mm512_mul_ps(wd, _mm512_set1_ps(sc[t * nb + b].d)), acc[t]);
    if constexpr (W::kHasMin) {
      const __m512 wm = _mm512_load_ps(pb.m);
      for (int t = 0; t < T; ++t) acc[t] = _mm512_fmadd_ps(wm, _mm512_set1_ps(sc[t * nb + b].s), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * y_stride, row_mask, acc[t]);
}

template <typename W, int T>
void packed_tail(const PackedBlock* pw, int64_t nb, const uint8_t* a, size_t a_stride, const ActBlockScales* sc,
                 __mmask16 row_mask, float* y, size_t y_stride, int64_t n) {
  if constexpr (T > 0) {
    if (n == T) return packed_tile<W, T>(pw, nb, a, a_stride, sc, row_mask, y, y_stride);
    packed_tail<W, T - 1>(pw, nb, a, a_stride, sc, row_mask, y, y_stride, n);
  }
}

// One repacked group of 16 rows x n_tok tokens.
template <typename W>
void packed_tokens(const PackedBlock* pw, int64_t nb, const uint8_t* a, size_t a_stride, const ActBlockScales* sc,
                   int64_t n_tok, __mmask16 row_mask, float* y, size_t y_stride) {
  int64_t t = 0;
  for (; t + kPackedTokens <= n_tok; t += kPackedTokens)
    packed_tile<W, kPackedTokens>(pw, nb, a + t * a_stride, a_stride, sc + t * nb, row_mask, y + t * y_stride, y_stride);
  if (t < n_tok)
    packed_tail<W, kPackedTokens - 1>(pw, nb, a + t * a_stride, a_stride, sc + t * nb, row_mask, y + t * y_stride,
                                      y_stride, n_tok - t);
}

// Rows are repacked a chunk of groups at a time (about kPackedChunkBytes), and each chunk meets
// the tokens a chunk at a time (about kActChunkBytes of activations), so both stay in L2.
template <typename W>
void gemm_repacked(int64_t nb, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* a, size_t a_stride,
                   int64_t n_tok, float* y, size_t y_stride) {
  using A = typename W::Act;
  auto* sc = reinterpret_cast<ActBlockScales*>(
      kernel_scratch(ScratchSlot::Activations, static_cast<size_t>(n_tok * nb) * sizeof(ActBlockScales)));
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t b = 0; b < nb; ++b) sc[t * nb + b] = act_block_scales<W>(a + t * a_stride + b * A::kBytes);

  const size_t group_bytes = static_cast<size_t>(nb) * sizeof(PackedBlock);
  const int64_t groups_per_chunk = static_cast<int64_t>(kPackedChunkBytes / group_bytes > 0 ? kPackedChunkBytes / group_bytes : 1);
  const int64_t tokens_per_chunk =
      std::max<int64_t>(kPackedTokens, static_cast<int64_t>(kActChunkBytes / (static_cast<size_t>(nb) * A::kBytes)) /
                                           kPackedTokens * kPackedTokens);
  auto* packed = reinterpret_cast<PackedBlock*>(
      kernel_scratch(ScratchSlot::Weights, static_cast<size_t>(groups_per_chunk) * group_bytes));

  for (int64_t r0 = 0; r0 < n_rows; r0 += groups_per_chunk * kGroupRows) {
    const int64_t n_groups = std::min(groups_per_chunk, (n_rows - r0 + kGroupRows - 1) / kGroupRows);
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t r = r0 + g * kGroupRows;
      const int n = static_cast<int>(std::min<int64_t>(kGroupRows, n_rows - r));
      repack_group<W>(w + r * w_stride, w_stride, n, nb, packed + g * nb);
    }
    for (int64_t t0 = 0; t0 < n_tok; t0 += tokens_per_chunk) {
      const int64_t nt = std::min(tokens_per_chunk, n_tok - t0);
      for (int64_t g = 0; g < n_groups; ++g) {
        const int64_t r = r0 + g * kGroupRows;
        const int n = static_cast<int>(std::min<int64_t>(kGroupRows, n_rows - r));
        packed_tokens<W>(packed + g * nb, nb, a + t0 * a_stride, a_stride, sc + t0 * nb, nt,
                         static_cast<__mmask16>((1u << n) - 1u), y + t0 * y_stride + r, y_stride);
      }
    }
  }
}

template <typename W>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const int64_t nb = k / kQK;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  if (n_tok >= kRepackMinTokens)
    gemm_repacked<W>(nb, wb, w_stride, n_rows, ab, a_stride, n_tok, y, y_stride);
  else
    gemm_direct<W>(nb, wb, w_stride, n_rows, ab, a_stride, n_tok, y, y_stride);
}

}  // namespace

void gemm_q4_0_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q4_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_1_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q4_1>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_0_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q5_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_1_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q5_1>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q8_0_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q8_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_nl_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride) {
  gemm<IQ4_NL>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
