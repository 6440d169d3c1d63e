// Everything `lem info` says about a model, as one JSON object (lem_model_info_json): the text
// summary and --json are both printed from it, so the library, not the CLI, knows the formats.
//
// Shape (keys always present unless marked optional):
//
// {
//   "path": "<as given to the load>",
//   "format": "gguf" | "safetensors" | "mlx" | "tokenizer" (a VOCAB_ONLY load of a tokenizer folder),
//   "architecture": "gemma3" | "<config.json model_type>" | "unknown" | "" (no model file),
//   "load_mode": "full" | "vocab_only" | "file_only",
//   "description": "D 256 layers 6 (5 sliding, window 16) ...",   optional: the configuration is runnable
//   "file": {
//     "tensor_count": 62, "tensor_bytes": 3123456,                   tensors as stored
//     "tensor_types": [{"type": "q8_0", "count": 42, "bytes": 123}], one per storage type, by name
//     "tokenizer": null | {"source": "gguf" | "tokenizer.json",
//                          "model": "llama",          optional (GGUF tokenizer.ggml.model)
//                          "tokens": 1024,            optional (GGUF token list length, or the loaded vocabulary)
//                          "merges": false},          optional (GGUF only: tokenizer.ggml.merges present)
//     "gguf": {                                                       optional: GGUF files only
//       "version": 3, "alignment": 32, "data_offset": 1234,
//       "name": "...",                                                optional: general.name
//       "file_type": 7,                                               optional: general.file_type
//       "hyperparameters": {"block_count": 6, ...}                    "<arch>.*" keys, prefix removed
//     },
//     "safetensors": {                                                optional: safetensors and MLX only
//       "shards": 1,
//       "config_json": true,                                          config.json found beside the weights
//       "class": ["Gemma3ForCausalLM"],                               optional: config.json "architectures"
//       "hyperparameters_source": "config" | "text_config",          optional (with config.json)
//       "hyperparameters": {"hidden_size": 256, ...},                 optional: the usual keys present
//       "quantization": {"group_size": 64, "bits": 4}                 optional: config.json "quantization"
//     }
//   },
//   "metadata": {...},        GGUF: key -> value (arrays over 64 elements as {"type": "array",
//                             "element_type", "length"} unless full_arrays); safetensors: config.json
//                             as is, plus "__metadata__" (the safetensors header's) when present
//   "tensors": [{"name", "type", "shape", "offset", "file" (sharded checkpoints only)}],
//                             optional: with_tensors. Types as stored ("q4_K", "bf16", "u32"),
//                             shapes in the file's order (GGUF ne; safetensors outermost first)
//   "kv_cache": {             optional: the configuration is runnable
//     "layers": 6, "sliding_layers": 5,
//     "sliding_layer_positions": 1039,   ring size of a sliding layer at the default batch
//     "n_batch": 512, "rewind_slack": 512,   the session defaults the sizes assume
//     "sizes": [{"n_ctx": 2048, "label": "requested" | "default" | "model maximum",
//                "f32_bytes": 123, "f16_bytes": 61}]   requested (n_ctx > 0) first, then default,
//                                                      then the model maximum; equal n_ctx listed once
//   },
//   "kv_cache_unavailable": "why"   optional: present exactly when "kv_cache" is absent
// }
#pragma once

#include <cstdint>

#include <nlohmann/json.hpp>

#include "runtime/loaded_model.hpp"

namespace lem {

struct ReportOptions {
  bool with_tensors = false;   // the "tensors" table
  bool full_arrays = false;    // long GGUF arrays in full in "metadata"
  int64_t n_ctx = 0;           // > 0: also report the KV cache at this context length
};

nlohmann::ordered_json model_report(const LoadedModel& model, const ReportOptions& options);

}  // namespace lem
