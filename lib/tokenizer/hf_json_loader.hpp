// Internal: builds TokenizerData from HF tokenizer files (tokenizer.json, tokenizer_config.json,
// generation_config.json). Used by Tokenizer::from_hf_json.
#pragma once

#include <memory>
#include <string>

#include "tokenizer/tokenizer_data.hpp"

namespace lem {

// Empty config paths are skipped. Throws lem::Error (Io, BadFormat, Unsupported).
std::shared_ptr<TokenizerData> load_hf_tokenizer(const std::string& tokenizer_json_path,
                                                 const std::string& config_path,
                                                 const std::string& generation_config_path);

}  // namespace lem
