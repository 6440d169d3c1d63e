#include "runtime/session.hpp"

#include <algorithm>
#include <cstdint>

#include "util/error.hpp"

namespace lem {
namespace {

int64_t resolve_ctx(const Gemma3Model& m, int64_t n_ctx) {
  const int64_t max = m.config().n_ctx_train;
  if (n_ctx == 0) return max;
  if (n_ctx < 0) fail(Status::InvalidArg, "n_ctx must be >= 0, got {}", n_ctx);
  if (n_ctx > max) fail(Status::InvalidArg, "n_ctx {} exceeds the model's maximum context of {}", n_ctx, max);
  return n_ctx;
}

SessionParams checked(SessionParams p) {
  if (p.n_batch <= 0) fail(Status::InvalidArg, "n_batch must be positive, got {}", p.n_batch);
  if (p.rewind_slack < 0) fail(Status::InvalidArg, "rewind_slack must be >= 0");
  return p;
}

}  // namespace

Session::Session(const Gemma3Model& model, SessionParams params)
    : model_(model),
      params_(checked(params)),
      executor_(model, ExecutorParams{std::min(params_.n_batch, resolve_ctx(model, params_.n_ctx)), params_.n_threads,
                                      params_.precision}),
      seq_(model.config(), SequenceParams{resolve_ctx(model, params_.n_ctx), executor_.max_batch(), params_.kv_type,
                                          params_.rewind_slack}) {
  params_.n_ctx = seq_.cache().n_ctx();
  params_.n_batch = executor_.max_batch();
}

std::span<const float> Session::logits() const { return seq_.logits(); }

std::span<const float> Session::logits_row(int64_t row) const {
  if (row < 0 || row >= n_rows_) return {};
  const auto V = static_cast<size_t>(model_.config().n_vocab);
  return std::span<const float>(rows_).subspan(static_cast<size_t>(row) * V, V);
}

void Session::check_room(size_t n) const {
  const KvCache& cache = seq_.cache();
  const auto room = static_cast<size_t>(cache.n_ctx() - cache.n_pos());
  if (n > room)
    fail(Status::ContextFull, "context full: {} cached + {} new tokens exceed n_ctx {}", cache.n_pos(), n,
         cache.n_ctx());
}

void Session::evaluate(std::span<const int32_t> tokens, const AbortFn& abort, LogitsMode mode, float* all) {
  if (take_cancel_request()) fail(Status::Cancelled, "cancelled before the evaluation started");
  if (tokens.empty()) return;
  check_room(tokens.size());
  model_.check_token_ids(tokens);  // all up front, so that a bad one leaves the session untouched
  const auto V = static_cast<size_t>(model_.config().n_vocab);
  const ForwardInterrupt interrupt{&seq_.cancel_flag(), &abort};
  for (size_t done = 0; done < tokens.size();) {
    const size_t n = std::min(tokens.size() - done, static_cast<size_t>(executor_.max_batch()));
    const bool last = done + n == tokens.size();
    const SequenceStep step{&seq_, tokens.subspan(done, n),
                            mode == LogitsMode::All ? LogitsMode::All : last ? LogitsMode::Last : LogitsMode::None,
                            mode == LogitsMode::All ? all + done * V : nullptr};
    try {
      executor_.decode({&step, 1}, interrupt);
    } catch (const Error& e) {
      if (e.status() == Status::Cancelled) seq_.take_cancel_request();
      throw;
    }
    done += n;
  }
}

void Session::append(std::span<const int32_t> tokens, const AbortFn& abort) {
  n_rows_ = 0;
  if (!params_.logits_all) return evaluate(tokens, abort, LogitsMode::Last, nullptr);
  check_room(tokens.size());  // before allocating the rows
  rows_.resize(tokens.size() * static_cast<size_t>(model_.config().n_vocab));
  evaluate(tokens, abort, LogitsMode::All, rows_.data());
  n_rows_ = static_cast<int64_t>(tokens.size());
}

int64_t Session::set_tokens(std::span<const int32_t> tokens, const AbortFn& abort) {
  n_rows_ = 0;
  if (take_cancel_request()) fail(Status::Cancelled, "cancelled before the evaluation started");
  // What can fail on the input fails before anything cached is dropped.
  const KvCache& cache = seq_.cache();
  if (tokens.size() > static_cast<size_t>(cache.n_ctx()))
    fail(Status::ContextFull, "context full: {} tokens exceed n_ctx {}", tokens.size(), cache.n_ctx());
  model_.check_token_ids(tokens);
  const std::vector<int32_t>& cached = seq_.tokens();
  size_t common = 0;
  while (common < tokens.size() && common < cached.size() && tokens[common] == cached[common]) ++common;
  // Logits are needed for the last token: if it is already cached, re-evaluate it unless the
  // logits we hold are exactly its.
  if (common == tokens.size() && common > 0) {
    if (common == cached.size() && !seq_.logits().empty()) return static_cast<int64_t>(common);
    --common;
  }
  if (!seq_.can_truncate(static_cast<int64_t>(common))) common = 0;
  seq_.truncate(static_cast<int64_t>(common));
  evaluate(tokens.subspan(common), abort, LogitsMode::Last, nullptr);
  return static_cast<int64_t>(common);
}

void Session::reset() {
  seq_.clear();
  n_rows_ = 0;
}

std::vector<float> Session::evaluate_all_logits(std::span<const int32_t> tokens, const AbortFn& abort) {
  reset();
  check_room(tokens.size());  // before allocating
  std::vector<float> all(tokens.size() * static_cast<size_t>(model_.config().n_vocab));
  evaluate(tokens, abort, LogitsMode::All, all.data());
  return all;
}

}  // namespace lem
