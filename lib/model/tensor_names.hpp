// HF / MLX checkpoint names -> canonical (GGUF) Gemma 3 tensor names (shared spec §1, §5, §7).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lem {

enum class HfNameKind {
  Text,     // part of the text decoder: mapped to a canonical name
  Vision,   // vision tower / projector of the multimodal wrapper: recognised and skipped
  Unknown,  // anything else: kept under its own name
};

struct HfNameMapping {
  HfNameKind kind = HfNameKind::Unknown;
  std::string canonical;  // e.g. "blk.3.attn_q.weight" (Text only)
};

// Maps a full HF tensor name such as "model.layers.3.self_attn.q_proj.weight" or
// "language_model.model.embed_tokens.weight". `suffix` handling: ".weight", ".scales" and
// ".biases" all map onto the canonical ".weight" name's module, keeping their own suffix
// (e.g. "...q_proj.scales" -> "blk.3.attn_q.scales").
HfNameMapping map_hf_tensor_name(std::string_view hf_name);

// The module path of an HF tensor name without its last component ("...q_proj.weight" ->
// "...q_proj"): the key MLX uses for per-module quantisation overrides.
std::string_view hf_module_path(std::string_view hf_name);

}  // namespace lem
