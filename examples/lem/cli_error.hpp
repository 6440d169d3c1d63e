// Errors inside the `lem` tool: a message and the exit code it ends the program with. The tool is
// a client of include/lem/lem.h only, so it has its own small error type instead of the library's
// internal one; library failures arrive as a lem_status plus the library's message.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "lem/lem.h"

namespace cli {

// Exit codes: 2 for a malformed command line or argument value, 1 for everything else.
constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

class CliError : public std::runtime_error {
 public:
  CliError(int exit_code, const std::string& message) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

// Concatenates its arguments as an ostream would print them.
template <class... Parts>
std::string str(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

// A bad command line: unknown option, missing or malformed value.
template <class... Parts>
[[noreturn]] void usage_error(Parts&&... parts) {
  throw CliError(kExitUsage, str(std::forward<Parts>(parts)...));
}

// Anything else that stops the command (a file that cannot be written, say).
template <class... Parts>
[[noreturn]] void run_error(Parts&&... parts) {
  throw CliError(kExitFailure, str(std::forward<Parts>(parts)...));
}

// The exit code of a library failure: an argument the library rejected is a usage error.
inline int exit_code_of(lem_status status) { return status == LEM_ERR_INVALID_ARG ? kExitUsage : kExitFailure; }

// Throws a CliError carrying the library's message unless `status` is LEM_OK. The message is
// read after the call has returned: the thread's lem_last_error(), or the context's own.
inline void fail_with(lem_status status, const char* message) {
  throw CliError(exit_code_of(status), message && *message ? message : lem_status_str(status));
}
inline void check(lem_status status) {
  if (status != LEM_OK) fail_with(status, lem_last_error());
}
inline void check(lem_status status, const lem_context* ctx) {
  if (status != LEM_OK) fail_with(status, lem_context_last_error(ctx));
}

}  // namespace cli
