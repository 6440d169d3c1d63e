// Options shared by the subcommands that run a model: model path, context and sampling, read
// from the command line into the parameter structs of include/lem/lem.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "handles.hpp"
#include "lem/lem.h"

namespace cli {

// -m/--model PATH; a usage error when absent.
std::string parse_model_path(Args& args, const char* usage);

// Context options: -c/--ctx-size (0 = the model's maximum), -b/--batch-size, -t/--threads,
// --kv-type f32|f16, --exact; -ngl/--n-gpu-layers is accepted and answered with one line saying
// that offload is not available. Ranges the library knows (threads, context length) are checked by
// the library, which names the field in its error.
struct ContextOptions {
  lem_context_params params;
  const char* kv_type_name = "f32";
  bool ctx_given = false;  // -c was on the command line
};
ContextOptions parse_context_options(Args& args);

// Sampling and generation options (see sampling_options_help()).
struct SamplingOptions {
  lem_sampler_params params;   // its logit-bias pointers are set by generate_params()
  std::vector<int32_t> bias_tokens;
  std::vector<float> bias_values;
  std::vector<std::string> stop;
  int32_t max_tokens = -1;
  bool ignore_eos = false;

  // The generation parameters for lem_generate. They point into this object (and `stop_ptrs`),
  // which must outlive them.
  lem_generate_params generate_params(std::vector<const char*>& stop_ptrs);
};
SamplingOptions parse_sampling_options(Args& args);

// --tokens 2,10,20: prompt ids instead of text.
std::optional<std::vector<int32_t>> parse_tokens_option(Args& args);
std::vector<int32_t> parse_token_list(const std::string& text);

// Help text of the option groups.
const char* context_options_help();
const char* sampling_options_help();

// Loads a model (mode: LEM_LOAD_*). With `verbose`, prints a one-line summary to stderr.
Model load_model(const std::string& path, int32_t load_mode, bool verbose);
// Creates a context on `model`.
Context create_context(lem_model* model, const lem_context_params& params);

// Reads all of standard input (the prompt or text when none was given on the command line).
std::string read_stdin();
// Reads a whole file (-f FILE).
std::string read_file(const std::string& path);

// Tokenizes `text` with lem_tokenize (flags: LEM_TOKENIZE_*).
std::vector<int32_t> tokenize(const lem_model* model, const std::string& text, uint32_t flags);

// "2 105 2364": ids separated by `separator`.
std::string join_ids(const std::vector<int32_t>& ids, const char* separator);

// Writes `n` bytes to stdout; a failed write (a full disk, a closed pipe) is an error.
void write_stdout(const char* data, size_t n);

}  // namespace cli
