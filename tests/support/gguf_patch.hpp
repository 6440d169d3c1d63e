// Test-only: copies a fixture GGUF model with some metadata values replaced, added or removed and
// some tensors' bytes rewritten, so that hostile-configuration tests start from a real, runnable
// file and change exactly one thing. Uses the library's GGUF reader and writer (both tested on
// their own in test_gguf*.cpp).
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "io/gguf_file.hpp"
#include "io/gguf_writer.hpp"

namespace lem::test {

// Writes one metadata value under the given key.
using KvValue = std::function<void(io::GgufWriter&, const std::string& key)>;

inline KvValue kv_u32(uint32_t v) { return [v](io::GgufWriter& w, const std::string& k) { w.add_u32(k, v); }; }
inline KvValue kv_u64(uint64_t v) { return [v](io::GgufWriter& w, const std::string& k) { w.add_u64(k, v); }; }
inline KvValue kv_f32(float v) { return [v](io::GgufWriter& w, const std::string& k) { w.add_f32(k, v); }; }
inline KvValue kv_f64(double v) { return [v](io::GgufWriter& w, const std::string& k) { w.add_f64(k, v); }; }
inline KvValue kv_string(std::string v) {
  return [v](io::GgufWriter& w, const std::string& k) { w.add_string(k, v); };
}

struct GgufPatch {
  std::map<std::string, KvValue> set;  // replaced in place, or appended when the key is new
  std::set<std::string> remove;
  // Called for every tensor; may rewrite its bytes (same size).
  std::function<void(const io::GgufTensorInfo&, std::vector<uint8_t>& bytes)> edit_tensor;
};

// Writes the patched copy of `src` to `dst`.
inline void patch_gguf(const std::string& src, const std::string& dst, const GgufPatch& patch) {
  const auto in = io::GgufFile::open(src);
  io::GgufWriter w(static_cast<uint32_t>(in->alignment()));
  std::set<std::string> written;
  for (const auto& [key, value] : in->metadata()) {
    if (patch.remove.count(key)) continue;
    if (const auto it = patch.set.find(key); it != patch.set.end()) it->second(w, key);
    else w.add_value(key, value);
    written.insert(key);
  }
  for (const auto& [key, make] : patch.set)
    if (!written.count(key)) make(w, key);
  for (const auto& t : in->tensors()) {
    if (patch.edit_tensor) {
      std::vector<uint8_t> bytes(t.data, t.data + t.nbytes);
      patch.edit_tensor(t, bytes);
      w.add_tensor(t.name, t.type, t.ne, std::move(bytes));
    } else {
      w.add_tensor_view(t.name, t.type, t.ne, t.data, t.nbytes);
    }
  }
  w.write(dst);
}

}  // namespace lem::test
