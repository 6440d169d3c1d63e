#include "tokenizer/gguf_vocab_loader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string_view>

#include "util/error.hpp"
#include "tokenizer/utf8.hpp"

namespace lem {

namespace {

using io::GgufFile;
using io::GgufValue;
using io::GgufValueType;

// Texts llama.cpp (llama_vocab::impl::load, end-of-generation detection) forces to CONTROL when
// a vocabulary has them as another type. For Gemma 3 this turns </s> (212, USER_DEFINED in the
// file) into a control token, which is why llama.cpp spells "</s>" out without special parsing.
// llama.cpp's FIM-token detection (forces only the first match per kind) is left out: Gemma 3
// has none of those texts.
constexpr std::string_view kForcedControlTexts[] = {
    "<|eot_id|>", "<|im_end|>",    "<|end|>", "<|return|>",      "<|call|>",        "<end_of_turn>",
    "<|endoftext|>", "</s>",       "<|eom_id|>", "<EOT>",        "_<EOT>",          "<|end_of_text|>",
    "<end_of_utterance>",
};

const GgufValue& require_array(const GgufFile& f, const char* key, GgufValueType elem) {
  const GgufValue* v = f.find(key);
  if (!v) fail(Status::BadFormat, "{}: GGUF metadata '{}' is missing", f.path(), key);
  if (v->type != GgufValueType::ARRAY || v->elem_type != elem)
    fail(Status::BadFormat, "{}: GGUF metadata '{}' has type {}{}, expected an array of {}", f.path(), key,
         io::gguf_value_type_name(v->type),
         v->type == GgufValueType::ARRAY ? fmt::format(" of {}", io::gguf_value_type_name(v->elem_type)) : "",
         io::gguf_value_type_name(elem));
  return *v;
}

// An optional per-token array: absent, or exactly one element per token.
const GgufValue* optional_token_array(const GgufFile& f, const char* key, uint64_t n_tokens,
                                      std::initializer_list<GgufValueType> elem_types) {
  const GgufValue* v = f.find(key);
  if (!v) return nullptr;
  bool type_ok = false;
  for (GgufValueType t : elem_types) type_ok = type_ok || (v->type == GgufValueType::ARRAY && v->elem_type == t);
  if (!type_ok)
    fail(Status::BadFormat, "{}: GGUF metadata '{}' has type {}{}, expected an array of {}", f.path(), key,
         io::gguf_value_type_name(v->type),
         v->type == GgufValueType::ARRAY ? fmt::format(" of {}", io::gguf_value_type_name(v->elem_type)) : "",
         io::gguf_value_type_name(*elem_types.begin()));
  if (v->count != n_tokens)
    fail(Status::BadFormat, "{}: GGUF metadata '{}' has {} entries but tokenizer.ggml.tokens has {}", f.path(), key,
         v->count, n_tokens);
  return v;
}

// A token id key: absent → `fallback` (llama.cpp's default, dropped when outside the vocab);
// present → must name a token.
int32_t token_id_key(const GgufFile& f, const char* key, int32_t fallback, int32_t n_tokens) {
  const std::optional<uint64_t> id = f.get_uint(key);
  if (!id) return fallback < n_tokens ? fallback : -1;
  if (*id >= static_cast<uint64_t>(n_tokens))
    fail(Status::BadFormat, "{}: GGUF metadata '{}' is {}, outside the vocabulary of {} tokens", f.path(), key, *id,
         n_tokens);
  return static_cast<int32_t>(*id);
}

// Token ids used when a key is absent (-1: none), and whether BOS is added by default
// (nullopt: exactly when the vocabulary has one).
struct SpecialDefaults {
  int32_t bos, eos, unk;
  std::optional<bool> add_bos;
};

// The special-token keys both vocabulary models share: ids, BOS/EOS policy, chat template and
// the end-of-generation ids (EOS and EOT).
void read_special_tokens(const GgufFile& f, int32_t n, const SpecialDefaults& defaults, TokenizerData& d) {
  d.bos_id = token_id_key(f, "tokenizer.ggml.bos_token_id", defaults.bos, n);
  d.eos_id = token_id_key(f, "tokenizer.ggml.eos_token_id", defaults.eos, n);
  d.unk_id = token_id_key(f, "tokenizer.ggml.unknown_token_id", defaults.unk, n);
  d.pad_id = token_id_key(f, "tokenizer.ggml.padding_token_id", -1, n);
  const int32_t eot_id = token_id_key(f, "tokenizer.ggml.eot_token_id", -1, n);
  d.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(defaults.add_bos.value_or(d.bos_id >= 0));
  d.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  d.chat_template = std::string(f.get_string("tokenizer.chat_template").value_or(std::string_view()));
  if (d.eos_id >= 0) d.eos_ids.push_back(d.eos_id);
  if (eot_id >= 0) d.eos_ids.push_back(eot_id);
}

const GgufValue& require_tokens(const GgufFile& f) {
  const GgufValue& tokens = require_array(f, "tokenizer.ggml.tokens", GgufValueType::STRING);
  if (tokens.count == 0) fail(Status::BadFormat, "{}: tokenizer.ggml.tokens is empty", f.path());
  if (tokens.count > static_cast<uint64_t>(std::numeric_limits<int32_t>::max() / 2))
    fail(Status::BadFormat, "{}: tokenizer.ggml.tokens has {} entries, too many", f.path(), tokens.count);
  return tokens;
}

TokenType token_type_at(const GgufFile& f, const GgufValue* types, int32_t id) {
  if (!types) return TokenType::Normal;
  const int64_t t = types->int_at(static_cast<uint64_t>(id));
  if (t < 0 || t > static_cast<int64_t>(TokenType::Byte))
    fail(Status::BadFormat, "{}: tokenizer.ggml.token_type[{}] is {}, expected 0..6", f.path(), id, t);
  return static_cast<TokenType>(t);
}

// The "llama" model: SentencePiece pieces with scores, tokenised as llama.cpp does.
std::shared_ptr<TokenizerData> load_spm(const GgufFile& f) {
  const GgufValue& tokens = require_tokens(f);
  const auto n = static_cast<int32_t>(tokens.count);
  // llama.cpp accepts i32 scores too.
  const GgufValue* scores = optional_token_array(f, "tokenizer.ggml.scores", tokens.count,
                                                 {GgufValueType::F32, GgufValueType::I32});
  const GgufValue* types = optional_token_array(f, "tokenizer.ggml.token_type", tokens.count, {GgufValueType::I32});

  auto d = std::make_shared<TokenizerData>(f.path());
  d->kind = TokenizerKind::Spm;
  d->replace_spaces = true;

  size_t piece_bytes = 0;
  for (std::string_view t : tokens.strings) piece_bytes += t.size();
  d->vocab.reserve(tokens.count, piece_bytes);
  for (int32_t id = 0; id < n; ++id) {
    const auto k = static_cast<uint64_t>(id);
    const float score = scores ? static_cast<float>(scores->float_at(k)) : 0.0f;
    if (std::isnan(score)) fail(Status::BadFormat, "{}: tokenizer.ggml.scores[{}] is NaN", f.path(), id);
    const TokenType type = token_type_at(f, types, id);
    d->vocab.add_token(tokens.strings[k], type, score);
    // llama.cpp's decode drops CONTROL and UNKNOWN tokens unless asked to render specials.
    d->vocab.set_skipped_on_decode(id, type == TokenType::Control || type == TokenType::Unknown);
  }
  d->vocab.finalize(DecodeStyle::Spm);

  // What llama.cpp cuts out of raw text before the SPM merge: USER_DEFINED always, CONTROL and
  // UNKNOWN only with special parsing, after its control-looking-text override.
  d->split_rules.assign(static_cast<size_t>(n), SplitRule::Never);
  for (int32_t id = 0; id < n; ++id) {
    const TokenType t = d->vocab.type(id);
    if (t == TokenType::UserDefined) d->split_rules[static_cast<size_t>(id)] = SplitRule::Always;
    if (t == TokenType::Control || t == TokenType::Unknown)
      d->split_rules[static_cast<size_t>(id)] = SplitRule::WhenParsingSpecial;
  }
  for (std::string_view text : kForcedControlTexts) {
    const int32_t id = d->vocab.find(text);
    if (id >= 0) d->split_rules[static_cast<size_t>(id)] = SplitRule::WhenParsingSpecial;
  }

  // llama.cpp's defaults for an SPM vocabulary when a key is absent.
  read_special_tokens(f, n, SpecialDefaults{1, 2, 0, true}, *d);
  d->add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  d->spm = std::make_unique<SpmModel>(d->vocab);
  d->finish();
  return d;
}

// A merge written as "left right". Gemma 3 pieces hold no ASCII space (spaces are U+2581), and
// gguf-py spells a space inside a part as U+0120, so the one space splits unambiguously.
std::pair<std::string_view, std::string_view> split_merge(const GgufFile& f, std::string_view merge, uint64_t rank) {
  const size_t space = merge.find(' ');
  if (space == std::string_view::npos || space == 0 || space + 1 == merge.size() ||
      merge.find(' ', space + 1) != std::string_view::npos)
    fail(Status::BadFormat, "{}: tokenizer.ggml.merges[{}] is '{}', expected two pieces separated by one space",
         f.path(), rank, utf8::printable(merge));
  return {merge.substr(0, space), merge.substr(space + 1)};
}

std::string spaces_to_markers(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ' ')
      out += "\xE2\x96\x81";
    else
      out += c;
  }
  return out;
}

