// The row x token loop shared by the scalar kernels of the 256-element super-block types, which
// all pair with Q8_K activations. Each output is an independent dot product, accumulated block
// by block in float: this is the plain reference that the SIMD kernels are tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/quant/formats.hpp"

namespace lem::scalar {

// Sum of q[j] over the 32 activations of group g (< 8), from the precomputed per-16 sums.
inline int q8k_group_sum(const BlockQ8_K& a, int g) { return a.bsums[2 * g] + a.bsums[2 * g + 1]; }

// BlockDot(w, a) returns the float contribution of one weight super-block against one Q8_K
// activation block, d factors included.
template <typename Block, float (*BlockDot)(const Block&, const BlockQ8_K&)>
void gemm_superblocks(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  const int64_t n_blocks = k / kQK_K;
  for (int64_t t = 0; t < n_tok; ++t) {
    const auto* act = static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride;
    for (int64_t r = 0; r < n_rows; ++r) {
      const auto* row = static_cast<const uint8_t*>(w) + static_cast<size_t>(r) * w_stride;
      float sum = 0.0f;
      for (int64_t i = 0; i < n_blocks; ++i) sum += BlockDot(load_block<Block>(row, i), load_block<BlockQ8_K>(act, i));
      y[static_cast<size_t>(t) * y_stride + static_cast<size_t>(r)] = sum;
    }
  }
}

}  // namespace lem::scalar
