#include "tokenizer/tokenizer.hpp"

#include <algorithm>
#include <filesystem>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "tokenizer/gguf_vocab_loader.hpp"
#include "tokenizer/hf_json_loader.hpp"
#include "tokenizer/special_split.hpp"
#include "tokenizer/tokenizer_data.hpp"

namespace lem {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 '▁'

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == ' ') {
      out.append(kSpaceMarker);
    } else {
      out += c;
    }
  }
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

// ---- TokenizerData ---------------------------------------------------------------------------

void TokenizerData::finish() {
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if (split_rules[static_cast<size_t>(id)] != SplitRule::Never) split_trie.insert(vocab.piece(id), id);
  }
  // Gemma 3 ends a turn with <end_of_turn> and a sequence with <eos>: stop on both whatever the
  // files name as eos (spec §3; HF generation_config eos_token_id [1, 106]).
  for (std::string_view stop : {"<eos>", "<end_of_turn>"}) {
    const int32_t id = vocab.find(stop);
    if (id >= 0) eos_ids.push_back(id);
  }
  std::sort(eos_ids.begin(), eos_ids.end());
  eos_ids.erase(std::unique(eos_ids.begin(), eos_ids.end()), eos_ids.end());
}

// ---- construction ----------------------------------------------------------------------------

Tokenizer Tokenizer::from_hf_json(const std::string& tokenizer_json_path, const std::string& config_path,
                                  const std::string& generation_config_path) {
  return Tokenizer(load_hf_tokenizer(tokenizer_json_path, config_path, generation_config_path));
}

Tokenizer Tokenizer::from_gguf(const io::GgufFile& file) { return Tokenizer(load_gguf_tokenizer(file)); }

Tokenizer Tokenizer::from_path(const std::string& file_or_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(file_or_dir, ec)) {
    const fs::path dir(file_or_dir);
    const std::string json = (dir / "tokenizer.json").string();
    if (!is_file(json)) fail(Status::Io, "{}: no tokenizer.json in this folder", file_or_dir);
    const std::string config = (dir / "tokenizer_config.json").string();
    const std::string generation = (dir / "generation_config.json").string();
    return from_hf_json(json, is_file(config) ? config : std::string(),
                        is_file(generation) ? generation : std::string());
  }
  if (!is_file(file_or_dir)) fail(Status::Io, "{}: no such file or folder", file_or_dir);
  if (io::GgufFile::has_magic(file_or_dir)) {
    const auto gguf = io::GgufFile::open(file_or_dir);
    return from_gguf(*gguf);
  }
  // A tokenizer.json: pick up the configs next to it.
  const fs::path dir = fs::path(file_or_dir).parent_path();
  const std::string config = (dir / "tokenizer_config.json").string();
  const std::string generation = (dir / "generation_config.json").string();
  return from_hf_json(file_or_dir, is_file(config) ? config : std::string(),
                      is_file(generation) ? generation : std::string());
}

// ---- encoding --------------------------------------------------------------------------------

void Tokenizer::encode_into(std::string_view text, bool parse_special, std::vector<int32_t>& out) const {
  const TokenizerData& d = *data_;
  const bool hf = d.kind == TokenizerKind::HfBpe;
  const std::vector<Fragment> fragments =
      hf ? split_leftmost_longest(d, text, parse_special) : split_longest_first(d, text, parse_special);

  std::string normalized;
  bool previous_was_token = true;  // llama.cpp's add_space_prefix applies after a token and at the start
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      previous_was_token = true;
      continue;
    }
    const std::string_view piece = text.substr(f.offset, f.length);
    normalized.clear();
    if (hf) {
      // Normalizer Replace(" " → "▁"); the Split pre-tokenizer then finds nothing to split,
      // so the whole fragment is one BPE word.
      if (d.replace_spaces) {
        append_escaped(normalized, piece);
      } else {
        normalized.assign(piece);
      }
      d.bpe->encode_word(normalized, out);
    } else {
      if (d.add_space_prefix && previous_was_token) normalized += kSpaceMarker;
      append_escaped(normalized, piece);
      d.spm->encode_fragment(normalized, out);
    }
    previous_was_token = false;
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 2);
  if (add_bos) {
    if (data_->bos_id < 0)
      fail(Status::InvalidArg, "{}: cannot add BOS: the vocabulary has no BOS token", data_->vocab.source());
    out.push_back(data_->bos_id);
  }
  encode_into(text, parse_special, out);
  return out;
}

