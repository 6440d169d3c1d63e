#include "model/gemma3_config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "kernels/fp16.hpp"
#include "model/model_source.hpp"

namespace lem {
namespace {

using Json = nlohmann::ordered_json;

// Plausibility bounds, generous multiples of the largest Gemma 3 (27B: D 5376, 62 layers, 32 heads
// of 128, FFN 21504, vocabulary 262208, 128K context). Every size is checked against them as it
// is read, before anything is allocated or sized by it: a hostile file fails fast.
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxEmbd = 1 << 20;
constexpr int64_t kMaxFf = 1 << 24;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxHeadDim = 4096;
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();  // positions and ids are int32 in lem.h

// How a floating-point hyperparameter must look, besides finite.
enum class FloatRule { Positive, NonNegative };

// The value as the forward pass will use it (float), or BadFormat naming the key.
float checked_float(double value, FloatRule rule, const std::string& where, std::string_view key) {
  // Range first: converting a double beyond float's range is undefined behaviour.
  const bool fits = std::isfinite(value) && std::fabs(value) <= std::numeric_limits<float>::max();
  const float f = fits ? static_cast<float>(value) : 0.0f;
  const bool ok = fits && (rule == FloatRule::Positive ? f > 0.0f : f >= 0.0f);
  if (!ok)
    fail(Status::BadFormat, "{}: '{}' is {}, expected a finite number {}", where, key, value,
         rule == FloatRule::Positive ? "> 0" : ">= 0");
  return f;
}

// The number of transformer blocks the file holds tensors for (1 + the largest N of "blk.N.*").
int64_t layers_in_file(const ModelSource& src) {
  int64_t n = 0;
  for (const Weight& w : src.weights()) {
    if (w.name.rfind("blk.", 0) != 0) continue;
    int64_t layer = 0;
    size_t i = 4;
    for (; i < w.name.size() && i < 12 && w.name[i] >= '0' && w.name[i] <= '9'; ++i)
      layer = layer * 10 + (w.name[i] - '0');
    if (i > 4 && i < w.name.size() && w.name[i] == '.') n = std::max(n, layer + 1);
  }
  return n;
}

// Checked before the per-layer tables are sized by n_layer.
void check_layer_count(const ModelSource& src, int64_t n_layer, std::string_view key) {
  const int64_t present = layers_in_file(src);
  if (n_layer > present)
    fail(Status::BadFormat, "{}: '{}' is {} but the file holds tensors for {} layers", src.path(), key, n_layer,
         present);
}

// ---- GGUF (llama.cpp semantics, spec §5) ------------------------------------------------------

Gemma3Config from_gguf(const ModelSource& src) {
  const io::GgufFile& g = *src.gguf();
  if (src.architecture() != "gemma3")
    fail(Status::Unsupported, "{}: architecture '{}' is not supported (libLEM runs Gemma 3: 'gemma3')", src.path(),
         src.architecture());
  // An integer key in [lo, hi]; `def` when absent (nullopt: required).
  auto uint_in = [&](const char* key, std::optional<int64_t> def, int64_t lo, int64_t hi) {
    const std::string full = std::string("gemma3.") + key;
    const auto v = g.get_uint(full);
    if (!v) {
      if (!def) fail(Status::BadFormat, "{}: GGUF metadata '{}' is missing", src.path(), full);
      return *def;
    }
    if (*v < static_cast<uint64_t>(lo) || *v > static_cast<uint64_t>(hi))
      fail(Status::BadFormat, "{}: GGUF metadata '{}' is {}, expected {} to {}", src.path(), full, *v, lo, hi);
    return static_cast<int64_t>(*v);
  };
  auto opt_float = [&](const char* key, double def, FloatRule rule) {
    const std::string full = std::string("gemma3.") + key;
    const auto v = g.get_float(full);
    return checked_float(v ? *v : def, rule, src.path(), full);
  };

  Gemma3Config c;
  c.n_embd = uint_in("embedding_length", std::nullopt, 1, kMaxEmbd);
  c.n_layer = uint_in("block_count", std::nullopt, 1, kMaxLayers);
  check_layer_count(src, c.n_layer, "gemma3.block_count");
  c.n_ff = uint_in("feed_forward_length", std::nullopt, 1, kMaxFf);
  c.n_head = uint_in("attention.head_count", std::nullopt, 1, kMaxHeads);
  c.n_head_kv = uint_in("attention.head_count_kv", c.n_head, 1, kMaxHeads);
  c.head_dim = uint_in("attention.key_length", c.n_embd / c.n_head, 1, kMaxHeadDim);
  if (uint_in("attention.value_length", c.head_dim, 1, kMaxHeadDim) != c.head_dim)
    fail(Status::Unsupported, "{}: key_length {} != value_length: not a Gemma 3 layout", src.path(), c.head_dim);
  // 0 would load but could never hold a context; the C ABI counts positions in int32.
  c.n_ctx_train = uint_in("context_length", 8192, 1, kMaxInt32);
  c.rms_eps = opt_float("attention.layer_norm_rms_epsilon", 1e-6, FloatRule::Positive);
  c.sliding_window = uint_in("attention.sliding_window", 0, 0, kMaxInt32);

  // Layer types (llama.cpp load_swa_pattern): array element != 0 => sliding; integer n => sliding
  // iff n == 0 or l % n < n - 1; absent => n = 6. No sliding window => every layer is global.
  c.layer_is_sliding.assign(static_cast<size_t>(c.n_layer), false);
  if (c.sliding_window > 0) {
    const io::GgufValue* pattern = g.find("gemma3.attention.sliding_window_pattern");
    if (pattern && pattern->type == io::GgufValueType::ARRAY) {
      if (pattern->elem_type == io::GgufValueType::STRING || pattern->elem_type == io::GgufValueType::ARRAY ||
          pattern->count != static_cast<uint64_t>(c.n_layer))
        fail(Status::BadFormat, "{}: 'gemma3.attention.sliding_window_pattern' must be {} bools or integers",
             src.path(), c.n_layer);
      for (int64_t l = 0; l < c.n_layer; ++l) c.layer_is_sliding[l] = pattern->int_at(l) != 0;
    } else {
      const int64_t n = uint_in("attention.sliding_window_pattern", 6, 0, kMaxInt32);
      for (int64_t l = 0; l < c.n_layer; ++l) c.layer_is_sliding[l] = n == 0 || l % n < n - 1;
    }
  }

  // RoPE: a missing base is llama.cpp's generic 10000 (not Gemma's 1e6); linear scaling applies
  // to global layers only.
  c.rope_base_global = opt_float("rope.freq_base", 10000.0, FloatRule::Positive);
  c.rope_base_local =
      c.sliding_window > 0 ? opt_float("rope.freq_base_swa", 10000.0, FloatRule::Positive) : c.rope_base_global;
  float factor = 1.0f;
  if (const auto type = g.get_string("gemma3.rope.scaling.type")) {
    if (*type == "linear") factor = opt_float("rope.scaling.factor", 1.0, FloatRule::Positive);
    else if (*type != "none")
      fail(Status::Unsupported, "{}: RoPE scaling type '{}' is not supported (Gemma 3 uses linear)", src.path(), *type);
  } else if (g.find("gemma3.rope.scale_linear")) {
    factor = opt_float("rope.scale_linear", 1.0, FloatRule::Positive);
  }
  c.rope_scale_global = 1.0f / factor;

  // No query_pre_attn_scalar key in GGUF: llama.cpp uses 1/sqrt(head_dim), or 1/sqrt(D/H) for the
  // 62-layer (27B) layout.
  c.attn_scale = c.n_layer == 62 ? 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head))
                                 : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  c.final_logit_softcap = opt_float("final_logit_softcapping", 0.0, FloatRule::NonNegative);
  c.attn_logit_softcap = opt_float("attn_logit_softcapping", 0.0, FloatRule::NonNegative);
  c.norm_add_one = false;
  const Weight& embd = src.require("token_embd.weight");
  c.embed_scale = gemma3_embed_scale(c.n_embd, false, embd.type);
  return c;
}

