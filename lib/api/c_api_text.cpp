// extern "C" shims: tokenizer and chat template.
#include <string_view>
#include <vector>

#include "api/c_api_common.hpp"

using lem::capi::guarded;
using lem::Status;

namespace {

const lem::Tokenizer& tokenizer_of(const lem_model* model, const char* fn) {
  if (!model) lem::fail(Status::InvalidArg, "{}: model must not be NULL", fn);
  return model->loaded.require_tokenizer();
}

}  // namespace

extern "C" {

lem_status lem_tokenize(const lem_model* model, const char* text, size_t text_len, uint32_t flags, int32_t* tokens,
                        size_t capacity, size_t* n_tokens) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_tokenize");
    if (!n_tokens || (!text && text_len > 0)) lem::fail(Status::InvalidArg, "lem_tokenize: NULL text or n_tokens");
    const std::vector<int32_t> ids = tok.encode(std::string_view(text ? text : "", text_len),
                                                (flags & LEM_TOKENIZE_ADD_BOS) != 0,
                                                (flags & LEM_TOKENIZE_PARSE_SPECIAL) != 0);
    *n_tokens = ids.size();
    if (ids.size() > capacity)
      lem::fail(Status::BufferTooSmall, "lem_tokenize: {} tokens do not fit in a buffer of {}", ids.size(), capacity);
    if (!ids.empty() && !tokens) lem::fail(Status::InvalidArg, "lem_tokenize: tokens must not be NULL");
    std::copy(ids.begin(), ids.end(), tokens);
  });
}

lem_status lem_detokenize(const lem_model* model, const int32_t* tokens, size_t n_tokens, uint32_t flags, char* buf,
                          size_t capacity, size_t* n_bytes) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_detokenize");
    if (!tokens && n_tokens > 0) lem::fail(Status::InvalidArg, "lem_detokenize: tokens must not be NULL");
    const std::string text = tok.decode(std::span<const int32_t>(tokens, n_tokens), (flags & LEM_DETOKENIZE_SKIP_SPECIAL) != 0);
    lem::capi::copy_out(text, buf, capacity, n_bytes, "lem_detokenize");
  });
}

int32_t lem_token_bos(const lem_model* model) {
  return model && model->loaded.tokenizer ? model->loaded.tokenizer->bos_id() : -1;
}

int32_t lem_token_is_eog(const lem_model* model, int32_t token) {
  return model && model->loaded.tokenizer && model->loaded.tokenizer->is_eos(token) ? 1 : 0;
}

lem_status lem_chat_apply_template(const lem_model* model, const lem_chat_message* messages, size_t n_messages,
                                   int32_t add_generation_prompt, char* buf, size_t capacity, size_t* n_bytes) {
  return guarded([&] {
    const lem::Tokenizer& tok = tokenizer_of(model, "lem_chat_apply_template");
    if (!messages && n_messages > 0) lem::fail(Status::InvalidArg, "lem_chat_apply_template: messages is NULL");
    std::vector<lem::ChatMessage> msgs;
    for (size_t i = 0; i < n_messages; ++i) {
      if (!messages[i].role || !messages[i].content)
        lem::fail(Status::InvalidArg, "lem_chat_apply_template: message {} has a NULL role or content", i);
      msgs.push_back({messages[i].role, messages[i].content});
    }
    lem::capi::copy_out(tok.apply_chat_template(msgs, add_generation_prompt != 0), buf, capacity, n_bytes,
                        "lem_chat_apply_template");
  });
}

}  // extern "C"
