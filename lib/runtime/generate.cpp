#include "runtime/generate.hpp"

#include <algorithm>
#include <chrono>

#include "util/error.hpp"

namespace lem {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Length of the longest suffix of `text` that is a proper prefix of some stop string: those
// bytes must be held back because the next token may complete the stop string.
size_t held_back(std::string_view text, const std::vector<std::string>& stops) {
  size_t hold = 0;
  for (const auto& s : stops)
    for (size_t len = std::min(s.size() - 1, text.size()); len > hold; --len)
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
  return hold;
}

GenerateParams checked(GenerateParams p, std::span<const int32_t> prompt) {
  if (prompt.empty()) fail(Status::InvalidArg, "generate: the prompt is empty");
  for (size_t i = 0; i < p.stop.size(); ++i)
    if (p.stop[i].empty()) fail(Status::InvalidArg, "generate: stop string {} is empty", i);
  if (p.n_top_logprobs < 0 || p.n_top_logprobs > kMaxTopLogprobs)
    fail(Status::InvalidArg, "generate: n_top_logprobs is {}; expected 0 to {}", p.n_top_logprobs, kMaxTopLogprobs);
  return p;
}

int32_t sampling_vocab(const Session& session, const Tokenizer& tokenizer, const GenerateParams& p) {
  return std::min<int32_t>(p.n_vocab_limit > 0 ? p.n_vocab_limit : tokenizer.n_vocab(),
                           static_cast<int32_t>(session.model().config().n_vocab));
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::None: return "none";
    case StopReason::Eos: return "eos";
    case StopReason::StopString: return "stop";
    case StopReason::Length: return "length";
    case StopReason::ContextFull: return "context_full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

Generator::Generator(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                     GenerateParams params)
    : session_(session),
      tokenizer_(tokenizer),
      prompt_(prompt.begin(), prompt.end()),
      params_(checked(std::move(params), prompt)),
      n_vocab_(sampling_vocab(session, tokenizer, params_)),
      sampler_(params_.sampling, n_vocab_),
      detok_(tokenizer, /*skip_special=*/!params_.show_control) {}

void Generator::stop() {
  if (!finished_ && !stop_next_) stop_next_ = StopReason::Cancelled;
}

const GenerateEvent& Generator::next(const AbortFn& abort) {
  if (error_) std::rethrow_exception(error_);
  if (finished_) return event_;
  const auto t0 = Clock::now();
  const double prompt_before = prompt_seconds_;
  try {
    advance(abort);
  } catch (const Error& e) {
    if (e.status() != Status::Cancelled) {
      error_ = std::current_exception();
      throw;
    }
    finish(StopReason::Cancelled);
  } catch (...) {
    error_ = std::current_exception();
    throw;
  }
  gen_seconds_ += seconds_since(t0) - (prompt_seconds_ - prompt_before);
  event_.prompt_seconds = prompt_seconds_;
  event_.gen_seconds = gen_seconds_;
  return event_;
}

// One step: evaluate what the previous step sampled (or the prompt), check the stops, sample.
void Generator::advance(const AbortFn& abort) {
  if (stop_next_) return finish(*stop_next_);
  if (!started_) {
    started_ = true;
    const auto t0 = Clock::now();
    try {
      n_reused_ = session_.set_tokens(prompt_, abort);
    } catch (...) {
      prompt_seconds_ = seconds_since(t0);
      throw;
    }
    n_prompt_ = static_cast<int64_t>(prompt_.size()) - n_reused_;
    prompt_seconds_ = seconds_since(t0);
  } else if (unevaluated_) {
    if (session_.tokens().size() >= static_cast<size_t>(session_.cache().n_ctx()))
      return finish(StopReason::ContextFull);
    const int32_t last[1] = {generated_.back()};
    session_.append(last, abort);
    unevaluated_ = false;
  }
  if (params_.max_tokens >= 0 && generated_.size() >= static_cast<size_t>(params_.max_tokens))
    return finish(StopReason::Length);
  if (session_.take_cancel_request() || (abort && abort())) return finish(StopReason::Cancelled);

  const int32_t token = sampler_.sample(session_.logits(), session_.tokens());
  if (!params_.ignore_eos && tokenizer_.is_eos(token)) return finish(StopReason::Eos);
  emit_token(token);
}

void Generator::emit_token(int32_t token) {
  generated_.push_back(token);
  unevaluated_ = true;
  event_.type = GenerateEvent::Type::Token;
  event_.token = token;
  event_.top.resize(static_cast<size_t>(params_.n_top_logprobs));
  event_.logprob = token_logprobs(session_.logits(), n_vocab_, token, event_.top);
  event_.reason = StopReason::None;

  pending_ += detok_.push(token);
  // Stop strings: cut at the first match; the next step reports the stop.
  size_t cut = std::string::npos;
  for (const auto& s : params_.stop) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    pending_.resize(cut);
    stop_next_ = StopReason::StopString;
  }
  const size_t keep = stop_next_ ? 0 : held_back(pending_, params_.stop);
  event_.text.assign(pending_, 0, pending_.size() - keep);
  pending_.erase(0, event_.text.size());
  event_.n_prompt = n_prompt_;
  event_.n_reused = n_reused_;
  event_.n_generated = static_cast<int64_t>(generated_.size());
}

void Generator::finish(StopReason reason) {
  finished_ = true;
  event_.type = GenerateEvent::Type::Done;
  event_.token = -1;
  event_.logprob = 0.0f;
  event_.top.clear();
  event_.reason = reason;
  // Text held back for a stop string that never came, and any unfinished character. After a
  // stop string, what followed it is dropped.
  event_.text = reason == StopReason::StopString ? std::string() : pending_ + detok_.flush();
  pending_.clear();
  event_.n_prompt = n_prompt_;
  event_.n_reused = n_reused_;
  event_.n_generated = static_cast<int64_t>(generated_.size());
}

GenerateResult generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                        const GenerateParams& params, const EventCallback& on_event, const AbortFn& abort) {
  Generator gen(session, tokenizer, prompt, params);
  GenerateResult result;
  for (;;) {
    const GenerateEvent& ev = gen.next(abort);
    result.text += ev.text;
    const bool stop = on_event && on_event(ev);
    if (ev.type == GenerateEvent::Type::Done) {
      result.reason = ev.reason;
      result.n_prompt = ev.n_prompt;
      result.n_reused = ev.n_reused;
      result.prompt_seconds = ev.prompt_seconds;
      result.gen_seconds = ev.gen_seconds;
      break;
    }
    if (stop) gen.stop();
  }
  result.tokens = gen.tokens();
  return result;
}

}  // namespace lem
