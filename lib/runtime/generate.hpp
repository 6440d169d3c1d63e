// Text generation: prompt in (token ids), events out, one per step — each sampled token with the
// text it completed and its log-probability, then a DONE event with the stop reason and counts.
// Handles sampling, end-of-turn tokens, stop strings, a token budget, the context limit and
// cancellation. Generator is the pull form (streams); generate() loops over it with a callback.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/logprobs.hpp"
#include "runtime/sampler.hpp"
#include "runtime/session.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lem {

struct GenerateParams {
  int32_t max_tokens = -1;              // < 0: until a stop or the context is full
  SamplerParams sampling;
  std::vector<std::string> stop;        // stop strings: generation ends before the first match
  bool ignore_eos = false;              // keep going past <eos> / <end_of_turn>
  bool show_control = false;            // control tokens (<pad>, <start_of_turn>, ...) appear in the text
  int32_t n_vocab_limit = 0;            // > 0: never sample ids >= this (0: the tokenizer's size)
  int32_t n_top_logprobs = 0;           // 0..kMaxTopLogprobs alternatives per token event
};

enum class StopReason { None, Eos, StopString, Length, ContextFull, Cancelled };
const char* stop_reason_name(StopReason r);

struct GenerateEvent {
  enum class Type { Token, Done };
  Type type = Type::Token;
  // Final text: never a broken UTF-8 sequence, never a possible start of a stop string. A DONE
  // event carries what was held back (except after a stop string, where the rest is dropped).
  std::string text;
  int32_t token = -1;                   // Token: the sampled id; Done: -1
  float logprob = 0.0f;                 // Token: log-softmax of the raw logits at `token`
  std::vector<TokenLogprob> top;        // Token: the n_top_logprobs most likely ids
  StopReason reason = StopReason::None; // Done: why generation ended
  int64_t n_prompt = 0;                 // prompt tokens evaluated (not reused from the cache)
  int64_t n_reused = 0;                 // prompt tokens reused from the cache
  int64_t n_generated = 0;              // tokens generated so far
  double prompt_seconds = 0;
  double gen_seconds = 0;               // time spent generating (inside next(), after the prompt)
};

// One generation over a session. The session must outlive the generator and serve only it
// until it is done.
class Generator {
 public:
  // Checks the parameters (empty prompt or stop string, n_top_logprobs, the sampler's: throws
  // lem::Error(InvalidArg)). Computes nothing.
  Generator(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt, GenerateParams params);

  // Computes the next event on the calling thread; the first call evaluates the prompt (reusing
  // the cached prefix). Token events until a stop, then one Done event, which later calls return
  // again. `abort` is polled before each layer and once per token; it, Session::request_cancel()
  // and stop() end generation with a Done event saying Cancelled. Other errors are thrown, by
  // this call and every later one; the session keeps what was evaluated.
  // The event stays valid until the next call.
  const GenerateEvent& next(const AbortFn& abort = {});
  // Ends generation as cancelled without computing anything more: the next call returns the
  // Done event (for callers whose callback asked to stop).
  void stop();
  bool done() const { return finished_; }

  // The generated ids so far (the end-of-turn token that stopped generation not included).
  const std::vector<int32_t>& tokens() const { return generated_; }

 private:
  void advance(const AbortFn& abort);
  void emit_token(int32_t token);
  void finish(StopReason reason);

  Session& session_;
  const Tokenizer& tokenizer_;
  std::vector<int32_t> prompt_;
  GenerateParams params_;
  int32_t n_vocab_;
  Sampler sampler_;
  StreamingDetokenizer detok_;

  bool started_ = false;
  bool finished_ = false;
  bool unevaluated_ = false;              // the last sampled token is not in the session yet
  std::optional<StopReason> stop_next_;   // a stop decided in this step, reported by the next
  std::exception_ptr error_;              // the error that ended generation, thrown again
  std::vector<int32_t> generated_;
  std::string pending_;                   // final text held back (may start a stop string)
  int64_t n_prompt_ = 0, n_reused_ = 0;
  double prompt_seconds_ = 0, gen_seconds_ = 0;
  GenerateEvent event_;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (the stop token not included)
  std::string text;             // generated text (up to the stop string, exclusive)
  StopReason reason = StopReason::Length;
  int64_t n_prompt = 0;         // prompt tokens evaluated (not reused from the cache)
  int64_t n_reused = 0;         // prompt tokens reused from the cache
  double prompt_seconds = 0;
  double gen_seconds = 0;
};

// Called with every event, the Done event included; returns true to stop (generation then ends
// with a Done event saying Cancelled; what the callback returns for it is ignored).
using EventCallback = std::function<bool(const GenerateEvent& event)>;

// Makes the session hold `prompt` (reusing the cached prefix), then samples until a stop.
// The session afterwards holds prompt + generated tokens (a token that ended generation by
// end-of-turn, a stop string, the context limit or a cancel is not evaluated).
GenerateResult generate(Session& session, const Tokenizer& tokenizer, std::span<const int32_t> prompt,
                        const GenerateParams& params, const EventCallback& on_event = {}, const AbortFn& abort = {});

}  // namespace lem
