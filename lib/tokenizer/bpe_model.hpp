// HF tokenizers' BPE model (tokenizer.json "model": {"type": "BPE"}) applied to one word:
// split into Unicode characters, repeatedly merge the adjacent pair with the lowest merge rank
// (leftmost on ties), then emit ids, with characters outside the vocabulary spelled as <0xHH>
// byte tokens (byte_fallback) or <unk>. Spec §4, "HF encode".
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.hpp"

namespace lem {

struct BpeMerge {
  int32_t left = 0;
  int32_t right = 0;
  int32_t result = 0;
};

struct BpeOptions {
  int32_t model_vocab_size = 0;  // ids at or above this are added tokens, not BPE pieces
  int32_t unk_id = -1;           // -1: characters that cannot be encoded are dropped (as HF does)
  bool byte_fallback = false;
  bool fuse_unk = false;
  bool ignore_merges = false;  // a word that is itself a piece is emitted whole
};

class BpeModel {
 public:
  // `merges` in rank order (rank = index). A pair listed twice keeps its last rank, as HF's
  // HashMap construction does. `vocab` must outlive the model.
  BpeModel(const Vocab& vocab, const std::vector<BpeMerge>& merges, BpeOptions options);

  // Appends the ids of `word` (already normalised: spaces are U+2581) to `out`.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  size_t n_merges() const { return n_merges_; }

 private:
  struct Slot {
    uint64_t key = kEmpty;
    int32_t rank = 0;
    int32_t result = 0;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  const Slot* find_merge(int32_t left, int32_t right) const;
  int32_t model_piece(std::string_view text) const;

  const Vocab& vocab_;
  BpeOptions options_;
  std::vector<Slot> slots_;  // open addressing, power-of-two size
  size_t n_merges_ = 0;
};

}  // namespace lem
