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
#include <span>
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
//
// `segments`: the rows of x belong to independent sequences, segments[i] consecutive rows each
// (empty: one sequence). Each sequence's rows then go through the kernel path it would take alone,
// so its results are bitwise the same in any batch (WeightKernel::wide_min_tokens).
void matmul(const MatmulWeight& w, const float* x, size_t x_stride, int64_t n_tok, float* y, size_t y_stride,
            ThreadPool& pool, MatmulScratch& scratch, MatmulPrecision precision = MatmulPrecision::Fast,
            Isa isa = active_isa(), std::span<const int64_t> segments = {});

// A range of tokens that one kernel call takes.
struct TokenRun {
  int64_t first = 0;
  int64_t count = 0;
};
// Splits n_tok tokens of `segments` (as for matmul) into kernel calls that keep every sequence on
// the path it would take alone: sequences of at least wide_min_tokens tokens (the wide path) in
// runs of whole sequences, the others in runs of fewer than wide_min_tokens tokens. One run of all
// tokens when the kernel has a single path or there is a single sequence.
std::vector<TokenRun> kernel_runs(int64_t n_tok, std::span<const int64_t> segments, int64_t wide_min_tokens);

}  // namespace lem
