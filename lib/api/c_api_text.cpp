// extern "C" shims: vocabulary, tokenizer, detokenizer and chat template.
#include <span>
#include <string_view>
#include <vector>

#include "api/c_api_common.hpp"
#include "tokenizer/utf8.hpp"

using lem::capi::guarded;
using lem::Status;

namespace {

const lem::Tokenizer& tokenizer_of(const lem_model* model, const char* fn) {
  if (!model) lem::fail(Status::InvalidArg, "{}: model must not be NULL", fn);
  return model->loaded.require_tokenizer();
}

const lem::Tokenizer* tokenizer_or_null(const lem_model* model) {
  return model && model->loaded.tokenizer ? &*model->loaded.tokenizer : nullptr;
}

bool valid_id(const lem::Tokenizer& tok, int32_t token) { return token >= 0 && token < tok.n_vocab(); }

// The C messages as the renderer's; every pointer checked.
std::vector<lem::ChatMessage> chat_messages(const lem_chat_message* messages, size_t n_messages, const char* fn) {
  if (!messages && n_messages > 0) lem::fail(Status::InvalidArg, "{}: messages is NULL", fn);
  std::vector<lem::ChatMessage> msgs;
  msgs.reserve(n_messages);
  for (size_t i = 0; i < n_messages; ++i) {
    if (!messages[i].role || !messages[i].content)
      lem::fail(Status::InvalidArg, "{}: message {} has a NULL role or content", fn, i);
    msgs.push_back({messages[i].role, messages[i].content});
  }
  return msgs;
}

// lem_chat_tokenize's extra checks: the role is template markup (tokenized with special
// parsing), so only the roles the template knows may appear; content must be valid UTF-8.
void check_untrusted_messages(const std::vector<lem::ChatMessage>& msgs, const char* fn) {
  for (size_t i = 0; i < msgs.size(); ++i) {
    const std::string& role = msgs[i].role;
    const bool known = role == "user" || role == "assistant" || role == "model" || (role == "system" && i == 0);
    if (!known)
      lem::fail(Status::InvalidArg,
                "{}: message {} has role '{}'; expected \"user\", \"assistant\" or \"model\" (\"system\" only first)",
                fn, i, lem::utf8::printable(role));
    if (!lem::utf8::is_valid(msgs[i].content))
      lem::fail(Status::InvalidArg, "{}: the content of message {} is not valid UTF-8", fn, i);
  }
}

}  // namespace

extern "C" {

int32_t lem_vocab_n_tokens(const lem_model* model) {
  const lem::Tokenizer* tok = tokenizer_or_null(model);
  return tok ? tok->n_vocab() : 0;
}

int32_t lem_vocab_add_bos(const lem_model* model) {
  const lem::Tokenizer* tok = tokenizer_or_null(model);
  return tok && tok->add_bos_by_default() ? 1 : 0;
}

int32_t lem_token_special(const lem_model* model, int32_t which) {
  const lem::Tokenizer* tok = tokenizer_or_null(model);
  if (!tok) return -1;
  switch (which) {
    case LEM_TOKEN_BOS: return tok->bos_id();
    case LEM_TOKEN_EOS: return tok->eos_id();
    case LEM_TOKEN_EOT: return tok->find_piece("<end_of_turn>");
    case LEM_TOKEN_PAD: return tok->pad_id();
    case LEM_TOKEN_UNK: return tok->unk_id();
    case LEM_TOKEN_START_OF_TURN: return tok->find_piece("<start_of_turn>");
    default: return -1;
  }
}

int32_t lem_token_is_eog(const lem_model* model, int32_t token) {
  const lem::Tokenizer* tok = tokenizer_or_null(model);
  return tok && tok->is_eos(token) ? 1 : 0;
}

int32_t lem_token_is_control(const lem_model* model, int32_t token) {
  // "Control" as lem_detokenize means it: the tokens it hides by default.
  const lem::Tokenizer* tok = tokenizer_or_null(model);
  return tok && valid_id(*tok, token) && tok->is_special(token) ? 1 : 0;
}

lem_status lem_token_piece(const lem_model* model, int32_t token, char* buf, size_t capacity, size_t* n_bytes) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_token_piece");
    if (!valid_id(tok, token))
      lem::fail(Status::InvalidArg, "lem_token_piece: token id {} is outside the vocabulary of {}", token,
                tok.n_vocab());
    lem::capi::copy_out(std::string(tok.token_text(token)), buf, capacity, n_bytes, "lem_token_piece");
  });
}

