#include "runtime/session.hpp"

#include <algorithm>

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
      pool_(params_.n_threads),
      cache_(model.config(), resolve_ctx(model, params_.n_ctx), std::min(params_.n_batch, resolve_ctx(model, params_.n_ctx)),
             params_.kv_type, params_.rewind_slack),
      state_(model.config(), std::min(params_.n_batch, cache_.n_ctx())) {
  params_.n_ctx = cache_.n_ctx();
  params_.n_batch = state_.max_batch;
  state_.precision = params_.precision;
}

std::span<const float> Session::logits() const {
  if (logits_pos_ != tokens_.size() || logits_.empty()) return {};
  return logits_;
}

void Session::append(std::span<const int32_t> tokens, const AbortFn& abort) {
  if (tokens.empty()) return;
  if (cache_.n_pos() + static_cast<int64_t>(tokens.size()) > cache_.n_ctx())
    fail(Status::ContextFull, "context full: {} cached + {} new tokens exceed n_ctx {}", cache_.n_pos(), tokens.size(),
         cache_.n_ctx());
  logits_.resize(static_cast<size_t>(model_.config().n_vocab));
  for (size_t done = 0; done < tokens.size();) {
    if (abort && abort()) fail(Status::Cancelled, "cancelled after {} of {} tokens", done, tokens.size());
    const size_t n = std::min(tokens.size() - done, static_cast<size_t>(state_.max_batch));
    const bool last = done + n == tokens.size();
    model_.forward(tokens.subspan(done, n), cache_, state_, pool_, last ? LogitsMode::Last : LogitsMode::None,
                   logits_.data());
    tokens_.insert(tokens_.end(), tokens.begin() + done, tokens.begin() + done + n);
    done += n;
  }
  logits_pos_ = tokens_.size();
}

int64_t Session::set_tokens(std::span<const int32_t> tokens, const AbortFn& abort) {
  size_t common = 0;
  while (common < tokens.size() && common < tokens_.size() && tokens[common] == tokens_[common]) ++common;
  // Logits are needed for the last token: if it is already cached, re-evaluate it unless the
  // logits we hold are exactly its.
  if (common == tokens.size() && common > 0) {
    if (common == tokens_.size() && logits_pos_ == tokens_.size()) return static_cast<int64_t>(common);
    --common;
  }
  if (!cache_.can_truncate(static_cast<int64_t>(common))) common = 0;
  cache_.truncate(static_cast<int64_t>(common));
  tokens_.resize(common);
  logits_pos_ = 0;
  append(tokens.subspan(common), abort);
  return static_cast<int64_t>(common);
}

void Session::reset() {
  cache_.truncate(0);
  tokens_.clear();
  logits_pos_ = 0;
}

std::vector<float> Session::evaluate_all_logits(std::span<const int32_t> tokens, const AbortFn& abort) {
  reset();
  const auto V = static_cast<size_t>(model_.config().n_vocab);
  std::vector<float> all(tokens.size() * V);
  if (cache_.n_pos() + static_cast<int64_t>(tokens.size()) > cache_.n_ctx())
    fail(Status::ContextFull, "{} tokens exceed n_ctx {}", tokens.size(), cache_.n_ctx());
  for (size_t done = 0; done < tokens.size();) {
    if (abort && abort()) fail(Status::Cancelled, "cancelled after {} of {} tokens", done, tokens.size());
    const size_t n = std::min(tokens.size() - done, static_cast<size_t>(state_.max_batch));
    model_.forward(tokens.subspan(done, n), cache_, state_, pool_, LogitsMode::All, all.data() + done * V);
    tokens_.insert(tokens_.end(), tokens.begin() + done, tokens.begin() + done + n);
    done += n;
  }
  if (!tokens.empty()) {
    logits_.assign(all.end() - static_cast<std::ptrdiff_t>(V), all.end());
    logits_pos_ = tokens_.size();
  }
  return all;
}

}  // namespace lem
