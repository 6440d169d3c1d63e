// Dequantisation of every supported ggml block type (and MLX affine) to float32, bit-exact with
// ggml's reference (dequantize_row_* in ggml-quants.c of llama.cpp v0.5.0).
#pragma once

#include <cstdint>

#include "kernels/ggml_types.hpp"

namespace lem {

// True when dequantize_row() implements `type`.
bool dequantize_supported(GgmlType type);

// Dequantises `n` elements (a multiple of the type's block size) from `src` (n / block_size
// blocks) into `dst`. Returns false, writing nothing, when the type is not supported.
bool dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

// MLX affine quantisation (mlx.core.quantize, mode "affine"): `packed` is one row of
// `n` elements at `bits` bits each, little-endian bit stream in uint32 words; `scales` and
// `biases` hold n / group_size values of type `scale_type` (F16, BF16 or F32).
// w[c] = scale[c / group_size] * q[c] + bias[c / group_size]. Returns false for unsupported
// bits (supported: 2, 3, 4, 5, 6, 8), group sizes (32, 64, 128) or scale types.
bool dequantize_affine_row(uint32_t bits, uint32_t group_size, GgmlType scale_type, const uint32_t* packed,
                           const void* scales, const void* biases, float* dst, int64_t n);

}  // namespace lem
