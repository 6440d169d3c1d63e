// Internal: everything a Tokenizer holds, filled by the two loaders (hf_json_loader.cpp,
// gguf_vocab_loader.cpp) and read by tokenizer.cpp. Not for use outside lib/tokenizer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/bpe_model.hpp"
#include "tokenizer/spm_model.hpp"
#include "tokenizer/token_trie.hpp"
#include "tokenizer/tokenizer.hpp"
#include "tokenizer/vocab.hpp"

namespace lem {

// How a token listed in the split trie is cut out of raw text.
enum class SplitRule : uint8_t {
  Never = 0,              // not cut out: left to the subword model
  Always = 1,             // HF non-special added tokens; llama.cpp USER_DEFINED
  WhenParsingSpecial = 2, // HF special=true added tokens; llama.cpp CONTROL / UNKNOWN
};

struct TokenizerData {
  explicit TokenizerData(std::string source) : vocab(std::move(source)) {}
  TokenizerData(const TokenizerData&) = delete;  // the models hold references to `vocab`
  TokenizerData& operator=(const TokenizerData&) = delete;

  TokenizerKind kind = TokenizerKind::HfBpe;
  Vocab vocab;

  std::vector<SplitRule> split_rules;  // per token
  TokenTrie split_trie;                // texts of the tokens whose rule is not Never

  std::unique_ptr<BpeModel> bpe;  // kind == HfBpe
  std::unique_ptr<SpmModel> spm;  // kind == Spm

  bool replace_spaces = true;     // HF normalizer Replace(" " → "▁"); llama.cpp always escapes
  bool add_space_prefix = false;  // llama.cpp SPM: " " before a fragment that follows a special token
  bool add_bos = true;
  bool add_eos = false;

  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t pad_id = -1;
  std::vector<int32_t> eos_ids;  // sorted, unique
  std::string chat_template;

  // Fills split_trie from split_rules; adds the Gemma 3 stop tokens to eos_ids and sorts them.
  void finish();
};

}  // namespace lem
