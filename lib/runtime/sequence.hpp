// One sequence's state over a shared model and executor: its KV cache, the tokens the cache
// holds, the logits of its last token and its cancel request. Cheap next to an Executor (no
// threads, no scratch): an engine keeps many.
//
// Operations: clear, truncate (as far back as the sliding-window rings allow), copy a prefix from
// another sequence of the same shape, and evaluation through Executor::decode.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "model/gemma3_config.hpp"
#include "model/kv_cache.hpp"

namespace lem {

struct SequenceParams {
  int64_t n_ctx = 4096;       // context length (resolved: > 0 and within the model's maximum)
  int64_t max_chunk = 512;    // most tokens one forward pass appends to this sequence
  KvType kv_type = KvType::F32;
  int64_t rewind_slack = 512; // extra ring positions on sliding layers for cheap rewinds
};

class Sequence {
 public:
  Sequence(const Gemma3Config& config, const SequenceParams& params);

  const KvCache& cache() const { return cache_; }
  KvCache& cache() { return cache_; }
  int64_t n_vocab() const { return n_vocab_; }
  // The tokens the cache holds.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  // The logits of the last token ([n_vocab]); empty when the last evaluation did not ask for them
  // or nothing has been evaluated since the tokens changed.
  std::span<const float> logits() const;

  // Forgets everything.
  void clear();
  // Cuts the sequence to its first n tokens. Throws InvalidArg, leaving it unchanged, when n is
  // negative or beyond the sequence, or when the sliding-window rings no longer hold what
  // position n needs (the message names the lengths that are possible; 0 always is).
  void truncate(int64_t n);
  // True when truncate(n) would succeed.
  bool can_truncate(int64_t n) const { return cache_.can_truncate(n); }
  // Makes this sequence hold the first n tokens of `src` (caches of the same shape), e.g. a shared
  // system prompt. Throws InvalidArg, leaving this sequence unchanged, as truncate() on src would.
  void copy_prefix_from(const Sequence& src, int64_t n);

  // Any thread: asks the running or next evaluation of this sequence to stop (Cancelled).
  void request_cancel() noexcept { cancel_requested_.store(true, std::memory_order_release); }
  // Consumes a pending request; true when there was one.
  bool take_cancel_request() noexcept { return cancel_requested_.exchange(false, std::memory_order_acq_rel); }
  const std::atomic<bool>& cancel_flag() const { return cancel_requested_; }

 private:
  friend class Executor;  // appends tokens and logits after a successful forward pass

  int64_t n_vocab_;
  KvCache cache_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;       // [n_vocab], valid when logits_pos_ == tokens_.size()
  std::vector<float> next_logits_;  // written by a pass, swapped in when it succeeds
  size_t logits_pos_ = SIZE_MAX;
  std::atomic<bool> cancel_requested_{false};
};

}  // namespace lem
