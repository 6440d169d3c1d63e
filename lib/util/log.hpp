// The library's log: lib code calls lem::log_message(level, "...", args); the lines go to one sink
// that the embedding program installs (lem_log_set() in the C ABI). With no sink nothing is
// formatted and nothing is printed: the library never writes to stdout or stderr itself.
#pragma once

#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace lem {

// Values equal LEM_LOG_* of include/lem/lem.h.
enum class LogLevel : int32_t { Error = 0, Warn = 1, Info = 2, Debug = 3 };

// One line of text (no trailing newline). Called on the thread that logs, with no lock held.
using LogSink = void (*)(int32_t level, const char* text, void* user_data);

// Installs the sink (nullptr: discard). Not meant to race with running library code.
void set_log_sink(LogSink sink, void* user_data);

// True when a sink is installed (lets callers skip work that only feeds the log).
bool log_enabled();

// Sends an already formatted line to the sink, if any.
void log_text(LogLevel level, const std::string& text);

// Formats and sends a line; formats nothing when no sink is installed. (Not named `log`, which
// would hide std::log / ::log from unqualified calls inside namespace lem.)
template <class... Args>
void log_message(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
  if (!log_enabled()) return;
  log_text(level, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace lem
