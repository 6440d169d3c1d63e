#include "tokenizer/token_trie.hpp"

namespace lem {

void TokenTrie::insert(std::string_view text, int32_t id) {
  if (text.empty()) return;
  auto new_node = [this]() {
    nodes_.emplace_back();
    return static_cast<int32_t>(nodes_.size() - 1);
  };

  int32_t& first = root_children_[static_cast<uint8_t>(text[0])];
  if (first < 0) first = new_node();
  int32_t node = first;
  for (size_t i = 1; i < text.size(); ++i) {
    const auto byte = static_cast<uint8_t>(text[i]);
    auto& next = nodes_[static_cast<size_t>(node)].next;
    const auto it = std::lower_bound(next.begin(), next.end(), byte,
                                     [](const std::pair<uint8_t, int32_t>& e, uint8_t b) { return e.first < b; });
    if (it != next.end() && it->first == byte) {
      node = it->second;
    } else {
      const size_t at = static_cast<size_t>(it - next.begin());
      const int32_t created = new_node();  // may reallocate nodes_: re-fetch the vector below
      auto& next_again = nodes_[static_cast<size_t>(node)].next;
      next_again.insert(next_again.begin() + static_cast<std::ptrdiff_t>(at), {byte, created});
      node = created;
    }
  }
  nodes_[static_cast<size_t>(node)].id = id;
}

}  // namespace lem
