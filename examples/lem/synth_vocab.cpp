#include "synth_vocab.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "io/gguf_file.hpp"

namespace lem::cli {
namespace {

// llama.cpp token types (tokenizer.ggml.token_type).
constexpr int32_t kNormal = 1, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6;
// What the converter gives an id it has no token for (tokens it pre-fills before reading the model).
constexpr float kPadScore = -10000.0f;
constexpr float kAddedTokenScore = -1000.0f;

std::string pad_piece(uint64_t id) { return fmt::format("[PAD{}]", id); }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(s.size() - p.size()) == p; }

// --- from a GGUF ------------------------------------------------------------------------------

void check_special_id(const std::string& source, std::string_view key, uint64_t id, uint64_t n_vocab) {
  if (id >= n_vocab)
    fail(Status::InvalidArg, "{}: {} is {}, which does not fit a vocabulary of {} tokens", source, key, id, n_vocab);
}

void add_vocab_from_gguf(io::GgufWriter& w, const std::string& source, uint64_t n_vocab) {
  const auto g = io::GgufFile::open(source);
  const io::GgufValue* tokens = g->find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != io::GgufValueType::ARRAY || tokens->elem_type != io::GgufValueType::STRING)
    fail(Status::BadFormat, "{}: no tokenizer.ggml.tokens string array (not a GGUF with a vocabulary?)", source);
  const uint64_t count = tokens->count;
  for (const char* key : {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"}) {
    const io::GgufValue* v = g->find(key);
    if (v && (v->type != io::GgufValueType::ARRAY || v->count != count || v->elem_type == io::GgufValueType::STRING ||
              v->elem_type == io::GgufValueType::ARRAY))
      fail(Status::BadFormat, "{}: {} is not a numeric array of {} elements, one per token", source, key, count);
  }

  for (const auto& [key, value] : g->metadata()) {
    if (!starts_with(key, "tokenizer.")) continue;
    if (ends_with(key, "_token_id") && value.is_integer() && !(value.is_signed() && value.i < 0))
      check_special_id(source, key, value.is_signed() ? static_cast<uint64_t>(value.i) : value.u, n_vocab);
    if (count == n_vocab || (key != "tokenizer.ggml.tokens" && key != "tokenizer.ggml.scores" &&
                             key != "tokenizer.ggml.token_type")) {
      w.add_value(key, value);
      continue;
    }
    // Resized to n_vocab: cut, or padded as the converter pads.
    if (key == "tokenizer.ggml.tokens") {
      std::vector<std::string> pieces(n_vocab);
      for (uint64_t id = 0; id < n_vocab; ++id) pieces[id] = id < count ? std::string(value.strings[id]) : pad_piece(id);
      w.add_string_array(key, pieces);
    } else if (key == "tokenizer.ggml.scores") {
      std::vector<float> scores(n_vocab);
      for (uint64_t id = 0; id < n_vocab; ++id) scores[id] = id < count ? static_cast<float>(value.float_at(id)) : kPadScore;
      w.add_f32_array(key, scores);
    } else {
      std::vector<int32_t> types(n_vocab);
      for (uint64_t id = 0; id < n_vocab; ++id) types[id] = id < count ? static_cast<int32_t>(value.int_at(id)) : kUnused;
      w.add_i32_array(key, types);
    }
  }
}

// --- from tokenizer.json ------------------------------------------------------------------------

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(Status::Io, "{}: cannot open", path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(Status::BadFormat, "{}: not valid JSON: {}", path, e.what());
  }
}

// <0x00> .. <0xFF>: the byte-fallback pieces.
bool is_byte_piece(std::string_view p) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); };
  return p.size() == 6 && starts_with(p, "<0x") && hex(p[3]) && hex(p[4]) && p[5] == '>';
}