lem_status lem_tokenize(const lem_model* model, const char* text, size_t text_len, uint32_t flags, int32_t* tokens,
                        size_t capacity, size_t* n_tokens) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_tokenize");
    if (!n_tokens || (!text && text_len > 0)) lem::fail(Status::InvalidArg, "lem_tokenize: NULL text or n_tokens");
    const uint32_t known = LEM_TOKENIZE_ADD_BOS | LEM_TOKENIZE_PARSE_SPECIAL;
    if (flags & ~known) lem::fail(Status::InvalidArg, "lem_tokenize: unknown flags {:#x}", flags & ~known);
    const bool add_bos = (flags & LEM_TOKENIZE_ADD_BOS) != 0;
    std::vector<int32_t> ids =
        tok.encode(std::string_view(text ? text : "", text_len), false, (flags & LEM_TOKENIZE_PARSE_SPECIAL) != 0);
    // Never a second BOS: a text that already begins with "<bos>" (parsed as the token) keeps its own.
    if (add_bos && (ids.empty() || ids.front() != tok.bos_id())) {
      if (tok.bos_id() < 0) lem::fail(Status::InvalidArg, "lem_tokenize: ADD_BOS, but the vocabulary has no BOS token");
      ids.insert(ids.begin(), tok.bos_id());
    }
    lem::capi::copy_ids(ids, tokens, capacity, n_tokens, "lem_tokenize");
  });
}

lem_status lem_detokenize(const lem_model* model, const int32_t* tokens, size_t n_tokens, uint32_t flags, char* buf,
                          size_t capacity, size_t* n_bytes) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_detokenize");
    if (!tokens && n_tokens > 0) lem::fail(Status::InvalidArg, "lem_detokenize: tokens must not be NULL");
    if (flags & ~LEM_DETOKENIZE_SHOW_CONTROL)
      lem::fail(Status::InvalidArg, "lem_detokenize: unknown flags {:#x}", flags & ~LEM_DETOKENIZE_SHOW_CONTROL);
    const bool show_control = (flags & LEM_DETOKENIZE_SHOW_CONTROL) != 0;
    const std::string text = tok.decode(std::span<const int32_t>(tokens, n_tokens), !show_control);
    lem::capi::copy_out(text, buf, capacity, n_bytes, "lem_detokenize");
  });
}

lem_status lem_chat_apply_template(const lem_model* model, const lem_chat_message* messages, size_t n_messages,
                                   int32_t add_generation_prompt, char* buf, size_t capacity, size_t* n_bytes) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_chat_apply_template");
    const auto msgs = chat_messages(messages, n_messages, "lem_chat_apply_template");
    lem::capi::copy_out(tok.apply_chat_template(msgs, add_generation_prompt != 0), buf, capacity, n_bytes,
                        "lem_chat_apply_template");
  });
}

lem_status lem_chat_tokenize(const lem_model* model, const lem_chat_message* messages, size_t n_messages,
                             int32_t add_generation_prompt, int32_t* tokens, size_t capacity, size_t* n_tokens) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_chat_tokenize");
    if (!n_tokens) lem::fail(Status::InvalidArg, "lem_chat_tokenize: n_tokens must not be NULL");
    const auto msgs = chat_messages(messages, n_messages, "lem_chat_tokenize");
    check_untrusted_messages(msgs, "lem_chat_tokenize");
    // Control tokens from the template only: message text is tokenized without special parsing.
    const std::vector<int32_t> ids = tok.encode_chat(msgs, add_generation_prompt != 0, false);
    lem::capi::copy_ids(ids, tokens, capacity, n_tokens, "lem_chat_tokenize");
  });
}

}  // extern "C"
