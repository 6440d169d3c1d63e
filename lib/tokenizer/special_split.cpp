#include "tokenizer/special_split.hpp"

#include <algorithm>

namespace lem {

namespace {

bool splits_here(const TokenizerData& d, int32_t id, bool parse_special) {
  const SplitRule rule = d.split_rules[static_cast<size_t>(id)];
  return rule == SplitRule::Always || (rule == SplitRule::WhenParsingSpecial && parse_special);
}

void push_text(std::vector<Fragment>& out, size_t begin, size_t end) {
  if (end > begin) out.push_back(Fragment{-1, begin, end - begin});
}

}  // namespace

// HF tokenizers (AddedVocabulary, an Aho-Corasick LeftmostLongest automaton): scanning left to
// right, at the first position where some token text starts take the longest one there.
std::vector<Fragment> split_leftmost_longest(const TokenizerData& d, std::string_view text, bool parse_special) {
  std::vector<Fragment> out;
  size_t segment_start = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t best_length = 0;
    int32_t best_id = -1;
    d.split_trie.for_each_match(text, pos, [&](size_t length, int32_t id) {
      if (splits_here(d, id, parse_special)) {
        best_length = length;
        best_id = id;
      }
    });
    if (best_id < 0) {
      ++pos;
      continue;
    }
    push_text(out, segment_start, pos);
    out.push_back(Fragment{best_id, pos, best_length});
    pos += best_length;
    segment_start = pos;
  }
  push_text(out, segment_start, text.size());
  return out;
}

// llama.cpp (tokenizer_st_partition): for each special token, longest text first, cut out every
// occurrence found left to right inside the text that earlier tokens left uncut. Same procedure
// here, but only over the tokens that occur in the text at all (found with the trie), so a long
// input costs time proportional to its length, not to the 6414 special tokens times it.
// Equal-length texts have no defined order in llama.cpp (unstable sort); here ids ascending.
// No two equal-length Gemma 3 texts overlap, so the order cannot matter there.
std::vector<Fragment> split_longest_first(const TokenizerData& d, std::string_view text, bool parse_special) {
  std::vector<int32_t> present;
  std::vector<uint8_t> seen;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    d.split_trie.for_each_match(text, pos, [&](size_t, int32_t id) {
      if (!splits_here(d, id, parse_special)) return;
      if (seen.empty()) seen.assign(static_cast<size_t>(d.vocab.size()), 0);
      if (!seen[static_cast<size_t>(id)]) {
        seen[static_cast<size_t>(id)] = 1;
        present.push_back(id);
      }
    });
  }
  std::sort(present.begin(), present.end(), [&](int32_t a, int32_t b) {
    const size_t la = d.vocab.piece(a).size();
    const size_t lb = d.vocab.piece(b).size();
    return la != lb ? la > lb : a < b;
  });

  std::vector<Fragment> fragments;
  push_text(fragments, 0, text.size());
  std::vector<Fragment> next;
  for (const int32_t id : present) {
    const std::string_view needle = d.vocab.piece(id);
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      const size_t end = f.offset + f.length;
      const std::string_view window = text.substr(0, end);  // matches must end inside the fragment
      size_t cursor = f.offset;
      for (size_t match = window.find(needle, cursor); match != std::string_view::npos;
           match = window.find(needle, cursor)) {
        push_text(next, cursor, match);
        next.push_back(Fragment{id, match, needle.size()});
        cursor = match + needle.size();
      }
      push_text(next, cursor, end);
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace lem
