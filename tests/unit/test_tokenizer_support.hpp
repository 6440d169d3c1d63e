// Shared helpers for the tokenizer tests: the Gemma 3 tokenizers loaded once per test binary,
// fixture readers, and a tiny GGUF writer for synthetic and hostile vocabularies.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/gguf_file.hpp"
#include "support/test_data.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lem::test {

// The real Gemma 3 tokenizer from tokenizer.json + tokenizer_config.json (262145 tokens).
inline const Tokenizer& gemma3_hf_tokenizer() {
  static const Tokenizer t = Tokenizer::from_hf_json(data_path("tokenizer/tokenizer.json"),
                                                     data_path("tokenizer/tokenizer_config.json"));
  return t;
}

// The same vocabulary as a llama.cpp vocab-only GGUF (262144 tokens).
inline const Tokenizer& gemma3_gguf_tokenizer() {
  static const Tokenizer t = Tokenizer::from_gguf(*io::GgufFile::open(data_path("tokenizer/gemma3-vocab.gguf")));
  return t;
}

inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

inline std::vector<int32_t> ids_of(const nlohmann::json& array) { return array.get<std::vector<int32_t>>(); }

// A path in the temp folder, unique per process, removed by the caller when it matters.
inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("lem_tok_" + std::to_string(::getpid()) + "_" + name)).string();
}

inline void write_text(const std::string& path, const std::string& text) { write_bytes(path, text.data(), text.size()); }

// A file in the temp folder holding `contents`, removed when the object goes away.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& contents) : path_(temp_path(name)) { write_text(path_, contents); }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes GGUF v3 files with metadata only (no tensors), like a vocab-only GGUF.
class GgufWriter {
 public:
  enum Type : uint32_t { U8 = 0, I8 = 1, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8, ARRAY = 9 };

  void add_string(const std::string& key, const std::string& value) {
    header(key, STRING);
    put_string(value);
  }
  void add_u32(const std::string& key, uint32_t value) {
    header(key, U32);
    put(value);
  }
  void add_bool(const std::string& key, bool value) {
    header(key, BOOL);
    put(static_cast<uint8_t>(value));
  }
  void add_string_array(const std::string& key, const std::vector<std::string>& values) {
    array_header(key, STRING, values.size());
    for (const auto& v : values) put_string(v);
  }
  void add_f32_array(const std::string& key, const std::vector<float>& values) {
    array_header(key, F32, values.size());
    for (float v : values) put(v);
  }
  void add_i32_array(const std::string& key, const std::vector<int32_t>& values) {
    array_header(key, I32, values.size());
    for (int32_t v : values) put(v);
  }

  std::string bytes() const {
    std::string out = "GGUF";
    append(out, uint32_t{3});
    append(out, uint64_t{0});
    append(out, n_kv_);
    return out + body_;
  }

 private:
  template <class T>
  static void append(std::string& s, T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    s.append(buf, sizeof(T));
  }
  template <class T>
  void put(T v) { append(body_, v); }
  void put_string(const std::string& s) {
    put(static_cast<uint64_t>(s.size()));
    body_ += s;
  }
  void header(const std::string& key, uint32_t type) {
    put_string(key);
    put(type);
    ++n_kv_;
  }
  void array_header(const std::string& key, uint32_t elem_type, size_t count) {
    header(key, ARRAY);
    put(elem_type);
    put(static_cast<uint64_t>(count));
  }

  std::string body_;
  uint64_t n_kv_ = 0;
};

}  // namespace lem::test
