// AVX-512 (F, BW, VL, DQ, VNNI) GEMM for Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and IQ4_XS against Q8_K.
//
// The integer work is vpdpbusd: unsigned weight codes x signed Q8_K activations, 4 products summed
// into each int32 lane. The block decoders (kquant_blocks_avx512.hpp) reduce every type to
// unsigned codes c with, per sub-block, a float scale d and either a min m (w = d*c - m) or a code
// offset o shared by the type (w = d*(c - o)). With I = sum of c*a over a sub-block (int32) and
// A = sum of a over it (from the Q8_K bsums), a sub-block contributes
//   d_a * (d*I - m*A)   or   d * d_a * (I - o*A).
// Two paths:
// * direct (decode and small batches): one row at a time, four vpdpbusd per super-block and
//   token on the codes in the type's lane layout, where every int32 lane sees a single
//   sub-block, so the scales are applied once per super-block as 16 float lanes; the activations
//   are rearranged into the same layout once per call (prepare_lane_activations). Rows are
//   dotted with tiles of up to kTileTokens tokens so each block is decoded once per tile.
// * repacked (prefill, at least kKquantAvx512RepackMinTokens tokens): 16 rows are decoded and interleaved so
//   that one 512-bit register holds 4 consecutive codes of each of the 16 rows; one vpdpbusd with
//   4 broadcast activation bytes then advances 16 rows, and the per-sub-block scales are 16-row
//   float vectors. No horizontal sums, about half the instructions per product of the direct
//   path; the repacking is paid once per call and shared by all tokens.
#include "kernels/arch/avx512/kquant_blocks_avx512.hpp"

#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/arch/scratch.hpp"

