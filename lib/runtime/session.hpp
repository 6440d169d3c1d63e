// A session: one conversation over a shared, immutable model — an Executor (thread pool,
// scratch) with one Sequence (KV cache, the tokens it holds, logits, cancel request). The API the
// C ABI's context and the CLI use; an engine shares one Executor among many Sequences instead.
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
#include "runtime/executor.hpp"
#include "runtime/sequence.hpp"

namespace lem {

struct SessionParams {
  int64_t n_ctx = 4096;       // context length; 0: the model's maximum (n_ctx_train)
  int64_t n_batch = 512;      // tokens per forward pass during prompt processing
  int n_threads = 0;          // 0: all hardware threads
  KvType kv_type = KvType::F32;
  int64_t rewind_slack = 512; // extra ring positions on sliding layers for cheap rewinds
  MatmulPrecision precision = MatmulPrecision::Fast;
  bool logits_all = false;    // append() keeps the logits of every token it evaluates (logits_row)
};

// Returns true to stop. Called on the calling thread before each layer of every forward pass.
using AbortFn = std::function<bool()>;

class Session {
 public:
  Session(const Gemma3Model& model, SessionParams params);

  const Gemma3Model& model() const { return model_; }
  const SessionParams& params() const { return params_; }
  const KvCache& cache() const { return seq_.cache(); }
  ThreadPool& pool() { return executor_.pool(); }
  Executor& executor() { return executor_; }
  Sequence& sequence() { return seq_; }

  // The token sequence the cache holds.
  const std::vector<int32_t>& tokens() const { return seq_.tokens(); }
  // Logits after the last evaluated token ([n_vocab]); empty before any evaluation and when the
  // last call was cut short after evaluating some of its tokens.
  std::span<const float> logits() const;
  // With params().logits_all: the logits of token `row` of the last append() ([n_vocab]); empty
  // when there is no such row or another call has evaluated or reset since.
  std::span<const float> logits_row(int64_t row) const;

  // Appends `tokens` and evaluates them in chunks of n_batch. Throws lem::Error: ContextFull past
  // n_ctx; Cancelled when `abort` or request_cancel() asks to stop; Numeric for non-finite
  // logits. On any error the session holds what it held before the chunk that was cut (earlier,
  // complete chunks stay cached).
  void append(std::span<const int32_t> tokens, const AbortFn& abort = {});
  // Makes the cached sequence equal `tokens`, reusing the longest common prefix; returns how
  // many tokens were reused. Always leaves the logits of the last token. Too many tokens or a bad
  // id fail before anything changes; a later error (a cancel) leaves a prefix of `tokens`.
  int64_t set_tokens(std::span<const int32_t> tokens, const AbortFn& abort = {});
  // Forgets everything.
  void reset();

  // Evaluates `tokens` from position 0 and returns the logits of every position
  // ([n, n_vocab], row-major). Leaves the session holding `tokens`.
  std::vector<float> evaluate_all_logits(std::span<const int32_t> tokens, const AbortFn& abort = {});

  // Any thread: the running append / set_tokens / evaluate_all_logits stops within a matmul tile
  // (Cancelled). A request that finds nothing running is kept and stops the next such call;
  // the call it stops consumes it.
  void request_cancel() noexcept { seq_.request_cancel(); }
  // Consumes a pending request_cancel(); true when there was one. For callers that stop between
  // evaluations (the generator).
  bool take_cancel_request() noexcept { return seq_.take_cancel_request(); }

 private:
  // Throws ContextFull unless n more tokens fit.
  void check_room(size_t n) const;
  // Evaluates `tokens` after the cached ones, chunk by chunk. mode Last: logits_ gets the last
  // token's row on success. mode All: `all` ([n, n_vocab]) gets every row as well.
  void evaluate(std::span<const int32_t> tokens, const AbortFn& abort, LogitsMode mode, float* all);

  const Gemma3Model& model_;
  SessionParams params_;
  Executor executor_;
  Sequence seq_;
  std::vector<float> rows_;         // logits_all: [n_rows_, n_vocab] of the last append()
  int64_t n_rows_ = 0;
};

}  // namespace lem
