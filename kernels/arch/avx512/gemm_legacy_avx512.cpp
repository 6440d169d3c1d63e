// AVX-512 VNNI GEMM for the 32-element formats: Q4_0, Q5_0, Q8_0, IQ4_NL x Q8_0 and
// Q4_1, Q5_1 x Q8_1 (reference: kernels/arch/scalar/gemm_legacy_scalar.cpp).
//
// The integer dot products use vpdpbusd, which multiplies UNSIGNED bytes by SIGNED bytes. Each
// weight block is therefore unpacked to u[j] = q[j] + kOffset in 0..255 (Q8_0 and IQ4_NL: +128,
// Q4_0: +8, Q5_0: +16; the _1 formats are unsigned already), and each block's int32 sum starts
// at -kOffset·Σa (Σa = sum of the activation block's int8 values, computed once per call and
// reused by every row): Σ(q + off)·a - off·Σa = Σ q·a exactly. Treating the signed weights as
// unsigned without that correction is the bug of spec §6 "Hazard".
//
// Two paths:
// * direct (decode, fewer than kLegacyAvx512RepackMinTokens tokens): two blocks per 512-bit
//   register; the int32 lanes of each block are scaled by d_w·d_a and accumulated in float (two
//   alternating accumulators per (row, token), for every tile alike: batch invariance), and each
//   (row, token) is reduced once at the end. Weights are read once, so this path is about
//   bandwidth: one row after another, the tokens of a call sharing each unpacked weight block,
//   few instructions per block, and software prefetch.
// * repacked (prefill): 16 rows are unpacked and transposed so that one register holds 4
//   consecutive weights of each of the 16 rows; one vpdpbusd with 4 broadcast activation bytes
//   then advances 16 rows at once, with no horizontal sums. A chunk of rows is repacked once
//   per call and meets every token.
// GCC 12's AVX-512 headers warn about their own _mm512_undefined_* placeholders (GCC PR105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstddef>
#include <cstring>

#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/arch/scratch.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

// The direct path streams the weights once; the hardware prefetcher does not run far enough ahead,
// so each row also prefetches the position that is read about this many bytes later (measured:
// +20-60% from DRAM on Zen 5, most for 4-bit formats).
constexpr size_t kPrefetchBytes = 8192;
// Repacked path: tokens per register tile, and the working sets kept in L2 (1 MiB per core).
constexpr int kPackedTokens = 8;
constexpr size_t kPackedChunkBytes = 256 * 1024;  // repacked rows, reused by every token
constexpr size_t kActChunkBytes = 128 * 1024;     // activations, reused by a chunk of rows

// How far ahead a row tile prefetches: whole tiles of `rows` rows, at least kPrefetchBytes.
size_t prefetch_distance(size_t w_stride, int rows) {
  if (w_stride == 0) return kPrefetchBytes;  // a single row may come with a zero stride
  return (kPrefetchBytes / w_stride / rows + 1) * rows * w_stride;
}