// ---- HF config.json (transformers semantics, spec §1) -------------------------------------------

const Json* find_key(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

// An integer in [lo, hi]; `def` when absent (nullopt: required).
int64_t get_int(const Json& obj, const char* key, std::optional<int64_t> def, const std::string& where, int64_t lo,
                int64_t hi) {
  const Json* v = find_key(obj, key);
  if (!v) {
    if (!def) fail(Status::BadFormat, "{}: \"{}\" is missing", where, key);
    return *def;
  }
  // Compared in the JSON's own signedness: 2^63 and above are unsigned and must not wrap.
  bool in_range = false;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    in_range = u >= static_cast<uint64_t>(std::max<int64_t>(lo, 0)) && u <= static_cast<uint64_t>(hi);
  } else if (v->is_number_integer()) {
    const int64_t i = v->get<int64_t>();
    in_range = i >= lo && i <= hi;
  }
  if (!in_range)
    fail(Status::BadFormat, "{}: \"{}\" is {}, expected an integer from {} to {}", where, key, v->dump(), lo, hi);
  return v->get<int64_t>();
}

double get_number(const Json& obj, const char* key, double def, const std::string& where) {
  const Json* v = find_key(obj, key);
  if (!v) return def;
  if (!v->is_number()) fail(Status::BadFormat, "{}: \"{}\" must be a number, got {}", where, key, v->dump());
  return v->get<double>();
}

