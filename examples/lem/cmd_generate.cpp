// `lem generate`: one prompt in, streamed text out, then a line of timings.
//
//   lem generate -m MODEL -p "text" [--raw] [-sys TEXT] [sampling options]
//   lem generate -m MODEL --tokens 2,10,20 -n 32 --temp 0 --ignore-eos --print-ids
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli.hpp"
#include "cli_error.hpp"
#include "generation.hpp"
#include "lem/lem.h"
#include "options.hpp"

namespace cli {
namespace {

struct GenerateOptions {
  std::string prompt;
  std::string system;
  bool has_prompt = false;
  bool raw = false;
  bool print_ids = false;
  bool verbose_prompt = false;
};

GenerateOptions parse_generate_options(Args& args) {
  GenerateOptions o;
  std::string file;
  const bool has_text = args.value({"--prompt", "-p"}, o.prompt);
  const bool has_file = args.value({"--file", "-f"}, file);
  if (has_text && has_file) usage_error("give the prompt once: -p TEXT or -f FILE");
  if (has_file) o.prompt = read_file(file);
  o.has_prompt = has_text || has_file;
  args.value({"--system", "-sys", "--system-prompt"}, o.system);
  o.raw = args.flag("--raw");
  o.print_ids = args.flag("--print-ids");
  o.verbose_prompt = args.flag("--verbose-prompt");
  return o;
}

}  // namespace

int cmd_generate(Args& args) {
  GenerateOptions g = parse_generate_options(args);
  const std::string model_path = parse_model_path(args, "lem generate --help lists the options");
  ContextOptions c = parse_context_options(args);
  SamplingOptions s = parse_sampling_options(args);
  const auto tokens = parse_tokens_option(args);
  const auto rest = args.finish();
  if (!rest.empty()) usage_error("unexpected argument '", rest[0], "' (quote the prompt and give it with -p)");
  if (tokens && g.has_prompt) usage_error("give either a text prompt (-p/-f) or --tokens, not both");
  if (!tokens && !g.has_prompt) {
    // No -p: read the prompt from stdin, as a pipe would give it. At a terminal, say so.
    if (::isatty(STDIN_FILENO))
      std::fprintf(stderr, "lem: reading the prompt from standard input; end it with Ctrl-D (or give -p TEXT)\n");
    g.prompt = read_stdin();
  }

  const Model model = load_model(model_path, LEM_LOAD_FULL, /*verbose=*/true);
  std::vector<int32_t> ids;
  if (tokens) {
    ids = *tokens;
  } else if (g.raw) {
    // Plain text with control tokens parsed; a prompt that starts with "<bos>" gets no second one.
    ids = tokenize(model.get(), g.prompt, LEM_TOKENIZE_ADD_BOS | LEM_TOKENIZE_PARSE_SPECIAL);
  } else {
    // The chat template: control tokens come only from the template, the typed text stays text.
    std::vector<lem_chat_message> messages;
    if (!g.system.empty()) messages.push_back({"system", g.system.c_str()});
    messages.push_back({"user", g.prompt.c_str()});
    ids = chat_tokenize(model.get(), messages);
  }
  if (g.verbose_prompt) {
    std::fprintf(stderr, "lem: prompt ids (%zu): %s\n", ids.size(), join_ids(ids, " ").c_str());
  }

  const Context ctx = create_context(model.get(), c.params);
  install_sigint_flag();
  std::vector<const char*> stop_ptrs;
  const lem_generate_params params = s.generate_params(stop_ptrs);
  Generation out = run_generation(ctx.get(), ids, params, g.print_ids ? Echo::Ids : Echo::Text);
  if (g.print_ids) {
    const std::string line = join_ids(out.tokens, " ") + "\n";
    write_stdout(line.data(), line.size());
  } else {
    write_stdout("\n", 1);
  }
  const lem_generate_result& r = out.result;
  std::fprintf(stderr, "lem: prompt %d tokens (%d reused) %.1f tok/s | generated %d tokens %.1f tok/s | stop: %s\n",
               r.n_prompt_tokens, r.n_reused_tokens, r.prompt_seconds > 0 ? r.n_prompt_tokens / r.prompt_seconds : 0.0,
               r.n_generated, r.generate_seconds > 0 ? r.n_generated / r.generate_seconds : 0.0,
               stop_reason_name(r.stop_reason));
  return r.stop_reason == LEM_STOP_CANCELLED ? 130 : 0;
}

}  // namespace cli
