// Tokenizer metadata for `lem synth`: the tokenizer.* keys of a GGUF file written by llama.cpp's
// converter, taken from a GGUF that has them (copied) or from a HF tokenizer.json (converted the
// way convert_hf_to_gguf.py's SentencePiece path converts Gemma 3, fixtures README "gemma3-vocab.gguf").
#pragma once

#include <cstdint>
#include <string>

#include "io/gguf_writer.hpp"

namespace lem::cli {

// Adds the tokenizer metadata of `source` to `w` with exactly `n_vocab` tokens: tokens the source
// has beyond n_vocab are dropped (the converter drops Gemma 3's <image_soft_token> for 262144-row
// models), missing ones are padded as the converter pads (piece "[PAD<id>]", score -10000,
// type UNUSED). A tokenizer.json source reads tokenizer_config.json from the same folder when
// there is one (special tokens, add_bos/add_eos, chat template). Throws lem::Error: Io,
// BadFormat (the source lacks or mangles what is needed), InvalidArg (a special token id is not
// below n_vocab).
void add_synth_vocab(io::GgufWriter& w, const std::string& source, uint64_t n_vocab);

}  // namespace lem::cli
