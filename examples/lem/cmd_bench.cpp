// `lem bench -m MODEL -p 512 -n 128 -t N -r R [--json]`: prompt processing and generation speed,
// measured like llama-bench: pp = N_PROMPT random tokens evaluated from an empty context in
// batches; tg = N_GEN tokens evaluated one at a time from an empty context. Mean ± sd over R runs
// after one warm-up run. benchmarks/compare_llama.sh parses the table and the --json keys.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "cli_error.hpp"
#include "lem/lem.h"
#include "options.hpp"

namespace cli {
namespace {

using Clock = std::chrono::steady_clock;

struct MeanSd {
  double mean = 0, sd = 0;
};

MeanSd mean_sd(const std::vector<double>& v) {
  MeanSd r;
  if (v.empty()) return r;
  for (double x : v) r.mean += x;
  r.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    for (double x : v) r.sd += (x - r.mean) * (x - r.mean);
    r.sd = std::sqrt(r.sd / static_cast<double>(v.size() - 1));
  }
  return r;
}

int32_t argmax(const float* logits, int32_t n) {
  return static_cast<int32_t>(std::max_element(logits, logits + n) - logits);
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int cmd_bench(Args& args) {
  const std::string model_path =
      parse_model_path(args, "usage: lem bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r 5] [-b 512] [--json]");
  int64_t n_prompt = 512, n_gen = 128, reps = 5;
  integer_flag(args, {"-p", "--n-prompt"}, n_prompt, 0, INT32_MAX - 1);
  integer_flag(args, {"-n", "--n-gen"}, n_gen, 0, INT32_MAX - 1);
  integer_flag(args, {"-r", "--repetitions"}, reps, 1, 1000000);
  ContextOptions c = parse_context_options(args);
  const bool json = args.flag("--json");
  const auto rest = args.finish();
  if (!rest.empty()) usage_error("unexpected argument '", rest[0], "'");

  const Model model = load_model(model_path, LEM_LOAD_FULL, /*verbose=*/true);
  // A context just long enough for the longer test, unless -c says otherwise (0 = the model's maximum).
  const int64_t needed = std::max(n_prompt, n_gen) + 1;
  if (!c.ctx_given) c.params.n_ctx = static_cast<int32_t>(std::max<int64_t>(needed, 16));
  const Context ctx = create_context(model.get(), c.params);
  if (lem_context_n_ctx(ctx.get()) < needed)
    usage_error("-c ", lem_context_n_ctx(ctx.get()), " is too short: the test needs ", needed, " positions");

  const int32_t n_vocab = lem_model_n_vocab(model.get());
  if (n_vocab <= 0) run_error(model_path, ": the model has no output vocabulary");
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> pick(0, n_vocab - 1);

  auto run_pp = [&] {
    std::vector<int32_t> ids(static_cast<size_t>(n_prompt));
    for (auto& id : ids) id = pick(rng);
    lem_context_reset(ctx.get());
    const auto t0 = Clock::now();
    check(lem_context_eval(ctx.get(), ids.data(), ids.size(), nullptr, nullptr), ctx.get());
    return seconds_since(t0);
  };
  auto run_tg = [&] {
    lem_context_reset(ctx.get());
    int32_t id = pick(rng);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n_gen; ++i) {
      check(lem_context_eval(ctx.get(), &id, 1, nullptr, nullptr), ctx.get());
      id = argmax(lem_context_logits(ctx.get()), n_vocab);
    }
    return seconds_since(t0);
  };

  std::vector<double> pp, tg;
  if (n_prompt > 0) {
    run_pp();  // warm-up: page in the weights
    for (int64_t r = 0; r < reps; ++r) pp.push_back(static_cast<double>(n_prompt) / run_pp());
  }
  if (n_gen > 0) {
    run_tg();
    for (int64_t r = 0; r < reps; ++r) tg.push_back(static_cast<double>(n_gen) / run_tg());
  }
  const MeanSd ppm = mean_sd(pp), tgm = mean_sd(tg);
  const int threads = lem_context_n_threads(ctx.get());
  const char* isa = lem_isa_name();
  std::string out;
  if (json) {
    nlohmann::ordered_json j = {{"model", model_path},
                                {"format", lem_model_format(model.get())},
                                {"isa", isa},
                                {"n_prompt", n_prompt},
                                {"n_gen", n_gen},
                                {"threads", threads},
                                {"repetitions", reps},
                                {"pp_tokens_per_s", ppm.mean},
                                {"pp_tokens_per_s_sd", ppm.sd},
                                {"tg_tokens_per_s", tgm.mean},
                                {"tg_tokens_per_s_sd", tgm.sd},
                                {"pp_samples", pp},
                                {"tg_samples", tg}};
    out = j.dump() + "\n";
  } else {
    auto row = [&](const char* test, int64_t n, const MeanSd& m) {
      char speed[64];
      std::snprintf(speed, sizeof speed, "%.2f ± %.2f", m.mean, m.sd);
      return "| " + model_path + " | " + std::to_string(threads) + " | " + isa + " | " + test + std::to_string(n) +
             " | " + speed + " |\n";
    };
    out = "| model | threads | isa | test | t/s |\n|---|---|---|---|---|\n";
    if (n_prompt > 0) out += row("pp", n_prompt, ppm);
    if (n_gen > 0) out += row("tg", n_gen, tgm);
  }
  write_stdout(out.data(), out.size());
  return 0;
}

}  // namespace cli
