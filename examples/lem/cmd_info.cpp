// `lem info`: a readable summary, or JSON ({"format", "metadata", "tensors"}) of a model file.
#include <cstdio>
#include <filesystem>
#include <map>

#include "util/error.hpp"
#include "cli.hpp"
#include "io/gguf_file.hpp"
#include "io/safetensors_file.hpp"
#include "model/gemma3_config.hpp"
#include "model/model_source.hpp"
#include "options.hpp"
#include "model/kv_cache.hpp"
#include "runtime/session.hpp"

namespace lem::cli {
namespace {

using Json = nlohmann::ordered_json;
constexpr uint64_t kInlineArrayMax = 64;  // longer arrays are summarised unless --json-array

Json gguf_value_json(const io::GgufValue& v, bool full_arrays) {
  using T = io::GgufValueType;
  switch (v.type) {
    case T::U8: case T::U16: case T::U32: case T::U64: return v.u;
    case T::I8: case T::I16: case T::I32: case T::I64: return v.i;
    case T::F32: case T::F64: return v.f;
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
    else if (v.elem_type == T::F32 || v.elem_type == T::F64) a.push_back(v.float_at(k));
    else if (v.elem_type == T::U64) a.push_back(static_cast<uint64_t>(v.int_at(k)));
    else a.push_back(v.int_at(k));
  }
  return a;
}

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

// KV-cache sizes for a session with the default batch and rewind slack at the given context
// lengths (the default, the model's maximum and an optional --ctx-size); empty when the file
// holds no runnable Gemma 3 configuration (a vocab-only GGUF, say).
struct KvCacheRow {
  int64_t n_ctx;
  const char* label;
  size_t f32_bytes;
  size_t f16_bytes;
};

struct KvCacheReport {
  std::vector<KvCacheRow> rows;
  int64_t n_sliding = 0;
  int64_t n_layer = 0;
  int64_t sliding_positions = 0;  // ring size of a sliding layer at the default batch
  SessionParams session;          // the defaults the sizes assume (batch, rewind slack)
  std::string unavailable;        // why there is no report
};

KvCacheReport kv_cache_report(const ModelSource& m, int64_t requested_ctx) {
  KvCacheReport r;
  Gemma3Config c;
  try {
    c = load_gemma3_config(m);
  } catch (const Error& e) {
    r.unavailable = e.what();
    return r;
  }
  const SessionParams& defaults = r.session;
  auto add = [&](int64_t n_ctx, const char* label) {
    for (const auto& row : r.rows)
      if (row.n_ctx == n_ctx) return;
    r.rows.push_back({n_ctx, label,
                      KvCache::bytes_for(c, n_ctx, defaults.n_batch, KvType::F32, defaults.rewind_slack),
                      KvCache::bytes_for(c, n_ctx, defaults.n_batch, KvType::F16, defaults.rewind_slack)});
  };
  if (requested_ctx > 0) add(std::min(requested_ctx, c.n_ctx_train), "--ctx-size");
  add(std::min(defaults.n_ctx, c.n_ctx_train), "default");
  add(c.n_ctx_train, "model maximum");
  r.n_layer = c.n_layer;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (!c.layer_is_sliding[static_cast<size_t>(l)] || c.sliding_window <= 0) continue;
    ++r.n_sliding;
    r.sliding_positions = KvCache::layer_capacity(c, l, c.n_ctx_train, defaults.n_batch, defaults.rewind_slack);
  }
  return r;
}

int print_json(const ModelSource& m, bool full_arrays, const KvCacheReport& kv) {
  Json out = Json::object();
  out["format"] = model_format_name(m.format());
  out["metadata"] = metadata_json(m, full_arrays);
  const bool sharded = m.safetensors() && m.safetensors()->shards().size() > 1;
  Json tensors = Json::array();
  for (const auto& t : m.stored_tensors()) {
    Json j = {{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"offset", t.offset}};
    if (sharded) j["file"] = std::filesystem::path(t.file).filename().string();
    tensors.push_back(std::move(j));
  }
  out["tensors"] = std::move(tensors);
  if (!kv.rows.empty()) {
    Json rows = Json::array();
    for (const auto& row : kv.rows)
      rows.push_back({{"n_ctx", row.n_ctx}, {"f32_bytes", row.f32_bytes}, {"f16_bytes", row.f16_bytes}});
    out["kv_cache"] = {{"sliding_layers", kv.n_sliding}, {"layers", kv.n_layer},
                       {"sliding_layer_positions", kv.sliding_positions}, {"sizes", std::move(rows)}};
  }
  // Strings from files need not be valid UTF-8: replace bad bytes rather than fail.
  std::puts(out.dump(1, ' ', false, Json::error_handler_t::replace).c_str());
  return 0;
}

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u ? fmt::format("{:.2f} {}", v, units[u]) : fmt::format("{} {}", n, units[0]);
}