namespace lem {
namespace {

#define LEM_INLINE [[gnu::always_inline]] inline

constexpr int64_t kRowChunkBytes = 256 * 1024;  // weights kept in L2 while token tiles pass
constexpr int64_t kActSliceBytes = 32 * 1024;   // prepared activations kept in L1 while rows pass
constexpr int kTileTokens = 8;                  // direct path
// The direct path streams the weights once and the hardware prefetcher does not run far enough
// ahead (as in the legacy-format kernels): prefetch the bytes read this far later.
constexpr int64_t kPrefetchBytes = 8192;
constexpr int kGroupRows = 16;                  // repacked path: rows per register
constexpr int kGroupTokens = 16;                // repacked path: tokens per tile
constexpr int64_t kActL2Bytes = 512 * 1024;     // repacked path: activations kept in L2

constexpr size_t kActQs = offsetof(BlockQ8_K, qs);

LEM_INLINE float load_act_d(const uint8_t* blk) {
  float d;
  std::memcpy(&d, blk + offsetof(BlockQ8_K, d), sizeof d);
  return d;
}

// Horizontal sum (GCC 12's _mm512_reduce_add_ps trips -Wuninitialized, see the decoders' header).
LEM_INLINE float reduce_add(__m512 v) {
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
  v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
  __m128 s = _mm512_castps512_ps128(v);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ==================================== direct path ================================================

// Per-lane index of the sub-block that int32 lane l of accumulator `acc` sees.
template <const Layout& L>
struct LaneSubBlocks {
  alignas(64) int32_t index[2][16] = {};
  constexpr LaneSubBlocks() {
    for (int acc = 0; acc < L.accumulators; ++acc)
      for (int lane = 0; lane < 16; ++lane) index[acc][lane] = L.element[2 * acc][lane / 2] / L.span;
  }
};

// Gather offsets (bytes into Q8_K qs) of each activation vector.
template <const Layout& L>
struct GatherOffsets {
  alignas(64) int64_t offset[4][8] = {};
  constexpr GatherOffsets() {
    for (int j = 0; j < 4; ++j)
      for (int p = 0; p < 8; ++p) offset[j][p] = L.element[j][p];
  }
};

// One Q8_K block of one token, rearranged into a weight type's lane layout.
struct alignas(64) LaneActBlock {
  int8_t q[4][64];   // activations in the layout of W[j]
  float sum[2][16];  // d_a * (sum of the activations each int32 lane of accumulator 0/1 meets),
                     // times -code_offset for the offset types
  float d;           // d_a
};

template <const Layout& L>
void prepare_lane_activations(const uint8_t* a, size_t a_stride, int64_t n_tok, int64_t n_blocks, LaneActBlock* out) {
  static constexpr GatherOffsets<L> kGather;
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t i = 0; i < n_blocks; ++i) {
      const uint8_t* blk = a + t * static_cast<int64_t>(a_stride) + i * static_cast<int64_t>(sizeof(BlockQ8_K));
      LaneActBlock& o = out[t * n_blocks + i];
      __m512i lane_sum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
      for (int j = 0; j < 4; ++j) {
        const __m512i q = _mm512_i64gather_epi64(_mm512_load_si512(kGather.offset[j]), blk + kActQs, 1);
        _mm512_store_si512(o.q[j], q);
        const int acc = L.accumulators == 1 ? 0 : j / 2;
        lane_sum[acc] = _mm512_dpbusd_epi32(lane_sum[acc], ones, q);
      }
      o.d = load_act_d(blk);
      const __m512 factor = _mm512_set1_ps(L.has_min ? o.d : -L.code_offset * o.d);
      for (int acc = 0; acc < L.accumulators; ++acc)
        _mm512_store_ps(o.sum[acc], _mm512_mul_ps(_mm512_cvtepi32_ps(lane_sum[acc]), factor));
    }
  }
}

// One weight super-block in its lane layout, with scales (and mins) per accumulator lane.
struct LaneBlock {
  __m512i q[4];
  __m512 d[2];
  __m512 m[2];
};

template <class Type>
LEM_INLINE void decode_lanes(const uint8_t* b, LaneBlock& w) {
  static constexpr const Layout& L = Type::kLayout;
  static constexpr LaneSubBlocks<Type::kLayout> kLanes;
  Type::lanes(b, w.q);
  const SubBlockScales s = Type::scales(b);
  for (int acc = 0; acc < L.accumulators; ++acc) {
    const __m512i index = _mm512_load_si512(kLanes.index[acc]);
    w.d[acc] = _mm512_permutexvar_ps(index, s.d);
    if constexpr (L.has_min) w.m[acc] = _mm512_permutexvar_ps(index, s.m);
  }
}

// acc += row block . activation block (one token).
template <const Layout& L>
LEM_INLINE void dot_lane_block(const LaneBlock& w, const LaneActBlock& a, __m512& acc) {
  __m512i sum[2];
  sum[0] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.q[0], _mm512_load_si512(a.q[0]));
  sum[0] = _mm512_dpbusd_epi32(sum[0], w.q[1], _mm512_load_si512(a.q[1]));
  if constexpr (L.accumulators == 1) {
    sum[0] = _mm512_dpbusd_epi32(sum[0], w.q[2], _mm512_load_si512(a.q[2]));
    sum[0] = _mm512_dpbusd_epi32(sum[0], w.q[3], _mm512_load_si512(a.q[3]));
  } else {
    sum[1] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.q[2], _mm512_load_si512(a.q[2]));
    sum[1] = _mm512_dpbusd_epi32(sum[1], w.q[3], _mm512_load_si512(a.q[3]));
  }
  const __m512 da = _mm512_set1_ps(a.d);
  if constexpr (L.has_min) {
    // The block's contribution is formed apart and added last, so that the loop-carried chain
    // through acc is one add per block.
    __m512 c = _mm512_fmsub_ps(w.d[0], _mm512_mul_ps(_mm512_cvtepi32_ps(sum[0]), da),
                               _mm512_mul_ps(w.m[0], _mm512_load_ps(a.sum[0])));
    if constexpr (L.accumulators == 2)
      c = _mm512_add_ps(c, _mm512_fmsub_ps(w.d[1], _mm512_mul_ps(_mm512_cvtepi32_ps(sum[1]), da),
                                           _mm512_mul_ps(w.m[1], _mm512_load_ps(a.sum[1]))));
    acc = _mm512_add_ps(acc, c);
  } else {
    for (int x = 0; x < L.accumulators; ++x)
      acc = _mm512_fmadd_ps(w.d[x], _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum[x]), da, _mm512_load_ps(a.sum[x])), acc);
  }
}

