#include "runtime/model_report.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "io/gguf_file.hpp"
#include "io/safetensors_file.hpp"
#include "model/gemma3_config.hpp"
#include "model/kv_cache.hpp"
#include "runtime/model_metadata.hpp"
#include "runtime/session.hpp"
#include "util/error.hpp"

namespace fs = std::filesystem;

namespace lem {
namespace {

using Json = nlohmann::ordered_json;

// The config.json keys the summary shows, in this order, when present.
constexpr const char* kHfSummaryKeys[] = {
    "hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads", "num_key_value_heads",
    "head_dim", "vocab_size", "sliding_window", "sliding_window_pattern", "max_position_embeddings", "rope_theta",
    "rope_local_base_freq", "rope_scaling", "query_pre_attn_scalar", "rms_norm_eps"};

Json metadata_json(const ModelSource& m, bool full_arrays) {
  Json meta = Json::object();
  if (const io::GgufFile* g = m.gguf()) {
    for (const auto& [key, value] : g->metadata()) meta[key] = gguf_value_json(value, full_arrays);
    return meta;
  }
  if (const Json* config = m.hf_config()) meta = *config;
  Json st_meta = Json::object();
  for (const auto& shard : m.safetensors()->shards())
    for (const auto& [k, v] : shard->metadata()) st_meta[k] = v;
  if (!st_meta.empty()) meta["__metadata__"] = st_meta;
  return meta;
}

Json tensors_json(const ModelSource& m) {
  const bool sharded = m.safetensors() && m.safetensors()->shards().size() > 1;
  Json tensors = Json::array();
  for (const auto& t : m.stored_tensors()) {
    Json j = {{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"offset", t.offset}};
    if (sharded) j["file"] = fs::path(t.file).filename().string();
    tensors.push_back(std::move(j));
  }
  return tensors;
}

Json gguf_json(const io::GgufFile& g, const std::string& arch) {
  Json j = {{"version", g.version()}, {"alignment", g.alignment()}, {"data_offset", g.data_offset()}};
  if (const io::GgufValue* name = g.find("general.name"); name && name->type == io::GgufValueType::STRING)
    j["name"] = std::string(name->str);
  if (const io::GgufValue* ft = g.find("general.file_type"); ft && ft->is_integer())
    j["file_type"] = gguf_value_json(*ft, false);
  Json hp = Json::object();
  for (const auto& [key, v] : g.metadata())
    if (key.size() > arch.size() + 1 && key.compare(0, arch.size() + 1, arch + ".") == 0)
      hp[key.substr(arch.size() + 1)] = gguf_value_json(v, false);
  j["hyperparameters"] = std::move(hp);
  return j;
}

Json safetensors_json(const ModelSource& m) {
  Json j = {{"shards", m.safetensors()->shards().size()}, {"config_json", m.hf_config() != nullptr}};
  const Json* config = m.hf_config();
  if (!config) return j;
  const Json* text = config;
  if (auto tc = config->find("text_config"); tc != config->end() && tc->is_object()) text = &*tc;
  if (auto a = config->find("architectures"); a != config->end()) j["class"] = *a;
  j["hyperparameters_source"] = text == config ? "config" : "text_config";
  Json hp = Json::object();
  for (const char* key : kHfSummaryKeys)
    if (auto it = text->find(key); it != text->end()) hp[key] = *it;
  j["hyperparameters"] = std::move(hp);
  if (auto q = config->find("quantization"); q != config->end()) j["quantization"] = *q;
  return j;
}

// The tokenizer the files carry, as far as the file tables tell (and the loaded one's size).
Json tokenizer_json(const LoadedModel& model, const ModelSource* src) {
  Json j = nullptr;
  if (src && src->gguf()) {
    const io::GgufFile& g = *src->gguf();
    const io::GgufValue* model_name = g.find("tokenizer.ggml.model");
    const io::GgufValue* tokens = g.find("tokenizer.ggml.tokens");
    if (!model_name && !tokens) return nullptr;
    j = {{"source", "gguf"}};
    if (model_name && model_name->type == io::GgufValueType::STRING) j["model"] = std::string(model_name->str);
    j["tokens"] = tokens ? tokens->count : 0;
    j["merges"] = g.find("tokenizer.ggml.merges") != nullptr;
    return j;
  }
  std::error_code ec;
  fs::path dir = fs::path(model.path);
  if (src && src->safetensors()) dir = fs::path(src->safetensors()->shards().front()->path()).parent_path();
  else if (!fs::is_directory(dir, ec)) dir = dir.parent_path();
  if (!fs::exists(dir / "tokenizer.json", ec) && !model.tokenizer) return nullptr;
  j = {{"source", "tokenizer.json"}, {"model", "BPE"}};
  if (model.tokenizer) j["tokens"] = model.tokenizer->n_vocab();
  return j;
}

Json file_json(const LoadedModel& model, const ModelSource* src) {
  Json j = Json::object();
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (count, bytes)
  uint64_t total = 0;
  if (src) {
    for (const auto& t : src->stored_tensors()) {
      auto& [count, bytes] = by_type[t.type];
      ++count;
      bytes += t.nbytes;
      total += t.nbytes;
    }
  }
  j["tensor_count"] = src ? src->stored_tensors().size() : 0;
  j["tensor_bytes"] = total;
  Json types = Json::array();
  for (const auto& [type, cb] : by_type) types.push_back({{"type", type}, {"count", cb.first}, {"bytes", cb.second}});
  j["tensor_types"] = std::move(types);
  j["tokenizer"] = tokenizer_json(model, src);
  if (src && src->gguf()) j["gguf"] = gguf_json(*src->gguf(), src->architecture());
  else if (src && src->safetensors()) j["safetensors"] = safetensors_json(*src);
  return j;
}

// KV-cache sizes for a session with the default batch and rewind slack.
Json kv_cache_json(const Gemma3Config& c, int64_t requested_ctx) {
  const SessionParams defaults;
  Json sizes = Json::array();
  auto add = [&](int64_t n_ctx, const char* label) {
    for (const auto& row : sizes)
      if (row["n_ctx"] == n_ctx) return;
    auto bytes = [&](KvType type) { return KvCache::bytes_for(c, n_ctx, defaults.n_batch, type, defaults.rewind_slack); };
    sizes.push_back(
        {{"n_ctx", n_ctx}, {"label", label}, {"f32_bytes", bytes(KvType::F32)}, {"f16_bytes", bytes(KvType::F16)}});
  };
  if (requested_ctx > 0) add(std::min(requested_ctx, c.n_ctx_train), "requested");
  add(std::min(defaults.n_ctx, c.n_ctx_train), "default");
  add(c.n_ctx_train, "model maximum");
  int64_t n_sliding = 0, sliding_positions = 0;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (!c.layer_is_sliding[static_cast<size_t>(l)] || c.sliding_window <= 0) continue;
    ++n_sliding;
    sliding_positions = KvCache::layer_capacity(c, l, c.n_ctx_train, defaults.n_batch, defaults.rewind_slack);
  }
  return {{"layers", c.n_layer},
          {"sliding_layers", n_sliding},
          {"sliding_layer_positions", sliding_positions},
          {"n_batch", defaults.n_batch},
          {"rewind_slack", defaults.rewind_slack},
          {"sizes", std::move(sizes)}};
}

}  // namespace

Json model_report(const LoadedModel& model, const ReportOptions& options) {
  const ModelSource* src = model.source();
  Json out = Json::object();
  out["path"] = model.path;
  out["format"] = src ? model_format_name(src->format()) : "tokenizer";
  out["architecture"] = src ? src->architecture() : "";
  out["load_mode"] = load_mode_name(model.mode);

  // The configuration: the loaded one, else what the file says if it is runnable.
  std::optional<Gemma3Config> config;
  std::string unavailable = "no model weights (a tokenizer only)";
  if (model.net) {
    config = model.net->config();
  } else if (src) {
    try {
      config = load_gemma3_config(*src);
    } catch (const Error& e) {
      unavailable = e.what();
    }
  }
  if (config) out["description"] = config->describe();
  out["file"] = file_json(model, src);
  out["metadata"] = src ? metadata_json(*src, options.full_arrays) : Json::object();
  if (options.with_tensors) out["tensors"] = src ? tensors_json(*src) : Json::array();
  if (config) out["kv_cache"] = kv_cache_json(*config, options.n_ctx);
  else out["kv_cache_unavailable"] = unavailable;
  return out;
}

}  // namespace lem
