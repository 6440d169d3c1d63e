// Internal: builds TokenizerData from a GGUF file's tokenizer.ggml.* metadata with llama.cpp's
// semantics for "llama" (SentencePiece) vocabularies and HF BPE semantics for "gpt2" ones with
// merges (spec §4). Used by Tokenizer::from_gguf.
#pragma once

#include <memory>

#include "io/gguf_file.hpp"
#include "tokenizer/tokenizer_data.hpp"

namespace lem {

// Throws lem::Error: BadFormat (missing or malformed keys), Unsupported (a tokenizer model
// other than "llama" or "gpt2").
std::shared_ptr<TokenizerData> load_gguf_tokenizer(const io::GgufFile& file);

}  // namespace lem
