// Options shared by the subcommands that run a model: model path, context, threads, sampling.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "runtime/generate.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/session.hpp"

namespace lem::cli {

struct RunOptions {
  std::string model;
  SessionParams session;
  GenerateParams gen;
  std::optional<std::vector<int32_t>> tokens;  // --tokens 2,10,20: ids instead of text
};

// Consumes -m/--model, -c/--ctx-size, -b/--batch-size, -t/--threads, --kv-type, --exact and the
// sampling flags (--temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n,
// --presence-penalty, --frequency-penalty, --seed, --logit-bias ID=BIAS, --stop S, -n, --ignore-eos,
// --tokens). Throws InvalidArg on malformed values.
RunOptions parse_run_options(Args& args);

// The usage text of those options.
const char* run_options_help();

std::vector<int32_t> parse_token_list(const std::string& s);
// Throws InvalidArg naming `flag` unless `s` is a whole integer.
int64_t parse_integer(const std::string& flag, const std::string& s);

// Loads the model and prints a one-line summary to stderr.
LoadedModel load_model_verbose(const std::string& path);

}  // namespace lem::cli
