// GGUF v2/v3 reader: header, metadata key/values, tensor infos, all validated against the file size
// before anything is used. The file is memory mapped; tensor data and strings are views into it.
//
// Layout (shared spec §5, ggml docs/gguf.md): magic "GGUF", u32 version, u64 n_tensors, u64 n_kv,
// n_kv × {string key, u32 type, value}, n_tensors × {string name, u32 n_dims, u64 ne[n_dims],
// u32 ggml_type, u64 offset}, zero padding to general.alignment (default 32), tensor data.
// Strings are u64 length + bytes. All little-endian.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.hpp"
#include "kernels/ggml_types.hpp"

namespace lem::io {

enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

const char* gguf_value_type_name(GgufValueType t);

// One metadata value. Scalars are decoded; arrays of numbers stay packed in the file (read them
// with the element accessors); arrays of strings are decoded to views; arrays of arrays nest.
struct GgufValue {
  GgufValueType type = GgufValueType::U8;

  // Scalar payloads: exactly one is meaningful, by `type`.
  uint64_t u = 0;         // U8, U16, U32, U64
  int64_t i = 0;          // I8, I16, I32, I64
  double f = 0;           // F32, F64
  bool b = false;         // BOOL
  std::string_view str;   // STRING (bytes as stored; not necessarily valid UTF-8)

  // ARRAY payload.
  GgufValueType elem_type = GgufValueType::U8;
  uint64_t count = 0;
  const uint8_t* packed = nullptr;           // numeric/bool elements, little-endian, packed
  std::vector<std::string_view> strings;     // STRING elements
  std::vector<GgufValue> arrays;             // ARRAY elements

  bool is_integer() const;
  bool is_signed() const;  // I8..I64
  bool is_float() const { return type == GgufValueType::F32 || type == GgufValueType::F64; }
  // Numeric element `k` of a numeric/bool array (k < count), widened.
  int64_t int_at(uint64_t k) const;
  double float_at(uint64_t k) const;
};

struct GgufTensorInfo {
  std::string name;
  GgmlType type;
  std::vector<uint64_t> ne;     // ne[0] is the fastest (row length), as stored
  uint64_t offset = 0;          // as stored: relative to the start of the data section
  uint64_t nbytes = 0;          // validated: lies inside the file
  const uint8_t* data = nullptr;

  uint64_t n_elements() const;
};

class GgufFile {
 public:
  // Maps and validates `path`. Throws lem::Error: Status::Io (cannot open), Status::BadFormat
  // (anything malformed: the message names the file, the field and what was expected).
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // True when the first four bytes of `path` are "GGUF" (no validation).
  static bool has_magic(const std::string& path);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }   // absolute file offset of tensor data
  uint64_t file_size() const { return file_->size(); }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Typed lookups: nullopt when the key is absent; throw BadFormat when present with a type
  // that does not fit (integer keys accept any integer width, as llama.cpp does).
  std::optional<uint64_t> get_uint(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

 private:
  explicit GgufFile(std::unique_ptr<MappedFile> file) : file_(std::move(file)) {}
  void parse();

  std::unique_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string_view, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string_view, size_t> tensor_index_;
};

}  // namespace lem::io
