// `lem chat -m MODEL`: an interactive conversation. The context's KV cache carries the whole
// conversation, so each turn evaluates only the new user message.
//
// Commands: /help lists them, /reset forgets the conversation, /exit (or Ctrl-D) quits. Ctrl-C
// while the model answers stops the answer; the program keeps running.
#include <cctype>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_error.hpp"
#include "generation.hpp"
#include "lem/lem.h"
#include "options.hpp"

namespace cli {
namespace {

constexpr const char* kChatCommands =
    "(commands: /help this list, /reset forget the conversation, /exit or Ctrl-D quit; Ctrl-C stops an answer)\n";

// Python str.strip() semantics are the template's; ASCII whitespace covers typed input.
std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n\v\f");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n\v\f") - b + 1);
}

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) len = 1, cp = b;
    else if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1F;
    else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0F;
    else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07;
    else return false;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// "/word": a mistyped command rather than a message ("/etc/hosts?" is a message).
bool looks_like_command(const std::string& text) {
  if (text.size() < 2 || text[0] != '/') return false;
  for (size_t i = 1; i < text.size(); ++i)
    if (!std::isalpha(static_cast<unsigned char>(text[i]))) return false;
  return true;
}

void append(std::vector<int32_t>& to, const std::vector<int32_t>& ids) { to.insert(to.end(), ids.begin(), ids.end()); }

}  // namespace

int cmd_chat(Args& args) {
  std::string system;
  args.value({"--system", "-sys", "--system-prompt"}, system);
  const std::string model_path = parse_model_path(args, "lem chat --help lists the options");
  ContextOptions c = parse_context_options(args);
  SamplingOptions s = parse_sampling_options(args);
  const auto rest = args.finish();
  if (!rest.empty()) usage_error("unexpected argument '", rest[0], "'");

  const Model model = load_model(model_path, LEM_LOAD_FULL, /*verbose=*/true);
  const Context ctx = create_context(model.get(), c.params);
  const int32_t n_ctx = lem_context_n_ctx(ctx.get());
  std::fprintf(stderr, "lem: KV cache %.1f MiB (%s, n_ctx %d). /help lists the commands, Ctrl-C stops an answer.\n",
               static_cast<double>(lem_context_kv_bytes(ctx.get())) / 1048576.0, c.kv_type_name, n_ctx);
  std::vector<const char*> stop_ptrs;
  const lem_generate_params params = s.generate_params(stop_ptrs);
  // Trusted template pieces between turns: control tokens parsed, no <bos>.
  const std::vector<int32_t> user_turn = tokenize(model.get(), "<end_of_turn>\n<start_of_turn>user\n",
                                                  LEM_TOKENIZE_PARSE_SPECIAL);
  const std::vector<int32_t> model_turn = tokenize(model.get(), "<end_of_turn>\n<start_of_turn>model\n",
                                                   LEM_TOKENIZE_PARSE_SPECIAL);
  install_sigint_flag();

  std::vector<int32_t> history;  // the conversation as tokens, ending with the last answer
  bool full = false;             // the context has no room left: only /reset helps
  for (;;) {
    write_stdout("> ", 2);
    clear_interrupt();
    std::string line;
    if (!std::getline(std::cin, line)) {
      if (interrupted()) {  // Ctrl-C at the prompt interrupted the read: not an end of input
        std::cin.clear();
        std::string note = "\n(Ctrl-C stops an answer; /exit or Ctrl-D quits)\n";
        write_stdout(note.data(), note.size());
        continue;
      }
      write_stdout("\n", 1);
      break;
    }
    const std::string text = trim(line);
    auto say = [](const std::string& note) { write_stdout(note.data(), note.size()); };
    if (text.empty()) continue;
    if (text == "/exit" || text == "/quit") break;
    if (text == "/help" || text == "/?") {
      say(kChatCommands);
      continue;
    }
    if (text == "/reset") {
      history.clear();
      lem_context_reset(ctx.get());
      full = false;
      say("(conversation forgotten)\n");
      continue;
    }
    if (looks_like_command(text)) {
      say("(unknown command " + text + ")\n" + kChatCommands);
      continue;
    }
    if (full) {
      say("(the context is full: /reset to start over)\n");
      continue;
    }
    if (!is_valid_utf8(text)) {
      say("(input is not valid UTF-8; ignored)\n");
      continue;
    }

    // New turn: the first one goes through the chat template (BOS, system text merged into the
    // user turn); later ones close the previous answer with <end_of_turn>\n and append the user
    // turn. User text is tokenised without control-token parsing.
    std::vector<int32_t> prompt;
    if (history.empty()) {
      std::vector<lem_chat_message> first;
      if (!system.empty()) first.push_back({"system", system.c_str()});
      first.push_back({"user", text.c_str()});
      prompt = chat_tokenize(model.get(), first);
    } else {
      prompt = history;
      append(prompt, user_turn);
      append(prompt, tokenize(model.get(), text, 0));
      append(prompt, model_turn);
    }

    const Generation g = run_generation(ctx.get(), prompt, params, Echo::Text, LEM_ERR_CONTEXT_FULL);
    if (g.status == LEM_ERR_CONTEXT_FULL) {  // the message itself does not fit
      say(str("\n(context full: this message needs ", prompt.size(), " of ", n_ctx,
              " tokens; /reset to start over)\n"));
      continue;
    }
    const lem_generate_result& r = g.result;
    // The conversation: the prompt and the answer, without the end-of-turn token (the next turn's
    // template piece starts with it).
    history = prompt;
    append(history, g.tokens);
    if (r.stop_reason == LEM_STOP_EOS && !history.empty() && lem_token_is_eog(model.get(), history.back()))
      history.pop_back();
    if (r.stop_reason == LEM_STOP_CANCELLED) say("\n(stopped)\n");
    else if (r.stop_reason == LEM_STOP_CONTEXT_FULL) {
      full = true;
      say(str("\n(context full after ", r.n_generated, " tokens: /reset to start over)\n"));
    } else say("\n");
    std::fprintf(stderr, "[prompt %d new tokens %.1f tok/s, %d generated %.1f tok/s]\n", r.n_prompt_tokens,
                 r.prompt_seconds > 0 ? r.n_prompt_tokens / r.prompt_seconds : 0.0, r.n_generated,
                 r.generate_seconds > 0 ? r.n_generated / r.generate_seconds : 0.0);
  }
  return 0;
}

}  // namespace cli
