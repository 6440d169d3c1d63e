// extern "C" shims: contexts — creation, evaluation, the tokens and logits they hold, cancel.
#include <cstring>
#include <span>

#include "api/c_api_compute.hpp"

using lem::capi::guarded;
using lem::Status;

static_assert(LEM_THREADS_PER_CORE_MAX == lem::kThreadsPerCoreMax);

namespace lem::capi {

Session& session_for_compute(lem_context* ctx, const char* fn) {
  if (!ctx) fail(Status::InvalidArg, "{}: ctx must not be NULL", fn);
  if (ctx->stream_active)
    fail(Status::InvalidArg, "{}: a stream owns this context; free the stream (lem_stream_free) first", fn);
  return *ctx->session;
}

AbortFn abort_fn(lem_abort_callback callback, void* user_data) {
  if (!callback) return {};
  return [callback, user_data] { return callback(user_data) != 0; };
}

const LoadedModel& runnable_model(const lem_model* model, const char* fn) {
  if (!model) fail(Status::InvalidArg, "{}: model must not be NULL", fn);
  model->loaded.require_net();
  return model->loaded;
}

}  // namespace lem::capi

namespace {

lem_context_params context_defaults() {
  lem_context_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.n_ctx = 4096;
  p.n_batch = 512;
  p.n_threads = 0;
  p.kv_type = LEM_KV_F32;
  p.precision = LEM_PRECISION_FAST;
  p.logits_all = 0;
  return p;
}

lem::SessionParams session_params(const lem_context_params& p) {
  const char* fn = "lem_context_create";
  if (p.n_ctx < 0) lem::fail(Status::InvalidArg, "{}: n_ctx is {}; expected >= 0 (0: the model's maximum)", fn, p.n_ctx);
  if (p.n_batch <= 0) lem::fail(Status::InvalidArg, "{}: n_batch is {}; expected > 0", fn, p.n_batch);
  if (p.n_threads < 0)
    lem::fail(Status::InvalidArg, "{}: n_threads is {}; expected >= 0 (0: all hardware threads)", fn, p.n_threads);
  if (p.kv_type != LEM_KV_F32 && p.kv_type != LEM_KV_F16)
    lem::fail(Status::InvalidArg, "{}: kv_type {} is not LEM_KV_F32 or LEM_KV_F16", fn, p.kv_type);
  if (p.precision != LEM_PRECISION_FAST && p.precision != LEM_PRECISION_EXACT)
    lem::fail(Status::InvalidArg, "{}: precision {} is not LEM_PRECISION_FAST or LEM_PRECISION_EXACT", fn, p.precision);
  if (p.reserved != 0) lem::fail(Status::InvalidArg, "{}: reserved is {}; it must be 0", fn, p.reserved);
  lem::SessionParams sp;
  sp.n_ctx = p.n_ctx;
  sp.n_batch = p.n_batch;
  sp.n_threads = p.n_threads;  // the pool refuses more than LEM_THREADS_PER_CORE_MAX x the hardware threads
  sp.kv_type = p.kv_type == LEM_KV_F16 ? lem::KvType::F16 : lem::KvType::F32;
  sp.precision = p.precision == LEM_PRECISION_EXACT ? lem::MatmulPrecision::Exact : lem::MatmulPrecision::Fast;
  sp.logits_all = p.logits_all != 0;
  return sp;
}

std::string* error_slot(lem_context* ctx) { return ctx ? &ctx->last_error : nullptr; }

void check_tokens(const int32_t* tokens, size_t n_tokens, const char* fn) {
  if (!tokens && n_tokens > 0) lem::fail(Status::InvalidArg, "{}: tokens is NULL but n_tokens is {}", fn, n_tokens);
}

}  // namespace

