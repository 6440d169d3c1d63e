#include "io/gguf_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "util/error.hpp"
#include "util/checked_math.hpp"

namespace lem::io {
namespace {

constexpr uint32_t kGgufVersion = 3;
constexpr uint64_t kMaxTensorNameBytes = 63;  // GGML_MAX_NAME - 1, as llama.cpp enforces
constexpr size_t kMaxDims = 4;
constexpr uint64_t kDefaultAlignment = 32;

using Bytes = std::vector<uint8_t>;

template <class T>
void put(Bytes& out, T v) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));  // little-endian hosts only (kernels/quant/formats.hpp asserts it)
  out.insert(out.end(), b, b + sizeof(T));
}

template <class T>
Bytes encoded(T v) {
  Bytes b;
  put<T>(b, v);
  return b;
}

void put_string(Bytes& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

uint64_t fixed_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    case GgufValueType::STRING: case GgufValueType::ARRAY: return 0;
  }
  return 0;
}

// Encodes a scalar of `type` from GgufValue's widened fields.
void put_scalar(Bytes& out, const GgufValue& v) {
  switch (v.type) {
    case GgufValueType::U8: put<uint8_t>(out, static_cast<uint8_t>(v.u)); break;
    case GgufValueType::I8: put<int8_t>(out, static_cast<int8_t>(v.i)); break;
    case GgufValueType::U16: put<uint16_t>(out, static_cast<uint16_t>(v.u)); break;
    case GgufValueType::I16: put<int16_t>(out, static_cast<int16_t>(v.i)); break;
    case GgufValueType::U32: put<uint32_t>(out, static_cast<uint32_t>(v.u)); break;
    case GgufValueType::I32: put<int32_t>(out, static_cast<int32_t>(v.i)); break;
    case GgufValueType::U64: put<uint64_t>(out, v.u); break;
    case GgufValueType::I64: put<int64_t>(out, v.i); break;
    case GgufValueType::F32: put<float>(out, static_cast<float>(v.f)); break;  // widened exactly, so narrowed exactly
    case GgufValueType::F64: put<double>(out, v.f); break;
    case GgufValueType::BOOL: put<uint8_t>(out, v.b ? 1 : 0); break;
    case GgufValueType::STRING: put_string(out, v.str); break;
    case GgufValueType::ARRAY: break;  // handled by put_value
  }
}

void put_value(Bytes& out, const GgufValue& v, std::string_view key) {
  if (v.type != GgufValueType::ARRAY) {
    put_scalar(out, v);
    return;
  }
  put<uint32_t>(out, static_cast<uint32_t>(v.elem_type));
  put<uint64_t>(out, v.count);
  if (const uint64_t size = fixed_size(v.elem_type)) {
    if (v.count > 0 && v.packed == nullptr) fail(Status::InvalidArg, "GGUF writer: array '{}' has no element data", key);
    out.insert(out.end(), v.packed, v.packed + v.count * size);
  } else if (v.elem_type == GgufValueType::STRING) {
    if (v.strings.size() != v.count)
      fail(Status::InvalidArg, "GGUF writer: string array '{}' has {} strings, count says {}", key, v.strings.size(), v.count);
    for (const auto& s : v.strings) put_string(out, s);
  } else {
    if (v.arrays.size() != v.count)
      fail(Status::InvalidArg, "GGUF writer: array of arrays '{}' has {} elements, count says {}", key, v.arrays.size(), v.count);
    for (const auto& a : v.arrays) put_value(out, a, key);
  }
}

template <class T>
Bytes numeric_array(GgufValueType elem, std::span<const T> v) {
  Bytes out;
  out.reserve(12 + v.size() * sizeof(T));
  put<uint32_t>(out, static_cast<uint32_t>(elem));
  put<uint64_t>(out, v.size());
  for (const T x : v) put<T>(out, x);
  return out;
}

template <class S>
Bytes string_array(std::span<const S> v) {
  Bytes out;
  put<uint32_t>(out, static_cast<uint32_t>(GgufValueType::STRING));
  put<uint64_t>(out, v.size());
  for (const auto& s : v) put_string(out, s);
  return out;
}

// A FILE* that is closed (and its file removed) unless released by finish().
class OutputFile {
 public:
  explicit OutputFile(std::string path) : path_(std::move(path)) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) fail(Status::Io, "{}: cannot create: {}", path_, std::strerror(errno));
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  }
  ~OutputFile() {
    if (file_) {
      std::fclose(file_);
      std::remove(path_.c_str());
    }
  }
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, uint64_t n) {
    if (n > 0 && std::fwrite(data, 1, n, file_) != n) fail(Status::Io, "{}: write failed: {}", path_, std::strerror(errno));
    written_ += n;
  }
  void pad_to(uint64_t alignment) {
    static const uint8_t zeros[256] = {};
    uint64_t pad = (alignment - written_ % alignment) % alignment;
    while (pad > 0) {
      const uint64_t n = pad < sizeof zeros ? pad : sizeof zeros;
      write(zeros, n);
      pad -= n;
    }
  }
  uint64_t written() const { return written_; }

  // Flushes and closes; the file stays.
  void finish() {
    const bool ok = std::fflush(file_) == 0 && !std::ferror(file_);
    const int err = errno;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok || !closed) {
      std::remove(path_.c_str());
      fail(Status::Io, "{}: write failed: {}", path_, std::strerror(ok ? errno : err));
    }
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t written_ = 0;
};

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    fail(Status::InvalidArg, "GGUF writer: alignment {} is not a power of two", alignment);
  if (alignment != kDefaultAlignment) add_u32("general.alignment", alignment);
}

