// `lem logits -m MODEL --tokens 2,10,20 --out FILE`: float32 logits of every position,
// row-major [n_tokens, n_vocab], for checking against reference implementations.
#include <cstdio>
#include <memory>

#include "util/error.hpp"
#include "cli.hpp"
#include "options.hpp"

namespace lem::cli {

int cmd_logits(Args& args) {
  std::string out_path, prompt;
  if (!args.value("--out", out_path)) fail(Status::InvalidArg, "usage: lem logits -m MODEL --tokens IDS --out FILE");
  const bool has_prompt = args.value("-p", prompt) || args.value("--prompt", prompt);
  RunOptions o = parse_run_options(args);
  const auto rest = args.finish();
  if (!rest.empty()) fail(Status::InvalidArg, "unexpected argument '{}'", rest[0]);
  const LoadedModel m = load_model_verbose(o.model);
  std::vector<int32_t> ids;
  if (o.tokens) ids = *o.tokens;
  else if (has_prompt) ids = m.require_tokenizer().encode(prompt, m.require_tokenizer().add_bos_by_default(), true);
  else fail(Status::InvalidArg, "give the input as --tokens IDS or -p TEXT");

  Session session(*m.net, o.session);
  const std::vector<float> logits = session.evaluate_all_logits(ids);
  std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(out_path.c_str(), "wb"), &std::fclose);
  if (!out) fail(Status::Io, "{}: cannot open for writing", out_path);
  if (std::fwrite(logits.data(), sizeof(float), logits.size(), out.get()) != logits.size() || std::fflush(out.get()))
    fail(Status::Io, "{}: write failed", out_path);
  std::fprintf(stderr, "%s: %zu x %lld float32 logits\n", out_path.c_str(), ids.size(),
               static_cast<long long>(m.net->config().n_vocab));
  return 0;
}

}  // namespace lem::cli
