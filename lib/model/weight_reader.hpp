// Reads rows of a weight as float32, whatever its storage type (any ggml type, F16/BF16/F32
// safetensors, MLX affine). Used for embedding lookups and by `lem tensor`.
#pragma once

#include <cstdint>

#include "model/model_source.hpp"

namespace lem {

// Bytes of one stored row of `w` (for affine weights: of the packed codes).
uint64_t weight_row_bytes(const Weight& w);

// Dequantises rows [row_begin, row_begin + n_rows) of `w` into `out` (n_rows x row_length floats).
// Throws lem::Error(Unsupported) when the storage type has no dequantiser yet, and
// lem::Error(InvalidArg) when the rows are out of range.
void read_weight_rows(const Weight& w, uint64_t row_begin, uint64_t n_rows, float* out);

}  // namespace lem
