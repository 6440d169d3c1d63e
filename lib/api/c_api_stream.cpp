// extern "C" shims: pull-style streams, one generation event per lem_stream_next call, computed on
// the calling thread (no callback crosses the FFI of a binding).
#include <memory>
#include <span>
#include <vector>

#include "api/c_api_compute.hpp"

using lem::capi::guarded;
using lem::Status;

struct lem_stream {
  lem_context* ctx;
  std::unique_ptr<lem::Generator> generator;
  std::vector<lem_token_logprob> top;  // the current event's alternatives (its `top` points here)
  std::string last_error;              // lem_stream_last_error(): thread-independent
};

extern "C" {

lem_status lem_stream_start(lem_context* ctx, const int32_t* prompt, size_t n_prompt, const lem_generate_params* params,
                            lem_stream** out_stream) {
  const char* fn = "lem_stream_start";
  if (out_stream) *out_stream = nullptr;
  return guarded(
      [&] {
        if (!out_stream) lem::fail(Status::InvalidArg, "{}: out_stream must not be NULL", fn);
        auto stream = std::make_unique<lem_stream>();
        stream->ctx = ctx;
        stream->generator = lem::capi::start_generation(ctx, prompt, n_prompt, params, fn).generator;
        ctx->stream_active = true;
        *out_stream = stream.release();
      },
      ctx ? &ctx->last_error : nullptr);
}

lem_status lem_stream_next(lem_stream* stream, lem_event* event) {
  const char* fn = "lem_stream_next";
  return guarded(
      [&] {
        if (!stream || !event) lem::fail(Status::InvalidArg, "{}: stream and event must not be NULL", fn);
        lem::capi::check_output_struct(event, fn);
        const lem::GenerateEvent& ev = stream->generator->next();
        lem::capi::write_event(ev, stream->top, event, fn);
        if (ev.type == lem::GenerateEvent::Type::Done && ev.reason == lem::StopReason::Cancelled)
          lem::fail(Status::Cancelled, "{}: cancelled after {} generated tokens", fn, ev.n_generated);
      },
      stream ? &stream->last_error : nullptr);
}

void lem_stream_cancel(lem_stream* stream) {
  if (stream) stream->ctx->session->request_cancel();
}

const char* lem_stream_last_error(const lem_stream* stream) { return stream ? stream->last_error.c_str() : ""; }

void lem_stream_free(lem_stream* stream) {
  if (!stream) return;
  stream->ctx->stream_active = false;
  // A cancel meant for this stream must not stop the context's next call.
  stream->ctx->session->take_cancel_request();
  delete stream;
}

}  // extern "C"