void GgufWriter::add_kv(std::string_view key, GgufValueType type, std::vector<uint8_t> payload) {
  if (key.empty()) fail(Status::InvalidArg, "GGUF writer: empty metadata key");
  if (has_key(key)) fail(Status::InvalidArg, "GGUF writer: duplicate metadata key '{}'", key);
  kv_.push_back({std::string(key), static_cast<uint32_t>(type), std::move(payload)});
}

bool GgufWriter::has_key(std::string_view key) const {
  for (const auto& kv : kv_)
    if (kv.key == key) return true;
  return false;
}

void GgufWriter::add_u8(std::string_view key, uint8_t v) { add_kv(key, GgufValueType::U8, encoded(v)); }
void GgufWriter::add_i8(std::string_view key, int8_t v) { add_kv(key, GgufValueType::I8, encoded(v)); }
void GgufWriter::add_u16(std::string_view key, uint16_t v) { add_kv(key, GgufValueType::U16, encoded(v)); }
void GgufWriter::add_i16(std::string_view key, int16_t v) { add_kv(key, GgufValueType::I16, encoded(v)); }
void GgufWriter::add_u32(std::string_view key, uint32_t v) { add_kv(key, GgufValueType::U32, encoded(v)); }
void GgufWriter::add_i32(std::string_view key, int32_t v) { add_kv(key, GgufValueType::I32, encoded(v)); }
void GgufWriter::add_u64(std::string_view key, uint64_t v) { add_kv(key, GgufValueType::U64, encoded(v)); }
void GgufWriter::add_i64(std::string_view key, int64_t v) { add_kv(key, GgufValueType::I64, encoded(v)); }
void GgufWriter::add_f32(std::string_view key, float v) { add_kv(key, GgufValueType::F32, encoded(v)); }
void GgufWriter::add_f64(std::string_view key, double v) { add_kv(key, GgufValueType::F64, encoded(v)); }
void GgufWriter::add_bool(std::string_view key, bool v) { add_kv(key, GgufValueType::BOOL, encoded<uint8_t>(v ? 1 : 0)); }
void GgufWriter::add_string(std::string_view key, std::string_view v) {
  Bytes b;
  put_string(b, v);
  add_kv(key, GgufValueType::STRING, std::move(b));
}
void GgufWriter::add_string_array(std::string_view key, std::span<const std::string> v) {
  add_kv(key, GgufValueType::ARRAY, string_array(v));
}
void GgufWriter::add_string_array(std::string_view key, std::span<const std::string_view> v) {
  add_kv(key, GgufValueType::ARRAY, string_array(v));
}
void GgufWriter::add_f32_array(std::string_view key, std::span<const float> v) {
  add_kv(key, GgufValueType::ARRAY, numeric_array(GgufValueType::F32, v));
}
void GgufWriter::add_i32_array(std::string_view key, std::span<const int32_t> v) {
  add_kv(key, GgufValueType::ARRAY, numeric_array(GgufValueType::I32, v));
}
void GgufWriter::add_u32_array(std::string_view key, std::span<const uint32_t> v) {
  add_kv(key, GgufValueType::ARRAY, numeric_array(GgufValueType::U32, v));
}

void GgufWriter::add_value(std::string_view key, const GgufValue& v) {
  if (key == "general.alignment") {
    // The writer owns the alignment: a copied key must agree with it.
    if (v.type != GgufValueType::U32 || v.u != alignment_)
      fail(Status::InvalidArg, "GGUF writer: general.alignment {} differs from the writer's alignment {}", v.u, alignment_);
    if (has_key(key)) return;
  }
  Bytes b;
  put_value(b, v, key);
  add_kv(key, v.type, std::move(b));
}

