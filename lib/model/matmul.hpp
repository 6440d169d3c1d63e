// Y = X · Wᵀ for a quantised weight, split across a thread pool.
//
// W has `rows` rows of `k` elements in ggml type `type` (row stride `w_stride` bytes); X is
// n_tok rows of k floats; Y is n_tok rows of `rows` floats. The activations are rounded once to
// the weight's activation format (kernels/kernels.hpp), then each thread computes a contiguous
// band of output rows, tile by tile, so a tile of weight rows is reused from cache for all tokens.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"
#include "model/model_source.hpp"
#include "compute/thread_pool.hpp"

namespace lem {

struct MatmulWeight {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  size_t row_stride = 0;  // bytes between rows
  int64_t rows = 0;
  int64_t k = 0;          // row length in elements
  // The weight as the file holds it. Types without a kernel (MLX affine, rare GGUF types) are
  // computed from it by dequantising a tile of rows at a time and using the F32 kernel.
  const Weight* source = nullptr;
};

// Binds a model weight ([k, rows] in ggml order) for matmul.
MatmulWeight matmul_weight(const Weight& w);

// Reusable scratch for the quantised activations (grows on demand, never shrinks), and the stop
// flag of the computation it serves.
struct MatmulScratch {
  std::vector<uint8_t> act;
  std::vector<float> tiles;  // dequantised weight tiles of the fallback path, per thread
  // When set (from any thread), prompt-sized matmuls skip their remaining row tiles: the output
  // is then incomplete and the caller must discard it. Lets a cancel stop a 4B layer in
  // milliseconds instead of after the layer's seconds of work.
  const std::atomic<bool>* stop = nullptr;
};

// How activations meet quantised weights.
enum class MatmulPrecision {
  Fast,   // activations rounded to the weight's vec_dot format (Q8_0/Q8_1/Q8_K/BF16/F16), as llama.cpp
  Exact,  // float32 activations against dequantised weights (slower; matches exact-math references)
};

// Throws lem::Error(Unsupported) when the type can be neither computed nor dequantised.
void matmul(const MatmulWeight& w, const float* x, size_t x_stride, int64_t n_tok, float* y, size_t y_stride,
            ThreadPool& pool, MatmulScratch& scratch, MatmulPrecision precision = MatmulPrecision::Fast,
            Isa isa = active_isa());

}  // namespace lem
