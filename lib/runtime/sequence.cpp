#include "runtime/sequence.hpp"

#include "util/error.hpp"

namespace lem {

Sequence::Sequence(const Gemma3Config& config, const SequenceParams& p)
    : n_vocab_(config.n_vocab), cache_(config, p.n_ctx, p.max_chunk, p.kv_type, p.rewind_slack) {}

std::span<const float> Sequence::logits() const {
  if (logits_pos_ != tokens_.size() || logits_.empty()) return {};
  return logits_;
}

void Sequence::clear() {
  cache_.truncate(0);
  tokens_.clear();
  logits_pos_ = SIZE_MAX;
}

void Sequence::truncate(int64_t n) {
  const auto size = static_cast<int64_t>(tokens_.size());
  if (n < 0 || n > size) fail(Status::InvalidArg, "cannot truncate a sequence of {} tokens to {}", size, n);
  if (n == size) return;
  if (!cache_.can_truncate(n))
    fail(Status::InvalidArg, "cannot truncate a sequence of {} tokens to {}: its sliding-window rings allow lengths {} "
         "to {} (or 0)", size, n, cache_.shortest_truncation(), size);
  cache_.truncate(n);
  tokens_.resize(static_cast<size_t>(n));
  logits_pos_ = SIZE_MAX;
}

void Sequence::copy_prefix_from(const Sequence& src, int64_t n) {
  if (&src == this) return truncate(n);
  const auto size = static_cast<int64_t>(src.tokens_.size());
  if (n < 0 || n > size) fail(Status::InvalidArg, "cannot copy {} tokens of a sequence of {}", n, size);
  cache_.copy_prefix(src.cache_, n);  // throws before changing anything
  tokens_.assign(src.tokens_.begin(), src.tokens_.begin() + n);
  // The whole source: its last logits are this sequence's too.
  if (n == size && src.logits_pos_ == src.tokens_.size()) {
    logits_ = src.logits_;
    logits_pos_ = tokens_.size();
  } else {
    logits_pos_ = SIZE_MAX;
  }
}

}  // namespace lem
