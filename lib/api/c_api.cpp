// The extern "C" shims of include/lem/lem.h. Each entry point validates its arguments, runs the
// C++ implementation inside guarded(), and turns any exception into a lem_status plus the
// thread-local message returned by lem_last_error(). Nothing throws across this boundary.
#include "lem/lem.h"

#include <cstring>
#include <new>
#include <string>

#include "api/error.hpp"
#include "model/model_source.hpp"

struct lem_model {
  std::unique_ptr<lem::ModelSource> source;
};

namespace {

thread_local std::string g_last_error;

lem_status set_error(lem::Status status, const std::string& message) {
  g_last_error = message;
  return static_cast<lem_status>(status);
}

template <class F>
lem_status guarded(F&& body) noexcept {
  g_last_error.clear();
  try {
    body();
    return LEM_OK;
  } catch (const lem::Error& e) {
    return set_error(e.status(), e.what());
  } catch (const std::bad_alloc&) {
    return set_error(lem::Status::OutOfMemory, "out of memory");
  } catch (const std::exception& e) {
    return set_error(lem::Status::Internal, std::string("internal error: ") + e.what());
  } catch (...) {
    return set_error(lem::Status::Internal, "internal error: unknown exception");
  }
}

}  // namespace

extern "C" {

const char* lem_status_str(lem_status status) {
  if (status < LEM_OK || status > LEM_ERR_INTERNAL) return "unknown status";
  return lem::status_name(static_cast<lem::Status>(status));
}

const char* lem_last_error(void) { return g_last_error.c_str(); }

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
    if (params && params->struct_size < sizeof(uint32_t))
      lem::fail(lem::Status::InvalidArg, "lem_model_load: params->struct_size is {}; fill params with lem_model_params_default()",
                params->struct_size);
    auto model = std::make_unique<lem_model>();
    model->source = lem::ModelSource::open(path);
    *out_model = model.release();
  });
}

void lem_model_free(lem_model* model) { delete model; }

const char* lem_model_format(const lem_model* model) {
  return model ? lem::model_format_name(model->source->format()) : "";
}

const char* lem_model_architecture(const lem_model* model) {
  return model ? model->source->architecture().c_str() : "";
}

uint64_t lem_model_tensor_count(const lem_model* model) {
  return model ? model->source->stored_tensors().size() : 0;
}

}  // extern "C"
