#include "model/gemma3_config.hpp"

#include <cmath>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "kernels/fp16.hpp"
#include "model/model_source.hpp"

namespace lem {
namespace {

using Json = nlohmann::ordered_json;

// ---- GGUF (llama.cpp semantics, spec §5) ------------------------------------------------------

Gemma3Config from_gguf(const ModelSource& src) {
  const io::GgufFile& g = *src.gguf();
  if (src.architecture() != "gemma3")
    fail(Status::Unsupported, "{}: architecture '{}' is not supported (libLEM runs Gemma 3: 'gemma3')", src.path(),
         src.architecture());
  auto need = [&](const char* key) {
    const auto v = g.get_uint(std::string("gemma3.") + key);
    if (!v) fail(Status::BadFormat, "{}: GGUF metadata 'gemma3.{}' is missing", src.path(), key);
    return static_cast<int64_t>(*v);
  };
  auto opt_uint = [&](const char* key, int64_t def) {
    const auto v = g.get_uint(std::string("gemma3.") + key);
    return v ? static_cast<int64_t>(*v) : def;
  };
  auto opt_float = [&](const char* key, double def) {
    const auto v = g.get_float(std::string("gemma3.") + key);
    return static_cast<float>(v ? *v : def);
  };

  Gemma3Config c;
  c.n_embd = need("embedding_length");
  c.n_layer = need("block_count");
  c.n_ff = need("feed_forward_length");
  c.n_head = need("attention.head_count");
  c.n_head_kv = opt_uint("attention.head_count_kv", c.n_head);
  c.head_dim = opt_uint("attention.key_length", c.n_head ? c.n_embd / c.n_head : 0);
  if (opt_uint("attention.value_length", c.head_dim) != c.head_dim)
    fail(Status::Unsupported, "{}: key_length {} != value_length: not a Gemma 3 layout", src.path(), c.head_dim);
  c.n_ctx_train = opt_uint("context_length", 8192);
  c.rms_eps = opt_float("attention.layer_norm_rms_epsilon", 1e-6);
  c.sliding_window = opt_uint("attention.sliding_window", 0);

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
      const int64_t n = pattern ? static_cast<int64_t>(*g.get_uint("gemma3.attention.sliding_window_pattern")) : 6;
      for (int64_t l = 0; l < c.n_layer; ++l) c.layer_is_sliding[l] = n == 0 || l % n < n - 1;
    }
  }

  // RoPE: a missing base is llama.cpp's generic 10000 (not Gemma's 1e6); linear scaling applies
  // to global layers only.
  c.rope_base_global = opt_float("rope.freq_base", 10000.0);
  c.rope_base_local = c.sliding_window > 0 ? opt_float("rope.freq_base_swa", 10000.0) : c.rope_base_global;
  float factor = 1.0f;
  if (const auto type = g.get_string("gemma3.rope.scaling.type")) {
    if (*type == "linear") factor = opt_float("rope.scaling.factor", 1.0);
    else if (*type != "none")
      fail(Status::Unsupported, "{}: RoPE scaling type '{}' is not supported (Gemma 3 uses linear)", src.path(), *type);
  } else if (g.find("gemma3.rope.scale_linear")) {
    factor = opt_float("rope.scale_linear", 1.0);
  }
  if (!(factor > 0.0f)) fail(Status::BadFormat, "{}: RoPE scaling factor {} must be positive", src.path(), factor);
  c.rope_scale_global = 1.0f / factor;

