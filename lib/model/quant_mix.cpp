#include "model/quant_mix.hpp"

#include <array>
#include <utility>

namespace lem {
namespace {

constexpr std::array<std::pair<LlamaFtype, std::string_view>, 21> kNames = {{
    {LlamaFtype::F32, "F32"},       {LlamaFtype::F16, "F16"},       {LlamaFtype::BF16, "BF16"},
    {LlamaFtype::Q4_0, "Q4_0"},     {LlamaFtype::Q4_1, "Q4_1"},     {LlamaFtype::Q5_0, "Q5_0"},
    {LlamaFtype::Q5_1, "Q5_1"},     {LlamaFtype::Q8_0, "Q8_0"},     {LlamaFtype::Q2_K, "Q2_K"},
    {LlamaFtype::Q3_K_S, "Q3_K_S"}, {LlamaFtype::Q3_K_M, "Q3_K_M"}, {LlamaFtype::Q3_K_L, "Q3_K_L"},
    {LlamaFtype::Q4_K_S, "Q4_K_S"}, {LlamaFtype::Q4_K_M, "Q4_K_M"}, {LlamaFtype::Q5_K_S, "Q5_K_S"},
    {LlamaFtype::Q5_K_M, "Q5_K_M"}, {LlamaFtype::Q6_K, "Q6_K"},     {LlamaFtype::IQ4_NL, "IQ4_NL"},
    {LlamaFtype::IQ4_XS, "IQ4_XS"}, {LlamaFtype::TQ1_0, "TQ1_0"},   {LlamaFtype::TQ2_0, "TQ2_0"},
}};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The tensor categories llama-quantize distinguishes (tensor_get_category), as far as Gemma 3
// has them.
enum class Category { Output, TokenEmbd, AttnV, AttnK, AttnQ, AttnOutput, FfnDown, Other };

Category category_of(std::string_view name) {
  if (name == "output.weight") return Category::Output;
  if (name == "token_embd.weight") return Category::TokenEmbd;
  if (ends_with(name, "attn_v.weight")) return Category::AttnV;
  if (ends_with(name, "attn_k.weight")) return Category::AttnK;
  if (ends_with(name, "attn_q.weight")) return Category::AttnQ;
  if (ends_with(name, "attn_output.weight")) return Category::AttnOutput;
  if (ends_with(name, "ffn_down.weight")) return Category::FfnDown;
  return Category::Other;  // ffn_gate / ffn_up: rules only for IQ3_XS, which is not supported
}

// llama-quantize's use_more_bits(i, n): the first and last eighth of the layers and every third
// one between (spec §6: 1B layers 0-2, 5, 8, ..., 20, 22-25).
bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool is_float_ftype(LlamaFtype f) { return f == LlamaFtype::F32 || f == LlamaFtype::F16 || f == LlamaFtype::BF16; }

// tensor_type_fallback: a row length that is not a multiple of the chosen type's block takes a
// 32-element type instead (spec §6 "Shape fallback"), or F16 when even that does not fit.
GgmlType shape_fallback(GgmlType type, uint64_t row_length) {
  if (row_length % ggml_traits(type).block_size == 0) return type;
  GgmlType fallback = type;
  switch (type) {
    case GgmlType::IQ4_XS: fallback = GgmlType::IQ4_NL; break;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::TQ1_0:
    case GgmlType::TQ2_0: fallback = GgmlType::Q4_0; break;
    case GgmlType::Q4_K: fallback = GgmlType::Q5_0; break;
    case GgmlType::Q5_K: fallback = GgmlType::Q5_1; break;
    case GgmlType::Q6_K: fallback = GgmlType::Q8_0; break;
    default: break;  // already a 32-element type
  }
  return row_length % ggml_traits(fallback).block_size == 0 ? fallback : GgmlType::F16;
}

// llama_tensor_get_type_impl for the categories and file types above, before the fallback.
GgmlType mix_type(LlamaFtype ftype, Category cat, int i, int n, uint64_t row_length, int n_gqa) {
  const GgmlType base = llama_ftype_default_type(ftype);
  switch (cat) {
    case Category::Output:
    case Category::TokenEmbd:
      // Output rule (token_embd shares it when embeddings are tied): Q8_0 when the row does not
      // fit the default type's block, Q8_0 stays Q8_0, everything else gets Q6_K.
      if (row_length % ggml_traits(base).block_size != 0) return GgmlType::Q8_0;
      return base == GgmlType::Q8_0 ? GgmlType::Q8_0 : GgmlType::Q6_K;
    case Category::AttnV:
      switch (ftype) {
        case LlamaFtype::Q2_K: return n_gqa >= 4 ? GgmlType::Q4_K : GgmlType::Q3_K;
        case LlamaFtype::Q3_K_M: return i < 2 ? GgmlType::Q5_K : GgmlType::Q4_K;
        case LlamaFtype::Q3_K_L: return GgmlType::Q5_K;
        case LlamaFtype::IQ4_NL:
        case LlamaFtype::IQ4_XS: return n_gqa >= 4 ? GgmlType::Q5_K : base;
        case LlamaFtype::Q4_K_M:
        case LlamaFtype::Q5_K_M: return use_more_bits(i, n) ? GgmlType::Q6_K : base;
        case LlamaFtype::Q4_K_S: return i < 4 ? GgmlType::Q5_K : base;
        default: return base;
      }
    case Category::FfnDown:
      switch (ftype) {
        case LlamaFtype::Q2_K: return GgmlType::Q3_K;
        case LlamaFtype::Q3_K_M: return i < n / 16 ? GgmlType::Q5_K : GgmlType::Q4_K;  // Q3_K only for Falcon
        case LlamaFtype::Q3_K_L: return GgmlType::Q5_K;
        case LlamaFtype::Q4_K_M: return use_more_bits(i, n) ? GgmlType::Q6_K : base;
        case LlamaFtype::IQ4_NL:
        case LlamaFtype::IQ4_XS: return i < n / 8 ? GgmlType::Q5_K : base;  // without an imatrix
        case LlamaFtype::Q5_K_M: return use_more_bits(i, n) ? GgmlType::Q6_K : base;
        case LlamaFtype::Q4_K_S: return i < n / 8 ? GgmlType::Q5_K : base;
        default: return base;  // Q4_0/Q5_0 take Q4_1/Q5_1 for i < n/8 only with an imatrix
      }
    case Category::AttnOutput:
      switch (ftype) {
        case LlamaFtype::Q2_K: return GgmlType::Q3_K;
        case LlamaFtype::Q3_K_M: return GgmlType::Q4_K;
        case LlamaFtype::Q3_K_L: return GgmlType::Q5_K;
        default: return base;
      }
    case Category::AttnK:
    case Category::AttnQ:
    case Category::Other:
      return base;  // their rules concern IQ3_XS / IQ3_XXS only
  }
  return base;
}

}  // namespace

std::optional<LlamaFtype> llama_ftype_from_name(std::string_view name) {
  for (const auto& [ftype, n] : kNames)
    if (n == name) return ftype;
  return std::nullopt;
}

std::string_view llama_ftype_name(LlamaFtype ftype) {
  for (const auto& [f, n] : kNames)
    if (f == ftype) return n;
  return "?";
}

GgmlType llama_ftype_default_type(LlamaFtype ftype) {
  switch (ftype) {
    case LlamaFtype::F32: return GgmlType::F32;
    case LlamaFtype::F16: return GgmlType::F16;
    case LlamaFtype::BF16: return GgmlType::BF16;
    case LlamaFtype::Q4_0: return GgmlType::Q4_0;
    case LlamaFtype::Q4_1: return GgmlType::Q4_1;
    case LlamaFtype::Q5_0: return GgmlType::Q5_0;
    case LlamaFtype::Q5_1: return GgmlType::Q5_1;
    case LlamaFtype::Q8_0: return GgmlType::Q8_0;
    case LlamaFtype::Q2_K: return GgmlType::Q2_K;
    case LlamaFtype::Q3_K_S:
    case LlamaFtype::Q3_K_M:
    case LlamaFtype::Q3_K_L: return GgmlType::Q3_K;
    case LlamaFtype::Q4_K_S:
    case LlamaFtype::Q4_K_M: return GgmlType::Q4_K;
    case LlamaFtype::Q5_K_S:
    case LlamaFtype::Q5_K_M: return GgmlType::Q5_K;
    case LlamaFtype::Q6_K: return GgmlType::Q6_K;
    case LlamaFtype::IQ4_NL: return GgmlType::IQ4_NL;
    case LlamaFtype::IQ4_XS: return GgmlType::IQ4_XS;
    case LlamaFtype::TQ1_0: return GgmlType::TQ1_0;
    case LlamaFtype::TQ2_0: return GgmlType::TQ2_0;
  }
  return GgmlType::F32;
}

GgmlType llama_quantize_type(LlamaFtype ftype, std::string_view tensor_name, int layer, int n_layers,
                             uint64_t row_length, int n_head, int n_head_kv) {
  // 1-D tensors (the norms) are never quantised (tensor_allows_quantization).
  if (ends_with(tensor_name, "_norm.weight")) return GgmlType::F32;
  // F32/F16/BF16 files convert every 2-D tensor; the mix rules apply to quantised types only.
  if (is_float_ftype(ftype)) return llama_ftype_default_type(ftype);
  const int n_gqa = n_head_kv > 0 ? n_head / n_head_kv : 0;
  const GgmlType chosen = mix_type(ftype, category_of(tensor_name), layer, n_layers, row_length, n_gqa);
  return shape_fallback(chosen, row_length);
}

}  // namespace lem