// Blocks [b0, b1) of one row times T tokens of prepared activations (token t's blocks start at
// act + t * n_blocks); the sums are stored to y[t * y_stride], or added when `accumulate`.
template <class Type, int T>
void row_times_tokens(const uint8_t* row, const LaneActBlock* act, int64_t n_blocks, int64_t b0, int64_t b1,
                      bool accumulate, float* y, size_t y_stride) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  constexpr int64_t kBlockBytes = static_cast<int64_t>(sizeof(typename Type::Block));
  for (int64_t i = b0; i < b1; ++i) {
    // Rows are back to back, so this runs ahead through the following rows too.
    const char* ahead = reinterpret_cast<const char*>(row + i * kBlockBytes) + kPrefetchBytes;
    for (int64_t line = 0; line < kBlockBytes; line += 64) _mm_prefetch(ahead + line, _MM_HINT_T0);
    LaneBlock w;
    decode_lanes<Type>(row + i * kBlockBytes, w);
    for (int t = 0; t < T; ++t) dot_lane_block<Type::kLayout>(w, act[t * n_blocks + i], acc[t]);
  }
  for (int t = 0; t < T; ++t) y[t * y_stride] = (accumulate ? y[t * y_stride] : 0.0f) + reduce_add(acc[t]);
}

template <class Type>
void row_times_tile(int n, const uint8_t* row, const LaneActBlock* act, int64_t n_blocks, int64_t b0, int64_t b1,
                    bool accumulate, float* y, size_t y_stride) {
  switch (n) {
    case 1: return row_times_tokens<Type, 1>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    case 2: return row_times_tokens<Type, 2>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    case 3: return row_times_tokens<Type, 3>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    case 4: return row_times_tokens<Type, 4>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    case 5: return row_times_tokens<Type, 5>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    case 6: return row_times_tokens<Type, 6>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    case 7: return row_times_tokens<Type, 7>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
    default: return row_times_tokens<Type, kTileTokens>(row, act, n_blocks, b0, b1, accumulate, y, y_stride);
  }
}

// Loop order: chunks of rows that stay in L2; within a chunk, tiles of up to kTileTokens tokens;
// within a tile, slices of the row length (for very long rows) whose prepared activations stay
// near L1 while every row of the chunk passes over them; then the rows.
template <class Type>
void gemm_direct(int64_t n_blocks, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* a,
                 size_t a_stride, int64_t n_tok, float* y, size_t y_stride) {
  auto* act = reinterpret_cast<LaneActBlock*>(
      kernel_scratch(ScratchSlot::Activations, static_cast<size_t>(n_tok * n_blocks) * sizeof(LaneActBlock)));
  prepare_lane_activations<Type::kLayout>(a, a_stride, n_tok, n_blocks, act);
  const int64_t stride = static_cast<int64_t>(w_stride);
  const int64_t row_chunk = stride >= kRowChunkBytes ? 1 : kRowChunkBytes / stride;
  // Slices as long as one token's activations fit kActSliceBytes, however many tokens the tile
  // holds: a token's sum is then added up in the same order in every tile and call (batch
  // invariance, kernels/kernels.hpp). Rows up to ~18K elements stay one slice.
  const int64_t row_act_bytes = n_blocks * static_cast<int64_t>(sizeof(LaneActBlock));
  const int64_t n_slices = (row_act_bytes + kActSliceBytes - 1) / kActSliceBytes;
  for (int64_t r0 = 0; r0 < n_rows; r0 += row_chunk) {
    const int64_t r1 = r0 + row_chunk < n_rows ? r0 + row_chunk : n_rows;
    for (int64_t t0 = 0; t0 < n_tok; t0 += kTileTokens) {
      const int n = static_cast<int>(n_tok - t0 < kTileTokens ? n_tok - t0 : kTileTokens);
      for (int64_t s = 0; s < n_slices; ++s) {
        const int64_t b0 = n_blocks * s / n_slices, b1 = n_blocks * (s + 1) / n_slices;
        for (int64_t r = r0; r < r1; ++r)
          row_times_tile<Type>(n, w + r * stride, act + t0 * n_blocks, n_blocks, b0, b1, s > 0,
                               y + t0 * static_cast<int64_t>(y_stride) + r, y_stride);
      }
    }
  }
}