float get_float(const Json& obj, const char* key, double def, const std::string& where, FloatRule rule) {
  return checked_float(get_number(obj, key, def, where), rule, where, key);
}

// Linear RoPE factor for global layers from legacy rope_scaling or transformers v5 rope_parameters.
double linear_rope_factor(const Json& text, const std::string& where) {
  auto factor_of = [&](const Json& rs) -> double {
    if (!rs.is_object()) fail(Status::BadFormat, "{}: rope scaling must be an object, got {}", where, rs.dump());
    std::string type = "default";
    for (const char* k : {"rope_type", "type"})
      if (const Json* t = find_key(rs, k); t && t->is_string()) type = t->get<std::string>();
    if (type == "default") return 1.0;
    if (type != "linear") fail(Status::Unsupported, "{}: RoPE scaling type '{}' is not supported", where, type);
    return get_float(rs, "factor", 1.0, where, FloatRule::Positive);
  };
  if (const Json* rp = find_key(text, "rope_parameters"); rp && rp->is_object()) {
    if (const Json* full = find_key(*rp, "full_attention")) return factor_of(*full);
    return factor_of(*rp);
  }
  if (const Json* rs = find_key(text, "rope_scaling")) return factor_of(*rs);
  return 1.0;
}

Gemma3Config from_hf(const ModelSource& src) {
  const Json* config = src.hf_config();
  if (!config) fail(Status::BadFormat, "{}: config.json is needed beside a safetensors checkpoint", src.path());
  const std::string where = src.path() + "/config.json";
  const std::string& type = src.architecture();
  const Json* text = config;
  if (type == "gemma3") {
    text = find_key(*config, "text_config");
    if (!text || !text->is_object()) fail(Status::BadFormat, "{}: \"text_config\" object is missing", where);
  } else if (type != "gemma3_text") {
    fail(Status::Unsupported, "{}: model_type '{}' is not supported (libLEM runs Gemma 3: 'gemma3_text', 'gemma3')",
         where, type);
  }
  const std::string w = text == config ? where : where + " text_config";

  // Defaults are Gemma3TextConfig's: the 4B+ text_config omits most fields (spec §1).
  Gemma3Config c;
  c.n_embd = get_int(*text, "hidden_size", std::nullopt, w, 1, kMaxEmbd);
  c.n_layer = get_int(*text, "num_hidden_layers", std::nullopt, w, 1, kMaxLayers);
  check_layer_count(src, c.n_layer, "num_hidden_layers");
  c.n_ff = get_int(*text, "intermediate_size", std::nullopt, w, 1, kMaxFf);
  c.n_head = get_int(*text, "num_attention_heads", 8, w, 1, kMaxHeads);
  c.n_head_kv = get_int(*text, "num_key_value_heads", 4, w, 1, kMaxHeads);
  c.head_dim = get_int(*text, "head_dim", 256, w, 1, kMaxHeadDim);
  // 0 would load but could never hold a context; the C ABI counts positions in int32.
  c.n_ctx_train = get_int(*text, "max_position_embeddings", 131072, w, 1, kMaxInt32);
  c.sliding_window = get_int(*text, "sliding_window", 4096, w, 0, kMaxInt32);
  c.rms_eps = get_float(*text, "rms_norm_eps", 1e-6, w, FloatRule::Positive);

  c.layer_is_sliding.assign(static_cast<size_t>(c.n_layer), false);
  if (const Json* types = find_key(*text, "layer_types")) {
    if (!types->is_array() || types->size() != static_cast<size_t>(c.n_layer))
      fail(Status::BadFormat, "{}: \"layer_types\" must list {} layers", w, c.n_layer);
    for (int64_t l = 0; l < c.n_layer; ++l) {
      const Json& t = (*types)[l];
      if (t == "sliding_attention") c.layer_is_sliding[l] = true;
      else if (t != "full_attention") fail(Status::Unsupported, "{}: layer type {} is not supported", w, t.dump());
    }
  } else {
    // 270M writes "_sliding_window_pattern".
    const char* key = find_key(*text, "sliding_window_pattern") ? "sliding_window_pattern" : "_sliding_window_pattern";
    const int64_t pattern = get_int(*text, key, 6, w, 0, kMaxInt32);
    for (int64_t l = 0; l < c.n_layer; ++l) c.layer_is_sliding[l] = pattern == 0 || (l + 1) % pattern != 0;
  }

  if (c.sliding_window <= 0) c.layer_is_sliding.assign(static_cast<size_t>(c.n_layer), false);

  c.rope_base_global = get_float(*text, "rope_theta", 1e6, w, FloatRule::Positive);
  c.rope_base_local = get_float(*text, "rope_local_base_freq", 1e4, w, FloatRule::Positive);
  if (const Json* rp = find_key(*text, "rope_parameters"); rp && rp->is_object()) {
    if (const Json* f = find_key(*rp, "full_attention"))
      c.rope_base_global = get_float(*f, "rope_theta", c.rope_base_global, w + " rope_parameters.full_attention",
                                     FloatRule::Positive);
    if (const Json* s = find_key(*rp, "sliding_attention"))
      c.rope_base_local = get_float(*s, "rope_theta", c.rope_base_local, w + " rope_parameters.sliding_attention",
                                    FloatRule::Positive);
  }
  const double factor = linear_rope_factor(*text, w);
  c.rope_scale_global = 1.0f / static_cast<float>(factor);  // factor is a checked float

  const double qpas = get_float(*text, "query_pre_attn_scalar", 256, w, FloatRule::Positive);
  c.attn_scale = static_cast<float>(std::pow(qpas, -0.5));
  c.final_logit_softcap = get_float(*text, "final_logit_softcapping", 0, w, FloatRule::NonNegative);
  c.attn_logit_softcap = get_float(*text, "attn_logit_softcapping", 0, w, FloatRule::NonNegative);
  c.norm_add_one = true;

  // transformers rounds sqrt(D) to the embedding's dtype; MLX computes in bf16 whatever it stores.
  const Weight& embd = src.require("token_embd.weight");
  const GgmlType embed_type = embd.affine ? GgmlType::BF16 : embd.type;
  c.embed_scale = gemma3_embed_scale(c.n_embd, true, embed_type);
  return c;
}

