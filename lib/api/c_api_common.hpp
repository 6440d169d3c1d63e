// Shared by the extern "C" shims: the handle structs and the exception-to-status guard.
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "util/error.hpp"
#include "lem/lem.h"
#include "runtime/loaded_model.hpp"
#include "runtime/session.hpp"

struct lem_model {
  lem::LoadedModel loaded;
};

struct lem_context {
  lem_model* model;
  std::unique_ptr<lem::Session> session;
};

namespace lem::capi {

// The thread-local message behind lem_last_error().
std::string& last_error();

// Runs `body`, converting any exception into a status and the thread's last-error message.
template <class F>
lem_status guarded(F&& body) noexcept {
  last_error().clear();
  try {
    body();
    return LEM_OK;
  } catch (const Error& e) {
    last_error() = e.what();
    return static_cast<lem_status>(e.status());
  } catch (const std::bad_alloc&) {
    last_error() = "out of memory";
    return LEM_ERR_OOM;
  } catch (const std::exception& e) {
    last_error() = std::string("internal error: ") + e.what();
    return LEM_ERR_INTERNAL;
  } catch (...) {
    last_error() = "internal error: unknown exception";
    return LEM_ERR_INTERNAL;
  }
}

// Reads a caller's params struct: copies at most struct_size bytes over the defaults, so older
// callers (smaller structs) keep working when fields are appended.
template <class P>
P read_params(const P* given, P defaults, const char* fn) {
  if (!given) return defaults;
  if (given->struct_size < sizeof(uint32_t))
    fail(Status::InvalidArg, "{}: params.struct_size is {}; initialise params with the _default() function", fn,
         given->struct_size);
  const size_t n = given->struct_size < sizeof(P) ? given->struct_size : sizeof(P);
  std::memcpy(&defaults, given, n);
  defaults.struct_size = sizeof(P);
  return defaults;
}

// Copies `text` into a caller buffer with the LEM_ERR_BUFFER_TOO_SMALL convention.
void copy_out(const std::string& text, char* buf, size_t capacity, size_t* n_bytes, const char* fn);

}  // namespace lem::capi
