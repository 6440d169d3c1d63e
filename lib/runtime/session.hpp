// A session: one conversation's state over a shared, immutable model — its KV cache, scratch
// buffers, thread pool and the token sequence the cache holds.
//
// Prefix reuse: set_tokens() keeps the longest prefix the new sequence shares with the cached
// one and evaluates only the rest. Global layers can always be cut back; sliding-window layers
// keep a ring of W - 1 + n_batch + rewind_slack positions, so a cut that goes back further than
// the ring remembers forces re-evaluation from position 0 (the result is the same, only slower).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/gemma3_model.hpp"
#include "model/kv_cache.hpp"
#include "compute/thread_pool.hpp"

namespace lem {

struct SessionParams {
  int64_t n_ctx = 4096;       // context length; 0: the model's maximum (n_ctx_train)
  int64_t n_batch = 512;      // tokens per forward pass during prompt processing
  int n_threads = 0;          // 0: all hardware threads
  KvType kv_type = KvType::F32;
  int64_t rewind_slack = 512; // extra ring positions on sliding layers for cheap rewinds
  MatmulPrecision precision = MatmulPrecision::Fast;
};

// Returns true to stop. Called between prompt chunks and between layers' worth of work.
using AbortFn = std::function<bool()>;

class Session {
 public:
  Session(const Gemma3Model& model, SessionParams params);

  const Gemma3Model& model() const { return model_; }
  const SessionParams& params() const { return params_; }
  const KvCache& cache() const { return cache_; }
  ThreadPool& pool() { return pool_; }

  // The token sequence the cache holds.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // Logits after the last evaluated token ([n_vocab]); empty before any evaluation.
  std::span<const float> logits() const;

  // Appends `tokens` and evaluates them in chunks of n_batch. Throws lem::Error(Cancelled) when
  // `abort` asks to stop (what was evaluated so far stays cached), ContextFull past n_ctx.
  void append(std::span<const int32_t> tokens, const AbortFn& abort = {});
  // Makes the cached sequence equal `tokens`, reusing the longest common prefix; returns how
  // many tokens were reused. Always leaves the logits of the last token.
  int64_t set_tokens(std::span<const int32_t> tokens, const AbortFn& abort = {});
  // Forgets everything.
  void reset();

  // Evaluates `tokens` from position 0 and returns the logits of every position
  // ([n, n_vocab], row-major). Leaves the session holding `tokens`.
  std::vector<float> evaluate_all_logits(std::span<const int32_t> tokens, const AbortFn& abort = {});

 private:
  const Gemma3Model& model_;
  SessionParams params_;
  ThreadPool pool_;
  KvCache cache_;
  ForwardState state_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;   // [n_vocab], valid when logits_pos_ == tokens_.size()
  size_t logits_pos_ = 0;
};

}  // namespace lem