// The converter's does_token_look_special: added tokens it marks CONTROL although HF calls them
// non-special (Gemma's <mask> and <unusedN>).
bool looks_special(std::string_view t) {
  return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" || (starts_with(t, "<|") && ends_with(t, "|>")) ||
         (starts_with(t, "<\xEF\xBD\x9C") && ends_with(t, "\xEF\xBD\x9C>")) || (starts_with(t, "<unused") && ends_with(t, ">"));
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  for (size_t hit = s.find(from); hit != std::string_view::npos; hit = s.find(from, pos)) {
    out.append(s.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s.substr(pos));
  return out;
}

// A tokenizer_config.json token entry: "<bos>" or {"content": "<bos>", ...}.
std::optional<std::string> config_token(const nlohmann::json& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const auto& v = config.at(key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v.at("content").is_string()) return v.at("content").get<std::string>();
  return std::nullopt;
}

void add_vocab_from_tokenizer_json(io::GgufWriter& w, const std::string& source, uint64_t n_vocab) {
  const nlohmann::json tj = read_json(source);
  const auto bad = [&](const std::string& why) { fail(Status::BadFormat, "{}: {}", source, why); };
  if (!tj.contains("model") || !tj.at("model").is_object() || !tj.at("model").contains("vocab") ||
      !tj.at("model").at("vocab").is_object())
    bad("model.vocab is missing or not an object");
  if (tj.at("model").value("type", "") != "BPE")
    fail(Status::Unsupported, "{}: model.type is '{}', expected BPE (the Gemma 3 tokenizer)", source,
         tj.at("model").value("type", ""));

  std::vector<std::string> tokens(n_vocab);
  std::vector<int32_t> types(n_vocab, kUnused);
  std::vector<float> scores(n_vocab, kPadScore);
  std::vector<bool> present(n_vocab, false);
  for (const auto& [piece, id_json] : tj.at("model").at("vocab").items()) {
    if (!id_json.is_number_unsigned()) bad(fmt::format("model.vocab['{}'] is not a non-negative integer id", piece));
    const uint64_t id = id_json.get<uint64_t>();
    if (id >= n_vocab) continue;  // beyond the model's embedding rows: dropped, as the converter does
    if (present[id]) bad(fmt::format("model.vocab has two pieces with id {}", id));
    tokens[id] = piece;
    types[id] = is_byte_piece(piece) ? kByte : kNormal;
    present[id] = true;
  }
  std::vector<bool> added(n_vocab, false);
  if (tj.contains("added_tokens")) {
    if (!tj.at("added_tokens").is_array()) bad("added_tokens is not an array");
    for (const auto& at : tj.at("added_tokens")) {
      if (!at.is_object() || !at.contains("id") || !at.at("id").is_number_unsigned() || !at.contains("content") ||
          !at.at("content").is_string())
        bad("an added_tokens entry lacks an integer id or a string content");
      const uint64_t id = at.at("id").get<uint64_t>();
      if (id >= n_vocab) continue;
      const std::string content = at.at("content").get<std::string>();
      const bool special = at.value("special", false);
      if (special || looks_special(content)) {
        tokens[id] = content;
        types[id] = kControl;
      } else {
        tokens[id] = replace_all(content, "\xE2\x96\x81", " ");  // the converter's "pre-normalize user-defined spaces"
        types[id] = kUserDefined;
      }
      present[id] = added[id] = true;
    }
  }
  // Scores: -1000 for added tokens, 0 for bytes, and for the learned pieces a value that falls
  // with the id (SentencePiece's BPE trainer numbers pieces by merge order, and the SPM merge loop
  // only compares scores), starting at 0 with the first one (fixtures README, gemma3-vocab.gguf).
  uint64_t first_normal = n_vocab;
  for (uint64_t id = 0; id < n_vocab && first_normal == n_vocab; ++id)
    if (present[id] && types[id] == kNormal) first_normal = id;
  for (uint64_t id = 0; id < n_vocab; ++id) {
    if (!present[id]) {
      tokens[id] = pad_piece(id);
    } else if (added[id]) {
      scores[id] = kAddedTokenScore;
    } else if (types[id] == kByte) {
      scores[id] = 0.0f;
    } else {
      scores[id] = -static_cast<float>(id - first_normal);  // -0 for the first one, as in the reference file
    }
  }

  nlohmann::json config = nlohmann::json::object();
  const auto config_path = std::filesystem::path(source).parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) config = read_json(config_path.string());

  std::unordered_map<std::string_view, int64_t> id_of;
  for (uint64_t id = 0; id < n_vocab; ++id) id_of.emplace(tokens[id], static_cast<int64_t>(id));
  auto special_id = [&](const char* config_key, const char* fallback) -> std::optional<uint32_t> {
    const std::string piece = config_token(config, config_key).value_or(fallback);
    const auto it = id_of.find(piece);
    if (it == id_of.end()) return std::nullopt;
    return static_cast<uint32_t>(it->second);
  };

  w.add_string("tokenizer.ggml.model", "llama");
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_f32_array("tokenizer.ggml.scores", scores);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  if (auto id = special_id("bos_token", "<bos>")) w.add_u32("tokenizer.ggml.bos_token_id", *id);
  if (auto id = special_id("eos_token", "<eos>")) w.add_u32("tokenizer.ggml.eos_token_id", *id);
  if (auto id = special_id("unk_token", "<unk>")) w.add_u32("tokenizer.ggml.unknown_token_id", *id);
  if (auto id = special_id("pad_token", "<pad>")) w.add_u32("tokenizer.ggml.padding_token_id", *id);
  w.add_bool("tokenizer.ggml.add_bos_token", config.value("add_bos_token", true));
  w.add_bool("tokenizer.ggml.add_sep_token", false);
  w.add_bool("tokenizer.ggml.add_eos_token", config.value("add_eos_token", false));
  if (config.contains("chat_template") && config.at("chat_template").is_string())
    w.add_string("tokenizer.chat_template", config.at("chat_template").get<std::string>());
  w.add_bool("tokenizer.ggml.add_space_prefix", false);
}

}  // namespace

void add_synth_vocab(io::GgufWriter& w, const std::string& source, uint64_t n_vocab) {
  if (n_vocab == 0) fail(Status::InvalidArg, "the vocabulary size must be positive");
  if (io::GgufFile::has_magic(source)) {
    add_vocab_from_gguf(w, source, n_vocab);
  } else {
    try {
      add_vocab_from_tokenizer_json(w, source, n_vocab);
    } catch (const nlohmann::json::exception& e) {
      fail(Status::BadFormat, "{}: unexpected tokenizer.json content: {}", source, e.what());
    }
  }
}

}  // namespace lem::cli
