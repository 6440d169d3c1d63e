// A model as the C ABI holds it: the Gemma 3 network and its tokenizer, found beside it, or less
// of it when the caller asks for less (a tokenizer alone, or only the file's tables).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "model/gemma3_model.hpp"
#include "model/model_source.hpp"
#include "runtime/model_metadata.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lem {

enum class LoadMode {
  Full,       // weights, configuration and tokenizer: ready to run
  VocabOnly,  // tokenizer and metadata: a vocab-only GGUF, a model, or a folder with tokenizer.json
  FileOnly,   // the file's tables and metadata only, whatever the configuration says
};

struct LoadOptions {
  LoadMode mode = LoadMode::Full;
  // Called with 0 at the start, after each layer's weights are bound (Full), and with 1 at the
  // end; returns true to stop the load (lem::Error Cancelled).
  std::function<bool(float progress)> progress;
};

struct LoadedModel {
  LoadMode mode = LoadMode::Full;
  std::string path;
  std::unique_ptr<Gemma3Model> net;    // Full only
  std::unique_ptr<ModelSource> file;   // VocabOnly and FileOnly; null for a tokenizer-only folder
  std::optional<Tokenizer> tokenizer;  // absent when the files carry none (always in FileOnly)
  ModelMetadata metadata;              // GGUF key/values or config.json, flattened
  std::string description;             // net's configuration in one line; empty without net

  // Opens `path` (any format ModelSource reads; VocabOnly also takes a tokenizer.json or a
  // folder holding one). The tokenizer comes from the GGUF's tokenizer.ggml.* metadata, or from
  // tokenizer.json in the checkpoint's folder. Throws lem::Error.
  static LoadedModel open(const std::string& path, const LoadOptions& options = {});

  // The file(s) the model came from: net's source, or `file`; null for a tokenizer folder.
  const ModelSource* source() const { return net ? &net->source() : file.get(); }
  // The network, or lem::Error(InvalidArg) naming the load mode when it was not loaded.
  const Gemma3Model& require_net() const;
  // The tokenizer, or lem::Error(Unsupported) naming the model when there is none.
  const Tokenizer& require_tokenizer() const;
  // Ids that may be sampled: the tokenizer's size, capped by the embedding rows (262208-row
  // 4B checkpoints pad a 262144-token vocabulary). 0 without the network.
  int32_t n_sampling_vocab() const;
};

const char* load_mode_name(LoadMode mode);

}  // namespace lem
