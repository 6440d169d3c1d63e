#include "tokenizer/hf_json_loader.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "io/mapped_file.hpp"
#include "tokenizer/utf8.hpp"

namespace lem {

namespace {

using nlohmann::json;

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 '▁'

// Quotes text from the file in an error message: bounded length, control bytes escaped.
std::string q(std::string_view text) { return utf8::printable(text); }

// ---- streaming reader for tokenizer.json ------------------------------------------------------
//
// tokenizer.json is ~14 MB, nearly all of it model.vocab (262144 entries) and model.merges
// (514906 pairs). Building an nlohmann tree for those takes ~0.4 s; this SAX handler streams
// them into flat arrays and keeps only the small remainder (normalizer, added_tokens, ...) as
// a tree, with empty placeholders where the two big values were.
class TokenizerJsonReader final : public nlohmann::json_sax<json> {
 public:
  explicit TokenizerJsonReader(std::string source) : source_(std::move(source)) {}

  json root;
  std::vector<std::pair<std::string, int64_t>> vocab;       // model.vocab in file order
  std::vector<std::pair<std::string, std::string>> merges;  // model.merges in rank order
  bool saw_vocab = false;
  bool saw_merges = false;

  bool null() override { return scalar(json(nullptr), "null"); }
  bool boolean(bool v) override { return scalar(json(v), "a boolean"); }
  bool number_float(number_float_t v, const string_t&) override { return scalar(json(v), "a float"); }
  bool binary(binary_t&) override { return scalar(json(), "binary data"); }

  bool number_integer(number_integer_t v) override {
    if (mode_ == Mode::Vocab) {
      vocab.emplace_back(std::move(vocab_key_), v);
      return true;
    }
    return scalar(json(v), "an integer");
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == Mode::Vocab) {
      const int64_t id = v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                             ? std::numeric_limits<int64_t>::max()
                             : static_cast<int64_t>(v);
      vocab.emplace_back(std::move(vocab_key_), id);
      return true;
    }
    return scalar(json(v), "an integer");
  }

  bool string(string_t& v) override {
    if (mode_ == Mode::Merges) {
      if (merge_depth_ == 1) {
        if (merge_parts_.size() == 2)
          fail(Status::BadFormat, "{}: model.merges[{}] has more than two parts, expected [left, right]", source_,
               merges.size());
        merge_parts_.push_back(std::move(v));
      } else {
        // Older files write a merge as one string "left right".
        const size_t space = v.find(' ');
        if (space == std::string::npos || v.find(' ', space + 1) != std::string::npos)
          fail(Status::BadFormat, "{}: model.merges[{}] is \"{}\", expected \"left right\" with exactly one space",
               source_, merges.size(), q(v));
        merges.emplace_back(v.substr(0, space), v.substr(space + 1));
      }
      return true;
    }
    return scalar(json(std::move(v)), "a string");
  }

  bool key(string_t& k) override {
    if (mode_ == Mode::Vocab) {
      vocab_key_ = std::move(k);
    } else {
      stack_.back().key = std::move(k);
    }
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ == Mode::Vocab)
      fail(Status::BadFormat, "{}: model.vocab['{}'] must be an integer id", source_, q(vocab_key_));
    if (mode_ == Mode::Merges)
      fail(Status::BadFormat, "{}: model.merges[{}] must be [left, right]", source_, merges.size());
    if (at_model_field("vocab")) {
      insert(json::object());
      mode_ = Mode::Vocab;
      saw_vocab = true;
      return true;
    }
    open(json::object());
    return true;
  }

  bool end_object() override {
    if (mode_ == Mode::Vocab) {
      mode_ = Mode::Tree;
      return true;
    }
    stack_.pop_back();
    return true;
  }

