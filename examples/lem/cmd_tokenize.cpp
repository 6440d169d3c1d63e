// `lem tokenize -m MODEL [--no-bos] [--special] [--json] ["text"]`: token ids of a text (from the
// argument, else stdin). MODEL may be a full model, a vocab-only GGUF, or a folder with only
// tokenizer.json / tokenizer_config.json: it is loaded with LEM_LOAD_VOCAB_ONLY, no weights.
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_error.hpp"
#include "lem/lem.h"
#include "options.hpp"

namespace cli {

int cmd_tokenize(Args& args) {
  const std::string model_path = parse_model_path(args, "usage: lem tokenize -m MODEL [--no-bos] [--special] [--json] [TEXT]");
  const bool no_bos = args.flag("--no-bos");
  const bool special = args.flag("--special");  // parse "<start_of_turn>" etc. as control tokens
  const bool json = args.flag("--json");
  const auto rest = args.finish();
  if (rest.size() > 1) usage_error("give the text as one argument (quote it) or on stdin");
  const std::string text = rest.empty() ? read_stdin() : rest[0];

  const Model model = load_model(model_path, LEM_LOAD_VOCAB_ONLY, /*verbose=*/false);
  // <bos> when the vocabulary asks for it (all Gemma vocabularies do), unless --no-bos.
  const bool add_bos = !no_bos && lem_vocab_add_bos(model.get()) != 0;
  const uint32_t flags = (add_bos ? LEM_TOKENIZE_ADD_BOS : 0u) | (special ? LEM_TOKENIZE_PARSE_SPECIAL : 0u);
  const std::vector<int32_t> ids = tokenize(model.get(), text, flags);
  std::string out = json ? "[" : "";
  out += join_ids(ids, json ? ", " : " ");
  out += json ? "]\n" : "\n";
  write_stdout(out.data(), out.size());
  return 0;
}

}  // namespace cli
