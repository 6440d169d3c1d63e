// safetensors reader: one file, or a sharded set described by model.safetensors.index.json.
//
// Layout (shared spec §7): u64 little-endian header size N, N bytes of UTF-8 JSON (may be padded
// with spaces), then the data. JSON: name -> {"dtype", "shape" (row-major, outermost first),
// "data_offsets": [begin, end)} relative to the data start, plus an optional "__metadata__"
// object of string -> string. Everything is validated before use: header size against the file,
// dtype names, shape products (overflow-checked) against end - begin, offsets inside the data.
// MLX writes tensors in any order and unaligned: both are accepted, as are gaps between tensors
// and unknown extra fields in an entry. Overlapping tensors are not, nor duplicate JSON keys, a
// header over 100 MiB, JSON nested deeper than 64 levels or arrays longer than 1024 elements.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.hpp"

namespace lem::io {

enum class StDtype {
  BOOL, U8, I8, U16, I16, U32, I32, U64, I64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2,
};

const char* st_dtype_name(StDtype d);   // as written in files: "BF16", "U32", "F8_E4M3"
uint32_t st_dtype_size(StDtype d);      // bytes per element

struct StTensorInfo {
  std::string name;
  StDtype dtype = StDtype::F32;
  std::vector<uint64_t> shape;   // as stored: outermost first
  uint64_t begin = 0;            // data_offsets, relative to the start of the data section
  uint64_t end = 0;
  const uint8_t* data = nullptr; // validated view into the mapped file
  uint64_t nbytes() const { return end - begin; }
  uint64_t n_elements() const;   // product of shape (1 for a 0-d scalar)
};

// One .safetensors file.
class SafetensorsFile {
 public:
  // Throws lem::Error: Status::Io when unreadable, Status::BadFormat (message names the file,
  // the tensor or field, and what was expected) when malformed.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint64_t header_size() const { return header_size_; }
  uint64_t data_offset() const { return 8 + header_size_; }
  // Tensors in the order the JSON header lists them.
  const std::vector<StTensorInfo>& tensors() const { return tensors_; }
  const StTensorInfo* find(std::string_view name) const;
  // "__metadata__" (string -> string), empty when absent.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  explicit SafetensorsFile(std::unique_ptr<MappedFile> f) : file_(std::move(f)) {}
  void parse();

  std::unique_ptr<MappedFile> file_;
  uint64_t header_size_ = 0;
  std::vector<StTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// A checkpoint: either one file, or the shards named by an index.json's "weight_map".
class SafetensorsSet {
 public:
  // `path` is a .safetensors file or a model.safetensors.index.json. For an index, every shard
  // it names is opened once (relative to the index's folder; names containing '/' or ".." are
  // rejected), every tensor the map names must exist in its shard, and a tensor present in two
  // shards is an error.
  static std::unique_ptr<SafetensorsSet> open(const std::string& path);

  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }
  // All tensors of all shards, shard by shard in file order. Pointers stay valid while the set lives.
  const std::vector<const StTensorInfo*>& tensors() const { return all_; }
  const StTensorInfo* find(std::string_view name) const;
  // The shard that holds `t` (for messages and `lem info`).
  const SafetensorsFile& shard_of(const StTensorInfo& t) const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<const StTensorInfo*> all_;
  std::unordered_map<std::string, std::pair<size_t, const StTensorInfo*>> index_;
};

}  // namespace lem::io
