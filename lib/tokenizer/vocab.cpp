#include "tokenizer/vocab.hpp"

#include <functional>
#include <limits>

#include "util/error.hpp"
#include "tokenizer/utf8.hpp"

namespace lem {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 '▁'

std::string replace_space_markers(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  for (size_t pos = 0; pos < piece.size();) {
    if (piece.compare(pos, kSpaceMarker.size(), kSpaceMarker) == 0) {
      out += ' ';
      pos += kSpaceMarker.size();
    } else {
      out += piece[pos++];
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

const char* token_type_name(TokenType type) {
  switch (type) {
    case TokenType::Undefined: return "undefined";
    case TokenType::Normal: return "normal";
    case TokenType::Unknown: return "unknown";
    case TokenType::Control: return "control";
    case TokenType::UserDefined: return "user-defined";
    case TokenType::Unused: return "unused";
    case TokenType::Byte: return "byte";
  }
  return "invalid";
}

int parse_byte_piece(std::string_view piece) {
  if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
  const int hi = hex_digit(piece[3]);
  const int lo = hex_digit(piece[4]);
  if (hi < 0 || lo < 0) return -1;
  return hi * 16 + lo;
}

void Vocab::reserve(size_t n_tokens, size_t piece_bytes) {
  pieces_.reserve(piece_bytes);
  piece_offsets_.reserve(n_tokens + 1);
  types_.reserve(n_tokens);
  scores_.reserve(n_tokens);
  skip_on_decode_.reserve(n_tokens);
}

void Vocab::add_token(std::string_view piece, TokenType type, float score) {
  // Offsets are 32-bit: refuse a table whose text would not fit (only a hostile file gets here).
  if (pieces_.size() + piece.size() > std::numeric_limits<uint32_t>::max() ||
      types_.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    fail(Status::BadFormat, "{}: the token table is too large ({} tokens, {} bytes of text)", source_,
         types_.size(), pieces_.size());
  if (piece_offsets_.empty()) piece_offsets_.push_back(0);
  pieces_.append(piece);
  piece_offsets_.push_back(static_cast<uint32_t>(pieces_.size()));
  types_.push_back(type);
  scores_.push_back(score);
  skip_on_decode_.push_back(0);
}

size_t Vocab::hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

void Vocab::finalize(DecodeStyle style) {
  const size_t n = types_.size();
  if (piece_offsets_.empty()) piece_offsets_.push_back(0);

  // Hash index at most half full.
  size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  index_slots_.assign(capacity, IndexSlot{});
  const size_t mask = capacity - 1;
  for (size_t id = 0; id < n; ++id) {
    const std::string_view p = piece(static_cast<int32_t>(id));
    if (p.empty()) continue;  // an empty piece can never be matched
    const size_t h = hash(p);
    const auto tag = static_cast<uint32_t>(h >> 32);
    size_t slot = h & mask;
    while (index_slots_[slot].id >= 0) {
      if (index_slots_[slot].hash_tag == tag && piece(index_slots_[slot].id) == p)
        fail(Status::BadFormat, "{}: duplicate token text '{}' (ids {} and {})", source_, utf8::printable(p),
             index_slots_[slot].id, id);
      slot = (slot + 1) & mask;
    }
    index_slots_[slot] = IndexSlot{tag, static_cast<int32_t>(id)};
  }

  byte_tokens_.fill(-1);
  for (int b = 0; b < 256; ++b) {
    const std::string name = fmt::format("<0x{:02X}>", b);
    byte_tokens_[static_cast<size_t>(b)] = find(name);
  }

  decoded_.clear();
  decoded_offsets_.assign(1, 0);
  decoded_offsets_.reserve(n + 1);
  decoded_.reserve(pieces_.size());
  for (size_t id = 0; id < n; ++id) {
    const auto i = static_cast<int32_t>(id);
    const std::string_view p = piece(i);
    const int byte = parse_byte_piece(p);
    if (style == DecodeStyle::HfByteFallback) {
      if (byte >= 0) {
        decoded_ += static_cast<char>(byte);
      } else {
        decoded_ += replace_space_markers(p);
      }
    } else {
      switch (types_[id]) {
        case TokenType::Byte:
          if (byte < 0)
            fail(Status::BadFormat, "{}: token {} has type byte but its text '{}' is not of the form <0xHH>", source_,
                 id, utf8::printable(p));
          decoded_ += static_cast<char>(byte);
          break;
        case TokenType::Normal:
          decoded_ += replace_space_markers(p);
          break;
        case TokenType::Control:
        case TokenType::Unknown:
        case TokenType::UserDefined:
          decoded_ += p;
          break;
        case TokenType::Unused:
        case TokenType::Undefined:
          break;
      }
    }
    if (decoded_.size() > std::numeric_limits<uint32_t>::max())
      fail(Status::BadFormat, "{}: the token table is too large", source_);
    decoded_offsets_.push_back(static_cast<uint32_t>(decoded_.size()));
  }
}

std::string_view Vocab::piece(int32_t id) const {
  const auto i = static_cast<size_t>(id);
  return std::string_view(pieces_).substr(piece_offsets_[i], piece_offsets_[i + 1] - piece_offsets_[i]);
}

std::string_view Vocab::decoded(int32_t id) const {
  const auto i = static_cast<size_t>(id);
  return std::string_view(decoded_).substr(decoded_offsets_[i], decoded_offsets_[i + 1] - decoded_offsets_[i]);
}

int32_t Vocab::find(std::string_view p) const {
  if (p.empty() || index_slots_.empty()) return -1;
  const size_t h = hash(p);
  const auto tag = static_cast<uint32_t>(h >> 32);
  const size_t mask = index_slots_.size() - 1;
  for (size_t slot = h & mask;; slot = (slot + 1) & mask) {
    const IndexSlot& s = index_slots_[slot];
    if (s.id < 0) return -1;
    if (s.hash_tag == tag && piece(s.id) == p) return s.id;
  }
}

}  // namespace lem