// Local min/max: no standard-library templates are instantiated with AVX-512 flags, since the
// linker may keep such a copy for code that runs on any CPU (kernels/arch/tables.hpp).
int64_t min_i64(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t max_i64(int64_t a, int64_t b) { return a > b ? a : b; }

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

__m128i load_128(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
__m256i load_256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

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

// --- Weight formats ----------------------------------------------------------------------------
// Each unpacks its weights to unsigned bytes q + kOffset in element order, three ways:
//   unpack(b)        one block, 32 bytes;
//   unpack_pair(b)   blocks b and b + 1, 64 bytes (the direct path);
//   unpack_quad(blk) bytes 0..15 (lo) and 16..31 (hi) of four blocks, one block per 128-bit lane
//                    (the repack).

struct Quad {
  __m512i lo, hi;
};

// 16 bytes at offset `off` of four blocks, one block per 128-bit lane.
__m512i load_quad(const uint8_t* const* blk, size_t off) {
  __m512i v = _mm512_castsi128_si512(load_128(blk[0] + off));
  v = _mm512_inserti32x4(v, load_128(blk[1] + off), 1);
  v = _mm512_inserti32x4(v, load_128(blk[2] + off), 2);
  return _mm512_inserti32x4(v, load_128(blk[3] + off), 3);
}

// Low nibbles of 16 bytes as elements 0..15, high nibbles as 16..31.
__m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i x = load_128(qs);
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(x), _mm_srli_epi16(x, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// unpack_nibbles of two blocks: [qs_b, qs_b, qs_c, qs_c] (broadcast loads, one insert) shifted
// right by 0 or 4 bits per 128-bit lane.
__m512i unpack_nibbles_pair(const uint8_t* qs_b, const uint8_t* qs_c) {
  const __m512i b = _mm512_broadcast_i32x4(load_128(qs_b));
  const __m256i c = _mm256_broadcastsi128_si256(load_128(qs_c));
  const __m512i twice = _mm512_inserti64x4(b, c, 1);
  const __m512i shifted = _mm512_srlv_epi64(twice, _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0));
  return _mm512_and_si512(shifted, _mm512_set1_epi8(0x0F));
}

Quad unpack_nibbles_quad(const uint8_t* const* blk, size_t qs) {
  const __m512i q = load_quad(blk, qs);
  const __m512i mask = _mm512_set1_epi8(0x0F);
  return {_mm512_and_si512(q, mask), _mm512_and_si512(_mm512_srli_epi16(q, 4), mask)};
}

// The fifth bit of Q5_*: bit j of the little-endian u32 qh adds 16 to element j.
__m256i add_fifth_bits(__m256i q, const uint8_t* qh) {
  return _mm256_mask_add_epi8(q, _cvtu32_mask32(load_u32(qh)), q, _mm256_set1_epi8(16));
}

__m512i add_fifth_bits_pair(__m512i q, const uint8_t* qh_b, const uint8_t* qh_c) {
  const __mmask64 bits = _cvtu64_mask64(static_cast<uint64_t>(load_u32(qh_c)) << 32 | load_u32(qh_b));
  return _mm512_mask_add_epi8(q, bits, q, _mm512_set1_epi8(16));
}

// Bits 0..15 of each qh belong to the quad's lo register, 16..31 to hi.
Quad add_fifth_bits_quad(Quad q, const uint8_t* const* blk, size_t qh) {
  uint64_t lo = 0, hi = 0;
  for (int i = 0; i < 4; ++i) {
    const uint64_t h = load_u32(blk[i] + qh);
    lo |= (h & 0xFFFF) << (16 * i);
    hi |= (h >> 16) << (16 * i);
  }
  const __m512i sixteen = _mm512_set1_epi8(16);
  return {_mm512_mask_add_epi8(q.lo, _cvtu64_mask64(lo), q.lo, sixteen),
          _mm512_mask_add_epi8(q.hi, _cvtu64_mask64(hi), q.hi, sixteen)};
}

// The 16 IQ4_NL levels + 128 (unsigned), in every 128-bit lane, for vpshufb.
__m512i iq4nl_levels() {
  const __m512i levels = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(iq::kValuesIq4nl)));
  return _mm512_xor_si512(levels, _mm512_set1_epi8(static_cast<char>(0x80)));
}

struct Q4_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ4_0);
  static constexpr size_t kD = offsetof(BlockQ4_0, d);
  static constexpr size_t kM = 0;
  static constexpr size_t kQs = offsetof(BlockQ4_0, qs);
  static constexpr int kOffset = 8;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) { return unpack_nibbles(b + kQs); }
  static __m512i unpack_pair(const uint8_t* b) { return unpack_nibbles_pair(b + kQs, b + kBytes + kQs); }
  static Quad unpack_quad(const uint8_t* const* blk) { return unpack_nibbles_quad(blk, kQs); }
};

struct Q4_1 {
  using Act = ActQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ4_1);
  static constexpr size_t kD = offsetof(BlockQ4_1, d);
  static constexpr size_t kM = offsetof(BlockQ4_1, m);
  static constexpr size_t kQs = offsetof(BlockQ4_1, qs);
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* b) { return unpack_nibbles(b + kQs); }
  static __m512i unpack_pair(const uint8_t* b) { return unpack_nibbles_pair(b + kQs, b + kBytes + kQs); }
  static Quad unpack_quad(const uint8_t* const* blk) { return unpack_nibbles_quad(blk, kQs); }
};