void check_shape(const ModelSource& src, const std::string& name, std::vector<uint64_t> want) {
  const Weight& w = src.require(name);
  if (w.ne != want) {
    std::string got, exp;
    for (auto d : w.ne) got += (got.empty() ? "" : ", ") + std::to_string(d);
    for (auto d : want) exp += (exp.empty() ? "" : ", ") + std::to_string(d);
    fail(Status::BadFormat, "{}: tensor '{}' has shape [{}], expected [{}] for this configuration", src.path(),
         w.file_name, got, exp);
  }
}

}  // namespace

float gemma3_embed_scale(int64_t n_embd, bool hf_semantics, GgmlType embed_storage) {
  const float s = std::sqrt(static_cast<float>(n_embd));
  if (!hf_semantics) return s;
  if (embed_storage == GgmlType::BF16) return bf16_to_f32(f32_to_bf16(s));
  if (embed_storage == GgmlType::F16) return f16_to_f32(f32_to_f16(s));
  return s;
}

std::string Gemma3Config::describe() const {
  int64_t n_sliding = 0;
  for (bool s : layer_is_sliding) n_sliding += s;
  return fmt::format(
      "D {} layers {} ({} sliding, window {}) heads {}/{} x {} ffn {} vocab {} ctx {} rope {:g}/{:g} x{:g}",
      n_embd, n_layer, n_sliding, sliding_window, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx_train,
      rope_base_global, rope_base_local, 1.0f / rope_scale_global);
}

