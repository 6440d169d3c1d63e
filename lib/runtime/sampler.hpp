// Token sampling from logits: greedy, or a llama.cpp-style chain
//   logit bias -> repetition / presence / frequency penalties -> top-k -> top-p -> min-p
//   -> temperature -> draw,
// with a seeded RNG so the same seed always gives the same tokens.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <vector>

namespace lem {

struct SamplerParams {
  float temperature = 0.8f;      // <= 0: greedy (argmax, ties -> lowest id)
  int32_t top_k = 40;            // <= 0: off
  float top_p = 0.95f;           // >= 1: off
  float min_p = 0.05f;           // <= 0: off
  float repeat_penalty = 1.0f;   // 1: off. Divides positive / multiplies negative logits of recent tokens
  int32_t repeat_last_n = 64;    // how many recent tokens the penalties look at (-1: all)
  float presence_penalty = 0.0f; // subtracted once from every recent token's logit
  float frequency_penalty = 0.0f;// subtracted per occurrence
  uint64_t seed = 0;
  std::unordered_map<int32_t, float> logit_bias;  // added to a token's logit (-inf bans it)
};

// Throws lem::Error(InvalidArg), naming the field and its value, for parameters no sampler
// accepts: NaN or infinite numbers, top_p <= 0, min_p >= 1, repeat_penalty <= 0,
// repeat_last_n < -1, a logit bias on an id outside [0, n_vocab), a bias of NaN or +inf.
void validate_sampler_params(const SamplerParams& params, int32_t n_vocab);

class Sampler {
 public:
  // n_vocab: tokens that may be sampled (ids >= n_vocab in wider logits rows are never chosen:
  // 262208-row Gemma 3 models pad the 262144-token vocabulary). Validates `params`
  // (validate_sampler_params).
  Sampler(SamplerParams params, int32_t n_vocab);

  // Picks the next token from `logits` (at least n_vocab values) given the tokens so far
  // (`history`, for the penalties). Deterministic for a given seed and call sequence.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  const SamplerParams& params() const { return params_; }
  void reseed(uint64_t seed);

 private:
  double uniform();  // [0, 1), from the seeded generator

  SamplerParams params_;
  int32_t n_vocab_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int32_t> ids_;
};

// argmax over the first n logits, lowest id on ties.
int32_t greedy_token(std::span<const float> logits, int32_t n);

}  // namespace lem
