#include "options.hpp"

#include <charconv>
#include <chrono>
#include <cstdio>

#include "util/error.hpp"

namespace lem::cli {
namespace {

template <class T>
T parse_number(const std::string& flag, const std::string& s) {
  T v{};
  const char* end = s.data() + s.size();
  std::from_chars_result r;
  if constexpr (std::is_floating_point_v<T>) {
    try {
      size_t used = 0;
      v = static_cast<T>(std::stod(s, &used));
      if (used != s.size()) fail(Status::InvalidArg, "{}: '{}' is not a number", flag, s);
      return v;
    } catch (const std::logic_error&) {
      fail(Status::InvalidArg, "{}: '{}' is not a number", flag, s);
    }
  } else {
    r = std::from_chars(s.data(), end, v);
    if (r.ec != std::errc() || r.ptr != end) fail(Status::InvalidArg, "{}: '{}' is not an integer", flag, s);
  }
  return v;
}

template <class T>
bool number(Args& args, std::initializer_list<const char*> names, T& out) {
  std::string s;
  for (const char* name : names)
    if (args.value(name, s)) {
      out = parse_number<T>(name, s);
      return true;
    }
  return false;
}

}  // namespace

int64_t parse_integer(const std::string& flag, const std::string& s) { return parse_number<int64_t>(flag, s); }

std::vector<int32_t> parse_token_list(const std::string& s) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find_first_of(", ", start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) ids.push_back(parse_number<int32_t>("--tokens", s.substr(start, comma - start)));
    start = comma + 1;
  }
  if (ids.empty()) fail(Status::InvalidArg, "--tokens: no token ids in '{}'", s);
  return ids;
}

RunOptions parse_run_options(Args& args) {
  RunOptions o;
  if (!args.value("-m", o.model) && !args.value("--model", o.model))
    fail(Status::InvalidArg, "a model is required: -m MODEL (a .gguf file or a model folder)");
  number(args, {"-c", "--ctx-size"}, o.session.n_ctx);
  number(args, {"-b", "--batch-size"}, o.session.n_batch);
  number(args, {"-t", "--threads"}, o.session.n_threads);
  std::string s;
  if (args.value("--kv-type", s)) {
    if (s == "f32") o.session.kv_type = KvType::F32;
    else if (s == "f16") o.session.kv_type = KvType::F16;
    else fail(Status::InvalidArg, "--kv-type must be f32 or f16, got '{}'", s);
  }
  if (args.flag("--exact")) o.session.precision = MatmulPrecision::Exact;

  SamplerParams& sp = o.gen.sampling;
  number(args, {"--temp", "--temperature"}, sp.temperature);
  number(args, {"--top-k"}, sp.top_k);
  number(args, {"--top-p"}, sp.top_p);
  number(args, {"--min-p"}, sp.min_p);
  number(args, {"--repeat-penalty"}, sp.repeat_penalty);
  number(args, {"--repeat-last-n"}, sp.repeat_last_n);
  number(args, {"--presence-penalty"}, sp.presence_penalty);
  number(args, {"--frequency-penalty"}, sp.frequency_penalty);
  if (!number(args, {"-s", "--seed"}, sp.seed))
    sp.seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  while (args.value("--logit-bias", s)) {
    const size_t eq = s.find_first_of("=+-", 1);
    if (eq == std::string::npos) fail(Status::InvalidArg, "--logit-bias expects ID=BIAS (or ID+BIAS / ID-BIAS), got '{}'", s);
    const auto id = parse_number<int32_t>("--logit-bias", s.substr(0, eq));
    const std::string value = s[eq] == '=' ? s.substr(eq + 1) : s.substr(eq);
    sp.logit_bias[id] = value == "-inf" ? -INFINITY : parse_number<float>("--logit-bias", value);
  }
  while (args.value("--stop", s)) o.gen.stop.push_back(s);
  number(args, {"-n", "--n-predict"}, o.gen.max_tokens);
  o.gen.ignore_eos = args.flag("--ignore-eos");
  if (args.value("--tokens", s)) o.tokens = parse_token_list(s);
  return o;
}

const char* run_options_help() {
  return "model and context:\n"
         "  -m, --model PATH        .gguf file, .safetensors file or model folder (required)\n"
         "  -c, --ctx-size N        context length (default 4096; 0 = the model's maximum)\n"
         "  -b, --batch-size N      prompt tokens per forward pass (default 512)\n"
         "  -t, --threads N         threads (default: all cores)\n"
         "  --kv-type f32|f16       KV cache precision (default f32)\n"
         "  --exact                 float32 activations on dequantised weights (slow; reference checks)\n"
         "sampling:\n"
         "  -n, --n-predict N       tokens to generate (default -1: until end of turn or context full)\n"
         "  --temp T                temperature (default 0.8; 0 = greedy)\n"
         "  --top-k N (40)  --top-p P (0.95)  --min-p P (0.05)\n"
         "  --repeat-penalty R (1.0)  --repeat-last-n N (64)  --presence-penalty P  --frequency-penalty P\n"
         "  --logit-bias ID=BIAS    repeatable; BIAS may be -inf\n"
         "  -s, --seed N            (default: random)\n"
         "  --stop TEXT             stop before TEXT (repeatable)\n"
         "  --ignore-eos            keep generating past <eos> / <end_of_turn>\n"
         "  --tokens 2,10,20        use these prompt token ids instead of text\n";
}

LoadedModel load_model_verbose(const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel m = LoadedModel::open(path);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "lem: loaded %s (%s, %s) in %.2f s\n", path.c_str(), model_format_name(m.net->source().format()),
               m.net->config().describe().c_str(), s);
  return m;
}

}  // namespace lem::cli
