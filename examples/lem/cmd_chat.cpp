// `lem chat -m MODEL`: an interactive conversation. The session's KV cache carries the whole
// conversation, so each turn evaluates only the new user message.
//
// Commands: /reset forgets the conversation, /exit (or Ctrl-D) quits. Ctrl-C while the model
// answers stops the answer; the program keeps running.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "util/error.hpp"
#include "cli.hpp"
#include "options.hpp"
#include "tokenizer/utf8.hpp"

namespace lem::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

// Ids of `text` parsed as trusted template text (control tokens allowed).
std::vector<int32_t> control(const Tokenizer& tok, std::string_view text) { return tok.encode(text, false, true); }

// Python str.strip() semantics are the template's; ASCII whitespace covers typed input.
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n\v\f") - b + 1);
}

}  // namespace

int cmd_chat(Args& args) {
  std::string system;
  args.value("--system", system);
  RunOptions o = parse_run_options(args);
  const auto rest = args.finish();
  if (!rest.empty()) fail(Status::InvalidArg, "unexpected argument '{}'", rest[0]);
  const LoadedModel m = load_model_verbose(o.model);
  const Tokenizer& tok = m.require_tokenizer();
  o.gen.n_vocab_limit = m.n_sampling_vocab();
  Session session(*m.net, o.session);
  std::fprintf(stderr, "lem: KV cache %.1f MiB (%s, n_ctx %lld). /reset forgets, /exit quits, Ctrl-C stops an answer.\n",
               session.cache().bytes() / 1048576.0, kv_type_name(session.cache().type()),
               static_cast<long long>(session.cache().n_ctx()));

  // Ctrl-C sets a flag instead of killing the program; without SA_RESTART a Ctrl-C at the
  // prompt interrupts the read, which we treat as an empty line.
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);

  std::vector<int32_t> history;  // the conversation as tokens, ending with "<start_of_turn>model\n"
  for (;;) {
    std::printf("> ");
    std::fflush(stdout);
    g_interrupted = 0;
    std::string line;
    if (!std::getline(std::cin, line)) {
      if (g_interrupted) {  // Ctrl-C at the prompt interrupted the read: not an end of input
        std::cin.clear();
        std::printf("\n(Ctrl-C stops an answer; /exit or Ctrl-D quits)\n");
        continue;
      }
      std::printf("\n");
      break;
    }
    const std::string text = trim(line);
    if (text.empty()) continue;
    if (text == "/exit" || text == "/quit") break;
    if (text == "/reset") {
      history.clear();
      session.reset();
      std::printf("(conversation forgotten)\n");
      continue;
    }
    if (!utf8::is_valid(text)) {
      std::printf("(input is not valid UTF-8; ignored)\n");
      continue;
    }

    // New turn: the first one goes through the chat template (BOS, system text merged into the
    // user turn); later ones close the previous answer with <end_of_turn>\n and append the
    // user turn. User text is tokenised without special-token parsing.
    const size_t before = history.size();
    if (history.empty()) {
      std::vector<ChatMessage> first;
      if (!system.empty()) first.push_back({"system", system});
      first.push_back({"user", text});
      history = tok.encode_chat(first, true, false);
    } else {
      for (auto id : control(tok, "<end_of_turn>\n<start_of_turn>user\n")) history.push_back(id);
      for (auto id : tok.encode(text, false, false)) history.push_back(id);
      for (auto id : control(tok, "<end_of_turn>\n<start_of_turn>model\n")) history.push_back(id);
    }

    GenerateResult r;
    try {
      r = generate(session, tok, history, o.gen,
                   [](std::string_view piece, int32_t) {
                     std::fwrite(piece.data(), 1, piece.size(), stdout);
                     std::fflush(stdout);
                     return g_interrupted == 0;
                   },
                   [] { return g_interrupted != 0; });
    } catch (const Error& e) {
      if (e.status() != Status::ContextFull) throw;
      std::printf("\n(context full: %s — /reset to start over)\n", e.what());
      history.resize(before);
      continue;
    }
    history.insert(history.end(), r.tokens.begin(), r.tokens.end());
    std::printf(r.reason == StopReason::Cancelled ? "\n(stopped)\n" : "\n");
    std::fprintf(stderr, "[prompt %lld new tokens %.1f tok/s, %zu generated %.1f tok/s]\n",
                 static_cast<long long>(r.n_prompt), r.prompt_seconds > 0 ? r.n_prompt / r.prompt_seconds : 0.0,
                 r.tokens.size(), r.gen_seconds > 0 ? r.tokens.size() / r.gen_seconds : 0.0);
  }
  return 0;
}

}  // namespace lem::cli
