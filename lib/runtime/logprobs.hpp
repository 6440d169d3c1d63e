// Log-probabilities of tokens under the model's distribution: the log-softmax of the raw logits,
// before any sampling transform (temperature, penalties, top-k/p), as OpenAI's `logprobs` and
// mlx-lm report them.
#pragma once

#include <cstdint>
#include <span>

namespace lem {

struct TokenLogprob {
  int32_t token = -1;
  float logprob = 0.0f;  // natural log
};

// The most alternatives one call reports (OpenAI's top_logprobs limit).
constexpr int32_t kMaxTopLogprobs = 20;

// Log-softmax over the first n_vocab logits (the ids that may be sampled; padding rows beyond
// them are ignored), the log-sum-exp accumulated in double. Returns the log-probability of
// `token` and fills `top` (top.size() <= kMaxTopLogprobs entries) with the most likely ids, most
// likely first, ties broken by the lower id. -inf logits are allowed (probability 0).
// Throws lem::Error(InvalidArg) for a token outside [0, n_vocab), too short a logits row, a NaN or
// +inf logit, or a row whose logits are all -inf.
float token_logprobs(std::span<const float> logits, int32_t n_vocab, int32_t token, std::span<TokenLogprob> top);

}  // namespace lem
