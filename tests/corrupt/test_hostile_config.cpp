// Hostile model configurations (issue 8 §5), built with ASan + UBSan: fixture models patched to
// carry one absurd hyperparameter each. Every case must fail at load with BadFormat and a message
// naming the key and the value, before anything is sized by it (a 2^32-layer file must not
// allocate 2^32 of anything); `lem info` (FileOnly load + report) must still describe the file.
// Also: a context the machine cannot hold, token counts near 2^64, and NaN weights.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/loaded_model.hpp"
#include "runtime/model_report.hpp"
#include "runtime/session.hpp"
#include "support/gguf_patch.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"
#include "util/error.hpp"

namespace {

using lem::Status;
using lem::test::data_path;
using lem::test::GgufPatch;
using Json = nlohmann::ordered_json;

const std::string kGguf = "tiny/tiny-a/gguf/tiny-a-Q8_0.gguf";
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

struct LoadError {
  Status status = Status::Ok;
  std::string message;
};

LoadError load_error(const std::string& path, lem::LoadMode mode = lem::LoadMode::Full) {
  try {
    lem::LoadOptions o;
    o.mode = mode;
    lem::LoadedModel::open(path, o);
  } catch (const lem::Error& e) {
    return {e.status(), e.what()};
  }
  return {};
}

// The load fails with BadFormat naming every `needles`; a FileOnly load still works and its
// report says why there is no KV cache.
void check_refused(const std::string& path, const std::vector<std::string>& needles) {
  const LoadError e = load_error(path);
  INFO(e.message);
  CHECK(e.status == Status::BadFormat);
  for (const auto& n : needles) CHECK_THAT(e.message, Catch::Contains(n));
  const auto file_only = lem::LoadedModel::open(path, {lem::LoadMode::FileOnly, {}});
  const Json report = lem::model_report(file_only, {});
  CHECK_FALSE(report.contains("kv_cache"));
  CHECK(report.at("kv_cache_unavailable").get<std::string>() == e.message);
}

std::string patched_gguf(const lem::test::TempDir& dir, const GgufPatch& patch) {
  const std::string out = dir.file("patched.gguf");
  lem::test::patch_gguf(data_path(kGguf), out, patch);
  return out;
}

// tiny-a's HF folder with config.json edited by `edit` (the weights are linked, not copied).
std::string patched_hf(const lem::test::TempDir& dir, const std::function<void(Json&)>& edit) {
  std::ifstream in(data_path("tiny/tiny-a/config.json"));
  Json config = Json::parse(in);
  edit(config);
  std::ofstream(dir.file("config.json")) << config.dump(1);
  std::error_code ec;
  std::filesystem::remove(dir.file("model.safetensors"), ec);
  std::filesystem::create_symlink(data_path("tiny/tiny-a/model.safetensors"), dir.file("model.safetensors"));
  return dir.path.string();
}

}  // namespace

TEST_CASE("the patched fixtures load when nothing is patched", "[corrupt][config]") {
  lem::test::TempDir dir("lem-hostile");
  CHECK(load_error(patched_gguf(dir, {})).status == Status::Ok);
  CHECK(load_error(patched_hf(dir, [](Json&) {})).status == Status::Ok);
}

