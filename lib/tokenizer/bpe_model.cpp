#include "tokenizer/bpe_model.hpp"

#include <queue>

#include "tokenizer/utf8.hpp"

namespace lem {

namespace {

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: spreads the packed id pair over the table
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return x;
}

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  bool alive;
  bool is_unk;
};

// A possible merge of the symbol at `pos` with its right neighbour.
struct Candidate {
  int32_t rank;
  int32_t pos;
  int32_t result;
};

// std::priority_queue keeps the "largest" on top: make that the lowest rank, then leftmost.
struct MergesLater {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

BpeModel::BpeModel(const Vocab& vocab, const std::vector<BpeMerge>& merges, BpeOptions options)
    : vocab_(vocab), options_(options), n_merges_(merges.size()) {
  size_t capacity = 16;
  while (capacity < merges.size() + merges.size() / 3 + 1) capacity *= 2;
  slots_.assign(capacity, Slot{});
  const size_t mask = capacity - 1;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const BpeMerge& m = merges[rank];
    const uint64_t key = pair_key(m.left, m.right);
    size_t slot = mix(key) & mask;
    while (slots_[slot].key != kEmpty && slots_[slot].key != key) slot = (slot + 1) & mask;
    slots_[slot] = Slot{key, static_cast<int32_t>(rank), m.result};
  }
}

const BpeModel::Slot* BpeModel::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  const size_t mask = slots_.size() - 1;
  for (size_t slot = mix(key) & mask;; slot = (slot + 1) & mask) {
    if (slots_[slot].key == key) return &slots_[slot];
    if (slots_[slot].key == kEmpty) return nullptr;
  }
}

int32_t BpeModel::model_piece(std::string_view text) const {
  const int32_t id = vocab_.find(text);
  return id < options_.model_vocab_size ? id : -1;
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    const int32_t whole = model_piece(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }

  // 1. One symbol per character; characters outside the vocabulary become byte tokens or <unk>.
  // Ill-formed UTF-8 (possible from C++ callers, never from HF's Unicode strings) is handled
  // like an unknown character, so each invalid byte ends up as its <0xHH> token.
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  auto push = [&symbols](int32_t id, bool is_unk) {
    symbols.push_back(Symbol{id, static_cast<int32_t>(symbols.size()) - 1, -1, true, is_unk});
  };
  for (size_t pos = 0; pos < word.size();) {
    const utf8::DecodedChar c = utf8::decode_char(word, pos);
    const std::string_view text = word.substr(pos, c.length);
    pos += c.length;

    const int32_t id = c.status == utf8::CharStatus::Ok ? model_piece(text) : -1;
    if (id >= 0) {
      push(id, false);
      continue;
    }
    bool bytes_known = options_.byte_fallback;
    for (size_t i = 0; bytes_known && i < text.size(); ++i)
      bytes_known = vocab_.byte_token(static_cast<uint8_t>(text[i])) >= 0;
    if (bytes_known) {
      for (char byte : text) push(vocab_.byte_token(static_cast<uint8_t>(byte)), false);
    } else if (options_.unk_id >= 0) {
      if (!(options_.fuse_unk && !symbols.empty() && symbols.back().is_unk)) push(options_.unk_id, true);
    }
  }
  if (symbols.empty()) return;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) symbols[i].next = static_cast<int32_t>(i + 1);

  // 2. Merge by rank. Stale queue entries are recognised, as in HF's Word::merge_all, by the
  // current pair no longer producing the queued result.
  std::priority_queue<Candidate, std::vector<Candidate>, MergesLater> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i) {
    if (const Slot* m = find_merge(symbols[i].id, symbols[i + 1].id))
      queue.push(Candidate{m->rank, static_cast<int32_t>(i), m->result});
  }
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[static_cast<size_t>(top.pos)];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    const Slot* current = find_merge(left.id, right.id);
    if (current == nullptr || current->result != top.result) continue;

    left.id = top.result;
    left.is_unk = false;
    right.alive = false;
    left.next = right.next;
    if (left.next >= 0) symbols[static_cast<size_t>(left.next)].prev = top.pos;

    if (left.prev >= 0) {
      if (const Slot* m = find_merge(symbols[static_cast<size_t>(left.prev)].id, left.id))
        queue.push(Candidate{m->rank, left.prev, m->result});
    }
    if (left.next >= 0) {
      if (const Slot* m = find_merge(left.id, symbols[static_cast<size_t>(left.next)].id))
        queue.push(Candidate{m->rank, top.pos, m->result});
    }
  }

  // 3. The first symbol always survives (merges fold the right symbol into the left one).
  for (int32_t i = 0; i >= 0; i = symbols[static_cast<size_t>(i)].next)
    out.push_back(symbols[static_cast<size_t>(i)].id);
}

}  // namespace lem
