// The Gemma 3 tokenizer: text ↔ token ids, and the chat template. Spec §3, §4.
//
// Two sources, each reproducing its reference implementation exactly:
//   * tokenizer.json (+ tokenizer_config.json): HF tokenizers' BPE. Added tokens are cut out of
//     the raw text leftmost-longest, spaces become U+2581, words are merged by merge rank, and
//     characters outside the vocabulary fall back to <0xHH> byte tokens.
//   * GGUF metadata (tokenizer.ggml.model "llama"): llama.cpp's SPM tokenizer. User-defined and
//     (with special parsing) control tokens are cut out longest first, fragments are merged by
//     token score, unknown characters spelled as bytes.
// Both agree on ordinary text; spec §4 lists where they differ (special-looking text without
// special parsing, literal U+2581, <image_soft_token>).
//
// Ill-formed UTF-8 input is accepted: each invalid byte becomes its <0xHH> token (llama.cpp's
// behaviour; HF has no such input) and decode() gives the bytes back.
//
// Thread safety: a Tokenizer is immutable; copies share the tables and all methods are const.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/chat_template.hpp"
#include "tokenizer/vocab.hpp"

namespace lem {

namespace io {
class GgufFile;
}

struct TokenizerData;

enum class TokenizerKind {
  HfBpe,  // from tokenizer.json
  Spm,    // from GGUF metadata, llama.cpp semantics
};

class Tokenizer {
 public:
  // tokenizer.json, optionally with tokenizer_config.json (chat template, add_bos_token,
  // eos_token) and generation_config.json (eos_token_id) from the same model. Empty paths are
  // skipped. Throws lem::Error: Io (unreadable), BadFormat (malformed), Unsupported (a
  // tokenizer.json feature Gemma 3 does not use, e.g. another model type or normalizer).
  static Tokenizer from_hf_json(const std::string& tokenizer_json_path, const std::string& config_path = {},
                                const std::string& generation_config_path = {});
  // The tokenizer.ggml.* metadata of a GGUF file (vocab-only files work). Copies what it needs:
  // the file may be closed afterwards.
  static Tokenizer from_gguf(const io::GgufFile& file);
  // A .gguf file, a tokenizer.json file, or a folder holding tokenizer.json (tokenizer_config.json
  // and generation_config.json beside it are used when present).
  static Tokenizer from_path(const std::string& file_or_dir);

  TokenizerKind kind() const;

  // Text → ids. add_bos prepends bos_id(). parse_special: text spelling a special token (e.g.
  // "<start_of_turn>") becomes that token, as HF encode and apply_chat_template do; turn it off
  // for untrusted text (then HF tokenizers match only their non-special added tokens, and
  // llama.cpp only user-defined tokens).
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  // Ids → bytes. skip_special drops the special tokens: HF's special=true added tokens (Gemma 3:
  // 0-3, 105, 106, 255999, 256000, 262144) for tokenizer.json, CONTROL/UNKNOWN tokens for GGUF.
  // Byte tokens are joined raw; the result is valid UTF-8 whenever the ids came from encoding
  // valid text (use utf8::sanitize otherwise). Throws InvalidArg for an id out of range.
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;

  // The bytes one token contributes to decode() (a single raw byte for byte tokens).
  std::string_view token_text(int32_t id) const;
  // The token's piece as stored in the vocabulary ("▁Hello", "<0x0A>", "<start_of_turn>").
  std::string_view piece(int32_t id) const;
  // Id of the token whose piece is exactly `piece`, or -1.
  int32_t find_piece(std::string_view piece) const;

  int32_t n_vocab() const;
  int32_t bos_id() const;   // -1 when the vocabulary has none
  int32_t eos_id() const;   // the file's eos token (Gemma 3 GGUFs: 1 or 106), -1 when none
  int32_t unk_id() const;
  int32_t pad_id() const;
  // The ids that end generation. For Gemma 3: {1 <eos>, 106 <end_of_turn>} from either source
  // (HF's generation_config; llama.cpp would also stop on </s> = 212, which is ordinary HTML).
  const std::vector<int32_t>& eos_ids() const;
  bool is_eos(int32_t id) const;
  // Whether the model's files ask for a BOS at the start of every sequence.
  bool add_bos_by_default() const;
  // True when decode() drops one leading space from the first token: llama.cpp SPM vocabularies
  // with add_space_prefix (encode puts "▁" before the text). False for Gemma 3.
  bool decode_strips_leading_space() const;

  TokenType token_type(int32_t id) const;
  bool is_control(int32_t id) const;  // token_type == Control
  bool is_special(int32_t id) const;  // dropped by decode(skip_special=true)

  // The chat template text found in the files (empty when none). Rendering always uses the
  // built-in Gemma 3 renderer (chat_template.hpp), which reproduces that template.
  const std::string& chat_template_source() const;
  // Gemma 3 chat prompt, starting with the BOS text: tokenise it with add_bos=false and
  // parse_special=true (or use encode_chat).
  std::string apply_chat_template(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                  ChatImages images = ChatImages::Reject) const;
  // Renders and tokenises a conversation. With parse_special_in_messages the ids equal HF's
  // apply_chat_template(tokenize=True); without it, text typed inside messages cannot become
  // control tokens (a user writing "<end_of_turn>" gets the literal text): use this for
  // untrusted input.
  std::vector<int32_t> encode_chat(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                   bool parse_special_in_messages, ChatImages images = ChatImages::Reject) const;

 private:
  explicit Tokenizer(std::shared_ptr<const TokenizerData> data) : data_(std::move(data)) {}
  void check_id(int32_t id) const;
  void encode_into(std::string_view text, bool parse_special, std::vector<int32_t>& out) const;

  std::shared_ptr<const TokenizerData> data_;
};

// Turns a stream of token ids into text one id at a time, returning only complete UTF-8
// characters: the bytes of a character split across byte tokens are held back until it is
// whole. Every returned chunk is valid UTF-8; ill-formed byte sequences come out as U+FFFD
// (so the concatenation equals utf8::sanitize(tokenizer.decode(ids)), and decode(ids) itself
// whenever that is valid). The tokenizer must outlive the detokenizer.
class StreamingDetokenizer {
 public:
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special = false);

  // Text completed by `id` (often empty while a multi-byte character is in flight).
  std::string push(int32_t id);
  // End of stream: bytes still held back (an unfinished character) as U+FFFD; then reset.
  std::string flush();
  void reset();

 private:
  std::string take_complete();

  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool at_start_ = true;
  std::string pending_;
};

}  // namespace lem