TEST_CASE("hostile GGUF sizes fail fast with the key and the value", "[corrupt][config]") {
  lem::test::TempDir dir("lem-hostile");
  struct Case {
    std::string key;
    lem::test::KvValue value;
    std::vector<std::string> needles;
  };
  const uint64_t two63 = uint64_t{1} << 63;
  const std::vector<Case> cases = {
      {"gemma3.block_count", lem::test::kv_u32(0xFFFFFFFFu), {"gemma3.block_count", "4294967295", "1 to 1024"}},
      {"gemma3.block_count", lem::test::kv_u64(two63), {"gemma3.block_count", "9223372036854775808"}},
      {"gemma3.block_count", lem::test::kv_u64(~uint64_t{0}), {"gemma3.block_count", "18446744073709551615"}},
      {"gemma3.block_count", lem::test::kv_u32(7), {"gemma3.block_count", "is 7", "tensors for 6 layers"}},
      {"gemma3.block_count", lem::test::kv_u32(0), {"gemma3.block_count", "is 0"}},
      {"gemma3.embedding_length", lem::test::kv_u64(two63), {"gemma3.embedding_length", "9223372036854775808"}},
      {"gemma3.feed_forward_length", lem::test::kv_u64(uint64_t{1} << 40), {"gemma3.feed_forward_length"}},
      {"gemma3.attention.head_count", lem::test::kv_u32(0), {"gemma3.attention.head_count", "is 0"}},
      {"gemma3.attention.head_count", lem::test::kv_u64(two63), {"gemma3.attention.head_count"}},
      {"gemma3.attention.head_count_kv", lem::test::kv_u64(uint64_t{1} << 33), {"gemma3.attention.head_count_kv"}},
      {"gemma3.attention.key_length", lem::test::kv_u32(0x80000000u), {"gemma3.attention.key_length", "2147483648"}},
      {"gemma3.context_length", lem::test::kv_u32(0), {"gemma3.context_length", "is 0"}},
      {"gemma3.context_length", lem::test::kv_u64(two63), {"gemma3.context_length", "9223372036854775808"}},
      {"gemma3.context_length", lem::test::kv_u64(uint64_t{1} << 31), {"gemma3.context_length", "2147483648"}},
      {"gemma3.attention.sliding_window", lem::test::kv_u64(two63), {"gemma3.attention.sliding_window"}},
      {"gemma3.attention.sliding_window_pattern", lem::test::kv_u64(two63),
       {"gemma3.attention.sliding_window_pattern"}},
  };
  for (const Case& c : cases) {
    GgufPatch patch;
    patch.set[c.key] = c.value;
    INFO(c.key << " " << c.needles.back());
    check_refused(patched_gguf(dir, patch), c.needles);
  }
}

TEST_CASE("non-finite and out-of-range GGUF floats name the key", "[corrupt][config]") {
  lem::test::TempDir dir("lem-hostile");
  using lem::test::kv_f32;
  using lem::test::kv_f64;
  const std::vector<std::pair<std::string, lem::test::KvValue>> cases = {
      {"gemma3.attention.layer_norm_rms_epsilon", kv_f32(kNaN)},
      {"gemma3.attention.layer_norm_rms_epsilon", kv_f32(kInf)},
      {"gemma3.attention.layer_norm_rms_epsilon", kv_f32(-1e-6f)},
      {"gemma3.attention.layer_norm_rms_epsilon", kv_f32(0.0f)},
      {"gemma3.rope.freq_base", kv_f32(0.0f)},
      {"gemma3.rope.freq_base", kv_f32(-10000.0f)},
      {"gemma3.rope.freq_base", kv_f32(kNaN)},
      {"gemma3.rope.freq_base", kv_f64(1e300)},  // finite as a double, infinite as the float used
      {"gemma3.rope.freq_base_swa", kv_f32(0.0f)},
      {"gemma3.rope.freq_base_swa", kv_f32(-kInf)},
      {"gemma3.rope.scaling.factor", kv_f32(kNaN)},
      {"gemma3.rope.scaling.factor", kv_f32(0.0f)},
      {"gemma3.final_logit_softcapping", kv_f32(kNaN)},
      {"gemma3.attn_logit_softcapping", kv_f32(-30.0f)},
  };
  for (const auto& [key, value] : cases) {
    GgufPatch patch;
    patch.set[key] = value;
    INFO(key);
    check_refused(patched_gguf(dir, patch), {key, "expected a finite number"});
  }
}

