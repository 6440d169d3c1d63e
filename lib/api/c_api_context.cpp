// extern "C" shims: contexts, evaluation, sampling and generation.
#include <cstring>

#include "api/c_api_common.hpp"
#include "runtime/generate.hpp"

using lem::capi::guarded;
using lem::Status;

static_assert(LEM_STOP_EOS == static_cast<int>(lem::StopReason::Eos) &&
              LEM_STOP_STRING == static_cast<int>(lem::StopReason::StopString) &&
              LEM_STOP_LENGTH == static_cast<int>(lem::StopReason::Length) &&
              LEM_STOP_CONTEXT_FULL == static_cast<int>(lem::StopReason::ContextFull) &&
              LEM_STOP_CANCELLED == static_cast<int>(lem::StopReason::Cancelled));

namespace {

lem::AbortFn abort_fn(lem_abort_callback cb, void* user) {
  if (!cb) return {};
  return [cb, user] { return cb(user) != 0; };
}

lem::SamplerParams sampler_params(const lem_sampler_params& p) {
  lem::SamplerParams s;
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
    lem::fail(Status::InvalidArg, "sampler: n_logit_bias is {} but the bias arrays are NULL", p.n_logit_bias);
  for (size_t i = 0; i < p.n_logit_bias; ++i) s.logit_bias[p.logit_bias_tokens[i]] += p.logit_bias_values[i];
  return s;
}

lem::Session& session_of(lem_context* ctx, const char* fn) {
  if (!ctx) lem::fail(Status::InvalidArg, "{}: ctx must not be NULL", fn);
  return *ctx->session;
}

}  // namespace

extern "C" {

lem_context_params lem_context_params_default(void) {
  lem_context_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.n_ctx = 4096;
  p.n_batch = 512;
  p.n_threads = 0;
  p.kv_type = LEM_KV_F32;
  return p;
}

lem_status lem_context_create(lem_model* model, const lem_context_params* params, lem_context** out_ctx) {
  if (out_ctx) *out_ctx = nullptr;
  return guarded([&] {
    if (!model || !out_ctx) lem::fail(Status::InvalidArg, "lem_context_create: model and out_ctx must not be NULL");
    const lem_context_params p = lem::capi::read_params(params, lem_context_params_default(), "lem_context_create");
    if (p.kv_type != LEM_KV_F32 && p.kv_type != LEM_KV_F16)
      lem::fail(Status::InvalidArg, "lem_context_create: kv_type {} is not LEM_KV_F32 or LEM_KV_F16", p.kv_type);
    lem::SessionParams sp;
    sp.n_ctx = p.n_ctx;
    sp.n_batch = p.n_batch;
    sp.n_threads = p.n_threads;
    sp.kv_type = p.kv_type == LEM_KV_F16 ? lem::KvType::F16 : lem::KvType::F32;
    auto ctx = std::make_unique<lem_context>();
    ctx->model = model;
    ctx->session = std::make_unique<lem::Session>(*model->loaded.net, sp);
    *out_ctx = ctx.release();
  });
}

void lem_context_free(lem_context* ctx) { delete ctx; }

lem_status lem_context_eval(lem_context* ctx, const int32_t* tokens, size_t n_tokens, lem_abort_callback should_abort,
                            void* user_data) {
  return guarded([&] {
    lem::Session& s = session_of(ctx, "lem_context_eval");
    if (!tokens && n_tokens > 0) lem::fail(Status::InvalidArg, "lem_context_eval: tokens must not be NULL");
    s.append(std::span<const int32_t>(tokens, n_tokens), abort_fn(should_abort, user_data));
  });
}

lem_status lem_context_set_tokens(lem_context* ctx, const int32_t* tokens, size_t n_tokens, size_t* n_reused,
                                  lem_abort_callback should_abort, void* user_data) {
  return guarded([&] {
    lem::Session& s = session_of(ctx, "lem_context_set_tokens");
    if (!tokens && n_tokens > 0) lem::fail(Status::InvalidArg, "lem_context_set_tokens: tokens must not be NULL");
    const int64_t reused = s.set_tokens(std::span<const int32_t>(tokens, n_tokens), abort_fn(should_abort, user_data));
    if (n_reused) *n_reused = static_cast<size_t>(reused);
  });
}

const float* lem_context_logits(const lem_context* ctx) {
  if (!ctx) return nullptr;
  const auto logits = ctx->session->logits();
  return logits.empty() ? nullptr : logits.data();
}

size_t lem_context_n_tokens(const lem_context* ctx) { return ctx ? ctx->session->tokens().size() : 0; }

void lem_context_reset(lem_context* ctx) {
  if (ctx) ctx->session->reset();
}

lem_sampler_params lem_sampler_params_default(void) {
  lem_sampler_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  const lem::SamplerParams d;
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

lem_generate_params lem_generate_params_default(void) {
  lem_generate_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.max_tokens = -1;
  p.sampling = lem_sampler_params_default();
  return p;
}

lem_status lem_generate(lem_context* ctx, const int32_t* prompt, size_t n_prompt, const lem_generate_params* params,
                        lem_generate_result* result) {
  if (result) std::memset(result, 0, sizeof *result);
  return guarded([&] {
    lem::Session& s = session_of(ctx, "lem_generate");
    if (!prompt || n_prompt == 0) lem::fail(Status::InvalidArg, "lem_generate: the prompt is empty");
    const lem_generate_params p = lem::capi::read_params(params, lem_generate_params_default(), "lem_generate");
    lem::GenerateParams g;
    g.max_tokens = p.max_tokens;
    g.sampling = sampler_params(lem::capi::read_params(&p.sampling, lem_sampler_params_default(), "lem_generate sampling"));
    if (p.n_stop > 0 && !p.stop_strings) lem::fail(Status::InvalidArg, "lem_generate: n_stop > 0 but stop_strings is NULL");
    for (size_t i = 0; i < p.n_stop; ++i) {
      if (!p.stop_strings[i]) lem::fail(Status::InvalidArg, "lem_generate: stop string {} is NULL", i);
      g.stop.emplace_back(p.stop_strings[i]);
    }
    g.ignore_eos = p.ignore_eos != 0;
    g.n_vocab_limit = ctx->model->loaded.n_sampling_vocab();
    lem::TokenCallback on_token;
    if (p.on_token)
      on_token = [&p](std::string_view text, int32_t token) {
        return p.on_token(text.data(), text.size(), token, p.user_data) != 0;
      };
    const lem::GenerateResult r = lem::generate(s, ctx->model->loaded.require_tokenizer(),
                                                std::span<const int32_t>(prompt, n_prompt), g, on_token,
                                                abort_fn(p.should_abort, p.user_data));
    if (result) {
      result->stop_reason = static_cast<int32_t>(r.reason);
      result->n_prompt_tokens = static_cast<int32_t>(r.n_prompt);
      result->n_reused_tokens = static_cast<int32_t>(r.n_reused);
      result->n_generated = static_cast<int32_t>(r.tokens.size());
      result->prompt_seconds = r.prompt_seconds;
      result->generate_seconds = r.gen_seconds;
    }
  });
}

}  // extern "C"
