// A model ready to run: the Gemma 3 network and its tokenizer, found beside it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/gemma3_model.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lem {

struct LoadedModel {
  std::unique_ptr<Gemma3Model> net;
  std::optional<Tokenizer> tokenizer;  // absent when the files carry none

  // Opens `path` (any format ModelSource reads). The tokenizer comes from the GGUF's
  // tokenizer.ggml.* metadata, or from tokenizer.json in the checkpoint's folder.
  static LoadedModel open(const std::string& path);

  // The tokenizer, or lem::Error(Unsupported) naming the model when there is none.
  const Tokenizer& require_tokenizer() const;
  // Ids that may be sampled: the tokenizer's size, capped by the embedding rows (262208-row
  // 4B checkpoints pad a 262144-token vocabulary).
  int32_t n_sampling_vocab() const;
};

}  // namespace lem
