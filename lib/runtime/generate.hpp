// Text generation: prompt in (token ids), streamed text out, with sampling, stop tokens, stop
// strings, a token budget and cancellation from the per-token callback.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/sampler.hpp"
#include "runtime/session.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lem {

struct GenerateParams {
  int32_t max_tokens = -1;              // < 0: until a stop or the context is full
  SamplerParams sampling;
  std::vector<std::string> stop;        // stop strings: generation ends before the first match
  bool ignore_eos = false;              // keep going past <eos> / <end_of_turn>
  int32_t n_vocab_limit = 0;            // > 0: never sample ids >= this (0: the tokenizer's size)
};

enum class StopReason { Eos, StopString, Length, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r);

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the stop token not included)
  std::string text;             // generated text (up to the stop string, exclusive)
  StopReason reason = StopReason::Length;
  int64_t n_prompt = 0;         // prompt tokens evaluated (not reused from the cache)
  int64_t n_reused = 0;         // prompt tokens reused from the cache
  double prompt_seconds = 0;
  double gen_seconds = 0;
};

// Called with each piece of text as it becomes final (never a broken UTF-8 sequence, never a
// possible start of a stop string) and the id that completed it; return false to stop.
using TokenCallback = std::function<bool(std::string_view text, int32_t token)>;

// Makes the session hold `prompt` (reusing the cached prefix), then samples until a stop.
// The session afterwards holds prompt + generated tokens (the stop token is evaluated only when
// it was sampled, so a follow-up turn can continue the conversation).
GenerateResult generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                        const GenerateParams& params, const TokenCallback& on_token = {},
                        const AbortFn& abort = {});

}  // namespace lem
