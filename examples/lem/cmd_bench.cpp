// `lem bench -m MODEL -p 512 -n 128 -t N -r R [--json]`: prompt processing and generation speed,
// measured like llama-bench: pp = N_PROMPT random tokens evaluated from an empty cache in
// batches; tg = N_GEN tokens evaluated one at a time from an empty cache. Mean ± sd over R runs
// after one warm-up run.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "cli.hpp"
#include "kernels/kernels.hpp"
#include "options.hpp"

namespace lem::cli {
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

}  // namespace

int cmd_bench(Args& args) {
  std::string model, s;
  if (!args.value("-m", model) && !args.value("--model", model))
    fail(Status::InvalidArg, "usage: lem bench -m MODEL [-p 512] [-n 128] [-t THREADS] [-r 5] [-b 512] [--json]");
  int64_t n_prompt = 512, n_gen = 128, reps = 5;
  SessionParams sp;
  if (args.value("-p", s)) n_prompt = std::stoll(s);
  if (args.value("-n", s)) n_gen = std::stoll(s);
  if (args.value("-r", s)) reps = std::stoll(s);
  if (args.value("-t", s)) sp.n_threads = std::stoi(s);
  if (args.value("-b", s)) sp.n_batch = std::stoll(s);
  if (args.value("--kv-type", s)) sp.kv_type = s == "f16" ? KvType::F16 : KvType::F32;
  const bool json = args.flag("--json");
  const auto rest = args.finish();
  if (!rest.empty()) fail(Status::InvalidArg, "unexpected argument '{}'", rest[0]);
  if (n_prompt < 0 || n_gen < 0 || reps < 1) fail(Status::InvalidArg, "-p, -n must be >= 0 and -r >= 1");

  const LoadedModel m = load_model_verbose(model);
  sp.n_ctx = std::max<int64_t>(std::max(n_prompt, n_gen) + 1, 16);
  Session session(*m.net, sp);
  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(m.net->config().n_vocab) - 1);

  auto run_pp = [&] {
    std::vector<int32_t> ids(static_cast<size_t>(n_prompt));
    for (auto& id : ids) id = pick(rng);
    session.reset();
    const auto t0 = Clock::now();
    session.append(ids);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  auto run_tg = [&] {
    session.reset();
    int32_t id = pick(rng);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < n_gen; ++i) {
      const int32_t one[1] = {id};
      session.append(one);
      id = greedy_token(session.logits(), static_cast<int32_t>(m.net->config().n_vocab));
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
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
  const int threads = session.pool().size();
  if (json) {
    nlohmann::ordered_json j = {{"model", model},
                                {"format", model_format_name(m.net->source().format())},
                                {"isa", isa_name(active_isa())},
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
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("| model | threads | isa | test | t/s |\n|---|---|---|---|---|\n");
    if (n_prompt > 0)
      std::printf("| %s | %d | %s | pp%lld | %.2f ± %.2f |\n", model.c_str(), threads, isa_name(active_isa()),
                  static_cast<long long>(n_prompt), ppm.mean, ppm.sd);
    if (n_gen > 0)
      std::printf("| %s | %d | %s | tg%lld | %.2f ± %.2f |\n", model.c_str(), threads, isa_name(active_isa()),
                  static_cast<long long>(n_gen), tgm.mean, tgm.sd);
  }
  return 0;
}

}  // namespace lem::cli
