// `lem tokenize -m MODEL [--no-bos] [--special] [--json] ["text"]`: token ids of a text (from the
// argument, else stdin). MODEL may be a full model, a vocab-only GGUF, or a folder with only
// tokenizer.json / tokenizer_config.json: no weights are needed.
#include <cstdio>
#include <iostream>
#include <iterator>

#include "util/error.hpp"
#include "cli.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lem::cli {

int cmd_tokenize(Args& args) {
  std::string model;
  if (!args.value("-m", model) && !args.value("--model", model))
    fail(Status::InvalidArg, "usage: lem tokenize -m MODEL [--no-bos] [--special] [--json] [TEXT]");
  const bool no_bos = args.flag("--no-bos");
  const bool special = args.flag("--special");  // parse "<start_of_turn>" etc. as control tokens
  const bool json = args.flag("--json");
  const auto rest = args.finish();
  if (rest.size() > 1) fail(Status::InvalidArg, "give the text as one argument (quote it) or on stdin");
  const std::string text = rest.empty() ? std::string(std::istreambuf_iterator<char>(std::cin), {}) : rest[0];

  const Tokenizer tok = Tokenizer::from_path(model);
  const std::vector<int32_t> ids = tok.encode(text, !no_bos && tok.add_bos_by_default(), special);
  std::string out = json ? "[" : "";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? json ? ", " : " " : "") + std::to_string(ids[i]);
  if (json) out += "]";
  std::printf("%s\n", out.c_str());
  return 0;
}

}  // namespace lem::cli
