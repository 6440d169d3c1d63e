#include "runtime/loaded_model.hpp"

#include <algorithm>
#include <filesystem>

#include "util/error.hpp"
#include "io/gguf_file.hpp"

namespace fs = std::filesystem;

namespace lem {

LoadedModel LoadedModel::open(const std::string& path) {
  LoadedModel m;
  m.net = Gemma3Model::open(path);
  const ModelSource& src = m.net->source();
  if (const io::GgufFile* g = src.gguf()) {
    if (g->find("tokenizer.ggml.tokens")) m.tokenizer = Tokenizer::from_gguf(*g);
  } else {
    std::error_code ec;
    const fs::path dir = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
    if (fs::exists(dir / "tokenizer.json", ec)) m.tokenizer = Tokenizer::from_path(dir.string());
  }
  if (m.tokenizer && m.tokenizer->n_vocab() > m.net->config().n_vocab + 1)
    fail(Status::BadFormat, "{}: the tokenizer has {} tokens but the model only {} embeddings", path,
         m.tokenizer->n_vocab(), m.net->config().n_vocab);
  return m;
}

const Tokenizer& LoadedModel::require_tokenizer() const {
  if (!tokenizer)
    fail(Status::Unsupported, "{}: the model has no tokenizer (no tokenizer.ggml.* metadata or tokenizer.json)",
         net->source().path());
  return *tokenizer;
}

int32_t LoadedModel::n_sampling_vocab() const {
  const auto rows = static_cast<int32_t>(net->config().n_vocab);
  return tokenizer ? std::min(rows, tokenizer->n_vocab()) : rows;
}

}  // namespace lem