// =================================== repacked path ===============================================

// One super-block of 16 rows: q[c] lane r holds codes 4c .. 4c + 3 of row r (element order);
// d[s] / m[s] lane r is the scale / min of sub-block s of row r (rows past the end are zero).
struct alignas(64) PackedBlock {
  uint8_t q[64][64];
  float d[16][kGroupRows];
  float m[16][kGroupRows];
};

// The activations of one tile of up to 16 tokens for one block, contiguous so that the kernel
// reads one stream: the Q8_K values, d_a and, per sub-block, d_a * (sum of its activations)
// (from the bsums), times -code_offset for the offset types.
struct alignas(64) ActTileBlock {
  int8_t q[kGroupTokens][kQK_K];
  float d[kGroupTokens];
  float sum[kGroupTokens][16];
};

// Token tile t0 / 16 occupies n_blocks consecutive ActTileBlocks.
template <const Layout& L>
void prepare_act_tiles(const uint8_t* a, size_t a_stride, int64_t n_tok, int64_t n_blocks, ActTileBlock* out) {
  for (int64_t t = 0; t < n_tok; ++t) {
    for (int64_t i = 0; i < n_blocks; ++i) {
      const uint8_t* blk = a + t * static_cast<int64_t>(a_stride) + i * static_cast<int64_t>(sizeof(BlockQ8_K));
      ActTileBlock& o = out[(t / kGroupTokens) * n_blocks + i];
      const int slot = static_cast<int>(t % kGroupTokens);
      std::memcpy(o.q[slot], blk + kActQs, kQK_K);
      int16_t bsums[16];
      std::memcpy(bsums, blk + offsetof(BlockQ8_K, bsums), sizeof bsums);
      o.d[slot] = load_act_d(blk);
      const float factor = L.has_min ? o.d[slot] : -L.code_offset * o.d[slot];
      for (int s = 0; s < kQK_K / L.span; ++s) {
        const int sum = L.span == 16 ? bsums[s] : bsums[2 * s] + bsums[2 * s + 1];
        o.sum[slot][s] = factor * static_cast<float>(sum);
      }
    }
  }
}

