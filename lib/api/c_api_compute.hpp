// Shared by the compute shims (context, sampler, generation, stream): the C parameter structs
// turned into the runtime's, and the runtime's events turned back into lem_event.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "api/c_api_common.hpp"
#include "runtime/generate.hpp"
#include "runtime/sampler.hpp"

namespace lem::capi {

// The context's session for a call that evaluates or changes what the context holds:
// lem::Error(InvalidArg) for a NULL context, or while a stream owns the context.
Session& session_for_compute(lem_context* ctx, const char* fn);

// A C abort callback as the runtime's (empty when `callback` is NULL).
AbortFn abort_fn(lem_abort_callback callback, void* user_data);

// The model, or lem::Error(InvalidArg) for a NULL model or one loaded without its weights.
const LoadedModel& runnable_model(const lem_model* model, const char* fn);

// lem_sampler_params_init's values.
lem_sampler_params sampler_defaults();
// `params` (NULL: the defaults; struct_size rules applied) as the runtime's. Checks what must be
// checked before it is read or stored (reserved, the bias arrays and their ids against
// n_vocab); lem::Sampler checks the values.
SamplerParams sampler_params(const lem_sampler_params* params, int32_t n_vocab, const char* fn);

// lem_generate_params_init's values.
lem_generate_params generate_defaults();
// `params` (after read_params) as the runtime's, for `model` (sampling over its sampleable ids).
GenerateParams generate_params(const lem_generate_params& params, const LoadedModel& model, const char* fn);

// The shared start of lem_generate and lem_stream_start: the context (not owned by a stream), the
// prompt (not empty, fitting the context) and the parameters (struct_size rules applied) checked,
// then a generator over the context's session. Computes nothing.
struct StartedGeneration {
  lem_generate_params params;
  std::unique_ptr<Generator> generator;
};
StartedGeneration start_generation(lem_context* ctx, const int32_t* prompt, size_t n_prompt,
                                   const lem_generate_params* params, const char* fn);

// LEM_STOP_* of a runtime stop reason (mapped one by one: the numbering is not shared).
int32_t stop_reason_code(StopReason reason);

// Fails with InvalidArg unless `out` is a result or event struct initialised by its _init
// function (checked before any computation, so a bad struct costs nothing).
template <class R>
void check_output_struct(const R* out, const char* fn) {
  if (out && out->struct_size < sizeof(uint32_t))
    fail(Status::InvalidArg, "{}: struct_size is {}; initialise the struct with its _init(p, sizeof *p) function", fn,
         out->struct_size);
}

// `ev` as a lem_event, written to `out` up to its struct_size. The event's text and `top` (which
// receives the alternatives) must outlive the caller's use of it.
void write_event(const GenerateEvent& ev, std::vector<lem_token_logprob>& top, lem_event* out, const char* fn);

}  // namespace lem::capi