struct Q5_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ5_0);
  static constexpr size_t kD = offsetof(BlockQ5_0, d);
  static constexpr size_t kM = 0;
  static constexpr size_t kQh = offsetof(BlockQ5_0, qh);
  static constexpr size_t kQs = offsetof(BlockQ5_0, qs);
  static constexpr int kOffset = 16;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) { return add_fifth_bits(unpack_nibbles(b + kQs), b + kQh); }
  static __m512i unpack_pair(const uint8_t* b) {
    return add_fifth_bits_pair(unpack_nibbles_pair(b + kQs, b + kBytes + kQs), b + kQh, b + kBytes + kQh);
  }
  static Quad unpack_quad(const uint8_t* const* blk) { return add_fifth_bits_quad(unpack_nibbles_quad(blk, kQs), blk, kQh); }
};

struct Q5_1 {
  using Act = ActQ8_1;
  static constexpr size_t kBytes = sizeof(BlockQ5_1);
  static constexpr size_t kD = offsetof(BlockQ5_1, d);
  static constexpr size_t kM = offsetof(BlockQ5_1, m);
  static constexpr size_t kQh = offsetof(BlockQ5_1, qh);
  static constexpr size_t kQs = offsetof(BlockQ5_1, qs);
  static constexpr int kOffset = 0;
  static constexpr bool kHasMin = true;
  static __m256i unpack(const uint8_t* b) { return add_fifth_bits(unpack_nibbles(b + kQs), b + kQh); }
  static __m512i unpack_pair(const uint8_t* b) {
    return add_fifth_bits_pair(unpack_nibbles_pair(b + kQs, b + kBytes + kQs), b + kQh, b + kBytes + kQh);
  }
  static Quad unpack_quad(const uint8_t* const* blk) { return add_fifth_bits_quad(unpack_nibbles_quad(blk, kQs), blk, kQh); }
};

// q + 128 as an unsigned byte is q with its sign bit flipped.
struct Q8_0 {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockQ8_0);
  static constexpr size_t kD = offsetof(BlockQ8_0, d);
  static constexpr size_t kM = 0;
  static constexpr size_t kQs = offsetof(BlockQ8_0, qs);
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) {
    return _mm256_xor_si256(load_256(b + kQs), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
  static __m512i unpack_pair(const uint8_t* b) {
    const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(load_256(b + kQs)), load_256(b + kBytes + kQs), 1);
    return _mm512_xor_si512(q, _mm512_set1_epi8(static_cast<char>(0x80)));
  }
  static Quad unpack_quad(const uint8_t* const* blk) {
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    return {_mm512_xor_si512(load_quad(blk, kQs), flip), _mm512_xor_si512(load_quad(blk, kQs + 16), flip)};
  }
};

// The nibbles index the 16 levels with vpshufb.
struct IQ4_NL {
  using Act = ActQ8_0;
  static constexpr size_t kBytes = sizeof(BlockIQ4_NL);
  static constexpr size_t kD = offsetof(BlockIQ4_NL, d);
  static constexpr size_t kM = 0;
  static constexpr size_t kQs = offsetof(BlockIQ4_NL, qs);
  static constexpr int kOffset = 128;
  static constexpr bool kHasMin = false;
  static __m256i unpack(const uint8_t* b) {
    return _mm256_shuffle_epi8(_mm512_castsi512_si256(iq4nl_levels()), unpack_nibbles(b + kQs));
  }
  static __m512i unpack_pair(const uint8_t* b) {
    return _mm512_shuffle_epi8(iq4nl_levels(), unpack_nibbles_pair(b + kQs, b + kBytes + kQs));
  }
  static Quad unpack_quad(const uint8_t* const* blk) {
    const Quad q = unpack_nibbles_quad(blk, kQs);
    return {_mm512_shuffle_epi8(iq4nl_levels(), q.lo), _mm512_shuffle_epi8(iq4nl_levels(), q.hi)};
  }
};

// --- Activation block scales -------------------------------------------------------------------

// Sum of 32 signed bytes: vpsadbw sums unsigned bytes, so flip them to a + 128 and take 32·128 off.
int32_t sum_i8(__m256i a) {
  const __m256i sad = _mm256_sad_epu8(_mm256_xor_si256(a, _mm256_set1_epi8(static_cast<char>(0x80))), _mm256_setzero_si256());
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(sad), _mm256_extracti128_si256(sad, 1));
  return static_cast<int32_t>(_mm_cvtsi128_si64(s) + _mm_extract_epi64(s, 1)) - 32 * 128;
}

