// Cutting special/added tokens out of raw text before the subword model runs. The two reference
// implementations do this differently, and the difference is visible (spec §4):
//   * HF tokenizers: leftmost-longest (at the first position where any token text starts, the
//     longest text there wins);
//   * llama.cpp: longest text first over the whole input, then the next longest in what is left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer_data.hpp"

namespace lem {

// A piece of the input: either a token cut out whole, or text for the subword model.
struct Fragment {
  int32_t token = -1;  // >= 0: this token; -1: text[offset, offset + length)
  size_t offset = 0;
  size_t length = 0;
};

// Tokens with SplitRule::WhenParsingSpecial take part only when `parse_special`.
std::vector<Fragment> split_leftmost_longest(const TokenizerData& d, std::string_view text, bool parse_special);
std::vector<Fragment> split_longest_first(const TokenizerData& d, std::string_view text, bool parse_special);

}  // namespace lem
