#include "tokenizer/gguf_vocab_loader.hpp"

#include <cmath>
#include <limits>
#include <string_view>

#include "api/error.hpp"
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

}  // namespace

std::shared_ptr<TokenizerData> load_gguf_tokenizer(const GgufFile& f) {
  const std::optional<std::string_view> model = f.get_string("tokenizer.ggml.model");
  if (!model) fail(Status::BadFormat, "{}: the GGUF file has no tokenizer (tokenizer.ggml.model is missing)", f.path());
  if (*model != "llama")
    fail(Status::Unsupported,
         "{}: tokenizer.ggml.model is '{}'; only SentencePiece vocabularies ('llama', as in every Gemma 3 GGUF) are "
         "supported",
         f.path(), utf8::printable(*model));

  const GgufValue& tokens = require_array(f, "tokenizer.ggml.tokens", GgufValueType::STRING);
  if (tokens.count == 0) fail(Status::BadFormat, "{}: tokenizer.ggml.tokens is empty", f.path());
  if (tokens.count > static_cast<uint64_t>(std::numeric_limits<int32_t>::max() / 2))
    fail(Status::BadFormat, "{}: tokenizer.ggml.tokens has {} entries, too many", f.path(), tokens.count);
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
    TokenType type = TokenType::Normal;
    if (types) {
      const int64_t t = types->int_at(k);
      if (t < 0 || t > static_cast<int64_t>(TokenType::Byte))
        fail(Status::BadFormat, "{}: tokenizer.ggml.token_type[{}] is {}, expected 0..6", f.path(), id, t);
      type = static_cast<TokenType>(t);
    }
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
  d->bos_id = token_id_key(f, "tokenizer.ggml.bos_token_id", 1, n);
  d->eos_id = token_id_key(f, "tokenizer.ggml.eos_token_id", 2, n);
  d->unk_id = token_id_key(f, "tokenizer.ggml.unknown_token_id", 0, n);
  d->pad_id = token_id_key(f, "tokenizer.ggml.padding_token_id", -1, n);
  const int32_t eot_id = token_id_key(f, "tokenizer.ggml.eot_token_id", -1, n);
  d->add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(true);
  d->add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  d->add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  d->chat_template = std::string(f.get_string("tokenizer.chat_template").value_or(std::string_view()));

  if (d->eos_id >= 0) d->eos_ids.push_back(d->eos_id);
  if (eot_id >= 0) d->eos_ids.push_back(eot_id);
  d->spm = std::make_unique<SpmModel>(d->vocab);
  d->finish();
  return d;
}

}  // namespace lem
