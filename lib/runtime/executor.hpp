// The compute side shared by many sequences: the thread pool, the forward pass's scratch sized
// for a batch budget, and the matmul driver's scratch. One per context or engine; sequences
// (runtime/sequence.hpp) hold the per-conversation state. Used by one thread at a time.
#pragma once

#include <cstdint>
#include <span>

#include "compute/thread_pool.hpp"
#include "model/gemma3_model.hpp"
#include "runtime/sequence.hpp"

namespace lem {

struct ExecutorParams {
  int64_t max_batch = 512;    // tokens per forward pass, all sequences together
  int n_threads = 0;          // 0: all hardware threads
  MatmulPrecision precision = MatmulPrecision::Fast;
};

// One sequence's share of Executor::decode.
struct SequenceStep {
  Sequence* seq = nullptr;
  std::span<const int32_t> tokens;      // appended after seq->tokens()
  LogitsMode mode = LogitsMode::Last;   // None: seq->logits() becomes empty
  float* all_logits = nullptr;          // All: [tokens, n_vocab] receives every row
};

class Executor {
 public:
  Executor(const Gemma3Model& model, const ExecutorParams& params);

  const Gemma3Model& model() const { return model_; }
  ThreadPool& pool() { return pool_; }
  int64_t max_batch() const { return state_.max_batch; }
  MatmulPrecision precision() const { return state_.precision; }
  // The kernel level of matmuls and attention (tests compare levels).
  void set_isa(Isa isa) { state_.isa = isa; }

  // One forward pass over the tokens of several sequences (each at most once). On success each
  // sequence holds its new tokens and, unless mode None, the logits of its last one. All or
  // nothing: on any error no sequence changes. Throws lem::Error as Gemma3Model::forward_batch
  // (InvalidArg for a token id outside the embeddings, before anything is computed).
  void decode(std::span<const SequenceStep> steps, const ForwardInterrupt& interrupt = {});

 private:
  const Gemma3Model& model_;
  ThreadPool pool_;
  ForwardState state_;
  std::vector<SequenceInput> inputs_;
};

}  // namespace lem
