// model_report(): the JSON behind `lem info` and lem_model_info_json, checked against facts
// about the fixtures that come from elsewhere (their README, tensor_types.json, config.json and
// the file sizes), in every load mode.
#include <catch2/catch.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/model_report.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"

using lem::LoadedModel;
using lem::LoadMode;
using lem::test::data_path;
using Json = nlohmann::ordered_json;

namespace {

Json report(const std::string& path, LoadMode mode, lem::ReportOptions options = {}) {
  return lem::model_report(LoadedModel::open(path, {mode, {}}), options);
}

// tiny-a: 6 layers, every 6th global, 1 KV head of 64, window 16, 4096 positions. A sliding layer
// keeps window - 1 + batch 512 + rewind slack 512 positions, a global one n_ctx.
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

uint64_t tiny_a_f32_kv_bytes(uint64_t n_ctx) { return 2 * 64 * 4 * (5 * (16 - 1 + 512 + 512) + n_ctx); }

void check_tiny_a_kv_cache(const Json& kv) {
  CHECK(kv.at("layers") == 6);
  CHECK(kv.at("sliding_layers") == 5);
  CHECK(kv.at("sliding_layer_positions") == 1039);
  CHECK(kv.at("n_batch") == 512);
  CHECK(kv.at("rewind_slack") == 512);
}

}  // namespace

TEST_CASE("report of a GGUF model", "[model_report]") {
  const std::string path = data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf");
  std::ifstream idx(data_path("tiny/tiny-a/gguf/tensor_types.json"));
  const Json index = Json::parse(idx).at("tiny-a-Q8_0.gguf");
  for (const LoadMode mode : {LoadMode::Full, LoadMode::VocabOnly, LoadMode::FileOnly}) {
    const Json r = report(path, mode, {true, false, 2048});
    INFO(lem::load_mode_name(mode));
    CHECK(r.at("path") == path);
    CHECK(r.at("format") == "gguf");
    CHECK(r.at("architecture") == "gemma3");
    CHECK_THAT(r.at("description").get<std::string>(), Catch::StartsWith("D 256 layers 6 (5 sliding, window 16)"));

    const Json& file = r.at("file");
    CHECK(file.at("tensor_count") == index.at("tensors").size());
    const uint64_t bytes = file.at("tensor_bytes");
    const uint64_t file_size = std::filesystem::file_size(path);
    const uint64_t data_offset = file.at("gguf").at("data_offset");
    CHECK(bytes <= file_size - data_offset);
    CHECK(bytes + 32 * index.at("tensors").size() >= file_size - data_offset);  // only alignment padding between
    uint64_t typed = 0, counted = 0;
    for (const auto& t : file.at("tensor_types")) {
      typed += t.at("bytes").get<uint64_t>();
      counted += t.at("count").get<uint64_t>();
    }
    CHECK(typed == bytes);
    CHECK(counted == index.at("tensors").size());
    CHECK(file.at("tokenizer") == Json{{"source", "gguf"}, {"model", "llama"}, {"tokens", 1024}, {"merges", false}});
    const Json& g = file.at("gguf");
    CHECK(g.at("version") == 3);
    CHECK(g.at("alignment") == 32);
    CHECK(data_offset % 32 == 0);
    CHECK(g.at("name") == "Tiny A");
    CHECK(g.at("file_type") == index.at("file_type"));
    CHECK(g.at("hyperparameters").at("block_count") == 6);
    CHECK(g.at("hyperparameters").at("attention.sliding_window") == 16);
    CHECK_FALSE(file.contains("safetensors"));

    // The keys `lem info --json` always had.
    CHECK(r.at("metadata").at("general.architecture") == "gemma3");
    CHECK(r.at("metadata").at("tokenizer.ggml.tokens").at("length") == 1024);  // summarised
    REQUIRE(r.at("tensors").size() == index.at("tensors").size());
    for (const auto& t : r.at("tensors")) {
      CHECK(lower(t.at("type")) == lower(index.at("tensors").at(t.at("name").get<std::string>())));
      CHECK(t.at("offset").get<uint64_t>() % 32 == 0);
    }

    const Json& kv = r.at("kv_cache");
    check_tiny_a_kv_cache(kv);
    REQUIRE(kv.at("sizes").size() == 2);  // requested 2048, then the default = the maximum 4096
    CHECK(kv.at("sizes")[0] == Json{{"n_ctx", 2048}, {"label", "requested"}, {"f32_bytes", tiny_a_f32_kv_bytes(2048)},
                                    {"f16_bytes", tiny_a_f32_kv_bytes(2048) / 2}});
    CHECK(kv.at("sizes")[1].at("n_ctx") == 4096);
    CHECK(kv.at("sizes")[1].at("label") == "default");
    CHECK(kv.at("sizes")[1].at("f32_bytes") == tiny_a_f32_kv_bytes(4096));
    CHECK_FALSE(r.contains("kv_cache_unavailable"));
  }
  CHECK(report(path, LoadMode::Full).at("load_mode") == "full");
  CHECK(report(path, LoadMode::VocabOnly).at("load_mode") == "vocab_only");
  CHECK(report(path, LoadMode::FileOnly).at("load_mode") == "file_only");
  SECTION("without the tensor table, with full arrays, without n_ctx") {
    const Json r = report(path, LoadMode::FileOnly, {false, true, 0});
    CHECK_FALSE(r.contains("tensors"));
    CHECK(r.at("metadata").at("tokenizer.ggml.tokens").size() == 1024);
    CHECK(r.at("kv_cache").at("sizes").size() == 1);  // default = maximum
    CHECK(r.at("kv_cache").at("sizes")[0].at("label") == "default");
  }
}

