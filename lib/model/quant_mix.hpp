// Which ggml type llama-quantize gives each Gemma 3 tensor for a given file type ("Q4_K_M", ...):
// llama_tensor_get_type_impl + tensor_type_fallback of llama.cpp v0.5.0 (src/llama-quant.cpp),
// restricted to what a Gemma 3 text model has and to quantisation without an importance matrix.
// Shared spec §6 "llama-quantize mixes" tabulates the rules; the tiny fixtures'
// gguf/tensor_types.json record llama-quantize's actual choices.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "kernels/ggml_types.hpp"

namespace lem {

// llama.cpp's llama_ftype: the value of general.file_type. Only the file types whose tensor types
// this library can write (kernels/quant/quantize_weights.hpp) and llama-quantize makes without an
// importance matrix are listed (it refuses IQ1_*, IQ2_* and Q2_K_S without one; IQ3_* need the
// IQ3 quantisers).
enum class LlamaFtype : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 7,
  Q5_0 = 8,
  Q5_1 = 9,
  Q2_K = 10,
  Q3_K_S = 11,
  Q3_K_M = 12,
  Q3_K_L = 13,
  Q4_K_S = 14,
  Q4_K_M = 15,
  Q5_K_S = 16,
  Q5_K_M = 17,
  Q6_K = 18,
  IQ4_NL = 25,
  IQ4_XS = 30,
  BF16 = 32,
  TQ1_0 = 36,
  TQ2_0 = 37,
};

// "Q4_K_M", "Q8_0", "F16", "BF16", ... as llama-quantize spells them (case-sensitive); nullopt
// for names not listed above.
std::optional<LlamaFtype> llama_ftype_from_name(std::string_view name);
std::string_view llama_ftype_name(LlamaFtype ftype);

// The type most tensors get (llama_ftype_get_default_type): Q4_K for Q4_K_M, F16 for F16, ...
GgmlType llama_ftype_default_type(LlamaFtype ftype);

// The type llama-quantize writes for tensor `tensor_name` (a GGUF name such as
// "blk.3.attn_v.weight" or "token_embd.weight") of a Gemma 3 model.
//   layer:      the block index of a blk.N tensor (ignored for others)
//   n_layers:   block count
//   row_length: ne[0] of the tensor
//   n_head / n_head_kv: attention heads (their ratio picks attn_v's type for Q2_K and IQ4_*)
// Norms (names ending in "_norm.weight", the only 1-D tensors of Gemma 3) are never quantised:
// F32. The model is assumed to have no output.weight (tied embeddings, as every Gemma 3), so
// token_embd follows the output-tensor rule.
GgmlType llama_quantize_type(LlamaFtype ftype, std::string_view tensor_name, int layer, int n_layers,
                             uint64_t row_length, int n_head, int n_head_kv);

}  // namespace lem
