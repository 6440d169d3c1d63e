// Block layouts of the ggml quantisation types, as stored in GGUF files.
//
// Source: ggml-common.h of llama.cpp v0.5.0 and shared spec §6. A row of n elements is n /
// block_size blocks, packed back to back with no padding. Multi-byte fields are little-endian;
// f16 scales are kept as raw uint16_t bit patterns (convert with kernels/fp16.hpp). Every block
// is seekable on its own: element e of a row lives in block e / block_size.
//
// The structs mirror the byte layout so that sizeof() and offsetof() document it. File data is
// not necessarily aligned for them (GGUF alignment may be 1, MLX data is unaligned), so readers
// copy a block out with load_block() instead of casting pointers.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace lem {

static_assert(std::endian::native == std::endian::little,
              "block structs assume a little-endian host (GGUF fields are little-endian)");

inline constexpr int kQK = 32;    // elements per block of the 32-element formats
inline constexpr int kQK_K = 256; // elements per super-block of the K, IQ (but IQ4_NL) and TQ formats

// --- 32-element blocks -------------------------------------------------------------------------

// y[j] = d * ((qs[j] & 15) - 8), y[j + 16] = d * ((qs[j] >> 4) - 8), j < 16.
struct BlockQ4_0 {
  uint16_t d;       // f16 scale
  uint8_t qs[16];   // nibbles: low = elements 0..15, high = 16..31
};
static_assert(sizeof(BlockQ4_0) == 18);

// Unsigned nibbles with a min: y = d * q + m.
struct BlockQ4_1 {
  uint16_t d;       // f16 scale
  uint16_t m;       // f16 min
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20);

// 5-bit: low 4 bits in qs as Q4_0, bit 4 of element j is bit j of qh (as a u32); y = d * (q - 16).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22);

// 5-bit unsigned with a min: y = d * q + m.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24);

// y = d * qs[j].
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_0) == 34);

// Activation format paired with Q4_1/Q5_1: s = f16(d_f32 * sum(qs)). ggml has no dequantiser.
struct BlockQ8_1 {
  uint16_t d;
  uint16_t s;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ8_1) == 36);

// Non-linear 4-bit: y[j] = d * kValuesIq4nl[qs[j] & 15], y[j + 16] = d * kValuesIq4nl[qs[j] >> 4].
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[16];
};
static_assert(sizeof(BlockIQ4_NL) == 18);

// --- K-quants: 256-element super-blocks -------------------------------------------------------

// 16 sub-blocks of 16, 2-bit q; scales[s] low nibble = scale, high nibble = min.
struct BlockQ2_K {
  uint8_t scales[16];
  uint8_t qs[64];   // 4 crumbs per byte: element 128h + 32j + 16k + l at (qs[32h + 16k + l] >> 2j) & 3
  uint16_t d;       // f16 super-scale of the scales
  uint16_t dmin;    // f16 super-scale of the mins
};
static_assert(sizeof(BlockQ2_K) == 84);

// 16 sub-blocks of 16, 3-bit q = 2 low bits (qs, as Q2_K) + high bit (hmask), 6-bit signed scales.
struct BlockQ3_K {
  uint8_t hmask[32];  // bit (4h + j) of hmask[16k + l]: high bit of element 128h + 32j + 16k + l
  uint8_t qs[64];
  uint8_t scales[12]; // 16 x 6 bits: low nibbles in bytes 0..7, high crumbs in bytes 8..11
  uint16_t d;
};
static_assert(sizeof(BlockQ3_K) == 110);

// 8 sub-blocks of 32, 4-bit q, 6-bit scale and min per sub-block: y = d * sc * q - dmin * m.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12]; // 8 x (6-bit scale, 6-bit min), see get_scale_min in the dequantiser
  uint8_t qs[128];    // element 64g + 32t + l: t ? qs[32g + l] >> 4 : qs[32g + l] & 15
};
static_assert(sizeof(BlockQ4_K) == 144);