Gemma3Config load_gemma3_config(const ModelSource& src) {
  Gemma3Config c = src.gguf() ? from_gguf(src) : from_hf(src);
  const auto D = static_cast<uint64_t>(c.n_embd);
  // Derived from checked values, but a tiny RoPE factor still overflows its reciprocal.
  if (!std::isfinite(c.rope_scale_global) || !std::isfinite(c.attn_scale))
    fail(Status::BadFormat, "{}: the RoPE scaling factor or attention scale gives a non-finite multiplier", src.path());
  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_ff <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.head_dim <= 0 ||
      c.n_head % c.n_head_kv != 0 || c.head_dim % 2 != 0 || c.n_layer > kMaxLayers || c.n_embd > kMaxEmbd ||
      c.n_head > kMaxHeads || c.head_dim > kMaxHeadDim || c.n_ff > kMaxFf)
    fail(Status::BadFormat, "{}: implausible hyperparameters: {}", src.path(), c.describe());

  const Weight& embd = src.require("token_embd.weight");
  if (embd.ne.size() != 2 || embd.ne[0] != D)
    fail(Status::BadFormat, "{}: token_embd must be [{}, n_vocab]", src.path(), D);
  if (embd.ne[1] == 0 || embd.ne[1] > static_cast<uint64_t>(kMaxInt32))
    fail(Status::BadFormat, "{}: token_embd has {} rows, expected 1 to {} (token ids are int32)", src.path(),
         embd.ne[1], kMaxInt32);
  c.n_vocab = static_cast<int64_t>(embd.ne[1]);
  check_shape(src, "output_norm.weight", {D});
  const auto qd = static_cast<uint64_t>(c.n_head * c.head_dim), kvd = static_cast<uint64_t>(c.n_head_kv * c.head_dim);
  const auto F = static_cast<uint64_t>(c.n_ff), dh = static_cast<uint64_t>(c.head_dim);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    check_shape(src, p + "attn_norm.weight", {D});
    check_shape(src, p + "attn_q.weight", {D, qd});
    check_shape(src, p + "attn_k.weight", {D, kvd});
    check_shape(src, p + "attn_v.weight", {D, kvd});
    check_shape(src, p + "attn_q_norm.weight", {dh});
    check_shape(src, p + "attn_k_norm.weight", {dh});
    check_shape(src, p + "attn_output.weight", {qd, D});
    check_shape(src, p + "post_attention_norm.weight", {D});
    check_shape(src, p + "ffn_norm.weight", {D});
    check_shape(src, p + "ffn_gate.weight", {D, F});
    check_shape(src, p + "ffn_up.weight", {D, F});
    check_shape(src, p + "ffn_down.weight", {F, D});
    check_shape(src, p + "post_ffw_norm.weight", {D});
  }
  if (const Weight* out = src.find("output.weight"); out && (out->ne.size() != 2 || out->ne[0] != D))
    fail(Status::BadFormat, "{}: output.weight must be [{}, n_vocab]", src.path(), D);
  return c;
}

}  // namespace lem
