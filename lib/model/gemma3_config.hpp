// Gemma 3 hyperparameters and the file-format semantics that go with them (shared spec §1, §2, §5).
//
// GGUF files and HF/MLX checkpoints of the "same" model differ in a few conventions (spec §2
// table): norm gains (GGUF stores 1 + w), the embedding scale's rounding, the attention scale
// (GGUF has no query_pre_attn_scalar key) and how layer types are given. Gemma3Config resolves
// all of them into plain numbers, so the forward pass has a single code path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/ggml_types.hpp"

namespace lem {

class ModelSource;

struct Gemma3Config {
  int64_t n_embd = 0;         // D
  int64_t n_layer = 0;
  int64_t n_ff = 0;           // F
  int64_t n_head = 0;         // H
  int64_t n_head_kv = 0;      // Hkv
  int64_t head_dim = 0;       // dh
  int64_t n_vocab = 0;        // rows of the embedding / LM head
  int64_t n_ctx_train = 0;    // max_position_embeddings / context_length
  int64_t sliding_window = 0; // W (0: every layer global)
  std::vector<bool> layer_is_sliding;  // per layer

  float rms_eps = 1e-6f;
  float rope_base_global = 1e6f;
  float rope_base_local = 1e4f;
  float rope_scale_global = 1.0f;  // positions multiplied by this on global layers (1 / linear factor)
  float attn_scale = 0.0f;         // q is multiplied by this before q·k
  float embed_scale = 0.0f;        // token embeddings are multiplied by this
  float final_logit_softcap = 0.0f;  // 0: none (Gemma 3 has none; honoured if a file sets it)
  float attn_logit_softcap = 0.0f;
  bool norm_add_one = false;       // HF/MLX zero-centred norm weights: gain = 1 + w

  std::string describe() const;    // one line for logs and `lem info`
};

// Reads the configuration from a GGUF file's gemma3.* keys or from config.json (Gemma3ForCausalLM,
// or the text_config of Gemma3ForConditionalGeneration), checks it against the tensors present,
// and throws lem::Error (Unsupported for other architectures, BadFormat for inconsistent values).
Gemma3Config load_gemma3_config(const ModelSource& source);

// The embedding scale sqrt(D) as each convention rounds it (spec §2 item 1).
float gemma3_embed_scale(int64_t n_embd, bool hf_semantics, GgmlType embed_storage);

}  // namespace lem
