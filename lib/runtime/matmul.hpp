// Y = X · Wᵀ for a quantised weight, split across a thread pool.
//
// W has `rows` rows of `k` elements in ggml type `type` (row stride `w_stride` bytes); X is
// n_tok rows of k floats; Y is n_tok rows of `rows` floats. The activations are rounded once to
// the weight's activation format (kernels/kernels.hpp), then each thread computes a contiguous
// band of output rows, tile by tile, so a tile of weight rows is reused from cache for all tokens.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"
#include "runtime/thread_pool.hpp"

namespace lem {

struct MatmulWeight {
  GgmlType type = GgmlType::F32;
  const void* data = nullptr;
  size_t row_stride = 0;  // bytes between rows
  int64_t rows = 0;
  int64_t k = 0;          // row length in elements
};

// Reusable scratch for the quantised activations (grows on demand, never shrinks).
struct MatmulScratch {
  std::vector<uint8_t> act;
};

// Throws lem::Error(Unsupported) when no kernel exists for the type.
void matmul(const MatmulWeight& w, const float* x, size_t x_stride, int64_t n_tok, float* y, size_t y_stride,
            ThreadPool& pool, MatmulScratch& scratch, Isa isa = active_isa());

}  // namespace lem
