// GGUF v3 writer: collects metadata key/values and tensors, then writes the file in one pass,
// streaming tensor data to disk (a tensor may be given as bytes, as a borrowed view, or as a
// callback that produces its rows chunk by chunk), so that multi-GB files never sit in memory.
//
// Layout written (shared spec §5): "GGUF", u32 version 3, u64 n_tensors, u64 n_kv, the key/values
// in the order added, the tensor infos in the order added (offsets relative to the data section,
// each a multiple of the alignment), zero padding to the alignment, then each tensor's bytes
// followed by zero padding to the alignment, as ggml's gguf writer does (a file without tensors
// ends after the tensor infos, as gguf-py writes vocabulary-only files). The alignment is 32 (the
// GGUF default) unless set; a non-default one is recorded as general.alignment.
//
// The file is written to PATH.partial and renamed to PATH when complete, so an interrupted write
// never leaves a truncated file under the final name.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/gguf_file.hpp"
#include "kernels/ggml_types.hpp"

namespace lem::io {

class GgufWriter {
 public:
  // Fills out[0 .. n_rows * row_bytes) with rows first_row .. first_row + n_rows - 1 of the
  // tensor (rows are ne[0] elements; ne[1..] flattened, ne[1] fastest). Called once per chunk, in
  // row order. May throw; the write is then abandoned.
  using RowProducer = std::function<void(uint64_t first_row, uint64_t n_rows, uint8_t* out)>;

  // `alignment`: a power of two (InvalidArg otherwise).
  explicit GgufWriter(uint32_t alignment = 32);

  // --- metadata. Keys must be unique and non-empty (InvalidArg otherwise). ---
  void add_u8(std::string_view key, uint8_t v);
  void add_i8(std::string_view key, int8_t v);
  void add_u16(std::string_view key, uint16_t v);
  void add_i16(std::string_view key, int16_t v);
  void add_u32(std::string_view key, uint32_t v);
  void add_i32(std::string_view key, int32_t v);
  void add_u64(std::string_view key, uint64_t v);
  void add_i64(std::string_view key, int64_t v);
  void add_f32(std::string_view key, float v);
  void add_f64(std::string_view key, double v);
  void add_bool(std::string_view key, bool v);
  void add_string(std::string_view key, std::string_view v);
  void add_string_array(std::string_view key, std::span<const std::string> v);
  void add_string_array(std::string_view key, std::span<const std::string_view> v);
  void add_f32_array(std::string_view key, std::span<const float> v);
  void add_i32_array(std::string_view key, std::span<const int32_t> v);
  void add_u32_array(std::string_view key, std::span<const uint32_t> v);
  // A value as read by GgufFile (any type, nested arrays included), re-encoded unchanged.
  void add_value(std::string_view key, const GgufValue& v);

  bool has_key(std::string_view key) const;

  // --- tensors. Names must be unique, 1..63 bytes; 1 to 4 dimensions; ne[0] a multiple of the
  // type's block size (InvalidArg otherwise). ---
  // Owned bytes: exactly the tensor's byte size.
  void add_tensor(std::string_view name, GgmlType type, std::vector<uint64_t> ne, std::vector<uint8_t> data);
  // Borrowed bytes: must stay valid until write() returns.
  void add_tensor_view(std::string_view name, GgmlType type, std::vector<uint64_t> ne, const void* data, uint64_t size);
  // Rows produced on demand while writing.
  void add_tensor(std::string_view name, GgmlType type, std::vector<uint64_t> ne, RowProducer producer);

  size_t n_tensors() const { return tensors_.size(); }
  size_t n_kv() const { return kv_.size(); }

  // Upper bound on the bytes one producer call fills (at least one row). Default 64 MiB.
  void set_chunk_bytes(uint64_t bytes) { chunk_bytes_ = bytes; }

  // Writes the file. Throws lem::Error: Io (cannot create, write or rename; the partial file is
  // removed), or whatever a producer throws.
  void write(const std::string& path) const;

 private:
  struct Kv {
    std::string key;
    uint32_t type;
    std::vector<uint8_t> payload;  // the encoded value, without the type id
  };
  struct Tensor {
    std::string name;
    GgmlType type;
    std::vector<uint64_t> ne;
    uint64_t n_rows = 0;
    uint64_t row_bytes = 0;
    uint64_t nbytes = 0;
    uint64_t offset = 0;  // relative to the data section
    std::vector<uint8_t> owned;
    const uint8_t* view = nullptr;
    RowProducer producer;
  };

  void add_kv(std::string_view key, GgufValueType type, std::vector<uint8_t> payload);
  // Validates name, shape and type and computes the sizes; the offset is set by push_tensor.
  Tensor make_tensor_info(std::string_view name, GgmlType type, std::vector<uint64_t> ne) const;
  void push_tensor(Tensor t);

  uint32_t alignment_;
  uint64_t chunk_bytes_ = 64ull << 20;
  uint64_t data_size_ = 0;  // bytes of the data section so far (aligned)
  std::vector<Kv> kv_;
  std::vector<Tensor> tensors_;
};

}  // namespace lem::io