GgufWriter::Tensor GgufWriter::make_tensor_info(std::string_view name, GgmlType type, std::vector<uint64_t> ne) const {
  if (name.empty() || name.size() > kMaxTensorNameBytes)
    fail(Status::InvalidArg, "GGUF writer: tensor name '{}' is {} bytes, expected 1 to {}", name, name.size(), kMaxTensorNameBytes);
  for (const auto& t : tensors_)
    if (t.name == name) fail(Status::InvalidArg, "GGUF writer: duplicate tensor name '{}'", name);
  if (ne.empty() || ne.size() > kMaxDims)
    fail(Status::InvalidArg, "GGUF writer: tensor '{}' has {} dimensions, expected 1 to {}", name, ne.size(), kMaxDims);
  const auto row_bytes = ggml_row_bytes(type, ne[0]);
  if (!row_bytes)
    fail(Status::InvalidArg, "GGUF writer: tensor '{}': row length {} is not a multiple of the {} block size {}", name, ne[0],
         ggml_traits(type).name, ggml_traits(type).block_size);
  uint64_t n_rows = 1;
  for (size_t d = 1; d < ne.size(); ++d) {
    const auto prod = checked_mul(n_rows, ne[d]);
    if (!prod) fail(Status::InvalidArg, "GGUF writer: tensor '{}': element count overflows", name);
    n_rows = *prod;
  }
  const auto nbytes = checked_mul(n_rows, *row_bytes);
  const auto end = nbytes ? checked_add(data_size_, *nbytes) : std::nullopt;
  const auto aligned_end = end ? align_up(*end, alignment_) : std::nullopt;
  if (!aligned_end || *aligned_end > static_cast<uint64_t>(INT64_MAX))
    fail(Status::InvalidArg, "GGUF writer: tensor '{}': byte size overflows", name);

  Tensor t;
  t.name = std::string(name);
  t.type = type;
  t.ne = std::move(ne);
  t.n_rows = n_rows;
  t.row_bytes = *row_bytes;
  t.nbytes = *nbytes;
  return t;
}

void GgufWriter::push_tensor(Tensor t) {
  t.offset = data_size_;
  data_size_ = *align_up(t.offset + t.nbytes, alignment_);  // checked by make_tensor_info
  tensors_.push_back(std::move(t));
}

void GgufWriter::add_tensor(std::string_view name, GgmlType type, std::vector<uint64_t> ne, std::vector<uint8_t> data) {
  Tensor t = make_tensor_info(name, type, std::move(ne));
  if (data.size() != t.nbytes)
    fail(Status::InvalidArg, "GGUF writer: tensor '{}' has {} bytes of data, its shape and type need {}", name, data.size(),
         t.nbytes);
  t.owned = std::move(data);
  push_tensor(std::move(t));
}

void GgufWriter::add_tensor_view(std::string_view name, GgmlType type, std::vector<uint64_t> ne, const void* data,
                                 uint64_t size) {
  Tensor t = make_tensor_info(name, type, std::move(ne));
  if (size != t.nbytes || (size > 0 && data == nullptr))
    fail(Status::InvalidArg, "GGUF writer: tensor '{}' has {} bytes of data, its shape and type need {}", name, size, t.nbytes);
  t.view = static_cast<const uint8_t*>(data);
  push_tensor(std::move(t));
}

void GgufWriter::add_tensor(std::string_view name, GgmlType type, std::vector<uint64_t> ne, RowProducer producer) {
  if (!producer) fail(Status::InvalidArg, "GGUF writer: tensor '{}' has no row producer", name);
  Tensor t = make_tensor_info(name, type, std::move(ne));
  t.producer = std::move(producer);
  push_tensor(std::move(t));
}

void GgufWriter::write(const std::string& path) const {
  Bytes header;
  header.insert(header.end(), {'G', 'G', 'U', 'F'});
  put<uint32_t>(header, kGgufVersion);
  put<uint64_t>(header, tensors_.size());
  put<uint64_t>(header, kv_.size());
  for (const auto& kv : kv_) {
    put_string(header, kv.key);
    put<uint32_t>(header, kv.type);
    header.insert(header.end(), kv.payload.begin(), kv.payload.end());
  }
  for (const auto& t : tensors_) {
    put_string(header, t.name);
    put<uint32_t>(header, static_cast<uint32_t>(t.ne.size()));
    for (const uint64_t n : t.ne) put<uint64_t>(header, n);
    put<uint32_t>(header, static_cast<uint32_t>(t.type));
    put<uint64_t>(header, t.offset);
  }

  const std::string partial = path + ".partial";
  OutputFile out(partial);
  out.write(header.data(), header.size());
  // Without tensors there is no data section to align (gguf-py then ends the file here too).
  if (!tensors_.empty()) out.pad_to(alignment_);
  const uint64_t data_start = out.written();

  std::vector<uint8_t> chunk;
  for (const auto& t : tensors_) {
    if (out.written() - data_start != t.offset)
      fail(Status::Internal, "GGUF writer: tensor '{}' would land at {}, its info says {}", t.name, out.written() - data_start,
           t.offset);
    if (t.producer) {
      const uint64_t rows_per_chunk = std::max<uint64_t>(1, chunk_bytes_ / std::max<uint64_t>(1, t.row_bytes));
      for (uint64_t row = 0; row < t.n_rows; row += rows_per_chunk) {
        const uint64_t n = std::min(rows_per_chunk, t.n_rows - row);
        chunk.assign(n * t.row_bytes, 0);
        t.producer(row, n, chunk.data());
        out.write(chunk.data(), chunk.size());
      }
    } else {
      out.write(t.view ? t.view : t.owned.data(), t.nbytes);
    }
    out.pad_to(alignment_);
  }
  out.finish();

  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) {
    std::remove(partial.c_str());
    fail(Status::Io, "{}: cannot rename {} into place: {}", path, partial, ec.message());
  }
}

}  // namespace lem::io