TEST_CASE("hostile config.json sizes and floats fail fast with the key and the value", "[corrupt][config]") {
  lem::test::TempDir dir("lem-hostile");
  struct Case {
    std::function<void(Json&)> edit;
    std::vector<std::string> needles;
  };
  const std::vector<Case> cases = {
      {[](Json& c) { c["num_hidden_layers"] = uint64_t{1} << 34; }, {"num_hidden_layers", "17179869184"}},
      {[](Json& c) { c["num_hidden_layers"] = uint64_t{1} << 63; }, {"num_hidden_layers", "9223372036854775808"}},
      {[](Json& c) { c["num_hidden_layers"] = ~uint64_t{0}; }, {"num_hidden_layers", "18446744073709551615"}},
      {[](Json& c) { c["num_hidden_layers"] = -1; }, {"num_hidden_layers", "-1"}},
      {[](Json& c) { c["num_hidden_layers"] = 8; }, {"num_hidden_layers", "tensors for 6 layers"}},
      {[](Json& c) { c["num_hidden_layers"] = 6.5; }, {"num_hidden_layers", "6.5"}},
      {[](Json& c) { c["hidden_size"] = uint64_t{1} << 40; }, {"hidden_size"}},
      {[](Json& c) { c["intermediate_size"] = 0; }, {"intermediate_size", "is 0"}},
      {[](Json& c) { c["num_attention_heads"] = uint64_t{1} << 63; }, {"num_attention_heads"}},
      {[](Json& c) { c["num_key_value_heads"] = 0; }, {"num_key_value_heads"}},
      {[](Json& c) { c["head_dim"] = uint64_t{1} << 32; }, {"head_dim"}},
      {[](Json& c) { c["max_position_embeddings"] = 0; }, {"max_position_embeddings", "is 0"}},
      {[](Json& c) { c["max_position_embeddings"] = uint64_t{1} << 63; }, {"max_position_embeddings"}},
      {[](Json& c) { c["sliding_window"] = -16; }, {"sliding_window"}},
      {[](Json& c) { c["rms_norm_eps"] = -1e-6; }, {"rms_norm_eps", "finite number > 0"}},
      {[](Json& c) { c["rms_norm_eps"] = 0.0; }, {"rms_norm_eps"}},
      {[](Json& c) { c["rms_norm_eps"] = 1e39; }, {"rms_norm_eps"}},  // overflows the float it becomes
      {[](Json& c) { c["rope_theta"] = 0.0; }, {"rope_theta"}},
      {[](Json& c) { c["rope_theta"] = -1e6; }, {"rope_theta"}},
      {[](Json& c) { c["rope_local_base_freq"] = 0; }, {"rope_local_base_freq"}},
      {[](Json& c) { c["rope_parameters"] = {{"sliding_attention", {{"rope_theta", -1.0}}}}; }, {"rope_theta"}},
      {[](Json& c) { c["rope_scaling"]["factor"] = 0.0; }, {"factor"}},
      {[](Json& c) { c["rope_scaling"]["factor"] = 1e-44; }, {"RoPE scaling factor"}},  // 1/factor overflows
      {[](Json& c) { c["query_pre_attn_scalar"] = -48; }, {"query_pre_attn_scalar"}},
      {[](Json& c) { c["final_logit_softcapping"] = -30.0; }, {"final_logit_softcapping"}},
  };
  for (const Case& c : cases) {
    INFO(c.needles.front());
    check_refused(patched_hf(dir, c.edit), c.needles);
  }
}