// Per activation block: its scale, and -kOffset·Σa (formats without a min) or s (Q8_1).
struct ActBlockScales {
  float d;
  int32_t bias;
  float s;
};

template <typename W>
ActBlockScales act_block_scales(const uint8_t* blk) {
  using A = typename W::Act;
  ActBlockScales o{};
  o.d = _cvtsh_ss(load_u16(blk + A::kD));
  if constexpr (W::kHasMin)
    o.s = _cvtsh_ss(load_u16(blk + A::kS));
  else
    o.bias = -W::kOffset * sum_i8(load_256(blk + A::kQs));
  return o;
}

// ================================ direct path ==================================================

// Two consecutive activation blocks as the direct kernel reads them: 64 int8 values, then per
// int32 lane (8 per block) the block's scale, its bias (in the block's first lane only) and s/8
// (eight lanes of m·s/8 add up to m·s). An odd last block has a zero partner.
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
        std::memcpy(o.qs + 32 * h, blk + A::kQs, 32);
        o.bias[8 * h] = sc.bias;
        for (int l = 0; l < 8; ++l) {
          o.d[8 * h + l] = sc.d;
          o.s_eighth[8 * h + l] = sc.s * 0.125f;
        }
      }
    }
  }
}

// The f16 field at byte kOff of block b (and of block b + 1 when `both`) as float lanes 0..7
// (8..15; 0 without the partner). The masked load touches only those two 16-bit words, and
// vpermw spreads them.
template <typename W, size_t kOff>
__m512 pair_field(const uint8_t* b, bool both) {
  constexpr short kWordB = kOff / 2, kWordC = (W::kBytes + kOff) / 2;
  const __mmask32 words = (1u << kWordB) | (both ? 1u << kWordC : 0u);
  const __m512i spread = _mm512_permutexvar_epi16(
      _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, kWordC, kWordC, kWordC, kWordC, kWordC, kWordC,
                       kWordC, kWordC, kWordB, kWordB, kWordB, kWordB, kWordB, kWordB, kWordB, kWordB),
      _mm512_maskz_loadu_epi16(words, b));
  return _mm512_cvtph_ps(_mm512_castsi512_si256(spread));
}

// One pair of blocks (p, or only its first block when !kFull) of R rows x T tokens into acc.
template <typename W, int R, int T, bool kFull>
inline __attribute__((always_inline)) void direct_step(const uint8_t* w, size_t w_stride, size_t prefetch_ahead,
                                                       int64_t p, const ActPair* act, int64_t n_pairs,
                                                       __m512 (&acc)[R][T]) {
  __m512i wq[R];
  __m512 wd[R], wm[R];
  for (int r = 0; r < R; ++r) {
    const uint8_t* b = w + r * w_stride + 2 * p * W::kBytes;
    for (size_t line = 0; line < 2 * W::kBytes; line += 64)  // a Q8_0 pair spans two lines
      _mm_prefetch(reinterpret_cast<const char*>(b + prefetch_ahead + line), _MM_HINT_T0);
    wq[r] = kFull ? W::unpack_pair(b) : _mm512_zextsi256_si512(W::unpack(b));
    wd[r] = pair_field<W, W::kD>(b, kFull);
    if constexpr (W::kHasMin) wm[r] = pair_field<W, W::kM>(b, kFull);
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

// R rows x T tokens, all blocks. `w` is the first row, `act` the first token's pairs.
template <typename W, int R, int T>
void direct_tile(const uint8_t* w, size_t w_stride, int64_t nb, const ActPair* act, int64_t n_pairs, float* y,
                 size_t y_stride) {
  const size_t prefetch_ahead = prefetch_distance(w_stride, R);
  // A lone (row, token) would be one chain of dependent FMAs: alternate two accumulator sets. Every
  // tile does, so that a token's sum is added up alike in any call (batch invariance).
  constexpr int kChains = 2;
  __m512 acc[kChains][R][T];
  for (int c = 0; c < kChains; ++c)
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < T; ++t) acc[c][r][t] = _mm512_setzero_ps();
  const int64_t n_full = nb / 2;
  int64_t p = 0;
  for (; p + kChains <= n_full; p += kChains)
    for (int c = 0; c < kChains; ++c) direct_step<W, R, T, true>(w, w_stride, prefetch_ahead, p + c, act, n_pairs, acc[c]);
  for (; p < n_full; ++p) direct_step<W, R, T, true>(w, w_stride, prefetch_ahead, p, act, n_pairs, acc[0]);
  if (nb % 2) direct_step<W, R, T, false>(w, w_stride, prefetch_ahead, n_full, act, n_pairs, acc[kChains - 1]);
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      __m512 sum = acc[0][r][t];
      for (int c = 1; c < kChains; ++c) sum = _mm512_add_ps(sum, acc[c][r][t]);
      y[t * y_stride + r] = _mm512_reduce_add_ps(sum);
    }
  }
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

