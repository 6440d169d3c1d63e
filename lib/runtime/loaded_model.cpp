#include "runtime/loaded_model.hpp"

#include <algorithm>
#include <filesystem>

#include "io/gguf_file.hpp"
#include "util/error.hpp"
#include "util/log.hpp"

namespace fs = std::filesystem;

namespace lem {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Whether `path` names model weights (what ModelSource opens) rather than a bare tokenizer
// (a tokenizer.json, or a folder holding only tokenizer files).
bool names_weights(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path dir(path);
    if (fs::exists(dir / "model.safetensors", ec) || fs::exists(dir / "model.safetensors.index.json", ec)) return true;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && ends_with(e.path().string(), ".gguf")) return true;
    return false;
  }
  return io::GgufFile::has_magic(path) || ends_with(path, ".safetensors") || ends_with(path, ".index.json");
}

// The tokenizer that goes with a model file: GGUF tokenizer.ggml.* metadata, or tokenizer.json in
// the checkpoint's folder.
std::optional<Tokenizer> tokenizer_beside(const ModelSource& src, const std::string& path) {
  if (const io::GgufFile* g = src.gguf()) {
    if (g->find("tokenizer.ggml.tokens")) return Tokenizer::from_gguf(*g);
    return std::nullopt;
  }
  std::error_code ec;
  const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  if (fs::exists(dir / "tokenizer.json", ec)) return Tokenizer::from_path(dir.string());
  return std::nullopt;
}

void report(const LoadOptions& options, float progress, const std::string& path) {
  if (options.progress && options.progress(progress))
    fail(Status::Cancelled, "{}: loading cancelled by the progress callback", path);
}

}  // namespace

const char* load_mode_name(LoadMode mode) {
  switch (mode) {
    case LoadMode::Full: return "full";
    case LoadMode::VocabOnly: return "vocab_only";
    case LoadMode::FileOnly: return "file_only";
  }
  return "?";
}

LoadedModel LoadedModel::open(const std::string& path, const LoadOptions& options) {
  LoadedModel m;
  m.mode = options.mode;
  m.path = path;
  report(options, 0.0f, path);
  switch (options.mode) {
    case LoadMode::Full: {
      m.net = Gemma3Model::open(path, options.progress);
      m.tokenizer = tokenizer_beside(m.net->source(), path);
      if (m.tokenizer && m.tokenizer->n_vocab() > m.net->config().n_vocab + 1)
        fail(Status::BadFormat, "{}: the tokenizer has {} tokens but the model only {} embeddings", path,
             m.tokenizer->n_vocab(), m.net->config().n_vocab);
      m.description = m.net->config().describe();
      break;
    }
    case LoadMode::VocabOnly: {
      if (names_weights(path)) {
        m.file = ModelSource::open(path);
        m.tokenizer = tokenizer_beside(*m.file, path);
        if (!m.tokenizer)
          fail(Status::Unsupported, "{}: the model has no tokenizer (no tokenizer.ggml.* metadata or tokenizer.json)",
               path);
      } else {
        m.tokenizer = Tokenizer::from_path(path);
      }
      break;
    }
    case LoadMode::FileOnly: m.file = ModelSource::open(path); break;
  }
  if (const ModelSource* src = m.source()) m.metadata = ModelMetadata(*src);
  report(options, 1.0f, path);
  const char* format = m.source() ? model_format_name(m.source()->format()) : "tokenizer";
  log_message(LogLevel::Info, "loaded {} ({}, {}){}{}", path, format, load_mode_name(m.mode),
      m.description.empty() ? "" : ": ", m.description);
  return m;
}

const Gemma3Model& LoadedModel::require_net() const {
  if (!net)
    fail(Status::InvalidArg,
         "{}: the model was loaded without its weights (load mode {}); load it in full mode to run it", path,
         load_mode_name(mode));
  return *net;
}

const Tokenizer& LoadedModel::require_tokenizer() const {
  if (!tokenizer) {
    if (mode == LoadMode::FileOnly)
      fail(Status::InvalidArg, "{}: the model was loaded in file_only mode, without its tokenizer", path);
    fail(Status::Unsupported, "{}: the model has no tokenizer (no tokenizer.ggml.* metadata or tokenizer.json)", path);
  }
  return *tokenizer;
}

int32_t LoadedModel::n_sampling_vocab() const {
  if (!net) return 0;
  const auto rows = static_cast<int32_t>(net->config().n_vocab);
  return tokenizer ? std::min(rows, tokenizer->n_vocab()) : rows;
}

}  // namespace lem
