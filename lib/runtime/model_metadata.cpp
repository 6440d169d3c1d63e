#include "runtime/model_metadata.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "io/gguf_file.hpp"
#include "io/safetensors_file.hpp"
#include "model/model_source.hpp"

namespace lem {
namespace {

using Json = nlohmann::ordered_json;
constexpr uint64_t kInlineArrayMax = 64;  // longer arrays are summarised unless full_arrays

// The double nearest the shortest decimal that round-trips the float.
double f32_value(double v) {
  const std::string text = fmt::format("{}", static_cast<float>(v));
  return std::strtod(text.c_str(), nullptr);
}

// JSON text of a value from a file: strings need not be valid UTF-8, so bad bytes are replaced.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

Json gguf_value_json(const io::GgufValue& v, bool full_arrays) {
  using T = io::GgufValueType;
  switch (v.type) {
    case T::U8: case T::U16: case T::U32: case T::U64: return v.u;
    case T::I8: case T::I16: case T::I32: case T::I64: return v.i;
    case T::F32: return f32_value(v.f);
    case T::F64: return v.f;
    case T::BOOL: return v.b;
    case T::STRING: return std::string(v.str);
    case T::ARRAY: break;
  }
  if (!full_arrays && v.count > kInlineArrayMax)
    return Json{{"type", "array"}, {"element_type", io::gguf_value_type_name(v.elem_type)}, {"length", v.count}};
  Json a = Json::array();
  for (uint64_t k = 0; k < v.count; ++k) {
    if (v.elem_type == T::STRING) a.push_back(std::string(v.strings[k]));
    else if (v.elem_type == T::ARRAY) a.push_back(gguf_value_json(v.arrays[k], full_arrays));
    else if (v.elem_type == T::BOOL) a.push_back(v.int_at(k) != 0);
    else if (v.elem_type == T::F32) a.push_back(f32_value(v.float_at(k)));
    else if (v.elem_type == T::F64) a.push_back(v.float_at(k));
    else if (v.elem_type == T::U64) a.push_back(static_cast<uint64_t>(v.int_at(k)));
    else a.push_back(v.int_at(k));
  }
  return a;
}

ModelMetadata::ModelMetadata(const ModelSource& source) {
  if (const io::GgufFile* g = source.gguf()) {
    for (const auto& [key, value] : g->metadata()) add(key, &value, nullptr);
    return;
  }
  if (const Json* config = source.hf_config()) flatten("", *config);
  if (const io::SafetensorsSet* st = source.safetensors())
    for (const auto& shard : st->shards())
      for (const auto& [k, v] : shard->metadata()) add("__metadata__." + k, nullptr, v);
}

void ModelMetadata::add(std::string key, const io::GgufValue* gguf, Json json) {
  if (index_.count(key)) return;  // the first wins ("a.b" and {"a": {"b"}} flatten alike)
  index_.emplace(key, entries_.size());
  entries_.push_back({std::move(key), gguf, std::move(json)});
}

void ModelMetadata::flatten(const std::string& prefix, const Json& object) {
  for (const auto& [k, v] : object.items()) {
    const std::string key = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object() && !v.empty()) flatten(key, v);
    else add(key, nullptr, v);
  }
}

std::optional<std::string> ModelMetadata::value_text(std::string_view key) const {
  const auto it = index_.find(std::string(key));
  if (it == index_.end()) return std::nullopt;
  const Entry& e = entries_[it->second];
  if (e.gguf) {
    if (e.gguf->type == io::GgufValueType::STRING) return std::string(e.gguf->str);
    return dump(gguf_value_json(*e.gguf, true));
  }
  if (e.json.is_string()) return e.json.get<std::string>();
  return dump(e.json);
}

}  // namespace lem
