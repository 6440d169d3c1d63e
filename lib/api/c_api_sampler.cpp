// extern "C" shims: sampler parameters, the sampler handle, and log-probabilities.
#include <cstring>
#include <span>
#include <vector>

#include "api/c_api_compute.hpp"
#include "runtime/logprobs.hpp"

using lem::capi::guarded;
using lem::Status;

static_assert(LEM_TOP_LOGPROBS_MAX == lem::kMaxTopLogprobs);
static_assert(sizeof(lem_token_logprob) == sizeof(lem::TokenLogprob));

struct lem_sampler {
  lem::Sampler sampler;
  int32_t n_vocab;               // ids that may be sampled
  std::vector<int32_t> history;  // accepted tokens, for the penalties
  std::string last_error;        // lem_sampler_last_error(): thread-independent
};

namespace lem::capi {

lem_sampler_params sampler_defaults() {
  lem_sampler_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  const SamplerParams d;
  p.temperature = d.temperature;
  p.top_k = d.top_k;
  p.top_p = d.top_p;
  p.min_p = d.min_p;
  p.repeat_penalty = d.repeat_penalty;
  p.repeat_last_n = d.repeat_last_n;
  p.presence_penalty = d.presence_penalty;
  p.frequency_penalty = d.frequency_penalty;
  p.seed = d.seed;
  return p;
}

SamplerParams sampler_params(const lem_sampler_params* params, int32_t n_vocab, const char* fn) {
  const lem_sampler_params p = read_params(params, sampler_defaults(), fn);
  if (p.reserved != 0) fail(Status::InvalidArg, "{}: sampler reserved is {}; it must be 0", fn, p.reserved);
  SamplerParams s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.repeat_penalty = p.repeat_penalty;
  s.repeat_last_n = p.repeat_last_n;
  s.presence_penalty = p.presence_penalty;
  s.frequency_penalty = p.frequency_penalty;
  s.seed = p.seed;
  if (p.n_logit_bias > 0 && (!p.logit_bias_tokens || !p.logit_bias_values))
    fail(Status::InvalidArg, "{}: n_logit_bias is {} but logit_bias_tokens or logit_bias_values is NULL", fn,
         p.n_logit_bias);
  for (size_t i = 0; i < p.n_logit_bias; ++i) {
    const int32_t id = p.logit_bias_tokens[i];
    // Checked here as well as by the sampler: the map must not grow with ids from outside.
    if (id < 0 || id >= n_vocab)
      fail(Status::InvalidArg, "{}: logit_bias_tokens[{}] is {}, outside the vocabulary [0, {})", fn, i, id, n_vocab);
    s.logit_bias[id] += p.logit_bias_values[i];  // repeated ids add up
  }
  return s;
}

}  // namespace lem::capi

namespace {

std::string* error_slot(lem_sampler* sampler) { return sampler ? &sampler->last_error : nullptr; }

}  // namespace

extern "C" {

void lem_sampler_params_init(lem_sampler_params* params, size_t struct_size) {
  lem::capi::init_struct(params, struct_size, lem::capi::sampler_defaults());
}

lem_status lem_sampler_create(const lem_model* model, const lem_sampler_params* params, lem_sampler** out_sampler,
                              char* err_buf, size_t err_cap) {
  if (out_sampler) *out_sampler = nullptr;
  const lem_status status = guarded([&] {
    if (!out_sampler) lem::fail(Status::InvalidArg, "lem_sampler_create: out_sampler must not be NULL");
    const int32_t n_vocab = lem::capi::runnable_model(model, "lem_sampler_create").n_sampling_vocab();
    lem::SamplerParams sp = lem::capi::sampler_params(params, n_vocab, "lem_sampler_create");
    *out_sampler = new lem_sampler{lem::Sampler(std::move(sp), n_vocab), n_vocab, {}, {}};
  });
  lem::capi::copy_error(err_buf, err_cap);
  return status;
}

void lem_sampler_free(lem_sampler* sampler) { delete sampler; }

const char* lem_sampler_last_error(const lem_sampler* sampler) { return sampler ? sampler->last_error.c_str() : ""; }

lem_status lem_sampler_sample(lem_sampler* sampler, const float* logits, int32_t* out_token) {
  return guarded(
      [&] {
        if (!sampler || !logits || !out_token)
          lem::fail(Status::InvalidArg, "lem_sampler_sample: sampler, logits and out_token must not be NULL");
        *out_token = sampler->sampler.sample(std::span<const float>(logits, static_cast<size_t>(sampler->n_vocab)),
                                             sampler->history);
      },
      error_slot(sampler));
}

lem_status lem_sampler_accept(lem_sampler* sampler, int32_t token) {
  return guarded(
      [&] {
        if (!sampler) lem::fail(Status::InvalidArg, "lem_sampler_accept: sampler must not be NULL");
        if (token < 0 || token >= sampler->n_vocab)
          lem::fail(Status::InvalidArg, "lem_sampler_accept: token id {} is outside the vocabulary [0, {})", token,
                    sampler->n_vocab);
        std::vector<int32_t>& h = sampler->history;
        h.push_back(token);
        // The penalties look at the last repeat_last_n tokens only: drop older ones now and then.
        const int32_t window = sampler->sampler.params().repeat_last_n;
        if (window >= 0 && h.size() > static_cast<size_t>(window) + 4096)
          h.erase(h.begin(), h.end() - window);
      },
      error_slot(sampler));
}

void lem_sampler_reset(lem_sampler* sampler) {
  if (!sampler) return;
  sampler->history.clear();
  sampler->sampler.reseed(sampler->sampler.params().seed);
}

lem_status lem_logprobs(const lem_model* model, const float* logits, int32_t token, float* out_logprob, int32_t n_top,
                        lem_token_logprob* out_top) {
  return guarded([&] {
    const int32_t n_vocab = lem::capi::runnable_model(model, "lem_logprobs").n_sampling_vocab();
    if (!logits || !out_logprob) lem::fail(Status::InvalidArg, "lem_logprobs: logits and out_logprob must not be NULL");
    if (n_top < 0 || n_top > LEM_TOP_LOGPROBS_MAX)
      lem::fail(Status::InvalidArg, "lem_logprobs: n_top is {}; expected 0 to {}", n_top, LEM_TOP_LOGPROBS_MAX);
    if (n_top > 0 && !out_top) lem::fail(Status::InvalidArg, "lem_logprobs: n_top is {} but out_top is NULL", n_top);
    std::vector<lem::TokenLogprob> top(static_cast<size_t>(n_top));
    const float lp = lem::token_logprobs(std::span<const float>(logits, static_cast<size_t>(n_vocab)), n_vocab, token, top);
    *out_logprob = lp;
    for (size_t i = 0; i < top.size(); ++i) out_top[i] = lem_token_logprob{top[i].token, top[i].logprob};
  });
}

}  // extern "C"
