#include "runtime/executor.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace lem {

Executor::Executor(const Gemma3Model& model, const ExecutorParams& p)
    : model_(model), pool_(p.n_threads), state_(model.config(), p.max_batch) {
  state_.precision = p.precision;
}

void Executor::decode(std::span<const SequenceStep> steps, const ForwardInterrupt& interrupt) {
  const int64_t V = model_.config().n_vocab;
  inputs_.clear();
  for (size_t i = 0; i < steps.size(); ++i) {
    const SequenceStep& s = steps[i];
    if (!s.seq) fail(Status::InvalidArg, "step {} of the batch has no sequence", i);
    if (s.mode == LogitsMode::All && !s.all_logits)
      fail(Status::InvalidArg, "step {} of the batch asks for every row's logits without a buffer", i);
    float* out = nullptr;
    if (s.mode == LogitsMode::Last) {
      s.seq->next_logits_.resize(static_cast<size_t>(V));
      out = s.seq->next_logits_.data();
    } else if (s.mode == LogitsMode::All) {
      out = s.all_logits;
    }
    inputs_.push_back({s.tokens, &s.seq->cache_, s.mode, out});
  }
  model_.forward_batch(inputs_, state_, pool_, interrupt);
  for (const SequenceStep& s : steps) {
    Sequence& q = *s.seq;
    q.tokens_.insert(q.tokens_.end(), s.tokens.begin(), s.tokens.end());
    if (s.mode == LogitsMode::None) continue;
    if (s.mode == LogitsMode::All) {
      q.next_logits_.resize(static_cast<size_t>(V));
      const float* last = s.all_logits + (s.tokens.size() - 1) * static_cast<size_t>(V);
      std::copy(last, last + V, q.next_logits_.begin());
    }
    q.logits_.swap(q.next_logits_);
    q.logits_pos_ = q.tokens_.size();
  }
}

}  // namespace lem
