// `lem info --json` and `lem tensor`, driven as a user would, on every fixture file type.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "kernels/fp16.hpp"
#include "support/gguf_writer.hpp"
#include "support/run_command.hpp"
#include "support/test_data.hpp"

using lem::test::data_path;
using lem::test::lem_cli;
using lem::test::run_command;
using lem::test::shell_quote;
using Json = nlohmann::json;

namespace {

Json info_json(const std::string& path, const std::string& extra = "") {
  const auto r = run_command(lem_cli() + " info --json " + extra + " " + shell_quote(path));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

std::vector<float> read_f32(const std::string& path) {
  const auto bytes = lem::test::read_bytes(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

std::vector<float> dump_tensor(const std::string& model, const std::string& name) {
  const std::string out = std::filesystem::temp_directory_path() / ("lem-test-tensor-" + std::to_string(::getpid()) + ".f32");
  const auto r = run_command(lem_cli() + " tensor " + shell_quote(model) + " " + shell_quote(name) + " --out " + out);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto v = read_f32(out);
  std::filesystem::remove(out);
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

}  // namespace

TEST_CASE("lem info --json describes every fixture GGUF", "[cli]") {
  for (const std::string model : {"tiny-a", "tiny-b"}) {
    const std::string dir = data_path("tiny/" + model + "/gguf");
    std::ifstream idx(dir + "/tensor_types.json");
    const auto index = Json::parse(idx);
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".gguf") continue;
      const std::string file = entry.path().filename().string();
      INFO(file);
      const Json j = info_json(entry.path().string());
      CHECK(j.at("format") == "gguf");
      CHECK(j.at("metadata").at("general.architecture") == "gemma3");
      CHECK(j.at("metadata").at("gemma3.embedding_length") == 256);
      // The 1024-entry vocabulary is summarised, not printed.
      CHECK(j.at("metadata").at("tokenizer.ggml.tokens").at("length") == 1024);
      const auto& want = index.at(file).at("tensors");
      REQUIRE(j.at("tensors").size() == want.size());
      for (const auto& t : j.at("tensors")) {
        CHECK(lower(t.at("type")) == lower(want.at(t.at("name").get<std::string>())));
        CHECK(t.at("offset").get<uint64_t>() % 32 == 0);
      }
    }
  }
  SECTION("ggml type spelling and shapes in ne order") {
    const Json j = info_json(data_path("tiny/tiny-b/gguf/tiny-b-Q4_K_M.gguf"));
    std::map<std::string, Json> by_name;
    for (const auto& t : j.at("tensors")) by_name[t.at("name")] = t;
    CHECK(by_name.at("blk.0.attn_q.weight").at("shape") == Json::array({256, 384}));
    CHECK(by_name.at("blk.0.attn_output.weight").at("shape") == Json::array({384, 256}));
    CHECK(by_name.at("blk.0.attn_output.weight").at("type") == "q5_0");  // llama-quantize's fallback
    CHECK(by_name.at("blk.0.ffn_gate.weight").at("type") == "q4_K");
    CHECK(by_name.at("blk.0.attn_norm.weight").at("type") == "f32");
    CHECK(j.at("metadata").at("gemma3.attention.sliding_window_pattern") == Json::array({true, true, true, false}));
  }
  SECTION("--json-array prints whole arrays") {
    const Json j = info_json(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"), "--json-array");
    const auto& tokens = j.at("metadata").at("tokenizer.ggml.tokens");
    REQUIRE(tokens.size() == 1024);
    CHECK(tokens[2] == "<bos>");
    CHECK(tokens[106] == "<end_of_turn>");
  }
}

TEST_CASE("lem info --json describes safetensors and MLX checkpoints", "[cli]") {
  const Json a = info_json(data_path("tiny/tiny-a"));
  CHECK(a.at("format") == "safetensors");
  CHECK(a.at("metadata").at("model_type") == "gemma3_text");
  std::map<std::string, Json> by_name;
  for (const auto& t : a.at("tensors")) by_name[t.at("name")] = t;
  CHECK(by_name.at("model.embed_tokens.weight").at("shape") == Json::array({1024, 256}));  // outermost first
  CHECK(by_name.at("model.embed_tokens.weight").at("type") == "bf16");
  CHECK(by_name.at("model.layers.0.self_attn.k_proj.weight").at("shape") == Json::array({64, 256}));

  const Json m = info_json(data_path("tiny/tiny-b/mlx-4bit"));
  CHECK(m.at("format") == "mlx");
  CHECK(m.at("metadata").at("quantization").at("bits") == 4);
  by_name.clear();
  for (const auto& t : m.at("tensors")) by_name[t.at("name")] = t;
  CHECK(by_name.at("model.layers.0.self_attn.q_proj.weight").at("type") == "u32");
  CHECK(by_name.at("model.layers.0.self_attn.q_proj.weight").at("shape") == Json::array({384, 32}));
  CHECK(by_name.at("model.layers.0.self_attn.q_proj.scales").at("shape") == Json::array({384, 4}));
}

TEST_CASE("lem tensor dequantises every block type bit-exactly", "[cli]") {
  std::ifstream idx(data_path("quant/index.json"));
  const auto index = Json::parse(idx);
  for (const auto& t : index.at("types")) {
    const std::string name = t.at("name");
    INFO(name);
    // Put the fixture's 8 x 512 quantised rows into a GGUF file as one tensor.
    const auto raw = lem::test::read_bytes(data_path("quant/" + t.at("bin").get<std::string>()));
    lem::test::gguf::Builder b;
    b.kv("general.architecture", lem::test::gguf::string("gemma3"));
    b.tensor("blocks", {512, 8}, t.at("ggml_type_id").get<uint32_t>(), lem::test::gguf::Bytes(raw.begin(), raw.end()));
    const std::string path = lem::test::gguf::write_temp_file(b.build(), "quant-" + name + ".gguf");
    const auto got = dump_tensor(path, "blocks");
    const auto want = read_f32(data_path("quant/" + t.at("f32").get<std::string>()));
    REQUIRE(got.size() == want.size());
    size_t mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) mismatches += bits(got[i]) != bits(want[i]);
    CHECK(mismatches == 0);
  }
}

TEST_CASE("lem tensor reads F32, BF16, F16 and MLX weights", "[cli]") {
  SECTION("tiny-b F32 GGUF equals the F32 safetensors checkpoint") {
    const auto gguf = dump_tensor(data_path("tiny/tiny-b/gguf/tiny-b-F32.gguf"), "blk.1.attn_q.weight");
    const auto st = dump_tensor(data_path("tiny/tiny-b/model-f32.safetensors"), "model.layers.1.self_attn.q_proj.weight");
    REQUIRE(gguf.size() == 256 * 384);
    CHECK(gguf == st);
  }
  SECTION("tiny-a BF16 GGUF equals the BF16 safetensors; F16 within f16 rounding") {
    const auto bf16 = dump_tensor(data_path("tiny/tiny-a/gguf/tiny-a-BF16.gguf"), "token_embd.weight");
    const auto st = dump_tensor(data_path("tiny/tiny-a"), "token_embd.weight");  // canonical name works too
    REQUIRE(bf16.size() == 1024 * 256);
    CHECK(bf16 == st);
    const auto f16 = dump_tensor(data_path("tiny/tiny-a/gguf/tiny-a-F16.gguf"), "token_embd.weight");
    REQUIRE(f16.size() == bf16.size());
    for (size_t i = 0; i < f16.size(); ++i) CHECK(f16[i] == lem::f16_to_f32(lem::f32_to_f16(bf16[i])));
  }
  SECTION("MLX 4-bit weights equal the fixture's dequantised goldens") {
    for (const std::string name : {"model.embed_tokens", "model.layers.0.self_attn.k_proj", "model.layers.3.self_attn.o_proj"}) {
      INFO(name);
      const auto got = dump_tensor(data_path("tiny/tiny-b/mlx-4bit"), name + ".weight");
      const auto want = read_f32(data_path("tiny/tiny-b/mlx-4bit/goldens/dequant." + name + ".f32"));
      REQUIRE(got.size() == want.size());
      CHECK(std::memcmp(got.data(), want.data(), got.size() * 4) == 0);
    }
  }
}

TEST_CASE("lem info and lem tensor report errors clearly", "[cli]") {
  auto r = run_command(lem_cli() + " info /nonexistent/model.gguf");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("/nonexistent/model.gguf"));
  r = run_command(lem_cli() + " tensor " + shell_quote(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf")) +
                  " no.such.tensor --out /dev/null");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no tensor named 'no.such.tensor'"));
  r = run_command(lem_cli() + " frobnicate");
  CHECK(r.exit_code == 2);
}

TEST_CASE("lem info reports the KV cache with rings on sliding layers", "[cli]") {
  // tiny-a (config.json): 6 layers, every 6th global, 1 KV head of 64, window 16, 4096 positions.
  // A sliding layer keeps window - 1 + batch 512 + rewind slack 512 positions, a global one n_ctx.
  auto f32_bytes = [](int64_t n_ctx) { return 2 * 64 * 4 * (5 * (16 - 1 + 512 + 512) + n_ctx); };
  for (const char* file : {"tiny/tiny-a/gguf/tiny-a-Q8_0.gguf", "tiny/tiny-a/model.safetensors"}) {
    INFO(file);
    const Json kv = info_json(data_path(file), "-c 2048")["kv_cache"];
    CHECK(kv["layers"] == 6);
    CHECK(kv["sliding_layers"] == 5);
    CHECK(kv["sliding_layer_positions"] == 1039);
    REQUIRE(kv["sizes"].size() == 2);
    CHECK(kv["sizes"][0]["n_ctx"] == 2048);
    CHECK(kv["sizes"][0]["f32_bytes"] == f32_bytes(2048));
    CHECK(kv["sizes"][0]["f16_bytes"] == f32_bytes(2048) / 2);
    CHECK(kv["sizes"][1]["n_ctx"] == 4096);
    CHECK(kv["sizes"][1]["f32_bytes"] == f32_bytes(4096));
  }
  const auto r = run_command(lem_cli() + " info " + shell_quote(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf")));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("KV cache:     5 of 6 layers sliding, each keeping 1039 positions"));
  const auto bad = run_command(lem_cli() + " info -c many " + shell_quote(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf")));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--ctx-size"));
}
