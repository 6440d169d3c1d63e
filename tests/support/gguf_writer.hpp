// Test-only GGUF writer: builds files in memory, byte by byte, so that tests can handcraft both
// valid files (round trips) and hostile ones (any count, length, type id or offset, whether it
// makes sense or not). Written from the format description (shared spec §5), independently of
// lib/io/gguf_file.cpp, which it is used to test.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <stdexcept>
#include <vector>

#include <unistd.h>

namespace lem::test::gguf {

// GGUF value type ids.
enum : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

using Bytes = std::vector<uint8_t>;

// Little-endian appenders.
// (resize + memcpy rather than insert: GCC 12 -O3 warns falsely about 1-byte inserts.)
inline void put_bytes(Bytes& out, const void* p, size_t n) {
  if (n == 0) return;
  const size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, p, n);
}
template <class T>
inline void put(Bytes& out, T v) {
  put_bytes(out, &v, sizeof(T));  // tests run on little-endian hosts, like the library
}
// GGUF string: u64 length + bytes.
inline void put_string(Bytes& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

// A metadata value: its type id and its encoded bytes (without the type id). Arrays are built
// from values, so nesting is free; the element type is whatever the caller says.
struct Value {
  uint32_t type = kU8;
  Bytes payload;
};

template <class T>
inline Value scalar(uint32_t type, T v) {
  Value r{type, {}};
  put<T>(r.payload, v);
  return r;
}
inline Value u8(uint8_t v) { return scalar(kU8, v); }
inline Value i8(int8_t v) { return scalar(kI8, v); }
inline Value u16(uint16_t v) { return scalar(kU16, v); }
inline Value i16(int16_t v) { return scalar(kI16, v); }
inline Value u32(uint32_t v) { return scalar(kU32, v); }
inline Value i32(int32_t v) { return scalar(kI32, v); }
inline Value u64(uint64_t v) { return scalar(kU64, v); }
inline Value i64(int64_t v) { return scalar(kI64, v); }
inline Value f32(float v) { return scalar(kF32, v); }
inline Value f64(double v) { return scalar(kF64, v); }
// Any byte, so that invalid bools (2..255) can be written.
inline Value boolean(uint8_t v) { return scalar(kBool, v); }
inline Value string(std::string_view s) {
  Value r{kString, {}};
  put_string(r.payload, s);
  return r;
}
// Array of `elems` (each must already have the element type's encoding).
inline Value array(uint32_t elem_type, const std::vector<Value>& elems) {
  Value r{kArray, {}};
  put<uint32_t>(r.payload, elem_type);
  put<uint64_t>(r.payload, elems.size());
  for (const auto& e : elems) put_bytes(r.payload, e.payload.data(), e.payload.size());
  return r;
}
// Array header claiming `count` elements followed by `raw` bytes (for hostile counts).
inline Value array_raw(uint32_t elem_type, uint64_t count, const Bytes& raw = {}) {
  Value r{kArray, {}};
  put<uint32_t>(r.payload, elem_type);
  put<uint64_t>(r.payload, count);
  put_bytes(r.payload, raw.data(), raw.size());
  return r;
}
inline Value string_array(const std::vector<std::string>& items) {
  std::vector<Value> elems;
  for (const auto& s : items) elems.push_back(string(s));
  return array(kString, elems);
}

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // n_dims = ne.size()
  uint32_t type = 0;         // ggml type id
  uint64_t offset = 0;       // relative to the data section
};

// Builds a whole file: header, key/values, tensor infos, zero padding to `alignment`, data.
// Fields are public so that tests can set hostile values directly.
struct Builder {
  char magic[4] = {'G', 'G', 'U', 'F'};
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors_field;  // written instead of the real count when set
  std::optional<uint64_t> n_kv_field;
  uint64_t alignment = 32;                  // padding before the data section (1: none)
  bool pad_data_start = true;               // false: the data section follows the infos directly
  std::vector<std::pair<std::string, Value>> kvs;
  std::vector<TensorInfo> tensors;
  Bytes data;                               // the data section

  Builder& kv(std::string key, Value v) {
    kvs.emplace_back(std::move(key), std::move(v));
    return *this;
  }
  // Tensor info with an explicit offset; the data section is left alone.
  Builder& tensor_info(TensorInfo t) {
    tensors.push_back(std::move(t));
    return *this;
  }
  // Tensor whose bytes are appended to the data section at the next multiple of `alignment`.
  Builder& tensor(std::string name, std::vector<uint64_t> ne, uint32_t type, const Bytes& bytes) {
    while (data.size() % alignment != 0) data.push_back(0);
    tensors.push_back({std::move(name), std::move(ne), type, data.size()});
    data.insert(data.end(), bytes.begin(), bytes.end());
    return *this;
  }

  // Everything before the padding: magic .. last tensor info.
  Bytes header() const {
    Bytes out;
    put_bytes(out, magic, 4);
    put<uint32_t>(out, version);
    put<uint64_t>(out, n_tensors_field.value_or(tensors.size()));
    put<uint64_t>(out, n_kv_field.value_or(kvs.size()));
    for (const auto& [key, v] : kvs) {
      put_string(out, key);
      put<uint32_t>(out, v.type);
      put_bytes(out, v.payload.data(), v.payload.size());
    }
    for (const auto& t : tensors) {
      put_string(out, t.name);
      put<uint32_t>(out, static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) put<uint64_t>(out, d);
      put<uint32_t>(out, t.type);
      put<uint64_t>(out, t.offset);
    }
    return out;
  }

  Bytes build() const {
    Bytes out = header();
    if (pad_data_start)
      while (out.size() % alignment != 0) out.push_back(0);
    put_bytes(out, data.data(), data.size());
    return out;
  }
};

// Writes `bytes` to `name` in a per-process temporary folder (removed at exit) and returns the
// path: the reader takes paths, it memory-maps files. Reusing a name overwrites the earlier file.
inline std::string write_temp_file(const Bytes& bytes, const std::string& name) {
  struct TempDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("lem-test-gguf-" + std::to_string(::getpid()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const TempDir dir;
  const std::string path = (dir.path / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write test file " + path);
  return path;
}

}  // namespace lem::test::gguf
