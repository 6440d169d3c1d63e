// Dequantisation of every supported ggml block type (and MLX affine) to float32, bit-exact with
// ggml's reference (dequantize_row_* in ggml-quants.c of llama.cpp v0.5.0).
//
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, Q8_K, IQ1_S, IQ1_M,
// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, IQ4_XS, TQ1_0, TQ2_0. Block layouts:
// kernels/quant/formats.hpp. Sources may be unaligned. These are the scalar references that faster
// kernels are tested against; they are thread-safe (no state).
#pragma once

#include <cstdint>

#include "kernels/ggml_types.hpp"

namespace lem {

// True when dequantize_row() implements `type`.
bool dequantize_supported(GgmlType type);

// Dequantises `n` elements (a multiple of the type's block size) from `src` (n / block_size
// blocks) into `dst`. Returns false, writing nothing, when the type is not supported or n is
// negative or not a multiple of the block size.
bool dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// MLX affine quantisation (mlx.core.quantize, mode "affine"): `packed` is one row of
// `n` elements at `bits` bits each, little-endian bit stream in uint32 words; `scales` and
// `biases` hold n / group_size values of type `scale_type` (F16, BF16 or F32).
// w[c] = scale[c / group_size] * q[c] + bias[c / group_size]. Returns false for unsupported
// bits (supported: 2, 3, 4, 5, 6, 8), group sizes (32, 64, 128) or scale types, or when n is
// negative or not a multiple of group_size; nothing is written then. `packed`, `scales` and
// `biases` may be unaligned (mlx does not align tensor data): they are read byte by byte.
bool dequantize_affine_row(uint32_t bits, uint32_t group_size, GgmlType scale_type, const uint32_t* packed,
                           const void* scales, const void* biases, float* dst, int64_t n);

}  // namespace lem