TEST_CASE("a context the machine cannot hold is OutOfMemory with its size, not bad_alloc", "[corrupt][config]") {
  lem::test::TempDir dir("lem-hostile");
  GgufPatch patch;
  patch.set["gemma3.context_length"] = lem::test::kv_u32(0x7FFFFFFFu);
  const auto m = lem::LoadedModel::open(patched_gguf(dir, patch));
  REQUIRE(m.net->config().n_ctx_train == 0x7FFFFFFF);
  for (const auto kv : {lem::KvType::F32, lem::KvType::F16}) {
    lem::SessionParams p;
    p.n_ctx = 0;  // the model's maximum
    p.n_threads = 1;
    p.kv_type = kv;
    try {
      lem::Session s(*m.net, p);
      FAIL("a 2^31-position KV cache was allocated");
    } catch (const lem::Error& e) {
      INFO(e.what());
      CHECK(e.status() == Status::OutOfMemory);
      CHECK_THAT(e.what(), Catch::Contains("n_ctx 2147483647") && Catch::Contains("bytes") &&
                               Catch::Contains("memory of this machine"));
    }
  }
  // The report still gives the sizes (as numbers, no allocation).
  const Json kv = lem::model_report(m, {}).at("kv_cache");
  CHECK(kv.at("sizes").back().at("n_ctx") == 0x7FFFFFFF);
  CHECK(kv.at("sizes").back().at("f32_bytes").get<uint64_t>() > (uint64_t{1} << 40));
}

TEST_CASE("token counts near 2^64 do not pass the context-full check", "[corrupt][config]") {
  const auto m = lem::LoadedModel::open(data_path(kGguf));
  lem::SessionParams p;
  p.n_ctx = 64;
  p.n_threads = 1;
  lem::Session s(*m.net, p);
  const std::vector<int32_t> one{2};
  s.append(one);
  for (const size_t n : {size_t{1} << 63, ~size_t{0}, size_t{64}}) {
    INFO(n);
    // A span that claims n tokens: nothing may read past the first before the check refuses it.
    const std::span<const int32_t> huge(one.data(), n);
    try {
      s.append(huge);
      FAIL("appended " << n << " tokens");
    } catch (const lem::Error& e) {
      CHECK(e.status() == Status::ContextFull);
    }
  }
  CHECK(s.tokens().size() == 1);
}

TEST_CASE("NaN weights: norm gains refused at load, the rest a Numeric error", "[corrupt][config]") {
  // Norm gains (F32) are read at load: a NaN there is BadFormat naming the tensor. NaN block
  // scales of a Q8_0 matrix or of the embedding show up while running: Numeric, not <pad><pad>...
  for (const std::string name : {"output_norm.weight", "blk.2.ffn_norm.weight", "blk.0.attn_q.weight",
                                 "blk.3.ffn_down.weight", "token_embd.weight"}) {
    INFO(name);
    lem::test::TempDir dir("lem-hostile");
    GgufPatch patch;
    patch.edit_tensor = [&](const lem::io::GgufTensorInfo& t, std::vector<uint8_t>& bytes) {
      if (t.name != name) return;
      if (t.type == lem::GgmlType::F32) {
        for (size_t i = 0; i + 4 <= bytes.size(); i += 4) std::memcpy(bytes.data() + i, &kNaN, 4);
      } else {
        REQUIRE(t.type == lem::GgmlType::Q8_0);  // blocks of an f16 scale and 32 int8
        const uint16_t f16_nan = 0x7E00;
        for (size_t i = 0; i + 34 <= bytes.size(); i += 34) std::memcpy(bytes.data() + i, &f16_nan, 2);
      }
    };
    const std::string path = patched_gguf(dir, patch);
    if (name.find("norm") != std::string::npos) {
      const LoadError e = load_error(path);
      INFO(e.message);
      CHECK(e.status == Status::BadFormat);
      CHECK_THAT(e.message, Catch::Contains("'" + name + "' holds a non-finite value"));
      continue;
    }
    const auto m = lem::LoadedModel::open(path);
    lem::SessionParams p;
    p.n_ctx = 64;
    p.n_threads = 1;
    lem::Session s(*m.net, p);
    const std::vector<int32_t> prompt{2, 10, 20};
    try {
      s.append(prompt);
      FAIL("NaN weights gave finite logits");
    } catch (const lem::Error& e) {
      INFO(e.what());
      CHECK(e.status() == Status::Numeric);
      CHECK_THAT(e.what(), Catch::Contains("non-finite"));
    }
  }
}
