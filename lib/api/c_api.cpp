// extern "C" shims of include/lem/lem.h: status, version and model. Each entry point validates
// its arguments and runs inside capi::guarded(); nothing throws across the boundary.
#include <cstring>

#include "api/c_api_common.hpp"

namespace lem::capi {

std::string& last_error() {
  thread_local std::string message;
  return message;
}

void copy_out(const std::string& text, char* buf, size_t capacity, size_t* n_bytes, const char* fn) {
  if (!n_bytes) fail(Status::InvalidArg, "{}: n_bytes must not be NULL", fn);
  *n_bytes = text.size();
  if (text.size() > capacity)
    fail(Status::BufferTooSmall, "{}: the text needs {} bytes, the buffer holds {}", fn, text.size(), capacity);
  if (!text.empty()) {
    if (!buf) fail(Status::InvalidArg, "{}: buf must not be NULL", fn);
    std::memcpy(buf, text.data(), text.size());
  }
}

void copy_error(char* err_buf, size_t err_cap) {
  if (!err_buf || err_cap == 0) return;
  const std::string& m = last_error();
  const size_t n = std::min(m.size(), err_cap - 1);
  std::memcpy(err_buf, m.data(), n);
  err_buf[n] = '\0';
}

}  // namespace lem::capi

using lem::capi::guarded;

extern "C" {

const char* lem_status_str(lem_status status) {
  if (status < LEM_OK || status > LEM_ERR_BUFFER_TOO_SMALL) return "unknown status";
  return lem::status_name(static_cast<lem::Status>(status));
}

const char* lem_last_error(void) { return lem::capi::last_error().c_str(); }

int32_t lem_version_number(void) { return LEM_VERSION_NUMBER; }
const char* lem_version_string(void) { return LEM_VERSION_STRING; }

lem_model_params lem_model_params_default(void) {
  lem_model_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  return p;
}

lem_status lem_model_load(const char* path, const lem_model_params* params, lem_model** out_model) {
  if (out_model) *out_model = nullptr;
  return guarded([&] {
    if (!path || !out_model) lem::fail(lem::Status::InvalidArg, "lem_model_load: path and out_model must not be NULL");
    lem::capi::read_params(params, lem_model_params_default(), "lem_model_load");
    auto model = std::make_unique<lem_model>();
    model->loaded = lem::LoadedModel::open(path);
    *out_model = model.release();
  });
}

void lem_model_free(lem_model* model) { delete model; }

const char* lem_model_format(const lem_model* model) {
  return model ? lem::model_format_name(model->loaded.net->source().format()) : "";
}

const char* lem_model_architecture(const lem_model* model) {
  return model ? model->loaded.net->source().architecture().c_str() : "";
}

uint64_t lem_model_tensor_count(const lem_model* model) {
  return model ? model->loaded.net->source().stored_tensors().size() : 0;
}

int32_t lem_model_n_vocab(const lem_model* model) {
  return model ? static_cast<int32_t>(model->loaded.net->config().n_vocab) : 0;
}

int32_t lem_model_n_ctx_train(const lem_model* model) {
  return model ? static_cast<int32_t>(model->loaded.net->config().n_ctx_train) : 0;
}

}  // extern "C"