  bool start_array(std::size_t) override {
    if (mode_ == Mode::Vocab)
      fail(Status::BadFormat, "{}: model.vocab['{}'] must be an integer id", source_, q(vocab_key_));
    if (mode_ == Mode::Merges) {
      if (merge_depth_ != 0)
        fail(Status::BadFormat, "{}: model.merges[{}] must be [left, right] with two strings", source_, merges.size());
      merge_depth_ = 1;
      merge_parts_.clear();
      return true;
    }
    if (at_model_field("merges")) {
      insert(json::array());
      mode_ = Mode::Merges;
      merge_depth_ = 0;
      saw_merges = true;
      return true;
    }
    open(json::array());
    return true;
  }

  bool end_array() override {
    if (mode_ == Mode::Merges) {
      if (merge_depth_ == 0) {
        mode_ = Mode::Tree;
        return true;
      }
      if (merge_parts_.size() != 2)
        fail(Status::BadFormat, "{}: model.merges[{}] has {} parts, expected [left, right]", source_, merges.size(),
             merge_parts_.size());
      merges.emplace_back(std::move(merge_parts_[0]), std::move(merge_parts_[1]));
      merge_depth_ = 0;
      return true;
    }
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) override {
    fail(Status::BadFormat, "{}: not valid JSON (byte {}): {}", source_, position, e.what());
  }

 private:
  enum class Mode { Tree, Vocab, Merges };
  struct Frame {
    json* node;
    std::string key;  // the current key when `node` is an object
  };

  // True when the value about to start is root["model"][name].
  bool at_model_field(std::string_view name) const {
    return stack_.size() == 2 && stack_[0].key == "model" && stack_[1].node->is_object() && stack_[1].key == name;
  }

  bool scalar(json v, const char* what) {
    if (mode_ == Mode::Vocab)
      fail(Status::BadFormat, "{}: model.vocab['{}'] is {}, expected an integer id", source_, q(vocab_key_), what);
    if (mode_ == Mode::Merges)
      fail(Status::BadFormat, "{}: model.merges[{}] contains {}, expected strings", source_, merges.size(), what);
    insert(std::move(v));
    return true;
  }

  // Places `v` into the current container (or as the root) and returns where it went. Pointers
  // to open containers stay valid: a container gets no new element while a child is open.
  json* insert(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    Frame& top = stack_.back();
    if (top.node->is_array()) {
      top.node->push_back(std::move(v));
      return &top.node->back();
    }
    json& slot = (*top.node)[top.key];
    slot = std::move(v);
    return &slot;
  }

  void open(json container) { stack_.push_back(Frame{insert(std::move(container)), {}}); }

  std::string source_;
  Mode mode_ = Mode::Tree;
  std::vector<Frame> stack_;
  std::string vocab_key_;
  int merge_depth_ = 0;
  std::vector<std::string> merge_parts_;
};

// ---- field access with messages that name the file and the field ------------------------------

class Fields {
 public:
  Fields(const std::string& source, const json& object, std::string path)
      : source_(source), object_(object), path_(std::move(path)) {
    if (!object.is_object()) fail(Status::BadFormat, "{}: {} must be a JSON object", source_, describe());
  }

