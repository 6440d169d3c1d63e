// ModelSource: one canonical view over GGUF, safetensors and MLX files of the fixture models.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "model/model_source.hpp"
#include "model/tensor_names.hpp"
#include "support/test_data.hpp"

using lem::GgmlType;
using lem::ModelFormat;
using lem::ModelSource;
using lem::test::data_path;

namespace {

// Canonical per-layer tensor names and their ggml shapes for a tiny model config
// (spec §5: attn_q [D, H*dh], attn_k/v [D, Hkv*dh], attn_output [H*dh, D], ffn [D, F] / [F, D]).
struct Dims {
  uint64_t d, layers, heads, kv_heads, head_dim, ffn, vocab;
};
constexpr Dims kTinyA{256, 6, 4, 1, 64, 256, 1024};
constexpr Dims kTinyB{256, 4, 8, 2, 48, 256, 1024};

std::map<std::string, std::vector<uint64_t>> expected_shapes(const Dims& m) {
  std::map<std::string, std::vector<uint64_t>> s;
  s["token_embd.weight"] = {m.d, m.vocab};
  s["output_norm.weight"] = {m.d};
  for (uint64_t l = 0; l < m.layers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    s[p + "attn_norm.weight"] = {m.d};
    s[p + "attn_q.weight"] = {m.d, m.heads * m.head_dim};
    s[p + "attn_k.weight"] = {m.d, m.kv_heads * m.head_dim};
    s[p + "attn_v.weight"] = {m.d, m.kv_heads * m.head_dim};
    s[p + "attn_q_norm.weight"] = {m.head_dim};
    s[p + "attn_k_norm.weight"] = {m.head_dim};
    s[p + "attn_output.weight"] = {m.heads * m.head_dim, m.d};
    s[p + "post_attention_norm.weight"] = {m.d};
    s[p + "ffn_norm.weight"] = {m.d};
    s[p + "ffn_gate.weight"] = {m.d, m.ffn};
    s[p + "ffn_up.weight"] = {m.d, m.ffn};
    s[p + "ffn_down.weight"] = {m.ffn, m.d};
    s[p + "post_ffw_norm.weight"] = {m.d};
  }
  return s;
}

void check_canonical_table(const ModelSource& src, const Dims& dims) {
  const auto expect = expected_shapes(dims);
  REQUIRE(src.weights().size() == expect.size());
  for (const auto& [name, ne] : expect) {
    INFO(name);
    const lem::Weight* w = src.find(name);
    REQUIRE(w != nullptr);
    CHECK(w->ne == ne);
    CHECK(w->data != nullptr);
  }
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST_CASE("HF names map to canonical GGUF names", "[model_source]") {
  using lem::map_hf_tensor_name;
  CHECK(map_hf_tensor_name("model.layers.3.self_attn.q_proj.weight").canonical == "blk.3.attn_q.weight");
  CHECK(map_hf_tensor_name("language_model.model.layers.12.mlp.down_proj.weight").canonical == "blk.12.ffn_down.weight");
  CHECK(map_hf_tensor_name("model.language_model.embed_tokens.weight").canonical == "token_embd.weight");
  CHECK(map_hf_tensor_name("model.norm.weight").canonical == "output_norm.weight");
  CHECK(map_hf_tensor_name("model.layers.0.pre_feedforward_layernorm.weight").canonical == "blk.0.ffn_norm.weight");
  CHECK(map_hf_tensor_name("model.layers.0.post_feedforward_layernorm.weight").canonical == "blk.0.post_ffw_norm.weight");
  CHECK(map_hf_tensor_name("model.layers.7.self_attn.k_norm.weight").canonical == "blk.7.attn_k_norm.weight");
  CHECK(map_hf_tensor_name("model.layers.0.self_attn.v_proj.scales").canonical == "blk.0.attn_v.scales");
  CHECK(map_hf_tensor_name("lm_head.weight").canonical == "output.weight");
  CHECK(map_hf_tensor_name("vision_tower.vision_model.embeddings.patch_embedding.weight").kind == lem::HfNameKind::Vision);
  CHECK(map_hf_tensor_name("model.vision_tower.x.weight").kind == lem::HfNameKind::Vision);
  CHECK(map_hf_tensor_name("multi_modal_projector.mm_input_projection_weight").kind == lem::HfNameKind::Vision);
  CHECK(map_hf_tensor_name("model.layers.x.self_attn.q_proj.weight").kind == lem::HfNameKind::Unknown);
  CHECK(map_hf_tensor_name("model.layers.1.self_attn.rotary.weight").kind == lem::HfNameKind::Unknown);
  CHECK(map_hf_tensor_name("something_else").kind == lem::HfNameKind::Unknown);
}

TEST_CASE("every fixture GGUF opens with the tensor types its index records", "[model_source][gguf]") {
  for (const auto& [model, dims] : {std::pair{"tiny-a", kTinyA}, std::pair{"tiny-b", kTinyB}}) {
    const std::string dir = data_path(std::string("tiny/") + model + "/gguf");
    const auto index = read_json(dir + "/tensor_types.json");
    int opened = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".gguf") continue;
      const std::string file = entry.path().filename().string();
      INFO(file);
      const auto src = ModelSource::open(entry.path().string());
      CHECK(src->format() == ModelFormat::Gguf);
      CHECK(src->architecture() == "gemma3");
      CHECK_FALSE(src->norms_are_zero_centred());
      check_canonical_table(*src, dims);
      const auto& types = index.at(file).at("tensors");
      REQUIRE(src->stored_tensors().size() == types.size());
      for (const auto& t : src->stored_tensors()) {
        // tensor_types.json spells types in upper case ("Q4_K"); ggml names are "q4_K".
        std::string want = types.at(t.name).get<std::string>();
        std::string got = t.type;
        for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& c : got) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        CHECK(got == want);
      }
      ++opened;
    }
    CHECK(opened == (std::string(model) == "tiny-a" ? 14 : 4));
  }
}

