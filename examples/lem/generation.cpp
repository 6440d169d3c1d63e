#include "generation.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "cli_error.hpp"

namespace cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

struct EventSink {
  Echo echo;
  std::vector<int32_t>* tokens;
  int write_errno = 0;  // non-zero once a write to stdout failed
};

int32_t on_event(const lem_event* event, void* user_data) {
  auto* sink = static_cast<EventSink*>(user_data);
  if (event->type == LEM_EVENT_TOKEN) sink->tokens->push_back(event->token);
  if (sink->echo == Echo::Text && event->text_len > 0) {
    errno = 0;
    if (std::fwrite(event->text, 1, event->text_len, stdout) != event->text_len || std::fflush(stdout) != 0) {
      sink->write_errno = errno ? errno : EIO;
      return 1;  // stop: nobody reads the answer
    }
  }
  return g_interrupted ? 1 : 0;
}

int32_t should_abort(void*) { return g_interrupted ? 1 : 0; }

}  // namespace

void install_sigint_flag() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

bool interrupted() { return g_interrupted != 0; }
void clear_interrupt() { g_interrupted = 0; }

std::vector<int32_t> chat_tokenize(const lem_model* model, const std::vector<lem_chat_message>& messages) {
  size_t text_bytes = 0;
  for (const auto& m : messages) text_bytes += std::strlen(m.content) + 64;  // + the template's pieces
  std::vector<int32_t> ids(text_bytes + 16);
  size_t n = 0;
  lem_status status = lem_chat_tokenize(model, messages.data(), messages.size(), 1, ids.data(), ids.size(), &n);
  if (status == LEM_ERR_BUFFER_TOO_SMALL) {
    ids.resize(n);
    status = lem_chat_tokenize(model, messages.data(), messages.size(), 1, ids.data(), ids.size(), &n);
  }
  check(status);
  ids.resize(n);
  return ids;
}

Generation run_generation(lem_context* ctx, const std::vector<int32_t>& prompt, lem_generate_params params, Echo echo,
                          lem_status tolerated) {
  Generation g;
  EventSink sink{echo, &g.tokens};
  params.on_event = on_event;
  params.should_abort = should_abort;
  params.user_data = &sink;
  lem_generate_result_init(&g.result, sizeof g.result);
  g.status = lem_generate(ctx, prompt.data(), prompt.size(), &params, &g.result);
  if (sink.write_errno) run_error("writing to standard output failed: ", std::strerror(sink.write_errno));
  if (g.status != LEM_OK && g.status != LEM_ERR_CANCELLED && g.status != tolerated) check(g.status, ctx);
  return g;
}

const char* stop_reason_name(int32_t stop_reason) {
  switch (stop_reason) {
    case LEM_STOP_NONE: return "none";
    case LEM_STOP_EOS: return "eos";
    case LEM_STOP_STRING: return "stop";
    case LEM_STOP_LENGTH: return "length";
    case LEM_STOP_CONTEXT_FULL: return "context_full";
    case LEM_STOP_CANCELLED: return "cancelled";
  }
  return "?";
}

}  // namespace cli
