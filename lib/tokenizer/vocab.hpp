// The token table: piece strings in id order, their types, scores and decoded bytes, and a hash
// index from piece to id. Built once by a loader (tokenizer.json or GGUF), immutable afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lem {

// GGUF `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type); tokenizer.json tokens
// are mapped onto the same scale (spec §4).
enum class TokenType : uint8_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

const char* token_type_name(TokenType type);

// How a token turns back into bytes.
enum class DecodeStyle : uint8_t {
  // tokenizer.json decoder Replace("▁"→" ") + ByteFallback + Fuse: a piece spelled <0xHH> is that
  // byte, every other piece is its text with U+2581 turned into a space.
  HfByteFallback,
  // llama.cpp token_to_piece (SPM): BYTE → the byte, NORMAL → text with U+2581 → space,
  // CONTROL / UNKNOWN / USER_DEFINED → the text verbatim, UNUSED / UNDEFINED → nothing.
  Spm,
};

class Vocab {
 public:
  // `source` names the file in error messages.
  explicit Vocab(std::string source) : source_(std::move(source)) {}

  // Building: tokens are appended in id order, then finalize() builds the index.
  void reserve(size_t n_tokens, size_t piece_bytes);
  void add_token(std::string_view piece, TokenType type, float score);
  void set_type(int32_t id, TokenType type) { types_[static_cast<size_t>(id)] = type; }
  // Marks the tokens that decode(skip_special=true) drops.
  void set_skipped_on_decode(int32_t id, bool skipped) { skip_on_decode_[static_cast<size_t>(id)] = skipped; }
  // Builds the piece index (throws BadFormat on a duplicate piece), the byte table and the
  // decoded bytes of every token.
  void finalize(DecodeStyle style);

  int32_t size() const { return static_cast<int32_t>(types_.size()); }
  bool contains(int32_t id) const { return id >= 0 && id < size(); }
  const std::string& source() const { return source_; }

  // The following take a valid id (contains(id)).
  std::string_view piece(int32_t id) const;
  std::string_view decoded(int32_t id) const;  // the bytes this token contributes to decode()
  TokenType type(int32_t id) const { return types_[static_cast<size_t>(id)]; }
  float score(int32_t id) const { return scores_[static_cast<size_t>(id)]; }
  bool skipped_on_decode(int32_t id) const { return skip_on_decode_[static_cast<size_t>(id)] != 0; }

  // Id of the token whose piece is exactly `piece`, or -1. Empty pieces are never found.
  int32_t find(std::string_view piece) const;
  // Id of the byte-fallback token <0xHH> for `byte`, or -1 when the vocabulary has none.
  int32_t byte_token(uint8_t byte) const { return byte_tokens_[byte]; }

 private:
  static size_t hash(std::string_view s);

  std::string source_;
  std::string pieces_;                   // all pieces back to back
  std::vector<uint32_t> piece_offsets_;  // size n + 1
  std::string decoded_;
  std::vector<uint32_t> decoded_offsets_;  // size n + 1
  std::vector<TokenType> types_;
  std::vector<float> scores_;
  std::vector<uint8_t> skip_on_decode_;
  // Open-addressing hash index, size a power of two. Each slot keeps the upper hash bits next to
  // the id so that a probe touches the piece text only when it very likely matches.
  struct IndexSlot {
    uint32_t hash_tag = 0;
    int32_t id = -1;  // -1: empty
  };
  std::vector<IndexSlot> index_slots_;
  std::array<int32_t, 256> byte_tokens_{};
};

// Parses a byte-fallback piece "<0xHH>" (two hex digits, either case); returns -1 otherwise.
int parse_byte_piece(std::string_view piece);

}  // namespace lem
