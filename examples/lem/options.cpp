#include "options.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>

#include "cli_error.hpp"

namespace cli {
namespace {

// -s/--seed N: a non-negative 64-bit seed, or -1 for a random one (as llama.cpp).
uint64_t parse_seed(const std::string& text) {
  if (text == "-1") return (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (r.ec != std::errc() || r.ptr != end || text.empty())
    usage_error("--seed: '", text, "' is not a seed (a non-negative integer, or -1 for a random one)");
  return v;
}

// --logit-bias ID=BIAS (also ID+BIAS / ID-BIAS, as llama.cpp). The library checks the id against
// the vocabulary and the bias for finiteness (-inf bans the token).
void parse_logit_bias(const std::string& text, int32_t& id, float& bias) {
  const size_t sep = text.find_first_of("=+-", 1);
  if (sep == std::string::npos) usage_error("--logit-bias expects ID=BIAS (or ID+BIAS / ID-BIAS), got '", text, "'");
  id = static_cast<int32_t>(parse_integer("--logit-bias", text.substr(0, sep), INT32_MIN, INT32_MAX));
  const std::string value = text[sep] == '=' ? text.substr(sep + 1) : text.substr(sep);
  const double v = parse_float("--logit-bias", value);
  if (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max()) usage_error("--logit-bias: ", value, " is out of range for a float");
  bias = static_cast<float>(v);
}

}  // namespace

std::string parse_model_path(Args& args, const char* usage) {
  std::string path;
  if (!args.value({"--model", "-m"}, path)) usage_error("a model is required: -m MODEL (", usage, ")");
  return path;
}

ContextOptions parse_context_options(Args& args) {
  ContextOptions o;
  lem_context_params_init(&o.params, sizeof o.params);
  int32_t n_ctx = 0;
  if (int32_flag(args, {"--ctx-size", "-c"}, n_ctx, 0, INT32_MAX)) {
    o.params.n_ctx = n_ctx;
    o.ctx_given = true;
  }
  int32_flag(args, {"--batch-size", "-b"}, o.params.n_batch, 1, INT32_MAX);
  int32_flag(args, {"--threads", "-t"}, o.params.n_threads);
  std::string s;
  if (args.value("--kv-type", s)) {
    if (s == "f32") o.params.kv_type = LEM_KV_F32, o.kv_type_name = "f32";
    else if (s == "f16") o.params.kv_type = LEM_KV_F16, o.kv_type_name = "f16";
    else usage_error("--kv-type must be f32 or f16, got '", s, "'");
  }
  if (args.flag("--exact")) o.params.precision = LEM_PRECISION_EXACT;
  // llama.cpp users type -ngl out of habit: accept it, and say what happens instead.
  int64_t n_gpu_layers = 0;
  if (integer_flag(args, {"--n-gpu-layers", "-ngl", "--gpu-layers"}, n_gpu_layers))
    std::fprintf(stderr, "lem: GPU offload is not available; running on the CPU (-ngl %lld ignored)\n",
                 static_cast<long long>(n_gpu_layers));
  return o;
}

SamplingOptions parse_sampling_options(Args& args) {
  SamplingOptions o;
  lem_sampler_params& sp = o.params;
  lem_sampler_params_init(&sp, sizeof sp);
  float_flag(args, {"--temp", "--temperature"}, sp.temperature);
  int32_flag(args, {"--top-k"}, sp.top_k);
  float_flag(args, {"--top-p"}, sp.top_p);
  float_flag(args, {"--min-p"}, sp.min_p);
  float_flag(args, {"--repeat-penalty"}, sp.repeat_penalty);
  int32_flag(args, {"--repeat-last-n"}, sp.repeat_last_n);
  float_flag(args, {"--presence-penalty"}, sp.presence_penalty);
  float_flag(args, {"--frequency-penalty"}, sp.frequency_penalty);
  std::string s;
  sp.seed = parse_seed(args.value({"--seed", "-s"}, s) ? s : "-1");
  for (const std::string& bias : args.values("--logit-bias")) {
    int32_t id = 0;
    float value = 0;
    parse_logit_bias(bias, id, value);
    o.bias_tokens.push_back(id);
    o.bias_values.push_back(value);
  }
  for (const std::string& stop : args.values("--stop")) {
    if (stop.empty()) usage_error("--stop: the stop text must not be empty");
    o.stop.push_back(stop);
  }
  int32_flag(args, {"--n-predict", "-n", "--max-tokens"}, o.max_tokens);
  o.ignore_eos = args.flag("--ignore-eos");
  return o;
}

lem_generate_params SamplingOptions::generate_params(std::vector<const char*>& stop_ptrs) {
  params.logit_bias_tokens = bias_tokens.data();
  params.logit_bias_values = bias_values.data();
  params.n_logit_bias = bias_tokens.size();
  stop_ptrs.clear();
  for (const auto& s : stop) stop_ptrs.push_back(s.c_str());
  lem_generate_params gp;
  lem_generate_params_init(&gp, sizeof gp);
  gp.max_tokens = max_tokens;
  gp.sampling = &params;
  gp.stop_strings = stop_ptrs.data();
  gp.n_stop = stop_ptrs.size();
  gp.ignore_eos = ignore_eos ? 1 : 0;
  return gp;
}

std::vector<int32_t> parse_token_list(const std::string& text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t sep = text.find_first_of(", ", start);
    if (sep == std::string::npos) sep = text.size();
    if (sep > start)
      ids.push_back(static_cast<int32_t>(parse_integer("--tokens", text.substr(start, sep - start), 0, INT32_MAX)));
    start = sep + 1;
  }
  if (ids.empty()) usage_error("--tokens: no token ids in '", text, "'");
  return ids;
}

std::optional<std::vector<int32_t>> parse_tokens_option(Args& args) {
  std::string s;
  if (!args.value("--tokens", s)) return std::nullopt;
  return parse_token_list(s);
}

const char* context_options_help() {
  return "model and context:\n"
         "  -m, --model PATH        .gguf file, .safetensors file or model folder (required)\n"
         "  -c, --ctx-size N        context length (default 4096; 0 = the model's maximum)\n"
         "  -b, --batch-size N      prompt tokens per forward pass (default 512)\n"
         "  -t, --threads N         threads (default: all hardware threads; at most 4 per hardware thread)\n"
         "  --kv-type f32|f16       KV cache precision (default f32)\n"
         "  --exact                 float32 activations on dequantised weights (slow; reference checks)\n"
         "  -ngl, --n-gpu-layers N  accepted for llama.cpp habits; lem runs on the CPU\n";
}

const char* sampling_options_help() {
  return "sampling:\n"
         "  -n, --n-predict N       tokens to generate (default -1: until end of turn or context full)\n"
         "      --max-tokens N      the same as -n\n"
         "  --temp T                temperature (default 0.8; 0 = greedy)\n"
         "  --top-k N (40)  --top-p P (0.95)  --min-p P (0.05)\n"
         "  --repeat-penalty R (1.0)  --repeat-last-n N (64)  --presence-penalty P  --frequency-penalty P\n"
         "  --logit-bias ID=BIAS    repeatable; BIAS may be -inf (bans the token)\n"
         "  -s, --seed N            random generator seed (default -1: a random seed)\n"
         "  --stop TEXT             stop before TEXT (repeatable)\n"
         "  --ignore-eos            keep generating past <eos> / <end_of_turn>\n"
         "A flag given twice takes its last value (--stop and --logit-bias add up).\n";
}

Model load_model(const std::string& path, int32_t load_mode, bool verbose) {
  lem_model_params mp;
  lem_model_params_init(&mp, sizeof mp);
  mp.load_mode = load_mode;
  lem_model* raw = nullptr;
  char err[1024] = "";
  const auto t0 = std::chrono::steady_clock::now();
  const lem_status status = lem_model_load(path.c_str(), &mp, &raw, err, sizeof err);
  if (status != LEM_OK) fail_with(status, err);
  Model model(raw);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (verbose)
    std::fprintf(stderr, "lem: loaded %s (%s, %s) in %.2f s\n", path.c_str(), lem_model_format(model.get()),
                 lem_model_description(model.get()), seconds);
  return model;
}

Context create_context(lem_model* model, const lem_context_params& params) {
  lem_context* raw = nullptr;
  char err[1024] = "";
  const lem_status status = lem_context_create(model, &params, &raw, err, sizeof err);
  if (status != LEM_OK) fail_with(status, err);
  return Context(raw);
}

std::string read_stdin() {
  std::string text(std::istreambuf_iterator<char>(std::cin), {});
  if (std::cin.bad()) run_error("reading standard input failed");
  return text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) run_error(path, ": cannot open: ", std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) run_error(path, ": read failed");
  return text.str();
}

std::vector<int32_t> tokenize(const lem_model* model, const std::string& text, uint32_t flags) {
  std::vector<int32_t> ids(text.size() + 1);  // usually enough: one byte per token at worst, plus <bos>
  size_t n = 0;
  lem_status status = lem_tokenize(model, text.data(), text.size(), flags, ids.data(), ids.size(), &n);
  if (status == LEM_ERR_BUFFER_TOO_SMALL) {
    ids.resize(n);
    status = lem_tokenize(model, text.data(), text.size(), flags, ids.data(), ids.size(), &n);
  }
  check(status);
  ids.resize(n);
  return ids;
}

std::string join_ids(const std::vector<int32_t>& ids, const char* separator) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += separator;
    out += std::to_string(ids[i]);
  }
  return out;
}

void write_stdout(const char* data, size_t n) {
  if (n == 0) return;
  if (std::fwrite(data, 1, n, stdout) != n || std::fflush(stdout) != 0)
    run_error("writing to standard output failed: ", std::strerror(errno));
}

}  // namespace cli