// The "gpt2" model: a BPE vocabulary with merges, which llama.cpp's converter writes when a
// checkpoint has tokenizer.json but no tokenizer.model. Tokenised with the HF BPE semantics of
// that tokenizer.json (spec §4, "Without tokenizer.model"): spaces become U+2581, CONTROL tokens
// are HF's special added tokens, USER_DEFINED ones its other added tokens, <0xHH> pieces are
// byte fallback. The converter stored USER_DEFINED pieces with U+2581 turned into spaces; that
// is undone so that merges producing them (space runs) resolve, as in tokenizer.json.
std::shared_ptr<TokenizerData> load_bpe(const GgufFile& f) {
  const GgufValue& tokens = require_tokens(f);
  const auto n = static_cast<int32_t>(tokens.count);
  const GgufValue* types = optional_token_array(f, "tokenizer.ggml.token_type", tokens.count, {GgufValueType::I32});
  const GgufValue& merges = require_array(f, "tokenizer.ggml.merges", GgufValueType::STRING);
  if (merges.count > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
    fail(Status::BadFormat, "{}: tokenizer.ggml.merges has {} entries, too many", f.path(), merges.count);

  auto d = std::make_shared<TokenizerData>(f.path());
  d->kind = TokenizerKind::HfBpe;
  d->replace_spaces = true;

  size_t piece_bytes = 0;
  for (std::string_view t : tokens.strings)  // a restored U+2581 takes 3 bytes where the space took 1
    piece_bytes += t.size() + 2 * static_cast<size_t>(std::count(t.begin(), t.end(), ' '));
  d->vocab.reserve(tokens.count, piece_bytes);
  d->split_rules.assign(static_cast<size_t>(n), SplitRule::Never);
  for (int32_t id = 0; id < n; ++id) {
    const std::string_view text = tokens.strings[static_cast<uint64_t>(id)];
    TokenType type = token_type_at(f, types, id);
    if (type == TokenType::Normal && parse_byte_piece(text) >= 0) type = TokenType::Byte;  // written as NORMAL
    if (type == TokenType::UserDefined) {
      d->vocab.add_token(spaces_to_markers(text), type, 0.0f);
      d->split_rules[static_cast<size_t>(id)] = SplitRule::Always;
    } else {
      d->vocab.add_token(text, type, 0.0f);
      if (type == TokenType::Control || type == TokenType::Unknown)
        d->split_rules[static_cast<size_t>(id)] = SplitRule::WhenParsingSpecial;
    }
    // HF skip_special_tokens drops the special added tokens.
    d->vocab.set_skipped_on_decode(id, type == TokenType::Control || type == TokenType::Unknown);
  }
  d->vocab.finalize(DecodeStyle::HfByteFallback);

  std::vector<BpeMerge> resolved;
  resolved.reserve(merges.count);
  std::string joined;
  for (uint64_t rank = 0; rank < merges.count; ++rank) {
    const auto [left, right] = split_merge(f, merges.strings[rank], rank);
    const int32_t l = d->vocab.find(left);
    const int32_t r = d->vocab.find(right);
    joined.assign(left).append(right);
    const int32_t result = d->vocab.find(joined);
    if (l < 0 || r < 0 || result < 0)
      fail(Status::BadFormat, "{}: tokenizer.ggml.merges[{}] ('{}' + '{}') names a piece that is not a token",
           f.path(), rank, utf8::printable(left), utf8::printable(right));
    resolved.push_back(BpeMerge{l, r, result});
  }

  // No defaults: a BPE vocabulary names its special tokens or has none; BOS is added when named.
  read_special_tokens(f, n, SpecialDefaults{-1, -1, -1, std::nullopt}, *d);

  BpeOptions options;
  options.model_vocab_size = n;
  options.unk_id = d->unk_id;
  options.fuse_unk = true;  // Gemma 3's tokenizer.json; only matters without byte fallback
  // GGUF has no byte_fallback flag: a vocabulary with <0xHH> pieces is taken to use them.
  for (int b = 0; b < 256; ++b) options.byte_fallback = options.byte_fallback || d->vocab.byte_token(uint8_t(b)) >= 0;
  d->bpe = std::make_unique<BpeModel>(d->vocab, resolved, options);
  d->finish();
  return d;
}

}  // namespace

std::shared_ptr<TokenizerData> load_gguf_tokenizer(const GgufFile& f) {
  const std::optional<std::string_view> model = f.get_string("tokenizer.ggml.model");
  if (!model) fail(Status::BadFormat, "{}: the GGUF file has no tokenizer (tokenizer.ggml.model is missing)", f.path());
  if (*model == "llama") return load_spm(f);
  if (*model == "gpt2") return load_bpe(f);
  fail(Status::Unsupported,
       "{}: tokenizer.ggml.model is '{}'; only 'llama' (SentencePiece) and 'gpt2' (BPE with merges) vocabularies "
       "are supported",
       f.path(), utf8::printable(*model));
}

}  // namespace lem
