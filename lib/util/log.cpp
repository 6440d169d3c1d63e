#include "util/log.hpp"

#include <atomic>
#include <mutex>

namespace lem {
namespace {

struct Sink {
  LogSink fn = nullptr;
  void* user_data = nullptr;
};

std::mutex g_sink_mutex;
Sink g_sink;                       // guarded by g_sink_mutex
std::atomic<bool> g_enabled{false};  // fast path: no sink, no formatting

Sink current_sink() {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  return g_sink;
}

}  // namespace

void set_log_sink(LogSink sink, void* user_data) {
  std::lock_guard<std::mutex> lock(g_sink_mutex);
  g_sink = {sink, user_data};
  g_enabled.store(sink != nullptr, std::memory_order_release);
}

bool log_enabled() { return g_enabled.load(std::memory_order_acquire); }

void log_text(LogLevel level, const std::string& text) {
  // The sink is called outside the lock, so it may log or even replace the sink itself.
  const Sink sink = current_sink();
  if (sink.fn) sink.fn(static_cast<int32_t>(level), text.c_str(), sink.user_data);
}

}  // namespace lem
