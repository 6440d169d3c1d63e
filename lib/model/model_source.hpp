// One view over every model file format: GGUF, HF safetensors (single or sharded) and MLX
// affine-quantised safetensors. The model code asks for "blk.3.attn_q.weight" and gets the bytes,
// storage type and shape without caring which file they came from.
//
// Canonical names and shapes are GGUF's (shared spec §5): names like `blk.N.attn_q.weight`,
// `token_embd.weight`, `output_norm.weight`; shapes in ggml order (ne[0] = row length), so an
// HF [out, in] matrix becomes ne = [in, out] with the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/ggml_types.hpp"

namespace lem {

namespace io {
class GgufFile;
class SafetensorsSet;
}  // namespace io

enum class ModelFormat { Gguf, Safetensors, Mlx };
const char* model_format_name(ModelFormat f);

// MLX affine quantisation of one weight: codes of `bits` bits packed in uint32 words (the
// weight's `data`), one scale and one bias per `group_size` elements of a row.
struct AffineQuant {
  uint32_t bits = 4;
  uint32_t group_size = 64;
  GgmlType scale_type = GgmlType::BF16;  // type of scales and biases
  const uint8_t* scales = nullptr;       // [rows, row_length / group_size]
  const uint8_t* biases = nullptr;
};

// A tensor as the model code sees it.
struct Weight {
  std::string name;            // canonical (GGUF) name
  std::string file_name;       // name in the file
  GgmlType type = GgmlType::F32;  // storage type of `data` (ignored when `affine` is set)
  std::vector<uint64_t> ne;    // logical shape, ggml order, ne[0] = row length
  const uint8_t* data = nullptr;
  uint64_t nbytes = 0;
  std::optional<AffineQuant> affine;

  uint64_t n_elements() const;
  uint64_t row_length() const { return ne.empty() ? 0 : ne[0]; }
  uint64_t n_rows() const { return row_length() ? n_elements() / row_length() : 0; }
};

// A tensor exactly as stored, for `lem info`.
struct StoredTensor {
  std::string name;
  std::string type;            // ggml name for GGUF ("q4_K"); lower-case dtype for safetensors ("bf16", "u32")
  std::vector<uint64_t> shape; // the file's own order (GGUF: ne; safetensors: outermost first)
  uint64_t offset = 0;         // GGUF: relative to the data section; safetensors: data_offsets begin
  uint64_t nbytes = 0;
  std::string file;            // the file (shard) that holds it
};

class ModelSource {
 public:
  // Opens a .gguf file, a .safetensors file, a model.safetensors.index.json, or a folder with
  // config.json plus model.safetensors / model.safetensors.index.json (or a single .gguf).
  // Throws lem::Error (Io, BadFormat, Unsupported) with a message naming file and field.
  static std::unique_ptr<ModelSource> open(const std::string& path);
  ~ModelSource();

  ModelFormat format() const { return format_; }
  const std::string& path() const { return path_; }
  // GGUF general.architecture, or the HF config's model_type ("gemma3_text", "gemma3").
  const std::string& architecture() const { return architecture_; }

  // Format-specific metadata: the GGUF file (null otherwise) and config.json (null for GGUF,
  // or for a bare .safetensors file with no config.json beside it).
  const io::GgufFile* gguf() const { return gguf_.get(); }
  const io::SafetensorsSet* safetensors() const { return st_.get(); }
  const nlohmann::ordered_json* hf_config() const { return hf_config_ ? &*hf_config_ : nullptr; }
  // HF/MLX norm weights are zero-centred (gain = 1 + w); GGUF stores 1 + w already.
  bool norms_are_zero_centred() const { return format_ != ModelFormat::Gguf; }

  const std::vector<StoredTensor>& stored_tensors() const { return stored_; }
  const std::vector<Weight>& weights() const { return weights_; }
  // Lookup by canonical name, then by file name; nullptr when absent.
  const Weight* find(std::string_view name) const;
  // As find(), but a missing tensor is a BadFormat error naming the file.
  const Weight& require(std::string_view name) const;

 private:
  ModelSource() = default;
  void open_gguf(const std::string& file);
  void open_safetensors(const std::string& st_path, const std::string& config_path);
  void add_weight(Weight w);

  ModelFormat format_ = ModelFormat::Gguf;
  std::string path_;
  std::string architecture_;
  std::unique_ptr<io::GgufFile> gguf_;
  std::unique_ptr<io::SafetensorsSet> st_;
  std::optional<nlohmann::ordered_json> hf_config_;
  std::vector<StoredTensor> stored_;
  std::vector<Weight> weights_;
  std::unordered_map<std::string, size_t> by_name_;
  std::unordered_map<std::string, size_t> by_file_name_;
};

}  // namespace lem
