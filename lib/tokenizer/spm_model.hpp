// llama.cpp's SPM tokenizer (GGUF tokenizer.ggml.model = "llama"; llm_tokenizer_spm_session in
// llama.cpp src/llama-vocab.cpp) applied to one text fragment whose spaces are already U+2581:
// split into characters by their UTF-8 lead byte, push every adjacent pair whose concatenation
// is a token into a max-heap keyed by that token's score (ties: leftmost), merge until the heap
// is empty, then emit each symbol's id or, failing that, its bytes as <0xHH>. Spec §4.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace lem {

class SpmModel {
 public:
  // `vocab` must outlive the model.
  explicit SpmModel(const Vocab& vocab);

  // Appends the ids of `text` to `out`. Throws InvalidArg when a byte has to be spelled out
  // and the vocabulary has no token for it.
  void encode_fragment(std::string_view text, std::vector<int32_t>& out) const;

 private:
  const Vocab& vocab_;
  // llama.cpp byte_to_token: the <0xHH> token, else the one-byte piece, else -1.
  std::array<int32_t, 256> byte_ids_{};
};

}  // namespace lem
