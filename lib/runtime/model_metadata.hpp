// A model's metadata as key -> text, for lem_model_meta_*: the GGUF key/values in file order, or
// the fields of config.json with nested objects flattened with dots ("text_config.hidden_size"),
// then the safetensors "__metadata__" entries as "__metadata__.<key>". Values as text: strings as
// they are, numbers in decimal, booleans true/false, arrays (and null) as JSON.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace lem {

class ModelSource;
namespace io {
struct GgufValue;
}

class ModelMetadata {
 public:
  ModelMetadata() = default;
  explicit ModelMetadata(const ModelSource& source);  // the source must outlive this

  size_t size() const { return entries_.size(); }
  // The key at `index` (< size()).
  const std::string& key(size_t index) const { return entries_[index].key; }
  // The value as text, or nullopt when there is no such key. Long GGUF arrays are rendered here,
  // on demand, not at load.
  std::optional<std::string> value_text(std::string_view key) const;

 private:
  struct Entry {
    std::string key;
    const io::GgufValue* gguf = nullptr;  // GGUF: the value in the file
    nlohmann::ordered_json json;          // otherwise: the JSON value
  };
  void add(std::string key, const io::GgufValue* gguf, nlohmann::ordered_json json);
  void flatten(const std::string& prefix, const nlohmann::ordered_json& object);

  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

// A GGUF value as JSON: numbers, bools, strings; arrays in full, or, when `full_arrays` is false
// and they have more than 64 elements, as {"type": "array", "element_type", "length"}. F32 values
// are given at float precision (1e-06, not 9.999999974752427e-07).
nlohmann::ordered_json gguf_value_json(const io::GgufValue& value, bool full_arrays);

}  // namespace lem
