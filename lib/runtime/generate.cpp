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

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Eos: return "eos";
    case StopReason::StopString: return "stop";
    case StopReason::Length: return "length";
    case StopReason::ContextFull: return "context_full";
    case StopReason::Cancelled: return "cancelled";
  }
  return "?";
}

GenerateResult generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                        const GenerateParams& params, const TokenCallback& on_token, const AbortFn& abort) {
  if (prompt.empty()) fail(Status::InvalidArg, "generate: the prompt is empty");
  for (const auto& s : params.stop)
    if (s.empty()) fail(Status::InvalidArg, "generate: stop strings must not be empty");
  GenerateResult result;
  const int32_t n_vocab = std::min<int32_t>(params.n_vocab_limit > 0 ? params.n_vocab_limit : tokenizer.n_vocab(),
                                            static_cast<int32_t>(session.model().config().n_vocab));
  Sampler sampler(params.sampling, n_vocab);

  const auto t0 = Clock::now();
  try {
    result.n_reused = session.set_tokens(prompt, abort);
  } catch (const Error& e) {
    if (e.status() != Status::Cancelled) throw;
    result.reason = StopReason::Cancelled;
    return result;
  }
  result.n_prompt = static_cast<int64_t>(prompt.size()) - result.n_reused;
  result.prompt_seconds = seconds_since(t0);

  const auto t1 = Clock::now();
  StreamingDetokenizer detok(tokenizer);
  std::string pending;  // final text not yet passed to the callback (may start a stop string)
  bool stopped = false;
  for (;;) {
    if (params.max_tokens >= 0 && static_cast<int32_t>(result.tokens.size()) >= params.max_tokens) {
      result.reason = StopReason::Length;
      break;
    }
    if (abort && abort()) {
      result.reason = StopReason::Cancelled;
      break;
    }
    const int32_t token = sampler.sample(session.logits(), session.tokens());
    if (!params.ignore_eos && tokenizer.is_eos(token)) {
      result.reason = StopReason::Eos;
      break;
    }
    result.tokens.push_back(token);
    pending += detok.push(token);

    // Stop strings: cut at the first match and stop.
    size_t cut = std::string::npos;
    for (const auto& s : params.stop) cut = std::min(cut, pending.find(s));
    if (cut != std::string::npos) {
      pending.resize(cut);
      stopped = true;
    }
    const size_t keep = stopped ? 0 : held_back(pending, params.stop);
    const std::string ready = pending.substr(0, pending.size() - keep);
    pending.erase(0, ready.size());
    result.text += ready;
    if (on_token && !on_token(ready, token)) {
      result.reason = StopReason::Cancelled;
      break;
    }
    if (stopped) {
      result.reason = StopReason::StopString;
      break;
    }
    if (session.tokens().size() >= static_cast<size_t>(session.cache().n_ctx())) {
      result.reason = StopReason::ContextFull;
      break;
    }
    const int32_t next[1] = {token};
    session.append(next);
  }
  if (!stopped) {
    // Text held back for a stop string that never came, and any unfinished character.
    const std::string rest = pending + detok.flush();
    result.text += rest;
    if (on_token && !rest.empty()) on_token(rest, -1);
  }
  result.gen_seconds = seconds_since(t1);
  return result;
}

}  // namespace lem
