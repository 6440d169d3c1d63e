// Internal: per-type weight quantisers behind lem::quantize_row (kernels/quant/quantize_weights.hpp)
// and the rounding helpers they share.
//
// Each function reads nblocks * block_size floats from `x` and writes nblocks packed blocks to
// `dst` (any alignment). They follow ggml's reference code (ggml-quants.c of llama.cpp v0.5.0)
// operation by operation: same float expressions in the same order, integer conversions with the
// same semantics. The translation units are compiled with -ffp-contract=off, because ggml-base is
// built without FMA and a fused multiply-add would round differently.
#pragma once

#include <cstdint>
#include <cstring>

namespace lem::quantize {

// 32-element blocks (quantize_legacy.cpp).
void q4_0(const float* x, void* dst, int64_t nblocks);
void q4_1(const float* x, void* dst, int64_t nblocks);
void q5_0(const float* x, void* dst, int64_t nblocks);
void q5_1(const float* x, void* dst, int64_t nblocks);
void q8_0(const float* x, void* dst, int64_t nblocks);

// 256-element super-blocks (quantize_kquants.cpp).
void q2_k(const float* x, void* dst, int64_t nblocks);
void q3_k(const float* x, void* dst, int64_t nblocks);
void q4_k(const float* x, void* dst, int64_t nblocks);
void q5_k(const float* x, void* dst, int64_t nblocks);
void q6_k(const float* x, void* dst, int64_t nblocks);

// Non-linear 4-bit (quantize_iq4.cpp).
void iq4_nl(const float* x, void* dst, int64_t nblocks);
void iq4_xs(const float* x, void* dst, int64_t nblocks);

// Ternary (quantize_ternary.cpp).
void tq1_0(const float* x, void* dst, int64_t nblocks);
void tq2_0(const float* x, void* dst, int64_t nblocks);

// ggml's nearest_int: round to nearest, ties to even, via the float's bits (valid for
// |x| < 2^22; outside that ggml gets a wrapped value, and so does this, the same one).
inline int nearest_int(float x) {
  const float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

// ggml's `(int8_t)f` / `(uint8_t)f` casts of a float. In range they truncate toward zero. Out of
// range (only for degenerate blocks, e.g. 1/d overflowing to inf) C leaves them undefined; GCC on
// x86-64 truncates to int32 with cvttss2si, which gives 0x80000000 for NaN and out-of-range
// values, and keeps the low byte. This reproduces that without undefined behaviour here.
inline uint8_t truncate_low_byte(float f) {
  const int32_t i = (f > -2147483648.0f && f < 2147483648.0f) ? static_cast<int32_t>(f) : INT32_MIN;
  return static_cast<uint8_t>(static_cast<uint32_t>(i) & 0xFFu);
}
inline int8_t truncate_to_int8(float f) { return static_cast<int8_t>(truncate_low_byte(f)); }

// Writes block `i` of a packed, possibly unaligned, row of blocks.
template <typename Block>
inline void store_block(void* row, int64_t i, const Block& b) {
  std::memcpy(static_cast<uint8_t*>(row) + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

}  // namespace lem::quantize
