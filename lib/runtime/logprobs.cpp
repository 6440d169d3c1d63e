#include "runtime/logprobs.hpp"

#include <cmath>
#include <limits>

#include "kernels/ops.hpp"
#include "util/error.hpp"

namespace lem {

float token_logprobs(std::span<const float> logits, int32_t n_vocab, int32_t token, std::span<TokenLogprob> top) {
  if (n_vocab <= 0 || logits.size() < static_cast<size_t>(n_vocab))
    fail(Status::InvalidArg, "logprobs: {} logits for a {}-token vocabulary", logits.size(), n_vocab);
  if (token < 0 || token >= n_vocab)
    fail(Status::InvalidArg, "logprobs: token id {} is outside the vocabulary [0, {})", token, n_vocab);
  if (top.size() > static_cast<size_t>(kMaxTopLogprobs))
    fail(Status::InvalidArg, "logprobs: {} top alternatives asked for; at most {}", top.size(), kMaxTopLogprobs);

  constexpr float kInf = std::numeric_limits<float>::infinity();
  // Validity is checked on the way, not up front: a NaN makes the sum NaN and +inf is the max.
  const auto fail_at_first_bad = [&] {
    for (int32_t i = 0; i < n_vocab; ++i)
      if (std::isnan(logits[i]) || logits[i] == kInf)
        fail(Status::InvalidArg, "logprobs: the logit of token id {} is {}", i, logits[i]);
    fail(Status::InvalidArg, "logprobs: every logit is -inf");
  };
  // The maximum in 8 independent lanes, which compilers turn into vector max instructions.
  float lanes[8] = {-kInf, -kInf, -kInf, -kInf, -kInf, -kInf, -kInf, -kInf};
  int32_t i = 0;
  for (; i + 8 <= n_vocab; i += 8)
    for (int32_t j = 0; j < 8; ++j) lanes[j] = logits[i + j] > lanes[j] ? logits[i + j] : lanes[j];
  for (; i < n_vocab; ++i) lanes[0] = logits[i] > lanes[0] ? logits[i] : lanes[0];
  float max = -kInf;
  for (const float l : lanes) max = l > max ? l : max;
  if (max == kInf || max == -kInf) fail_at_first_bad();
  // log Σ exp(l) = max + log Σ exp(l - max); every term is <= 1, the largest is 1.
  const double sum = sum_exp(logits.data(), n_vocab, max);
  if (std::isnan(sum)) fail_at_first_bad();
  const double log_norm = static_cast<double>(max) + std::log(sum);

  // The top entries by insertion: ids arrive in increasing order, so an equal logit stays behind
  // the lower id already there.
  const size_t n_top = top.size();
  size_t filled = 0;
  for (i = 0; i < n_vocab && n_top > 0; ++i) {
    const float l = logits[i];
    if (filled == n_top && !(l > logits[top[n_top - 1].token])) continue;
    size_t at = filled < n_top ? filled++ : n_top - 1;
    for (; at > 0 && logits[top[at - 1].token] < l; --at) top[at] = top[at - 1];
    top[at].token = i;
  }
  for (size_t k = 0; k < filled; ++k)
    top[k].logprob = static_cast<float>(static_cast<double>(logits[top[k].token]) - log_norm);
  for (size_t k = filled; k < n_top; ++k) top[k] = TokenLogprob{};  // n_top > n_vocab
  return static_cast<float>(static_cast<double>(logits[token]) - log_norm);
}

}  // namespace lem