// ---- decoding and token properties -------------------------------------------------------------

void Tokenizer::check_id(int32_t id) const {
  if (!data_->vocab.contains(id))
    fail(Status::InvalidArg, "token id {} is out of range (the vocabulary has {} tokens)", id, data_->vocab.size());
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  const Vocab& v = data_->vocab;
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    check_id(ids[i]);
    if (skip_special && v.skipped_on_decode(ids[i])) continue;
    std::string_view text = v.decoded(ids[i]);
    // llama.cpp drops the space that add_space_prefix put before the first token.
    if (i == 0 && decode_strips_leading_space() && !text.empty() && text[0] == ' ')
      text.remove_prefix(1);
    out.append(text);
  }
  return out;
}

std::string_view Tokenizer::token_text(int32_t id) const {
  check_id(id);
  return data_->vocab.decoded(id);
}

std::string_view Tokenizer::piece(int32_t id) const {
  check_id(id);
  return data_->vocab.piece(id);
}

int32_t Tokenizer::find_piece(std::string_view piece) const { return data_->vocab.find(piece); }

TokenizerKind Tokenizer::kind() const { return data_->kind; }
int32_t Tokenizer::n_vocab() const { return data_->vocab.size(); }
int32_t Tokenizer::bos_id() const { return data_->bos_id; }
int32_t Tokenizer::eos_id() const { return data_->eos_id; }
int32_t Tokenizer::unk_id() const { return data_->unk_id; }
int32_t Tokenizer::pad_id() const { return data_->pad_id; }
const std::vector<int32_t>& Tokenizer::eos_ids() const { return data_->eos_ids; }
bool Tokenizer::add_bos_by_default() const { return data_->add_bos; }
bool Tokenizer::decode_strips_leading_space() const {
  return data_->kind == TokenizerKind::Spm && data_->add_space_prefix;
}
const std::string& Tokenizer::chat_template_source() const { return data_->chat_template; }

bool Tokenizer::is_eos(int32_t id) const {
  return std::binary_search(data_->eos_ids.begin(), data_->eos_ids.end(), id);
}

TokenType Tokenizer::token_type(int32_t id) const {
  check_id(id);
  return data_->vocab.type(id);
}

bool Tokenizer::is_control(int32_t id) const { return token_type(id) == TokenType::Control; }

bool Tokenizer::is_special(int32_t id) const {
  check_id(id);
  return data_->vocab.skipped_on_decode(id);
}

// ---- chat ------------------------------------------------------------------------------------

std::string Tokenizer::apply_chat_template(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                           ChatImages images) const {
  const std::string_view bos = data_->bos_id >= 0 ? data_->vocab.piece(data_->bos_id) : std::string_view();
  return render_gemma3_chat(messages, add_generation_prompt, bos, images);
}

std::vector<int32_t> Tokenizer::encode_chat(std::span<const ChatMessage> messages, bool add_generation_prompt,
                                            bool parse_special_in_messages, ChatImages images) const {
  if (parse_special_in_messages)
    return encode(apply_chat_template(messages, add_generation_prompt, images), false, true);
  const std::string_view bos = data_->bos_id >= 0 ? data_->vocab.piece(data_->bos_id) : std::string_view();
  // Segment by segment: markup with special parsing, message text without. Every segment
  // boundary is next to a turn marker or newline token, so ordinary text gives the same ids as
  // encoding the whole prompt.
  std::vector<int32_t> out;
  for (const ChatSegment& s : render_gemma3_chat_segments(messages, add_generation_prompt, bos, images))
    encode_into(s.text, !s.from_message, out);
  return out;
}

}  // namespace lem
