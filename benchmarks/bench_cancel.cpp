// How fast a cancel stops a prompt evaluation, through the C ABI only (lem.h).
//
//   bench_cancel MODEL [--tokens N] [--threads N] [--repeats N]
//
// Evaluates an N-token prompt (default 512) in one batch twice to time it, then again `repeats`
// times (default 7), each time calling lem_context_cancel() from a second thread at a point
// spread over the evaluation, and reports the time from that call to lem_context_eval's return
// (LEM_ERR_CANCELLED). lem.h promises a stop within one layer; the matmuls also poll between row
// tiles, so on a 4B model the latency is milliseconds, not a layer's fraction of a second.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "lem/lem.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s MODEL [--tokens N] [--threads N] [--repeats N]\n", argv0);
  return 2;
}

bool parse_int(const char* text, int lo, int hi, int& out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (!*text || *end || v < lo || v > hi) return false;
  out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(argv[0]);
  int n_tokens = 512, n_threads = 0, repeats = 7;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc) return usage(argv[0]);
    const std::string flag = argv[i];
    const bool ok = flag == "--tokens"    ? parse_int(argv[i + 1], 1, 1 << 20, n_tokens)
                    : flag == "--threads" ? parse_int(argv[i + 1], 0, 1 << 16, n_threads)
                    : flag == "--repeats" ? parse_int(argv[i + 1], 1, 1000, repeats)
                                          : false;
    if (!ok) return usage(argv[0]);
  }

  char err[512];
  lem_model* model = nullptr;
  if (lem_model_load(argv[1], nullptr, &model, err, sizeof err) != LEM_OK) {
    std::fprintf(stderr, "bench_cancel: %s\n", err);
    return 1;
  }
  lem_context_params cp;
  lem_context_params_init(&cp, sizeof cp);
  cp.n_ctx = n_tokens;
  cp.n_batch = n_tokens;
  cp.n_threads = n_threads;
  lem_context* ctx = nullptr;
  if (lem_context_create(model, &cp, &ctx, err, sizeof err) != LEM_OK) {
    std::fprintf(stderr, "bench_cancel: %s\n", err);
    lem_model_free(model);
    return 1;
  }
  const int32_t n_vocab = lem_model_n_vocab(model);
  std::vector<int32_t> prompt(static_cast<size_t>(n_tokens));
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 3) % static_cast<size_t>(n_vocab));

  std::printf("model: %s\ncontext: %d tokens in one batch, %d threads, ISA %s\n", lem_model_description(model),
              n_tokens, lem_context_n_threads(ctx), lem_isa_name());
  // Twice: the first evaluation also faults the mapped weights in.
  double full_ms = 0;
  for (int warm = 0; warm < 2; ++warm) {
    lem_context_reset(ctx);
    const auto t0 = Clock::now();
    if (lem_context_eval(ctx, prompt.data(), prompt.size(), nullptr, nullptr) != LEM_OK) {
      std::fprintf(stderr, "bench_cancel: %s\n", lem_context_last_error(ctx));
      return 1;
    }
    full_ms = ms_between(t0, Clock::now());
  }
  std::printf("uncancelled prompt evaluation: %.1f ms (%.1f tokens/s)\n", full_ms, n_tokens / full_ms * 1000.0);

  std::vector<double> latencies;
  for (int r = 0; r < repeats; ++r) {
    lem_context_reset(ctx);
    const double at_ms = full_ms * 0.9 * (r + 1) / (repeats + 1);  // spread over the evaluation
    Clock::time_point cancelled_at;
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(at_ms));
      cancelled_at = Clock::now();
      lem_context_cancel(ctx);
    });
    const auto start = Clock::now();
    const lem_status status = lem_context_eval(ctx, prompt.data(), prompt.size(), nullptr, nullptr);
    const auto returned_at = Clock::now();
    canceller.join();
    if (status != LEM_ERR_CANCELLED) {
      // The evaluation ended before the cancel arrived; the pending cancel stops the next call.
      std::printf("run %d: finished before the cancel (%s)\n", r + 1, lem_status_str(status));
      lem_context_eval(ctx, prompt.data(), 0, nullptr, nullptr);
      continue;
    }
    const double latency = ms_between(cancelled_at, returned_at);
    latencies.push_back(latency);
    std::printf("run %d: cancel at %7.1f ms, returned %6.2f ms later (%zu tokens kept)\n", r + 1,
                ms_between(start, cancelled_at), latency, lem_context_n_tokens(ctx));
  }
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    std::printf("cancel latency over %zu runs: min %.2f ms, median %.2f ms, max %.2f ms\n", latencies.size(),
                latencies.front(), latencies[latencies.size() / 2], latencies.back());
  }
  lem_context_free(ctx);
  lem_model_free(model);
  return 0;
}
