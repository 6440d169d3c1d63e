// Byte trie over the texts of the tokens that are cut out of raw text before the subword model
// runs (HF added tokens, llama.cpp's user-defined/control tokens). Answers "which of these texts
// start at this position" in time proportional to the longest match.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace lem {

class TokenTrie {
 public:
  TokenTrie() { root_children_.fill(-1); }

  // Adds `text` (non-empty) for token `id`; a second insert of the same text replaces the id.
  void insert(std::string_view text, int32_t id);

  bool empty() const { return nodes_.empty(); }

  // Calls visit(length, id) for every inserted text that occurs at text[pos...], shortest first.
  template <class Visit>
  void for_each_match(std::string_view text, size_t pos, Visit&& visit) const {
    if (pos >= text.size()) return;
    int32_t node = root_children_[static_cast<uint8_t>(text[pos])];
    size_t length = 1;
    while (node >= 0) {
      const Node& n = nodes_[static_cast<size_t>(node)];
      if (n.id >= 0) visit(length, n.id);
      if (pos + length >= text.size()) return;
      node = child(n, static_cast<uint8_t>(text[pos + length]));
      ++length;
    }
  }

 private:
  struct Node {
    int32_t id = -1;                                // token ending here, or -1
    std::vector<std::pair<uint8_t, int32_t>> next;  // sorted by byte
  };

  static int32_t child(const Node& n, uint8_t byte) {
    const auto it = std::lower_bound(n.next.begin(), n.next.end(), byte,
                                     [](const std::pair<uint8_t, int32_t>& e, uint8_t b) { return e.first < b; });
    return it != n.next.end() && it->first == byte ? it->second : -1;
  }

  std::array<int32_t, 256> root_children_{};
  std::vector<Node> nodes_;
};

}  // namespace lem
