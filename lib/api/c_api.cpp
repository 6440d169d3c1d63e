// extern "C" shims of include/lem/lem.h: status, errors, version and logging, plus the helpers
// every shim shares (c_api_common.hpp). Each entry point validates its arguments and runs inside
// capi::guarded(); nothing throws across the boundary.
#include <algorithm>
#include <cstring>

#include "api/c_api_common.hpp"
#include "kernels/kernels.hpp"
#include "util/log.hpp"

static_assert(LEM_LOG_ERROR == static_cast<int>(lem::LogLevel::Error) &&
              LEM_LOG_WARN == static_cast<int>(lem::LogLevel::Warn) &&
              LEM_LOG_INFO == static_cast<int>(lem::LogLevel::Info) &&
              LEM_LOG_DEBUG == static_cast<int>(lem::LogLevel::Debug));
static_assert(LEM_ERR_NUMERIC == static_cast<int>(lem::Status::Numeric) &&
              LEM_ERR_BUFFER_TOO_SMALL == static_cast<int>(lem::Status::BufferTooSmall) &&
              LEM_ERR_INTERNAL == static_cast<int>(lem::Status::Internal));

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

void copy_ids(const std::vector<int32_t>& ids, int32_t* tokens, size_t capacity, size_t* n_tokens, const char* fn) {
  *n_tokens = ids.size();
  if (ids.size() > capacity)
    fail(Status::BufferTooSmall, "{}: {} tokens do not fit in a buffer of {}", fn, ids.size(), capacity);
  if (!ids.empty() && !tokens) fail(Status::InvalidArg, "{}: tokens must not be NULL", fn);
  std::copy(ids.begin(), ids.end(), tokens);
}

void copy_error(char* err_buf, size_t err_cap) {
  if (!err_buf || err_cap == 0) return;
  const std::string& m = last_error();
  const size_t n = std::min(m.size(), err_cap - 1);
  std::memcpy(err_buf, m.data(), n);
  err_buf[n] = '\0';
}

}  // namespace lem::capi

extern "C" {

const char* lem_status_str(lem_status status) {
  if (status < LEM_OK || status > LEM_ERR_NUMERIC) return "unknown status";
  return lem::status_name(static_cast<lem::Status>(status));
}

const char* lem_last_error(void) { return lem::capi::last_error().c_str(); }

uint32_t lem_abi_version(void) { return LEM_ABI_VERSION; }
int32_t lem_version_number(void) { return LEM_VERSION_NUMBER; }
const char* lem_version_string(void) { return LEM_VERSION_STRING; }

const char* lem_isa_name(void) { return lem::isa_name(lem::active_isa()); }

void lem_log_set(lem_log_callback callback, void* user_data) { lem::set_log_sink(callback, user_data); }

}  // extern "C"
