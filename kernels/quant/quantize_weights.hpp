// Weight quantisers: float32 rows -> ggml block types, bit-exact with ggml's reference
// quantisation without an importance matrix (what `llama-quantize` writes when no imatrix is
// given, and what ggml_quantize_chunk(type, ..., imatrix = NULL) returns in llama.cpp v0.5.0).
//
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL,
// IQ4_XS, TQ1_0, TQ2_0. Checked byte for byte against the fixtures' quant/NAME.bin. The IQ1/IQ2/IQ3
// types need an importance matrix and are not supported. Block layouts: kernels/quant/formats.hpp.
//
// The functions are pure and thread-safe: rows may be quantised concurrently.
#pragma once

#include <cstdint>

#include "kernels/ggml_types.hpp"

namespace lem {

// True when quantize_row() implements `type`.
bool quantize_supported(GgmlType type);

// Quantises `n` floats (a multiple of the type's block size) from `src` into n / block_size
// blocks at `dst` (any alignment). Returns false, writing nothing, when the type is not
// supported or n is negative or not a multiple of the block size.
bool quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

}  // namespace lem
