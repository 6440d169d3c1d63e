// Status codes and the exception type used inside the library.
//
// Inside lib/ every failure is a lem::Error carrying a Status and a readable message that names
// the file, the field and what was expected. The C ABI (api/c_api.cpp) catches it and turns it
// into a lem_status plus the thread-local lem_last_error() text; nothing throws across the ABI.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace lem {

// Values equal the LEM_* constants of include/lem/lem.h and are never renumbered.
enum class Status : int32_t {
  Ok = 0,
  InvalidArg = 1,
  Io = 2,
  BadFormat = 3,
  Unsupported = 4,
  OutOfMemory = 5,
  ContextFull = 6,
  Cancelled = 7,
  Internal = 8,
  BufferTooSmall = 9,
  Numeric = 10,  // NaN or infinite logits
};

const char* status_name(Status s) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Status status, std::string message) : std::runtime_error(std::move(message)), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

template <class... Args>
[[noreturn]] void fail(Status status, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(status, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace lem
