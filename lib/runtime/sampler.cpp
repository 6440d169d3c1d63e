#include "runtime/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "util/error.hpp"

namespace lem {

int32_t greedy_token(std::span<const float> logits, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

void validate_sampler_params(const SamplerParams& p, int32_t n_vocab) {
  if (n_vocab <= 0) fail(Status::InvalidArg, "sampler: vocabulary size must be positive, got {}", n_vocab);
  const auto finite = [](const char* name, float v) {
    if (!std::isfinite(v)) fail(Status::InvalidArg, "sampler: {} is {}; it must be a finite number", name, v);
  };
  finite("temperature", p.temperature);
  finite("top_p", p.top_p);
  finite("min_p", p.min_p);
  finite("repeat_penalty", p.repeat_penalty);
  finite("presence_penalty", p.presence_penalty);
  finite("frequency_penalty", p.frequency_penalty);
  if (!(p.top_p > 0.0f)) fail(Status::InvalidArg, "sampler: top_p must be > 0 (>= 1: off), got {}", p.top_p);
  if (p.min_p >= 1.0f) fail(Status::InvalidArg, "sampler: min_p must be < 1 (<= 0: off), got {}", p.min_p);
  if (!(p.repeat_penalty > 0.0f))
    fail(Status::InvalidArg, "sampler: repeat_penalty must be > 0 (1: off), got {}", p.repeat_penalty);
  if (p.repeat_last_n < -1)
    fail(Status::InvalidArg, "sampler: repeat_last_n must be >= -1 (-1: all tokens), got {}", p.repeat_last_n);
  for (const auto& [id, bias] : p.logit_bias) {
    if (id < 0 || id >= n_vocab)
      fail(Status::InvalidArg, "sampler: logit bias for token id {}, outside the vocabulary [0, {})", id, n_vocab);
    // -inf bans the token; +inf or NaN would make every probability NaN.
    if (std::isnan(bias) || bias == std::numeric_limits<float>::infinity())
      fail(Status::InvalidArg, "sampler: logit bias {} for token id {}; it must be finite, or -inf to ban the token",
           bias, id);
  }
}

Sampler::Sampler(SamplerParams params, int32_t n_vocab) : params_(std::move(params)), n_vocab_(n_vocab), rng_(params_.seed) {
  validate_sampler_params(params_, n_vocab_);
}

void Sampler::reseed(uint64_t seed) {
  params_.seed = seed;
  rng_.seed(seed);
}

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  if (logits.size() < static_cast<size_t>(n_vocab_))
    fail(Status::InvalidArg, "sampler: {} logits for a {}-token vocabulary", logits.size(), n_vocab_);
  work_.assign(logits.begin(), logits.begin() + n_vocab_);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  // -inf is allowed (the token cannot be drawn); NaN and +inf are not. A branch-free pass
  // (vectorised), then the culprit if needed.
  int invalid = 0;
  for (int32_t i = 0; i < n_vocab_; ++i) invalid |= !(work_[i] < kInf);  // true for NaN too
  for (int32_t i = 0; invalid && i < n_vocab_; ++i)
    if (!(work_[i] < kInf)) fail(Status::InvalidArg, "sampler: the logit of token id {} is {}", i, work_[i]);

  for (const auto& [id, bias] : params_.logit_bias) {  // ids and values checked by the constructor
    work_[id] += bias;
    if (work_[id] == kInf) fail(Status::InvalidArg, "sampler: logit bias {} makes the logit of token id {} overflow", bias, id);
  }

  // Penalties over the last repeat_last_n tokens (llama.cpp's penalties sampler semantics).
  const bool penalise = params_.repeat_penalty != 1.0f || params_.presence_penalty != 0.0f ||
                        params_.frequency_penalty != 0.0f;
  if (penalise && !history.empty() && params_.repeat_last_n != 0) {
    const size_t last = params_.repeat_last_n < 0 ? history.size()
                                                  : std::min(history.size(), static_cast<size_t>(params_.repeat_last_n));
    std::unordered_map<int32_t, int> counts;
    for (size_t i = history.size() - last; i < history.size(); ++i) ++counts[history[i]];
    for (const auto& [id, count] : counts) {
      if (id < 0 || id >= n_vocab_) continue;
      float& l = work_[id];
      l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
      l -= static_cast<float>(count) * params_.frequency_penalty + params_.presence_penalty;
      if (std::isnan(l) || l == kInf)
        fail(Status::InvalidArg, "sampler: the penalties make the logit of token id {} {}", id, l);
    }
  }

  if (params_.temperature <= 0.0f) {
    const int32_t best = greedy_token(work_, n_vocab_);
    if (work_[best] == -kInf) fail(Status::InvalidArg, "sampler: every token is banned by the logit bias");
    return best;
  }

  // Candidates sorted by logit (descending; ties by lower id), cut by top-k.
  ids_.resize(static_cast<size_t>(n_vocab_));
  std::iota(ids_.begin(), ids_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) { return work_[a] > work_[b] || (work_[a] == work_[b] && a < b); };
  size_t n = ids_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < n) {
    n = static_cast<size_t>(params_.top_k);
    std::partial_sort(ids_.begin(), ids_.begin() + n, ids_.end(), by_logit);
  } else {
    std::sort(ids_.begin(), ids_.end(), by_logit);
  }
  if (!std::isfinite(work_[ids_[0]])) {
    if (work_[ids_[0]] == -std::numeric_limits<float>::infinity())
      fail(Status::InvalidArg, "sampler: every token is banned by the logit bias");
    fail(Status::Internal, "sampler: the logits are not finite");
  }

  // Softmax of the raw (penalised) logits, as llama.cpp computes top-p and min-p before temperature.
  std::vector<double> p(n);
  const double max = work_[ids_[0]];
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += p[i] = std::exp(static_cast<double>(work_[ids_[i]]) - max);
  for (auto& v : p) v /= sum;

  if (params_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p
    double cum = 0.0;
    size_t keep = n;
    for (size_t i = 0; i < n; ++i) {
      cum += p[i];
      if (cum >= params_.top_p) {
        keep = i + 1;
        break;
      }
    }
    n = keep;
  }
  if (params_.min_p > 0.0f) {  // drop tokens less likely than min_p times the most likely one
    size_t keep = 1;
    while (keep < n && p[keep] >= params_.min_p * p[0]) ++keep;
    n = keep;
  }

  // Temperature on the survivors, then draw.
  std::vector<double> w(n);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i)
    total += w[i] = std::exp((static_cast<double>(work_[ids_[i]]) - max) / params_.temperature);
  double r = uniform() * total;
  for (size_t i = 0; i < n; ++i) {
    r -= w[i];
    if (r < 0) return ids_[i];
  }
  return ids_[n - 1];
}

}  // namespace lem
