#include "tokenizer/spm_model.hpp"

#include <limits>
#include <queue>
#include <string>

#include "util/error.hpp"

namespace lem {

namespace {

// llama.cpp unicode_len_utf8: the sequence length implied by a lead byte, looked up by its high
// nibble. Continuation and invalid bytes count as length 1; a length running past the end of
// the text is cut there. This (not strict UTF-8 validation) decides what an invalid byte
// sequence turns into, e.g. "\xC3A" is one symbol and so two byte tokens.
size_t lead_byte_length(char c) {
  static constexpr uint8_t kLengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLengths[static_cast<uint8_t>(c) >> 4];
}

struct Symbol {
  uint32_t offset;  // into the fragment
  uint32_t size;    // bytes; 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Bigram {
  int32_t left;
  int32_t right;
  float score;
  uint32_t size;  // bytes of the merged text, to recognise stale entries
};

// Max-heap on score; on equal scores the leftmost pair first (llm_bigram_spm::comparator).
struct LowerPriority {
  bool operator()(const Bigram& a, const Bigram& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

}  // namespace

SpmModel::SpmModel(const Vocab& vocab) : vocab_(vocab) {
  for (int b = 0; b < 256; ++b) {
    int32_t id = vocab.byte_token(static_cast<uint8_t>(b));
    if (id < 0) id = vocab.find(std::string(1, static_cast<char>(b)));
    byte_ids_[static_cast<size_t>(b)] = id;
  }
}

void SpmModel::encode_fragment(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    fail(Status::InvalidArg, "cannot tokenize {} bytes of text in one piece (at most {})", text.size(),
         std::numeric_limits<int32_t>::max());

  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t offset = 0; offset < text.size();) {
    const size_t size = std::min(lead_byte_length(text[offset]), text.size() - offset);
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{static_cast<uint32_t>(offset), static_cast<uint32_t>(size), index - 1,
                             offset + size == text.size() ? -1 : index + 1});
    offset += size;
  }

  std::priority_queue<Bigram, std::vector<Bigram>, LowerPriority> queue;
  auto try_add_bigram = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[static_cast<size_t>(left)];
    const Symbol& r = symbols[static_cast<size_t>(right)];
    const std::string_view merged = text.substr(l.offset, l.size + r.size);  // adjacent: contiguous
    const int32_t id = vocab_.find(merged);
    if (id < 0) return;
    queue.push(Bigram{left, right, vocab_.score(id), static_cast<uint32_t>(merged.size())});
  };

  for (size_t i = 1; i < symbols.size(); ++i) try_add_bigram(static_cast<int32_t>(i - 1), static_cast<int32_t>(i));

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(bigram.left)];
    Symbol& right = symbols[static_cast<size_t>(bigram.right)];
    // Sizes only grow, so a pair whose sizes no longer add up was overtaken by another merge.
    if (left.size == 0 || right.size == 0 || left.size + right.size != bigram.size) continue;

    left.size += right.size;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[static_cast<size_t>(right.next)].prev = bigram.left;

    try_add_bigram(left.prev, bigram.left);
    try_add_bigram(bigram.left, left.next);
  }

  // Every merged symbol spells a token (it was only merged because it did); a symbol that is not
  // a token is a single character outside the vocabulary and goes out byte by byte.
  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next) {
    const Symbol& s = symbols[static_cast<size_t>(i)];
    const std::string_view piece = text.substr(s.offset, s.size);
    const int32_t id = vocab_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (char c : piece) {
      const int32_t byte_id = byte_ids_[static_cast<uint8_t>(c)];
      if (byte_id < 0)
        fail(Status::InvalidArg, "{}: cannot encode byte 0x{:02X}: the vocabulary has no <0x{:02X}> token",
             vocab_.source(), static_cast<uint8_t>(c), static_cast<uint8_t>(c));
      out.push_back(byte_id);
    }
  }
}

}  // namespace lem
