// `lem logits -m MODEL --tokens 2,10,20 --out FILE`: float32 logits of every position,
// row-major [n_tokens, n_vocab], for checking against reference implementations.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_error.hpp"
#include "lem/lem.h"
#include "options.hpp"

namespace cli {

int cmd_logits(Args& args) {
  std::string out_path, prompt, file;
  if (!args.value("--out", out_path)) usage_error("usage: lem logits -m MODEL --tokens IDS --out FILE");
  const bool has_text = args.value({"--prompt", "-p"}, prompt);
  const bool has_file = args.value({"--file", "-f"}, file);
  const std::string model_path = parse_model_path(args, "lem logits --help lists the options");
  ContextOptions c = parse_context_options(args);
  const auto tokens = parse_tokens_option(args);
  const auto rest = args.finish();
  if (!rest.empty()) usage_error("unexpected argument '", rest[0], "'");
  if (int(tokens.has_value()) + int(has_text) + int(has_file) != 1)
    usage_error("give the input once: --tokens IDS, -p TEXT or -f FILE");
  if (has_file) prompt = read_file(file);

  const Model model = load_model(model_path, LEM_LOAD_FULL, /*verbose=*/true);
  const std::vector<int32_t> ids =
      tokens ? *tokens : tokenize(model.get(), prompt, LEM_TOKENIZE_ADD_BOS | LEM_TOKENIZE_PARSE_SPECIAL);
  c.params.logits_all = 1;
  const Context ctx = create_context(model.get(), c.params);
  check(lem_context_eval(ctx.get(), ids.data(), ids.size(), nullptr, nullptr), ctx.get());

  const bool to_stdout = out_path == "-";
  std::unique_ptr<FILE, int (*)(FILE*)> opened(to_stdout ? nullptr : std::fopen(out_path.c_str(), "wb"), &std::fclose);
  FILE* out = to_stdout ? stdout : opened.get();
  if (!out) run_error(out_path, ": cannot open for writing: ", std::strerror(errno));
  const auto n_vocab = static_cast<size_t>(lem_model_n_vocab(model.get()));
  for (size_t row = 0; row < ids.size(); ++row) {
    const float* logits = lem_context_logits_row(ctx.get(), static_cast<int64_t>(row));
    if (!logits) run_error("no logits for position ", row, " (", lem_context_last_error(ctx.get()), ")");
    if (std::fwrite(logits, sizeof(float), n_vocab, out) != n_vocab)
      run_error(out_path, ": write failed: ", std::strerror(errno));
  }
  if (std::fflush(out) != 0) run_error(out_path, ": write failed: ", std::strerror(errno));
  std::fprintf(stderr, "%s: %zu x %zu float32 logits\n", out_path.c_str(), ids.size(), n_vocab);
  return 0;
}

}  // namespace cli