void print_gguf_summary(const io::GgufFile& g, const std::string& arch) {
  fmt::print("gguf version: {}, alignment {}, data at byte {}\n", g.version(), g.alignment(), g.data_offset());
  if (auto name = g.get_string("general.name")) fmt::print("name:         {}\n", *name);
  if (auto ft = g.get_uint("general.file_type")) fmt::print("file type:    {}\n", *ft);
  fmt::print("hyperparameters:\n");
  for (const auto& [key, v] : g.metadata()) {
    if (key.rfind(arch + ".", 0) != 0) continue;
    fmt::print("  {:<44} {}\n", key.substr(arch.size() + 1),
               gguf_value_json(v, false).dump(-1, ' ', false, Json::error_handler_t::replace));
  }
  const auto model = g.get_string("tokenizer.ggml.model");
  const io::GgufValue* tokens = g.find("tokenizer.ggml.tokens");
  if (model || tokens)
    fmt::print("tokenizer:    {} ({} tokens{})\n", model ? std::string(*model) : "?", tokens ? tokens->count : 0,
               g.find("tokenizer.ggml.merges") ? ", with merges" : "");
  else
    fmt::print("tokenizer:    none in the file\n");
}

void print_hf_summary(const ModelSource& m) {
  if (const Json* config = m.hf_config()) {
    const Json* text = config;
    if (auto tc = config->find("text_config"); tc != config->end() && tc->is_object()) text = &*tc;
    if (auto a = config->find("architectures"); a != config->end()) fmt::print("class:        {}\n", a->dump());
    fmt::print("hyperparameters{}:\n", text == config ? "" : " (text_config)");
    for (const char* key : {"hidden_size", "num_hidden_layers", "intermediate_size", "num_attention_heads",
                            "num_key_value_heads", "head_dim", "vocab_size", "sliding_window", "sliding_window_pattern",
                            "max_position_embeddings", "rope_theta", "rope_local_base_freq", "rope_scaling",
                            "query_pre_attn_scalar", "rms_norm_eps"})
      if (auto it = text->find(key); it != text->end()) fmt::print("  {:<44} {}\n", key, it->dump());
    if (auto q = config->find("quantization"); q != config->end()) fmt::print("quantization: {}\n", q->dump());
  } else {
    fmt::print("config.json:  none beside the file\n");
  }
  const std::filesystem::path dir = m.safetensors()->shards().front()->path();
  const bool has_tok = std::filesystem::exists(dir.parent_path() / "tokenizer.json");
  fmt::print("tokenizer:    {}\n", has_tok ? "tokenizer.json (HF BPE)" : "none beside the file");
  fmt::print("shards:       {}\n", m.safetensors()->shards().size());
}

void print_kv_cache(const KvCacheReport& kv) {
  if (kv.rows.empty()) {
    fmt::print("KV cache:     not available ({})\n", kv.unavailable);
    return;
  }
  const SessionParams& defaults = kv.session;
  fmt::print("KV cache:     {} of {} layers sliding, each keeping {} positions (window - 1 + batch {} + rewind {})\n",
             kv.n_sliding, kv.n_layer, kv.sliding_positions, defaults.n_batch, defaults.rewind_slack);
  for (const auto& row : kv.rows)
    fmt::print("  n_ctx {:>7}  f32 {:>11}  f16 {:>11}  ({})\n", row.n_ctx, human_bytes(row.f32_bytes),
               human_bytes(row.f16_bytes), row.label);
}

int print_summary(const ModelSource& m, const KvCacheReport& kv) {
  fmt::print("file:         {}\n", m.path());
  fmt::print("format:       {}\n", model_format_name(m.format()));
  fmt::print("architecture: {}\n", m.architecture());
  if (m.gguf()) print_gguf_summary(*m.gguf(), m.architecture());
  else print_hf_summary(m);

  std::map<std::string, std::pair<uint64_t, uint64_t>> by_type;  // type -> (count, bytes)
  uint64_t total = 0;
  for (const auto& t : m.stored_tensors()) {
    auto& [count, bytes] = by_type[t.type];
    ++count;
    bytes += t.nbytes;
    total += t.nbytes;
  }
  fmt::print("tensors:      {} ({})\n", m.stored_tensors().size(), human_bytes(total));
  for (const auto& [type, cb] : by_type)
    fmt::print("  {:<8} {:>5} tensors  {:>12}\n", type, cb.first, human_bytes(cb.second));
  print_kv_cache(kv);
  return 0;
}

}  // namespace

int cmd_info(Args& args) {
  const bool json = args.flag("--json");
  const bool full_arrays = args.flag("--json-array");
  std::string ctx_text;
  int64_t requested_ctx = 0;
  if (args.value("-c", ctx_text) || args.value("--ctx-size", ctx_text)) {
    requested_ctx = parse_integer("--ctx-size", ctx_text);
    if (requested_ctx <= 0) fail(Status::InvalidArg, "--ctx-size must be a positive number, got '{}'", ctx_text);
  }
  const auto pos = args.finish();
  if (pos.size() != 1)
    fail(Status::InvalidArg, "usage: lem info FILE_OR_DIR [-c N] [--json [--json-array]]");
  const auto model = ModelSource::open(pos[0]);
  const KvCacheReport kv = kv_cache_report(*model, requested_ctx);
  return json ? print_json(*model, full_arrays, kv) : print_summary(*model, kv);
}

}  // namespace lem::cli