  // No query_pre_attn_scalar key in GGUF: llama.cpp uses 1/sqrt(head_dim), or 1/sqrt(D/H) for the
  // 62-layer (27B) layout.
  c.attn_scale = c.n_layer == 62 ? 1.0f / std::sqrt(static_cast<float>(c.n_embd / c.n_head))
                                 : 1.0f / std::sqrt(static_cast<float>(c.head_dim));
  c.final_logit_softcap = opt_float("final_logit_softcapping", 0.0);
  c.attn_logit_softcap = opt_float("attn_logit_softcapping", 0.0);
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

int64_t get_int(const Json& obj, const char* key, std::optional<int64_t> def, const std::string& where) {
  const Json* v = find_key(obj, key);
  if (!v) {
    if (!def) fail(Status::BadFormat, "{}: \"{}\" is missing", where, key);
    return *def;
  }
  if (!v->is_number_integer() || v->get<int64_t>() < 0)
    fail(Status::BadFormat, "{}: \"{}\" must be a non-negative integer, got {}", where, key, v->dump());
  return v->get<int64_t>();
}

double get_number(const Json& obj, const char* key, double def, const std::string& where) {
  const Json* v = find_key(obj, key);
  if (!v) return def;
  if (!v->is_number()) fail(Status::BadFormat, "{}: \"{}\" must be a number, got {}", where, key, v->dump());
  return v->get<double>();
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
    return get_number(rs, "factor", 1.0, where);
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
  c.n_embd = get_int(*text, "hidden_size", std::nullopt, w);
  c.n_layer = get_int(*text, "num_hidden_layers", std::nullopt, w);
  c.n_ff = get_int(*text, "intermediate_size", std::nullopt, w);
  c.n_head = get_int(*text, "num_attention_heads", 8, w);
  c.n_head_kv = get_int(*text, "num_key_value_heads", 4, w);
  c.head_dim = get_int(*text, "head_dim", 256, w);
  c.n_ctx_train = get_int(*text, "max_position_embeddings", 131072, w);
  c.sliding_window = get_int(*text, "sliding_window", 4096, w);
  c.rms_eps = static_cast<float>(get_number(*text, "rms_norm_eps", 1e-6, w));

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
    const int64_t pattern = get_int(*text, key, 6, w);
    for (int64_t l = 0; l < c.n_layer; ++l) c.layer_is_sliding[l] = pattern == 0 || (l + 1) % pattern != 0;
  }

  if (c.sliding_window <= 0) c.layer_is_sliding.assign(static_cast<size_t>(c.n_layer), false);

  double base_global = get_number(*text, "rope_theta", 1e6, w);
  double base_local = get_number(*text, "rope_local_base_freq", 1e4, w);
  if (const Json* rp = find_key(*text, "rope_parameters"); rp && rp->is_object()) {
    if (const Json* f = find_key(*rp, "full_attention")) base_global = get_number(*f, "rope_theta", base_global, w);
    if (const Json* s = find_key(*rp, "sliding_attention")) base_local = get_number(*s, "rope_theta", base_local, w);
  }
  c.rope_base_global = static_cast<float>(base_global);
  c.rope_base_local = static_cast<float>(base_local);
  const double factor = linear_rope_factor(*text, w);
  if (!(factor > 0)) fail(Status::BadFormat, "{}: RoPE scaling factor {} must be positive", w, factor);
  c.rope_scale_global = static_cast<float>(1.0 / factor);

  const double qpas = get_number(*text, "query_pre_attn_scalar", 256, w);
  if (!(qpas > 0)) fail(Status::BadFormat, "{}: query_pre_attn_scalar {} must be positive", w, qpas);
  c.attn_scale = static_cast<float>(std::pow(qpas, -0.5));
  c.final_logit_softcap = static_cast<float>(get_number(*text, "final_logit_softcapping", 0, w));
  c.attn_logit_softcap = static_cast<float>(get_number(*text, "attn_logit_softcapping", 0, w));
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
  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_ff <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.head_dim <= 0 ||
      c.n_head % c.n_head_kv != 0 || c.head_dim % 2 != 0 || c.n_layer > 1024 || c.n_embd > (1 << 20) ||
      c.n_head > 1024 || c.head_dim > 4096 || c.n_ff > (1 << 24))
    fail(Status::BadFormat, "{}: implausible hyperparameters: {}", src.path(), c.describe());

  const Weight& embd = src.require("token_embd.weight");
  if (embd.ne.size() != 2 || embd.ne[0] != D)
    fail(Status::BadFormat, "{}: token_embd must be [{}, n_vocab]", src.path(), D);
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
