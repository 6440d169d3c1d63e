// `lem generate`: one prompt in, streamed text out, then a line of timings.
//
//   lem generate -m MODEL -p "text" [--raw] [--system TEXT] [sampling options]
//   lem generate -m MODEL --tokens 2,10,20 -n 32 --temp 0 --ignore-eos --print-ids
#include <csignal>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "util/error.hpp"
#include "cli.hpp"
#include "options.hpp"

namespace lem::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

}  // namespace

int cmd_generate(Args& args) {
  std::string prompt, system;
  const bool has_prompt = args.value("-p", prompt) || args.value("--prompt", prompt);
  args.value("--system", system);
  const bool raw = args.flag("--raw");
  const bool print_ids = args.flag("--print-ids");
  const bool help = args.flag("-h") || args.flag("--help");
  if (help) {
    std::printf("usage: lem generate -m MODEL (-p TEXT | --tokens IDS) [--raw] [--system TEXT] [--print-ids]\n%s",
                run_options_help());
    return 0;
  }
  RunOptions o = parse_run_options(args);
  const auto rest = args.finish();
  if (!rest.empty()) fail(Status::InvalidArg, "unexpected argument '{}'", rest[0]);
  if (!has_prompt && !o.tokens) {
    // No -p: read the prompt from stdin, as a pipe would give it.
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }

  const LoadedModel m = load_model_verbose(o.model);
  const Tokenizer& tok = m.require_tokenizer();
  std::vector<int32_t> ids;
  if (o.tokens) {
    ids = *o.tokens;
  } else if (raw) {
    ids = tok.encode(prompt, tok.add_bos_by_default(), /*parse_special=*/true);
  } else {
    std::vector<ChatMessage> messages;
    if (!system.empty()) messages.push_back({"system", system});
    messages.push_back({"user", prompt});
    ids = tok.encode_chat(messages, /*add_generation_prompt=*/true, /*parse_special_in_messages=*/false);
  }
  o.gen.n_vocab_limit = m.n_sampling_vocab();

  Session session(*m.net, o.session);
  std::signal(SIGINT, on_sigint);
  const AbortFn abort = [] { return g_interrupted != 0; };
  std::string ids_line;
  const GenerateResult r = generate(
      session, tok, ids, o.gen,
      [&](std::string_view text, int32_t token) {
        if (print_ids) {
          if (token >= 0) ids_line += (ids_line.empty() ? "" : " ") + std::to_string(token);
        } else {
          std::fwrite(text.data(), 1, text.size(), stdout);
          std::fflush(stdout);
        }
        return g_interrupted == 0;
      },
      abort);
  if (print_ids) std::printf("%s\n", ids_line.c_str());
  else std::printf("\n");
  std::fprintf(stderr, "lem: prompt %lld tokens (%lld reused) %.1f tok/s | generated %zu tokens %.1f tok/s | stop: %s\n",
               static_cast<long long>(r.n_prompt), static_cast<long long>(r.n_reused),
               r.prompt_seconds > 0 ? r.n_prompt / r.prompt_seconds : 0.0, r.tokens.size(),
               r.gen_seconds > 0 ? r.tokens.size() / r.gen_seconds : 0.0, stop_reason_name(r.reason));
  return r.reason == StopReason::Cancelled ? 130 : 0;
}

}  // namespace lem::cli