  const json* find(const char* key) const {
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  const json& require(const char* key) const {
    const json* v = find(key);
    if (!v) fail(Status::BadFormat, "{}: {} is missing the field '{}'", source_, describe(), key);
    return *v;
  }
  bool boolean(const char* key, bool fallback) const {
    const json* v = find(key);
    if (!v || v->is_null()) return fallback;
    if (!v->is_boolean()) fail(Status::BadFormat, "{}: {}'{}' must be true or false", source_, prefix(), key);
    return v->get<bool>();
  }
  // A string field, or nullopt when absent or null.
  std::optional<std::string> optional_string(const char* key) const {
    const json* v = find(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) fail(Status::BadFormat, "{}: {}'{}' must be a string", source_, prefix(), key);
    return v->get<std::string>();
  }
  std::string string(const char* key) const {
    const json& v = require(key);
    if (!v.is_string()) fail(Status::BadFormat, "{}: {}'{}' must be a string", source_, prefix(), key);
    return v.get<std::string>();
  }
  int64_t integer(const char* key) const {
    const json& v = require(key);
    if (!v.is_number_integer()) fail(Status::BadFormat, "{}: {}'{}' must be an integer", source_, prefix(), key);
    return v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : v.get<int64_t>();
  }

 private:
  std::string describe() const { return path_.empty() ? "the top level" : "'" + path_ + "'"; }
  std::string prefix() const { return path_.empty() ? "" : path_ + "."; }

  const std::string& source_;
  const json& object_;
  std::string path_;
};

bool is_string_pattern(const json& pattern, std::string_view text) {
  if (!pattern.is_object()) return false;
  const auto it = pattern.find("String");
  return it != pattern.end() && it->is_string() && it->get<std::string>() == text;
}

std::string type_of(const json& step) {
  if (step.is_object()) {
    const auto it = step.find("type");
    if (it != step.end() && it->is_string()) return it->get<std::string>();
  }
  return step.dump().substr(0, 80);
}

// A tokenizers "Replace" step that turns `from` into `to`.
bool is_replace(const json& step, std::string_view from, std::string_view to) {
  if (type_of(step) != "Replace") return false;
  const auto content = step.find("content");
  return step.contains("pattern") && is_string_pattern(step["pattern"], from) && content != step.end() &&
         content->is_string() && content->get<std::string>() == to;
}

// ---- the pieces of tokenizer.json ---------------------------------------------------------------

struct AddedToken {
  int64_t id;
  std::string content;
  bool special;
};

std::vector<AddedToken> read_added_tokens(const std::string& source, const json& root) {
  std::vector<AddedToken> tokens;
  const auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return tokens;
  if (!it->is_array()) fail(Status::BadFormat, "{}: 'added_tokens' must be an array", source);
  tokens.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const Fields f(source, (*it)[i], fmt::format("added_tokens[{}]", i));
    AddedToken t{f.integer("id"), f.string("content"), f.boolean("special", false)};
    if (t.content.empty()) fail(Status::BadFormat, "{}: added_tokens[{}].content is empty", source, i);
    // Matching options Gemma 3 does not use; refusing them beats tokenising differently from HF.
    for (const char* option : {"lstrip", "rstrip", "single_word"}) {
      if (f.boolean(option, false))
        fail(Status::Unsupported, "{}: added_tokens[{}] ('{}') sets {}=true, which this tokenizer does not implement",
             source, i, q(t.content), option);
    }
    if (f.boolean("normalized", !t.special))
      fail(Status::Unsupported,
           "{}: added_tokens[{}] ('{}') is matched on normalised text (normalized=true), which this tokenizer does "
           "not implement",
           source, i, q(t.content));
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// Returns whether spaces are replaced by U+2581 (the only normalisation Gemma 3 has).
bool read_normalizer(const std::string& source, const json& root) {
  const auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) return false;
  if (is_replace(*it, " ", kSpaceMarker)) return true;
  fail(Status::Unsupported, "{}: normalizer '{}' is not supported (expected Replace \" \" -> \"\u2581\" or null)",
       source, type_of(*it));
}

void check_pre_tokenizer(const std::string& source, const json& root, bool replace_spaces) {
  const auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null()) return;
  // Split on " " after spaces became U+2581 finds nothing to split: each segment is one word.
  if (replace_spaces && type_of(*it) == "Split" && it->contains("pattern") && is_string_pattern((*it)["pattern"], " "))
    return;
  fail(Status::Unsupported, "{}: pre_tokenizer '{}' is not supported (expected Split on \" \" after the Replace "
       "normalizer, or null)", source, type_of(*it));
}

void check_decoder(const std::string& source, const json& root) {
  const auto it = root.find("decoder");
  const bool ok = it != root.end() && type_of(*it) == "Sequence" && it->contains("decoders") &&
                  (*it)["decoders"].is_array() && (*it)["decoders"].size() == 3 &&
                  is_replace((*it)["decoders"][0], kSpaceMarker, " ") &&
                  type_of((*it)["decoders"][1]) == "ByteFallback" && type_of((*it)["decoders"][2]) == "Fuse";
  if (!ok)
    fail(Status::Unsupported, "{}: decoder '{}' is not supported (expected Sequence [Replace \"\u2581\" -> \" \", "
         "ByteFallback, Fuse])", source, it == root.end() ? std::string("missing") : type_of(*it));
}

