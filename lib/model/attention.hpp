// Causal (and, on sliding layers, windowed) grouped-query attention of a batch of new tokens
// over one layer's KV cache (spec §2 items 2d-2f), after the batch's keys and values have been
// appended to the cache.
//
// Two schedules, same maths:
//  - by rows (decode, small batches): one (token, head) pair per job, dot products and sums
//    row by row;
//  - blocked (prompt processing): one (KV head, block of tokens) per job; scores Q·Kᵀ by the
//    float matmul kernel straight over the cached key rows, softmax, then P·V by a
//    register-blocked kernel over the cached value rows. Jobs are handed out longest first from
//    a shared counter, since causal masking makes later blocks see more keys.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/kernels.hpp"
#include "model/kv_cache.hpp"
#include "compute/thread_pool.hpp"

namespace lem {

struct AttentionShape {
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t head_dim = 0;
  int64_t window = 0;     // sliding window W (keys pos-W+1..pos visible); 0: global layer
  float logit_softcap = 0; // > 0: scores become cap * tanh(s / cap)
};

// Per-thread buffers, grown on demand and kept between calls.
struct AttentionScratch {
  std::vector<std::vector<float>> per_thread;
};

// q: [n, n_head * head_dim] (normed, roped and scaled); writes out: [n, n_head * head_dim].
// Tokens are at positions pos0 .. pos0 + n - 1 of `cache`, layer `layer`.
// The schedule depends on n alone, so a sequence's attention is the same in any batch.
void attend(const AttentionShape& shape, const float* q, int64_t n, int64_t pos0, const KvCache& cache, int64_t layer,
            float* out, ThreadPool& pool, AttentionScratch& scratch, Isa isa = active_isa());

}  // namespace lem
