#include "model/tensor_names.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace lem {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Prefixes under which checkpoints keep the text decoder (spec §1 "Weight prefixes"):
// text-only `model.`, original 4B+ `language_model.model.`, re-saved 4B+ `model.language_model.`.
constexpr std::array kTextPrefixes = {
    std::string_view("model.language_model."),
    std::string_view("language_model.model."),
    std::string_view("model."),
};

constexpr std::array kVisionPrefixes = {
    std::string_view("vision_tower."),
    std::string_view("multi_modal_projector."),
    std::string_view("model.vision_tower."),
    std::string_view("model.multi_modal_projector."),
};

// Per-layer module name -> GGUF name (spec §5 table).
constexpr std::array<std::pair<std::string_view, std::string_view>, 13> kLayerModules = {{
    {"input_layernorm", "attn_norm"},
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"post_attention_layernorm", "post_attention_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
}};

}  // namespace

std::string_view hf_module_path(std::string_view hf_name) {
  const size_t dot = hf_name.rfind('.');
  return dot == std::string_view::npos ? hf_name : hf_name.substr(0, dot);
}

HfNameMapping map_hf_tensor_name(std::string_view name) {
  for (auto p : kVisionPrefixes)
    if (starts_with(name, p)) return {HfNameKind::Vision, {}};

  // lm_head (present in old MLX conversions and untied checkpoints) sits beside the prefix.
  for (auto head : {std::string_view("lm_head."), std::string_view("language_model.lm_head.")})
    if (starts_with(name, head)) return {HfNameKind::Text, "output." + std::string(name.substr(head.size()))};

  std::string_view rest;
  bool found = false;
  for (auto p : kTextPrefixes) {
    if (starts_with(name, p)) {
      rest = name.substr(p.size());
      found = true;
      break;
    }
  }
  if (!found) return {HfNameKind::Unknown, {}};

  const size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos) return {HfNameKind::Unknown, {}};
  const std::string_view module = rest.substr(0, dot);
  const std::string_view suffix = rest.substr(dot);  // ".weight", ".scales", ".biases"

  if (module == "embed_tokens") return {HfNameKind::Text, "token_embd" + std::string(suffix)};
  if (module == "norm") return {HfNameKind::Text, "output_norm" + std::string(suffix)};

  if (starts_with(module, "layers.")) {
    const std::string_view after = module.substr(7);
    unsigned layer = 0;
    const auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), layer);
    if (ec == std::errc() && end != after.data() && end < after.data() + after.size() && *end == '.') {
      const std::string_view sub = after.substr(static_cast<size_t>(end - after.data()) + 1);
      for (const auto& [hf, gguf] : kLayerModules)
        if (sub == hf)
          return {HfNameKind::Text, "blk." + std::to_string(layer) + "." + std::string(gguf) + std::string(suffix)};
    }
  }
  return {HfNameKind::Unknown, {}};
}

}  // namespace lem