// In-place transpose of a 16 x 16 matrix of 32-bit elements (v[i] = row i). Within 128-bit lanes,
// two unpack stages gather element 4L + j of rows 4i .. 4i + 3 into lane L of u[4i + j]; two
// 128-bit lane shuffle stages then collect those quads from the four row groups.
LEM_INLINE void transpose16x16(__m512i (&v)[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(v[2 * i], v[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(v[2 * i], v[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int j = 0; j < 4; ++j) {
    const __m512i w0 = _mm512_shuffle_i32x4(u[j], u[4 + j], _MM_SHUFFLE(2, 0, 2, 0));   // lanes 0, 2
    const __m512i w1 = _mm512_shuffle_i32x4(u[j], u[4 + j], _MM_SHUFFLE(3, 1, 3, 1));   // lanes 1, 3
    const __m512i z0 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(2, 0, 2, 0));
    const __m512i z1 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], _MM_SHUFFLE(3, 1, 3, 1));
    v[j] = _mm512_shuffle_i32x4(w0, z0, _MM_SHUFFLE(2, 0, 2, 0));
    v[4 + j] = _mm512_shuffle_i32x4(w1, z1, _MM_SHUFFLE(2, 0, 2, 0));
    v[8 + j] = _mm512_shuffle_i32x4(w0, z0, _MM_SHUFFLE(3, 1, 3, 1));
    v[12 + j] = _mm512_shuffle_i32x4(w1, z1, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// Loads 16 rows of 64 bytes (`stride` apart), transposes them as 32-bit elements, stores them to
// out[0..15].
LEM_INLINE void transpose_rows(const void* rows, size_t stride, void* out) {
  __m512i v[16];
  for (int r = 0; r < 16; ++r) v[r] = _mm512_load_si512(static_cast<const uint8_t*>(rows) + r * stride);
  transpose16x16(v);
  for (int c = 0; c < 16; ++c) _mm512_store_si512(static_cast<uint8_t*>(out) + 64 * c, v[c]);
}

// Decodes blocks [b0, b1) of rows [0, n) of a 16-row group (rows w_stride bytes apart) and
// interleaves them: each row is decoded into a row-major copy on the stack, then transposed.
template <class Type>
void repack_group(const uint8_t* rows, size_t w_stride, int n, int64_t b0, int64_t b1, PackedBlock* out) {
  static constexpr const Layout& L = Type::kLayout;
  alignas(64) uint8_t codes[kGroupRows][kQK_K];
  alignas(64) float d[kGroupRows][16], m[kGroupRows][16];
  std::memset(codes, 0, sizeof codes);  // rows past n stay zero
  std::memset(d, 0, sizeof d);
  std::memset(m, 0, sizeof m);
  for (int64_t i = b0; i < b1; ++i) {
    for (int r = 0; r < n; ++r) {
      const uint8_t* b = rows + r * static_cast<int64_t>(w_stride) + i * static_cast<int64_t>(sizeof(typename Type::Block));
      __m512i q[4];
      Type::natural(b, q);
      for (int v = 0; v < 4; ++v) _mm512_store_si512(codes[r] + 64 * v, q[v]);
      const SubBlockScales s = Type::scales(b);
      _mm512_store_ps(d[r], s.d);
      if constexpr (L.has_min) _mm512_store_ps(m[r], s.m);
    }
    PackedBlock& p = out[i - b0];
    for (int chunk = 0; chunk < 4; ++chunk) transpose_rows(codes[0] + 64 * chunk, kQK_K, p.q[16 * chunk]);
    transpose_rows(d[0], sizeof d[0], p.d[0]);
    if constexpr (L.has_min) transpose_rows(m[0], sizeof m[0], p.m[0]);
  }
}

// 16 rows (a packed group) times T tokens of a tile, from slot `first`, over n_blocks blocks;
// y[t * y_stride + r] for the `n_rows` valid rows, stored or (`accumulate`) added to.
template <class Type, int T>
void group_times_tokens(int first, const PackedBlock* w, const ActTileBlock* act, int64_t n_blocks, int n_rows,
                        bool accumulate, float* y, size_t y_stride) {
  static constexpr const Layout& L = Type::kLayout;
  constexpr int kVectors = L.span / 4;  // registers per sub-block
  const __mmask16 valid = static_cast<__mmask16>((1u << n_rows) - 1u);
  __m512 acc[T];
  for (int t = 0; t < T; ++t)
    acc[t] = accumulate ? _mm512_maskz_loadu_ps(valid, y + t * static_cast<int64_t>(y_stride)) : _mm512_setzero_ps();
  for (int64_t i = 0; i < n_blocks; ++i) {
    const PackedBlock& p = w[i];
    const ActTileBlock& a = act[i];
    for (int s = 0; s < kQK_K / L.span; ++s) {
      __m512i q[kVectors];
      for (int v = 0; v < kVectors; ++v) q[v] = _mm512_load_si512(p.q[kVectors * s + v]);
      const __m512 d = _mm512_load_ps(p.d[s]);
      for (int t = 0; t < T; ++t) {
        __m512i isum = _mm512_setzero_si512();
        for (int v = 0; v < kVectors; ++v) {
          int32_t four;  // activations 4v .. 4v + 3 of the sub-block, for all 16 rows
          std::memcpy(&four, a.q[first + t] + L.span * s + 4 * v, sizeof four);
          isum = _mm512_dpbusd_epi32(isum, q[v], _mm512_set1_epi32(four));
        }
        const __m512 da = _mm512_set1_ps(a.d[first + t]), sum = _mm512_set1_ps(a.sum[first + t][s]);
        if constexpr (L.has_min) {
          acc[t] = _mm512_fmadd_ps(d, _mm512_mul_ps(_mm512_cvtepi32_ps(isum), da), acc[t]);
          acc[t] = _mm512_fnmadd_ps(_mm512_load_ps(p.m[s]), sum, acc[t]);
        } else {
          acc[t] = _mm512_fmadd_ps(d, _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), da, sum), acc[t]);
        }
      }
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * static_cast<int64_t>(y_stride), valid, acc[t]);
}

// Loop order: slices of the row length whose activations (all tokens) stay in L2 while every
// 16-row group passes over them; per group, the slice is repacked once and swept by every token
// tile.
template <class Type>
void gemm_repacked(int64_t n_blocks, const uint8_t* w, size_t w_stride, int64_t n_rows, const uint8_t* a,
                   size_t a_stride, int64_t n_tok, float* y, size_t y_stride) {
  const int64_t n_tiles = (n_tok + kGroupTokens - 1) / kGroupTokens;
  auto* act = reinterpret_cast<ActTileBlock*>(
      kernel_scratch(ScratchSlot::Activations, static_cast<size_t>(n_tiles * n_blocks) * sizeof(ActTileBlock)));
  prepare_act_tiles<Type::kLayout>(a, a_stride, n_tok, n_blocks, act);
  const int64_t block_bytes = n_tiles * static_cast<int64_t>(sizeof(ActTileBlock));  // one block, all tokens
  const int64_t max_slice = block_bytes >= kActL2Bytes ? 1 : kActL2Bytes / block_bytes;
  const int64_t n_slices = (n_blocks + max_slice - 1) / max_slice;
  auto* packed = reinterpret_cast<PackedBlock*>(kernel_scratch(
      ScratchSlot::Weights, static_cast<size_t>((n_blocks + n_slices - 1) / (n_slices > 0 ? n_slices : 1)) * sizeof(PackedBlock)));
  const int64_t ys = static_cast<int64_t>(y_stride);
  for (int64_t slice = 0; slice < n_slices; ++slice) {
    const int64_t b0 = n_blocks * slice / n_slices, b1 = n_blocks * (slice + 1) / n_slices;
    for (int64_t r0 = 0; r0 < n_rows; r0 += kGroupRows) {
      const int n = static_cast<int>(n_rows - r0 < kGroupRows ? n_rows - r0 : kGroupRows);
      repack_group<Type>(w + r0 * static_cast<int64_t>(w_stride), w_stride, n, b0, b1, packed);
      for (int64_t tile = 0; tile < n_tiles; ++tile) {
        const ActTileBlock* at = act + tile * n_blocks + b0;
        // A full tile of 16, or the last one's tokens in steps of 8, 4, 2, 1.
        const int64_t tile_end = (tile + 1) * kGroupTokens < n_tok ? (tile + 1) * kGroupTokens : n_tok;
        for (int64_t t0 = tile * kGroupTokens; t0 < tile_end;) {
          const int64_t left = tile_end - t0;
          const int first = static_cast<int>(t0 - tile * kGroupTokens);
          const bool acc = slice > 0;
          float* yt = y + t0 * ys + r0;
          int step = 1;
          if (left >= 16) step = 16, group_times_tokens<Type, 16>(first, packed, at, b1 - b0, n, acc, yt, y_stride);
          else if (left >= 8) step = 8, group_times_tokens<Type, 8>(first, packed, at, b1 - b0, n, acc, yt, y_stride);
          else if (left >= 4) step = 4, group_times_tokens<Type, 4>(first, packed, at, b1 - b0, n, acc, yt, y_stride);
          else if (left >= 2) step = 2, group_times_tokens<Type, 2>(first, packed, at, b1 - b0, n, acc, yt, y_stride);
          else group_times_tokens<Type, 1>(first, packed, at, b1 - b0, n, acc, yt, y_stride);
          t0 += step;
        }
      }
    }
  }
}

template <class Type>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const int64_t n_blocks = k / kQK_K;
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  if (n_tok >= kKquantAvx512RepackMinTokens)
    gemm_repacked<Type>(n_blocks, wb, w_stride, n_rows, ab, a_stride, n_tok, y, y_stride);
  else
    gemm_direct<Type>(n_blocks, wb, w_stride, n_rows, ab, a_stride, n_tok, y, y_stride);
}

#undef LEM_INLINE

}  // namespace

void gemm_q2_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q2K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q3_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q3K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q4K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q5K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q6_K_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<Q6K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_xs_avx512(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride) {
  gemm<IQ4XS>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