// True when the post-processor puts a special token first (Gemma: "<bos>" + sequence).
bool post_processor_adds_bos(const json& root) {
  const auto it = root.find("post_processor");
  if (it == root.end() || type_of(*it) != "TemplateProcessing") return false;
  const auto single = it->find("single");
  return single != it->end() && single->is_array() && !single->empty() && (*single)[0].is_object() &&
         (*single)[0].contains("SpecialToken");
}

struct BpeSettings {
  BpeOptions options;
  std::optional<std::string> unk_token;
};

BpeSettings read_model_settings(const std::string& source, const json& root) {
  const Fields model(source, Fields(source, root, "").require("model"), "model");
  const auto type = model.optional_string("type");
  if (type && *type != "BPE")
    fail(Status::Unsupported, "{}: model.type is '{}'; only BPE tokenizers are supported", source, q(*type));
  if (const json* d = model.find("dropout"); d && !d->is_null()) {
    if (!d->is_number()) fail(Status::BadFormat, "{}: model.dropout must be a number or null", source);
    if (d->get<double>() > 0) fail(Status::Unsupported, "{}: BPE dropout is not supported", source);
  }
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const auto value = model.optional_string(affix);
    if (value && !value->empty())
      fail(Status::Unsupported, "{}: model.{} '{}' is not supported", source, affix, q(*value));
  }
  BpeSettings s;
  s.options.byte_fallback = model.boolean("byte_fallback", false);
  s.options.fuse_unk = model.boolean("fuse_unk", false);
  s.options.ignore_merges = model.boolean("ignore_merges", false);
  s.unk_token = model.optional_string("unk_token");
  return s;
}

// ---- tokenizer_config.json / generation_config.json ------------------------------------------

json read_json_file(const std::string& path) {
  const io::MappedFile file(path);
  const auto* begin = reinterpret_cast<const char*>(file.data());
  json value = json::parse(begin, begin + file.size(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) fail(Status::BadFormat, "{}: not valid JSON", path);
  if (!value.is_object()) fail(Status::BadFormat, "{}: expected a JSON object at the top level", path);
  return value;
}

// bos_token etc. are a string or an AddedToken object {"content": ...}.
std::optional<std::string> token_text_field(const std::string& source, const json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    const auto content = it->find("content");
    if (content != it->end() && content->is_string()) return content->get<std::string>();
  }
  fail(Status::BadFormat, "{}: '{}' must be a string or an object with a string 'content'", source, key);
}

std::string chat_template_field(const std::string& source, const json& config) {
  const auto it = config.find("chat_template");
  if (it == config.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  // A list of named templates: take "default", else the first.
  if (it->is_array()) {
    const json* chosen = nullptr;
    for (const json& entry : *it) {
      if (!entry.is_object() || !entry.contains("template") || !entry["template"].is_string())
        fail(Status::BadFormat, "{}: chat_template entries must be objects with a string 'template'", source);
      const bool is_default = entry.contains("name") && entry["name"].is_string() && entry["name"] == "default";
      if (!chosen || is_default)
        chosen = &entry;
    }
    return chosen ? (*chosen)["template"].get<std::string>() : std::string();
  }
  fail(Status::BadFormat, "{}: 'chat_template' must be a string or a list of named templates", source);
}

int32_t lookup_token(const TokenizerData& d, const std::string& source, const char* field, const std::string& text) {
  const int32_t id = d.vocab.find(text);
  if (id < 0) fail(Status::BadFormat, "{}: {} '{}' is not a token of the vocabulary", source, field, q(text));
  return id;
}

void read_config(TokenizerData& d, const std::string& path) {
  const json config = read_json_file(path);
  const Fields f(path, config, "");
  d.add_bos = f.boolean("add_bos_token", d.add_bos);
  d.add_eos = f.boolean("add_eos_token", d.add_eos);
  if (auto bos = token_text_field(path, config, "bos_token")) d.bos_id = lookup_token(d, path, "bos_token", *bos);
  if (auto eos = token_text_field(path, config, "eos_token")) d.eos_id = lookup_token(d, path, "eos_token", *eos);
  if (auto pad = token_text_field(path, config, "pad_token")) d.pad_id = lookup_token(d, path, "pad_token", *pad);
  d.chat_template = chat_template_field(path, config);
}

void read_generation_config(TokenizerData& d, const std::string& path) {
  const json config = read_json_file(path);
  const auto it = config.find("eos_token_id");
  if (it == config.end() || it->is_null()) return;
  auto add = [&](const json& v) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= d.vocab.size())
      fail(Status::BadFormat, "{}: eos_token_id {} is not a token id (the vocabulary has {} tokens)", path, v.dump(),
           d.vocab.size());
    d.eos_ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
  };
  if (it->is_array()) {
    for (const json& v : *it) add(v);
  } else {
    add(*it);
  }
}

