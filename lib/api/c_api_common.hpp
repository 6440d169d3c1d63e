// Shared by the extern "C" shims: the handle structs, the exception-to-status guard and the
// struct_size rules of include/lem/lem.h ("ABI rules").
#pragma once

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "lem/lem.h"
#include "runtime/loaded_model.hpp"
#include "runtime/session.hpp"
#include "util/error.hpp"

struct lem_model {
  lem::LoadedModel loaded;
};

struct lem_context {
  lem_model* model;
  std::unique_ptr<lem::Session> session;
  std::string last_error;               // lem_context_last_error(): thread-independent
  bool stream_active = false;           // a lem_stream owns the context
  // lem_context_cancel: the session's own flag (Session::request_cancel), polled between layers.
};

namespace lem::capi {

// The thread-local message behind lem_last_error().
std::string& last_error();

// Runs `body`, converting any exception into a status and the thread's last-error message.
// When `handle_error` is given, the message is stored there too (per-handle errors).
template <class F>
lem_status guarded(F&& body, std::string* handle_error = nullptr) noexcept {
  last_error().clear();
  lem_status status = LEM_OK;
  try {
    body();
  } catch (const Error& e) {
    last_error() = e.what();
    status = static_cast<lem_status>(e.status());
  } catch (const std::bad_alloc&) {
    last_error() = "out of memory";
    status = LEM_ERR_OOM;
  } catch (const std::length_error& e) {
    last_error() = std::string("size beyond what can be allocated: ") + e.what();
    status = LEM_ERR_OOM;
  } catch (const std::exception& e) {
    last_error() = std::string("internal error: ") + e.what();
    status = LEM_ERR_INTERNAL;
  } catch (...) {
    last_error() = "internal error: unknown exception";
    status = LEM_ERR_INTERNAL;
  }
  if (handle_error) {
    try {
      *handle_error = last_error();
    } catch (...) {
      handle_error->clear();
    }
  }
  return status;
}

// Copies the thread's last error into a caller's err buffer (create/load calls), NUL-terminated
// and truncated to err_cap bytes.
void copy_error(char* err_buf, size_t err_cap);

// The struct_size rules for parameter structs: the caller's struct_size comes from its own
// sizeof. Copies min(caller, ours) bytes over `defaults`; a larger caller struct is accepted when
// its extra bytes are zero (a newer caller that uses no new field). NULL: defaults.
template <class P>
P read_params(const P* given, P defaults, const char* fn) {
  if (!given) return defaults;
  const uint32_t size = given->struct_size;
  if (size < sizeof(uint32_t))
    fail(Status::InvalidArg, "{}: struct_size is {}; initialise the struct with its _init(p, sizeof *p) function", fn,
         size);
  if (size > sizeof(P)) {
    if (size > (1u << 20))
      fail(Status::InvalidArg, "{}: struct_size {} is not the size of a parameter struct", fn, size);
    const auto* bytes = reinterpret_cast<const unsigned char*>(given);
    for (uint32_t i = sizeof(P); i < size; ++i)
      if (bytes[i] != 0)
        fail(Status::InvalidArg,
             "{}: the struct is {} bytes, this library knows {}; the extra fields must be zero (a newer header "
             "than the library?)",
             fn, size, sizeof(P));
  }
  std::memcpy(&defaults, given, std::min<size_t>(size, sizeof(P)));
  defaults.struct_size = sizeof(P);
  return defaults;
}

// Writes a result struct: at most the caller's struct_size bytes of `full`.
template <class R>
void write_result(R* out, R full, const char* fn) {
  if (!out) return;
  const uint32_t size = out->struct_size;
  if (size < sizeof(uint32_t))
    fail(Status::InvalidArg, "{}: the result's struct_size is {}; initialise it with its _init function", fn, size);
  full.struct_size = size;
  std::memcpy(out, &full, std::min<size_t>(size, sizeof(R)));
}

// Fills a struct's defaults for the first `struct_size` bytes (the _init functions).
template <class P>
void init_struct(P* p, size_t struct_size, const P& defaults) {
  if (!p || struct_size < sizeof(uint32_t)) return;
  const size_t n = std::min(struct_size, sizeof(P));
  std::memcpy(p, &defaults, n);
  if (struct_size > sizeof(P)) std::memset(reinterpret_cast<unsigned char*>(p) + sizeof(P), 0, struct_size - sizeof(P));
  p->struct_size = static_cast<uint32_t>(std::min<size_t>(struct_size, UINT32_MAX));
}

// Copies `text` into a caller buffer with the LEM_ERR_BUFFER_TOO_SMALL convention.
void copy_out(const std::string& text, char* buf, size_t capacity, size_t* n_bytes, const char* fn);
// Copies token ids into a caller buffer with the same convention (*n_tokens: the count, or the
// capacity needed); n_tokens must not be NULL.
void copy_ids(const std::vector<int32_t>& ids, int32_t* tokens, size_t capacity, size_t* n_tokens, const char* fn);

}  // namespace lem::capi