// One token (decode) streams the rows one after another: a single sequential stream reaches more
// of the memory bandwidth than 4 rows side by side (measured: Q8_0 ~45 vs ~36 GB/s on one Zen 5
// core). With more tokens, 4 rows share each activation load.
template <typename W>
void gemm_direct(int64_t nb, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* a, size_t a_stride,
                 int64_t n_tok, float* y, size_t y_stride) {
  const int64_t n_pairs = (nb + 1) / 2;
  auto* act = reinterpret_cast<ActPair*>(
      kernel_scratch(ScratchSlot::Activations, static_cast<size_t>(n_tok * n_pairs) * sizeof(ActPair)));
  prepare_act_pairs<W>(a, a_stride, n_tok, nb, act);
  // One row at a time: two accumulator sets of 4 rows x 4 tokens would not fit the registers.
  for (int64_t r = 0; r < n_rows; ++r) direct_rows<W, 1>(w + r * w_stride, w_stride, nb, act, n_pairs, n_tok, y + r, y_stride);
}

// ================================ repacked path ================================================

constexpr int kGroupRows = 16;

// One block of 16 rows: q[j] lane i holds weights 4j..4j+3 of row i (unsigned, with the offset);
// d and m are the rows' scales and mins as float.
struct alignas(64) PackedBlock {
  uint8_t q[8][64];
  float d[kGroupRows];
  float m[kGroupRows];
};

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
      d[i] = load_u16(blk[i] + W::kD);
      m[i] = W::kHasMin ? load_u16(blk[i] + W::kM) : 0;
    }
    __m512i lo[4], hi[4];
    for (int g = 0; g < 4; ++g) {
      const Quad q = W::unpack_quad(blk + 4 * g);
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

// 16 rows x T tokens. `a` and `sc` start at the first token; sc has rows of nb entries.
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
  const int64_t groups_per_chunk = max_i64(1, static_cast<int64_t>(kPackedChunkBytes / group_bytes));
  const int64_t tokens_per_chunk = max_i64(
      kPackedTokens, static_cast<int64_t>(kActChunkBytes / (static_cast<size_t>(nb) * A::kBytes)) / kPackedTokens * kPackedTokens);
  auto* packed = reinterpret_cast<PackedBlock*>(
      kernel_scratch(ScratchSlot::Weights, static_cast<size_t>(groups_per_chunk) * group_bytes));

  for (int64_t r0 = 0; r0 < n_rows; r0 += groups_per_chunk * kGroupRows) {
    const int64_t n_groups = min_i64(groups_per_chunk, (n_rows - r0 + kGroupRows - 1) / kGroupRows);
    for (int64_t g = 0; g < n_groups; ++g) {
      const int64_t r = r0 + g * kGroupRows;
      repack_group<W>(w + r * w_stride, w_stride, static_cast<int>(min_i64(kGroupRows, n_rows - r)), nb,
                      packed + g * nb);
    }
    for (int64_t t0 = 0; t0 < n_tok; t0 += tokens_per_chunk) {
      const int64_t nt = min_i64(tokens_per_chunk, n_tok - t0);
      for (int64_t g = 0; g < n_groups; ++g) {
        const int64_t r = r0 + g * kGroupRows;
        const int n = static_cast<int>(min_i64(kGroupRows, n_rows - r));
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
  if (nb == 0) {  // empty rows: every dot product is 0
    for (int64_t t = 0; t < n_tok; ++t)
      for (int64_t r = 0; r < n_rows; ++r) y[t * y_stride + r] = 0.0f;
  } else if (n_tok >= kLegacyAvx512RepackMinTokens)
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