TEST_CASE("report of safetensors and MLX checkpoints", "[model_report]") {
  const Json a = report(data_path("tiny/tiny-a"), LoadMode::Full, {true, false, 0});
  CHECK(a.at("format") == "safetensors");
  CHECK(a.at("architecture") == "gemma3_text");
  const Json& st = a.at("file").at("safetensors");
  CHECK(st.at("shards") == 1);
  CHECK(st.at("config_json") == true);
  CHECK(st.at("class") == Json::array({"Gemma3ForCausalLM"}));
  CHECK(st.at("hyperparameters_source") == "config");
  CHECK(st.at("hyperparameters").at("hidden_size") == 256);
  CHECK(st.at("hyperparameters").at("rope_scaling").at("factor") == 8.0);
  CHECK_FALSE(st.contains("quantization"));
  CHECK(a.at("file").at("tokenizer") == Json{{"source", "tokenizer.json"}, {"model", "BPE"}, {"tokens", 1024}});
  CHECK(a.at("metadata").at("model_type") == "gemma3_text");
  CHECK(a.at("metadata").at("__metadata__").at("format") == "pt");
  check_tiny_a_kv_cache(a.at("kv_cache"));

  const Json m = report(data_path("tiny/tiny-b/mlx-4bit"), LoadMode::FileOnly);
  CHECK(m.at("format") == "mlx");
  CHECK(m.at("file").at("safetensors").at("quantization").at("bits") == 4);
  CHECK(m.at("file").at("tokenizer").at("source") == "tokenizer.json");
  CHECK_FALSE(m.at("file").at("tokenizer").contains("tokens"));  // file only: not loaded
  CHECK(m.at("kv_cache").at("layers") == 4);  // tiny-b
}

TEST_CASE("report without a runnable configuration or without a model file", "[model_report]") {
  const Json v = report(data_path("tokenizer/gemma3-vocab.gguf"), LoadMode::FileOnly);
  CHECK(v.at("file").at("tensor_count") == 0);
  CHECK(v.at("file").at("tokenizer").at("tokens") == 262144);
  CHECK_FALSE(v.contains("kv_cache"));
  CHECK_FALSE(v.contains("description"));
  CHECK_THAT(v.at("kv_cache_unavailable").get<std::string>(), Catch::Contains("gemma3.block_count"));

  lem::test::TempDir dir("lem-report-tok");
  std::filesystem::copy_file(data_path("tiny/tiny-a/tokenizer.json"), dir.file("tokenizer.json"));
  const Json t = report(dir.path.string(), LoadMode::VocabOnly, {true, false, 0});
  CHECK(t.at("format") == "tokenizer");
  CHECK(t.at("architecture") == "");
  CHECK(t.at("metadata") == Json::object());
  CHECK(t.at("tensors") == Json::array());
  CHECK(t.at("file").at("tensor_count") == 0);
  CHECK(t.at("file").at("tokenizer").at("tokens") == 1024);
  CHECK(t.at("kv_cache_unavailable").get<std::string>().size() > 0);
}