// ---- assembling the vocabulary ----------------------------------------------------------------

void build_vocab(TokenizerData& d, const std::string& source, TokenizerJsonReader& reader,
                 const std::vector<AddedToken>& added) {
  const size_t n_model = reader.vocab.size();
  if (n_model == 0) fail(Status::BadFormat, "{}: model.vocab is empty", source);
  if (n_model > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 2))
    fail(Status::BadFormat, "{}: model.vocab has {} entries, too many", source, n_model);

  // Ids must cover 0..n_model-1 exactly once; added tokens reuse those ids or extend the range
  // without gaps (Gemma 3: <image_soft_token> = 262144).
  std::vector<const std::string*> by_id(n_model, nullptr);
  for (const auto& [piece, id] : reader.vocab) {
    if (id < 0 || static_cast<size_t>(id) >= n_model)
      fail(Status::BadFormat, "{}: model.vocab['{}'] = {} is out of range (the vocab has {} entries, ids 0..{})",
           source, q(piece), id, n_model, n_model - 1);
    if (by_id[static_cast<size_t>(id)])
      fail(Status::BadFormat, "{}: model.vocab gives id {} to both '{}' and '{}'", source, id,
           q(*by_id[static_cast<size_t>(id)]), q(piece));
    by_id[static_cast<size_t>(id)] = &piece;
  }
  std::vector<const AddedToken*> added_by_id(n_model + added.size(), nullptr);
  size_t n_total = n_model;
  for (const AddedToken& t : added) {
    if (t.id < 0 || static_cast<size_t>(t.id) >= n_model + added.size())
      fail(Status::BadFormat, "{}: added token '{}' has id {}, out of range (the vocab has {} entries)", source,
           q(t.content), t.id, n_model);
    const auto id = static_cast<size_t>(t.id);
    if (added_by_id[id])
      fail(Status::BadFormat, "{}: two added tokens have id {} ('{}' and '{}')", source, id,
           q(added_by_id[id]->content), q(t.content));
    if (id < n_model && *by_id[id] != t.content)
      fail(Status::BadFormat, "{}: added token {} is '{}' but model.vocab has '{}' at that id", source, id,
           q(t.content), q(*by_id[id]));
    added_by_id[id] = &t;
    n_total = std::max(n_total, id + 1);
  }
  for (size_t id = n_model; id < n_total; ++id) {
    if (!added_by_id[id])
      fail(Status::BadFormat, "{}: token ids are not contiguous: no token has id {} (added tokens go up to {})", source,
           id, n_total - 1);
  }

  size_t piece_bytes = 0;
  for (const auto& entry : reader.vocab) piece_bytes += entry.first.size();
  d.vocab.reserve(n_total, piece_bytes);
  d.split_rules.assign(n_total, SplitRule::Never);
  for (size_t id = 0; id < n_total; ++id) {
    const AddedToken* a = added_by_id[id];
    const std::string_view piece = id < n_model ? std::string_view(*by_id[id]) : std::string_view(a->content);
    TokenType type = TokenType::Normal;
    if (a) {
      type = a->special ? TokenType::Control : TokenType::UserDefined;
      d.split_rules[id] = a->special ? SplitRule::WhenParsingSpecial : SplitRule::Always;
    } else if (parse_byte_piece(piece) >= 0) {
      type = TokenType::Byte;
    }
    d.vocab.add_token(piece, type, 0.0f);
  }
  for (size_t id = 0; id < n_total; ++id) {
    if (added_by_id[id] && added_by_id[id]->special) d.vocab.set_skipped_on_decode(static_cast<int32_t>(id), true);
  }
  d.vocab.finalize(DecodeStyle::HfByteFallback);
}

