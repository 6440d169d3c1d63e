// extern "C" shims: loading a model, what it is, its metadata and its lem info report.
#include <cstring>
#include <limits>

#include "api/c_api_common.hpp"
#include "runtime/model_report.hpp"

using lem::capi::guarded;
using lem::Status;

static_assert(LEM_LOAD_FULL == 0 && LEM_LOAD_VOCAB_ONLY == 1 && LEM_LOAD_FILE_ONLY == 2);

namespace {

lem_model_params model_defaults() {
  lem_model_params p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof p;
  p.load_mode = LEM_LOAD_FULL;
  return p;
}

lem::LoadMode load_mode(int32_t mode) {
  switch (mode) {
    case LEM_LOAD_FULL: return lem::LoadMode::Full;
    case LEM_LOAD_VOCAB_ONLY: return lem::LoadMode::VocabOnly;
    case LEM_LOAD_FILE_ONLY: return lem::LoadMode::FileOnly;
    default: break;
  }
  lem::fail(Status::InvalidArg,
            "lem_model_load: load_mode {} is not LEM_LOAD_FULL, LEM_LOAD_VOCAB_ONLY or LEM_LOAD_FILE_ONLY", mode);
}

const lem::ModelSource* source_of(const lem_model* model) { return model ? model->loaded.source() : nullptr; }

}  // namespace

extern "C" {

void lem_model_params_init(lem_model_params* params, size_t struct_size) {
  lem::capi::init_struct(params, struct_size, model_defaults());
}

lem_status lem_model_load(const char* path, const lem_model_params* params, lem_model** out_model, char* err_buf,
                          size_t err_cap) {
  if (out_model) *out_model = nullptr;
  const lem_status status = guarded([&] {
    if (!path || !out_model) lem::fail(Status::InvalidArg, "lem_model_load: path and out_model must not be NULL");
    const lem_model_params p = lem::capi::read_params(params, model_defaults(), "lem_model_load");
    lem::LoadOptions options;
    options.mode = load_mode(p.load_mode);
    if (p.progress) {
      const lem_progress_callback cb = p.progress;
      void* user = p.progress_user_data;
      options.progress = [cb, user](float progress) { return cb(progress, user) != 0; };
    }
    auto model = std::make_unique<lem_model>();
    model->loaded = lem::LoadedModel::open(path, options);
    *out_model = model.release();
  });
  lem::capi::copy_error(err_buf, err_cap);
  return status;
}

void lem_model_free(lem_model* model) { delete model; }

const char* lem_model_format(const lem_model* model) {
  if (!model) return "";
  const lem::ModelSource* src = source_of(model);
  return src ? lem::model_format_name(src->format()) : "tokenizer";
}

const char* lem_model_architecture(const lem_model* model) {
  const lem::ModelSource* src = source_of(model);
  return src ? src->architecture().c_str() : "";
}

const char* lem_model_description(const lem_model* model) { return model ? model->loaded.description.c_str() : ""; }

uint64_t lem_model_tensor_count(const lem_model* model) {
  const lem::ModelSource* src = source_of(model);
  return src ? src->stored_tensors().size() : 0;
}

uint64_t lem_model_size_bytes(const lem_model* model) {
  const lem::ModelSource* src = source_of(model);
  uint64_t total = 0;
  if (src)
    for (const auto& t : src->stored_tensors()) total += t.nbytes;
  return total;
}

int32_t lem_model_n_vocab(const lem_model* model) {
  // Bounded to int32 when the configuration was loaded.
  return model && model->loaded.net ? static_cast<int32_t>(model->loaded.net->config().n_vocab) : 0;
}

int32_t lem_model_n_ctx_train(const lem_model* model) {
  return model && model->loaded.net ? static_cast<int32_t>(model->loaded.net->config().n_ctx_train) : 0;
}

int64_t lem_model_meta_count(const lem_model* model) {
  return model ? static_cast<int64_t>(model->loaded.metadata.size()) : 0;
}

const char* lem_model_meta_key(const lem_model* model, int64_t index) {
  if (!model || index < 0 || static_cast<uint64_t>(index) >= model->loaded.metadata.size()) return nullptr;
  return model->loaded.metadata.key(static_cast<size_t>(index)).c_str();
}

lem_status lem_model_meta_value(const lem_model* model, const char* key, char* buf, size_t capacity,
                                size_t* n_bytes) {
  return guarded([&] {
    if (!model || !key) lem::fail(Status::InvalidArg, "lem_model_meta_value: model and key must not be NULL");
    const auto text = model->loaded.metadata.value_text(key);
    if (!text) lem::fail(Status::InvalidArg, "lem_model_meta_value: the model has no metadata key '{}'", key);
    lem::capi::copy_out(*text, buf, capacity, n_bytes, "lem_model_meta_value");
  });
}

lem_status lem_model_info_json(const lem_model* model, uint32_t flags, int64_t n_ctx, char* buf, size_t capacity,
                               size_t* n_bytes) {
  return guarded([&] {
    if (!model) lem::fail(Status::InvalidArg, "lem_model_info_json: model must not be NULL");
    const uint32_t known = LEM_INFO_TENSORS | LEM_INFO_FULL_ARRAYS;
    if (flags & ~known) lem::fail(Status::InvalidArg, "lem_model_info_json: unknown flags {:#x}", flags & ~known);
    if (n_ctx < 0) lem::fail(Status::InvalidArg, "lem_model_info_json: n_ctx must be >= 0, got {}", n_ctx);
    lem::ReportOptions options;
    options.with_tensors = (flags & LEM_INFO_TENSORS) != 0;
    options.full_arrays = (flags & LEM_INFO_FULL_ARRAYS) != 0;
    options.n_ctx = n_ctx;
    const auto report = lem::model_report(model->loaded, options);
    // Strings from files need not be valid UTF-8: replace bad bytes rather than fail.
    const std::string text = report.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    lem::capi::copy_out(text, buf, capacity, n_bytes, "lem_model_info_json");
  });
}

}  // extern "C"