extern "C" {

void lem_context_params_init(lem_context_params* params, size_t struct_size) {
  lem::capi::init_struct(params, struct_size, context_defaults());
}

lem_status lem_context_create(lem_model* model, const lem_context_params* params, lem_context** out_ctx, char* err_buf,
                              size_t err_cap) {
  if (out_ctx) *out_ctx = nullptr;
  const lem_status status = guarded([&] {
    if (!out_ctx) lem::fail(Status::InvalidArg, "lem_context_create: out_ctx must not be NULL");
    const lem::LoadedModel& loaded = lem::capi::runnable_model(model, "lem_context_create");
    const lem_context_params p = lem::capi::read_params(params, context_defaults(), "lem_context_create");
    auto ctx = std::make_unique<lem_context>();
    ctx->model = model;
    ctx->session = std::make_unique<lem::Session>(*loaded.net, session_params(p));
    *out_ctx = ctx.release();
  });
  lem::capi::copy_error(err_buf, err_cap);
  return status;
}

void lem_context_free(lem_context* ctx) { delete ctx; }

const char* lem_context_last_error(const lem_context* ctx) { return ctx ? ctx->last_error.c_str() : ""; }

int32_t lem_context_n_ctx(const lem_context* ctx) {
  return ctx ? static_cast<int32_t>(ctx->session->params().n_ctx) : 0;
}

int32_t lem_context_n_threads(const lem_context* ctx) { return ctx ? ctx->session->pool().size() : 0; }

uint64_t lem_context_kv_bytes(const lem_context* ctx) { return ctx ? ctx->session->cache().bytes() : 0; }

void lem_context_cancel(lem_context* ctx) {
  if (ctx) ctx->session->request_cancel();
}

lem_status lem_context_eval(lem_context* ctx, const int32_t* tokens, size_t n_tokens, lem_abort_callback should_abort,
                            void* user_data) {
  return guarded(
      [&] {
        lem::Session& s = lem::capi::session_for_compute(ctx, "lem_context_eval");
        check_tokens(tokens, n_tokens, "lem_context_eval");
        s.append(std::span<const int32_t>(tokens, n_tokens), lem::capi::abort_fn(should_abort, user_data));
      },
      error_slot(ctx));
}

lem_status lem_context_set_tokens(lem_context* ctx, const int32_t* tokens, size_t n_tokens, size_t* n_reused,
                                  lem_abort_callback should_abort, void* user_data) {
  return guarded(
      [&] {
        lem::Session& s = lem::capi::session_for_compute(ctx, "lem_context_set_tokens");
        check_tokens(tokens, n_tokens, "lem_context_set_tokens");
        const int64_t reused =
            s.set_tokens(std::span<const int32_t>(tokens, n_tokens), lem::capi::abort_fn(should_abort, user_data));
        if (n_reused) *n_reused = static_cast<size_t>(reused);
      },
      error_slot(ctx));
}

const float* lem_context_logits(const lem_context* ctx) {
  if (!ctx) return nullptr;
  const auto logits = ctx->session->logits();
  return logits.empty() ? nullptr : logits.data();
}

const float* lem_context_logits_row(const lem_context* ctx, int64_t row) {
  if (!ctx) return nullptr;
  const auto logits = ctx->session->logits_row(row);
  return logits.empty() ? nullptr : logits.data();
}

size_t lem_context_n_tokens(const lem_context* ctx) { return ctx ? ctx->session->tokens().size() : 0; }

lem_status lem_context_tokens(const lem_context* ctx, int32_t* tokens, size_t capacity, size_t* n_tokens) {
  lem_context* mut = const_cast<lem_context*>(ctx);  // only its last_error changes
  return guarded(
      [&] {
        if (!ctx || !n_tokens) lem::fail(Status::InvalidArg, "lem_context_tokens: ctx and n_tokens must not be NULL");
        lem::capi::copy_ids(ctx->session->tokens(), tokens, capacity, n_tokens, "lem_context_tokens");
      },
      error_slot(mut));
}

void lem_context_reset(lem_context* ctx) {
  // void by the header: a context a stream owns is left as it is, and the refusal recorded.
  guarded([&] { lem::capi::session_for_compute(ctx, "lem_context_reset").reset(); }, error_slot(ctx));
}

}  // extern "C"