std::vector<BpeMerge> resolve_merges(const TokenizerData& d, const std::string& source,
                                     const std::vector<std::pair<std::string, std::string>>& merges,
                                     int32_t n_model) {
  if (merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    fail(Status::BadFormat, "{}: model.merges has too many entries ({})", source, merges.size());
  std::vector<BpeMerge> out;
  out.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const int32_t l = d.vocab.find(left);
    const int32_t r = d.vocab.find(right);
    if (l < 0 || l >= n_model || r < 0 || r >= n_model)
      fail(Status::BadFormat, "{}: model.merges[{}] ('{}', '{}') names '{}', which is not in model.vocab", source, rank,
           q(left), q(right), q(l < 0 || l >= n_model ? left : right));
    joined.assign(left).append(right);
    const int32_t result = d.vocab.find(joined);
    if (result < 0 || result >= n_model)
      fail(Status::BadFormat, "{}: model.merges[{}] ('{}', '{}') makes '{}', which is not in model.vocab", source, rank,
           q(left), q(right), q(joined));
    out.push_back(BpeMerge{l, r, result});
  }
  return out;
}

}  // namespace

std::shared_ptr<TokenizerData> load_hf_tokenizer(const std::string& tokenizer_json_path,
                                                 const std::string& config_path,
                                                 const std::string& generation_config_path) {
  const std::string& source = tokenizer_json_path;
  TokenizerJsonReader reader(source);
  {
    const io::MappedFile file(source);
    const auto* begin = reinterpret_cast<const char*>(file.data());
    json::sax_parse(begin, begin + file.size(), &reader);
  }
  if (!reader.root.is_object()) fail(Status::BadFormat, "{}: expected a JSON object at the top level", source);
  const BpeSettings settings = read_model_settings(source, reader.root);
  if (!reader.saw_vocab)
    fail(Status::BadFormat, "{}: model.vocab is missing (expected an object of piece: id)", source);
  if (!reader.saw_merges) fail(Status::BadFormat, "{}: model.merges is missing (expected an array)", source);

  auto d = std::make_shared<TokenizerData>(source);
  d->kind = TokenizerKind::HfBpe;
  d->replace_spaces = read_normalizer(source, reader.root);
  check_pre_tokenizer(source, reader.root, d->replace_spaces);
  check_decoder(source, reader.root);
  const std::vector<AddedToken> added = read_added_tokens(source, reader.root);

  build_vocab(*d, source, reader, added);  // checks the vocab size, among others
  const auto n_model = static_cast<int32_t>(reader.vocab.size());
  reader.vocab = {};  // free the strings early: the vocab now has its own copy

  BpeOptions options = settings.options;
  options.model_vocab_size = n_model;
  if (settings.unk_token) options.unk_id = lookup_token(*d, source, "model.unk_token", *settings.unk_token);
  d->bpe = std::make_unique<BpeModel>(d->vocab, resolve_merges(*d, source, reader.merges, n_model), options);

  d->unk_id = options.unk_id;
  d->add_bos = post_processor_adds_bos(reader.root);
  d->add_eos = false;
  d->bos_id = d->vocab.find("<bos>");
  d->eos_id = d->vocab.find("<eos>");
  d->pad_id = d->vocab.find("<pad>");
  if (!config_path.empty()) read_config(*d, config_path);
  if (d->eos_id >= 0) d->eos_ids.push_back(d->eos_id);
  if (!generation_config_path.empty()) read_generation_config(*d, generation_config_path);
  d->finish();
  return d;
}

}  // namespace lem