TEST_CASE("HF safetensors checkpoints map onto the same canonical table", "[model_source][safetensors]") {
  SECTION("tiny-a folder (BF16)") {
    const auto src = ModelSource::open(data_path("tiny/tiny-a"));
    CHECK(src->format() == ModelFormat::Safetensors);
    CHECK(src->architecture() == "gemma3_text");
    CHECK(src->norms_are_zero_centred());
    check_canonical_table(*src, kTinyA);
    CHECK(src->require("blk.0.attn_q.weight").type == GgmlType::BF16);
    CHECK(src->find("model.layers.0.self_attn.q_proj.weight") == &src->require("blk.0.attn_q.weight"));
  }
  SECTION("tiny-b F32 file given directly") {
    const auto src = ModelSource::open(data_path("tiny/tiny-b/model-f32.safetensors"));
    check_canonical_table(*src, kTinyB);
    CHECK(src->require("token_embd.weight").type == GgmlType::F32);
    REQUIRE(src->hf_config() != nullptr);  // config.json beside the file is picked up
  }
  SECTION("GGUF and safetensors hold the same embedding bytes (BF16)") {
    const auto st = ModelSource::open(data_path("tiny/tiny-a/model.safetensors"));
    const auto gg = ModelSource::open(data_path("tiny/tiny-a/gguf/tiny-a-BF16.gguf"));
    const lem::Weight& a = st->require("token_embd.weight");
    const lem::Weight& b = gg->require("token_embd.weight");
    REQUIRE(a.nbytes == b.nbytes);
    CHECK(std::memcmp(a.data, b.data, a.nbytes) == 0);
  }
}

TEST_CASE("MLX 4-bit checkpoints expose affine-quantised weights", "[model_source][mlx]") {
  const auto src = ModelSource::open(data_path("tiny/tiny-b/mlx-4bit"));
  CHECK(src->format() == ModelFormat::Mlx);
  check_canonical_table(*src, kTinyB);
  const lem::Weight& q = src->require("blk.0.attn_q.weight");
  REQUIRE(q.affine);
  CHECK(q.affine->bits == 4);
  CHECK(q.affine->group_size == 64);
  CHECK(q.affine->scale_type == GgmlType::BF16);
  CHECK(q.ne == std::vector<uint64_t>{256, 384});
  const lem::Weight& norm = src->require("blk.0.attn_norm.weight");
  CHECK_FALSE(norm.affine);
  CHECK(norm.type == GgmlType::BF16);
  // weight + scales + biases are three stored tensors but one weight
  CHECK(src->stored_tensors().size() > src->weights().size());
}

TEST_CASE("ModelSource errors name the problem", "[model_source]") {
  auto status_of = [](const std::string& path) {
    try {
      ModelSource::open(path);
    } catch (const lem::Error& e) {
      return std::pair{e.status(), std::string(e.what())};
    }
    return std::pair{lem::Status::Ok, std::string()};
  };
  auto [s1, m1] = status_of("/nonexistent/model.gguf");
  CHECK(s1 == lem::Status::Io);
  CHECK_THAT(m1, Catch::Contains("/nonexistent/model.gguf"));
  auto [s2, m2] = status_of(lem::test::src_data_path("grids/README.md"));
  CHECK(s2 == lem::Status::BadFormat);
  CHECK_THAT(m2, Catch::Contains("not a GGUF file"));
  auto [s3, m3] = status_of(lem::test::src_data_path("grids"));
  CHECK(s3 == lem::Status::Io);
  CHECK_THAT(m3, Catch::Contains("no model found"));
  const auto src = ModelSource::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  try {
    src->require("blk.99.attn_q.weight");
    FAIL("expected an error");
  } catch (const lem::Error& e) {
    CHECK(e.status() == lem::Status::BadFormat);
    CHECK_THAT(e.what(), Catch::Contains("blk.99.attn_q.weight"));
  }
}