// Q4_K plus a fifth bit: bit (2g + t) of qh[l] adds 16 to element 64g + 32t + l.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16, 6-bit q = 4 low bits (ql) + 2 high bits (qh), int8 scales; y = d*sc*(q - 32).
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Activation format of the K/IQ/TQ dot products; d is a float32, not f16. y = d * qs[j].
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];  // sum of qs over each 16 elements
};
static_assert(sizeof(BlockQ8_K) == 292);

// --- IQ quants: 256-element super-blocks of eight 32-element groups ----------------------------

// Per group ib: u32 A = grid indices (4 x 8 bits), u32 B = 4 x 7-bit sign indices + 4-bit scale.
struct BlockIQ2_XXS {
  uint16_t d;
  uint16_t qs[32];  // bytes 8ib..8ib+3 = A, 8ib+4..8ib+7 = B
};
static_assert(sizeof(BlockIQ2_XXS) == 66);

// qs[4ib + l]: 9-bit grid index | 7-bit sign index << 9; scales[ib]: two 4-bit scales.
struct BlockIQ2_XS {
  uint16_t d;
  uint16_t qs[32];
  uint8_t scales[8];
};
static_assert(sizeof(BlockIQ2_XS) == 74);

// qs[0..31] low 8 bits of the 10-bit grid index (+2 bits from qh[ib]), qs[32..63] sign bytes.
struct BlockIQ2_S {
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t scales[8];
};
static_assert(sizeof(BlockIQ2_S) == 82);

// qs[0..63] grid indices (2 per 8 elements); qs[64 + 4ib ..] u32: 4 x 7-bit signs + 4-bit scale.
struct BlockIQ3_XXS {
  uint16_t d;
  uint8_t qs[96];
};
static_assert(sizeof(BlockIQ3_XXS) == 98);

// 9-bit grid indices (low 8 in qs, bit 8 in qh), sign bytes used directly, 4-bit scales.
struct BlockIQ3_S {
  uint16_t d;
  uint8_t qs[64];
  uint8_t qh[8];
  uint8_t signs[32];
  uint8_t scales[4];
};
static_assert(sizeof(BlockIQ3_S) == 110);

// 11-bit indices into the ternary grid: qs low 8 bits, qh[ib] 3 bits per 8 elements, a 3-bit
// scale (bits 12..14) and the delta sign (bit 15).
struct BlockIQ1_S {
  uint16_t d;
  uint8_t qs[32];
  uint16_t qh[8];
};
static_assert(sizeof(BlockIQ1_S) == 50);

// IQ1_S without a block-level f16: the f16 scale is spread over the top nibbles of the four u16
// in scales, which also hold 3-bit scales per 16 elements.
struct BlockIQ1_M {
  uint8_t qs[32];
  uint8_t qh[16];     // per 8 elements: 3 index bits + 1 delta-sign bit
  uint8_t scales[8];  // read as 4 x u16
};
static_assert(sizeof(BlockIQ1_M) == 56);

// Non-linear 4-bit with a 6-bit scale per 32 (low 4 bits in scales_l, high 2 in scales_h).
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[4];
  uint8_t qs[128];
};
static_assert(sizeof(BlockIQ4_XS) == 136);

// --- Ternary ----------------------------------------------------------------------------------

// Base-3 packing: 5 trits per byte in qs, 4 per byte in qh; y = d * (t - 1).
struct BlockTQ1_0 {
  uint8_t qs[48];
  uint8_t qh[4];
  uint16_t d;
};
static_assert(sizeof(BlockTQ1_0) == 54);

// 2 bits per element: y[128j + 32l + m] = d * (((qs[32j + m] >> 2l) & 3) - 1).
struct BlockTQ2_0 {
  uint8_t qs[64];
  uint16_t d;
};
static_assert(sizeof(BlockTQ2_0) == 66);

// Copies block i out of a packed, possibly unaligned, row of blocks.
template <typename Block>
inline Block load_block(const void* row, int64_t i) {
  Block b;
  std::memcpy(&b, static_cast<const uint8_t*>(row) + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return b;
}

}  // namespace lem
