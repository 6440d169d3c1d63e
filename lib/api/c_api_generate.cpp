// extern "C" shims: generation with callbacks (lem_generate), its parameter/result/event structs,
// and the conversions the stream shares.
#include <cstring>
#include <limits>
#include <span>

#include "api/c_api_compute.hpp"

using lem::capi::guarded;
using lem::Status;

namespace lem::capi {

lem_generate_params generate_defaults() {
  lem_generate_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.max_tokens = -1;
  p.sampling = nullptr;
  p.n_top_logprobs = 0;
  return p;
}

GenerateParams generate_params(const lem_generate_params& p, const LoadedModel& model, const char* fn) {
  if (p.reserved != 0) fail(Status::InvalidArg, "{}: reserved is {}; it must be 0", fn, p.reserved);
  if (p.n_top_logprobs < 0 || p.n_top_logprobs > LEM_TOP_LOGPROBS_MAX)
    fail(Status::InvalidArg, "{}: n_top_logprobs is {}; expected 0 to {}", fn, p.n_top_logprobs, LEM_TOP_LOGPROBS_MAX);
  if (p.n_stop > 0 && !p.stop_strings) fail(Status::InvalidArg, "{}: n_stop is {} but stop_strings is NULL", fn, p.n_stop);
  GenerateParams g;
  g.max_tokens = p.max_tokens;
  g.n_vocab_limit = model.n_sampling_vocab();
  g.sampling = sampler_params(p.sampling, g.n_vocab_limit, fn);
  for (size_t i = 0; i < p.n_stop; ++i) {
    if (!p.stop_strings[i]) fail(Status::InvalidArg, "{}: stop_strings[{}] is NULL", fn, i);
    if (!*p.stop_strings[i]) fail(Status::InvalidArg, "{}: stop_strings[{}] is empty", fn, i);
    g.stop.emplace_back(p.stop_strings[i]);
  }
  g.ignore_eos = p.ignore_eos != 0;
  g.show_control = p.show_control != 0;
  g.n_top_logprobs = p.n_top_logprobs;
  return g;
}

StartedGeneration start_generation(lem_context* ctx, const int32_t* prompt, size_t n_prompt,
                                   const lem_generate_params* params, const char* fn) {
  Session& session = session_for_compute(ctx, fn);
  if (!prompt || n_prompt == 0) fail(Status::InvalidArg, "{}: the prompt is empty or NULL", fn);
  if (n_prompt > static_cast<size_t>(session.params().n_ctx))
    fail(Status::ContextFull, "{}: the prompt has {} tokens, the context holds {}", fn, n_prompt,
         session.params().n_ctx);
  StartedGeneration started{read_params(params, generate_defaults(), fn), nullptr};
  const LoadedModel& model = ctx->model->loaded;
  started.generator = std::make_unique<Generator>(session, model.require_tokenizer(),
                                                  std::span<const int32_t>(prompt, n_prompt),
                                                  generate_params(started.params, model, fn));
  return started;
}

int32_t stop_reason_code(StopReason reason) {
  switch (reason) {
    case StopReason::None: return LEM_STOP_NONE;
    case StopReason::Eos: return LEM_STOP_EOS;
    case StopReason::StopString: return LEM_STOP_STRING;
    case StopReason::Length: return LEM_STOP_LENGTH;
    case StopReason::ContextFull: return LEM_STOP_CONTEXT_FULL;
    case StopReason::Cancelled: return LEM_STOP_CANCELLED;
  }
  fail(Status::Internal, "unknown stop reason {}", static_cast<int>(reason));
}

void write_event(const GenerateEvent& ev, std::vector<lem_token_logprob>& top, lem_event* out, const char* fn) {
  top.clear();
  for (const TokenLogprob& t : ev.top) top.push_back(lem_token_logprob{t.token, t.logprob});
  lem_event e;
  std::memset(&e, 0, sizeof e);
  e.type = ev.type == GenerateEvent::Type::Token ? LEM_EVENT_TOKEN : LEM_EVENT_DONE;
  e.text = ev.text.c_str();
  e.text_len = ev.text.size();
  e.token = ev.token;
  e.logprob = ev.logprob;
  e.n_top = static_cast<int32_t>(top.size());
  e.stop_reason = stop_reason_code(ev.reason);
  e.top = top.empty() ? nullptr : top.data();
  // Counts fit: they are bounded by n_ctx, an int32 in lem_context_params.
  e.n_prompt_tokens = static_cast<int32_t>(ev.n_prompt);
  e.n_reused_tokens = static_cast<int32_t>(ev.n_reused);
  e.n_generated = static_cast<int32_t>(ev.n_generated);
  e.prompt_seconds = ev.prompt_seconds;
  e.generate_seconds = ev.gen_seconds;
  write_result(out, e, fn);
}

}  // namespace lem::capi

namespace {

lem_generate_result result_of(const lem::GenerateEvent& done) {
  lem_generate_result r;
  std::memset(&r, 0, sizeof r);
  r.stop_reason = lem::capi::stop_reason_code(done.reason);
  r.n_prompt_tokens = static_cast<int32_t>(done.n_prompt);
  r.n_reused_tokens = static_cast<int32_t>(done.n_reused);
  r.n_generated = static_cast<int32_t>(done.n_generated);
  r.prompt_seconds = done.prompt_seconds;
  r.generate_seconds = done.gen_seconds;
  return r;
}

}  // namespace

extern "C" {

void lem_event_init(lem_event* event, size_t struct_size) {
  lem_event e;
  std::memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  e.token = -1;
  e.stop_reason = LEM_STOP_NONE;
  lem::capi::init_struct(event, struct_size, e);
}

void lem_generate_params_init(lem_generate_params* params, size_t struct_size) {
  lem::capi::init_struct(params, struct_size, lem::capi::generate_defaults());
}

void lem_generate_result_init(lem_generate_result* result, size_t struct_size) {
  lem_generate_result r;
  std::memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;
  r.stop_reason = LEM_STOP_NONE;
  lem::capi::init_struct(result, struct_size, r);
}

lem_status lem_generate(lem_context* ctx, const int32_t* prompt, size_t n_prompt, const lem_generate_params* params,
                        lem_generate_result* result) {
  const char* fn = "lem_generate";
  return guarded(
      [&] {
        lem::capi::check_output_struct(result, fn);
        const lem::capi::StartedGeneration started = lem::capi::start_generation(ctx, prompt, n_prompt, params, fn);
        const lem_generate_params& p = started.params;
        lem::Generator& gen = *started.generator;
        const lem::AbortFn abort = lem::capi::abort_fn(p.should_abort, p.user_data);
        std::vector<lem_token_logprob> top;
        lem_event event;
        lem_event_init(&event, sizeof event);
        for (;;) {
          const lem::GenerateEvent& ev = gen.next(abort);
          bool stop = false;
          if (p.on_event) {
            lem::capi::write_event(ev, top, &event, fn);
            stop = p.on_event(&event, p.user_data) != 0;
          }
          if (ev.type == lem::GenerateEvent::Type::Done) {
            lem::capi::write_result(result, result_of(ev), fn);
            if (ev.reason == lem::StopReason::Cancelled)
              lem::fail(Status::Cancelled, "{}: cancelled after {} generated tokens", fn, ev.n_generated);
            return;
          }
          if (stop) gen.stop();  // the next event is the DONE event saying cancelled
        }
      },
      ctx ? &ctx->last_error : nullptr);
}

}  // extern "C"
