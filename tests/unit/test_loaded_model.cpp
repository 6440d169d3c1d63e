// LoadedModel: the three load modes (full, vocab only, file only), the progress callback and its
// cancellation, and the metadata of GGUF and config.json models as lem_model_meta_* gives it.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/loaded_model.hpp"
#include "support/gguf_writer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"
#include "util/error.hpp"

using lem::LoadedModel;
using lem::LoadMode;
using lem::Status;
using lem::test::data_path;
using Json = nlohmann::json;

namespace {

const std::string kGguf = "tiny/tiny-a/gguf/tiny-a-Q8_0.gguf";

LoadedModel open_mode(const std::string& path, LoadMode mode) { return LoadedModel::open(path, {mode, {}}); }

template <class F>
lem::Error error_of(F&& f) {
  try {
    f();
  } catch (const lem::Error& e) {
    return e;
  }
  FAIL("no lem::Error was thrown");
  return lem::Error(Status::Ok, "");
}

// A folder holding only tiny-a's tokenizer.json.
struct TokenizerFolder {
  lem::test::TempDir dir{"lem-tokenizer-only"};
  TokenizerFolder() {
    std::filesystem::copy_file(data_path("tiny/tiny-a/tokenizer.json"), dir.file("tokenizer.json"));
  }
};

}  // namespace

TEST_CASE("full, vocab-only and file-only loads hold what they promise", "[loaded_model]") {
  const std::string gguf = data_path(kGguf);
  SECTION("full") {
    const auto m = open_mode(gguf, LoadMode::Full);
    REQUIRE(m.net);
    CHECK_FALSE(m.file);
    CHECK(m.source() == &m.net->source());
    REQUIRE(m.tokenizer);
    CHECK(m.tokenizer->n_vocab() == 1024);
    CHECK(m.metadata.size() == 34);
    CHECK_THAT(m.description, Catch::StartsWith("D 256 layers 6 (5 sliding, window 16)"));
    CHECK(m.n_sampling_vocab() == 1024);
  }
  SECTION("vocab only, from a model file: tokenizer and metadata, no weights bound") {
    const auto m = open_mode(gguf, LoadMode::VocabOnly);
    CHECK_FALSE(m.net);
    REQUIRE(m.file);
    REQUIRE(m.tokenizer);
    CHECK(m.tokenizer->n_vocab() == 1024);
    CHECK(m.metadata.size() == 34);
    CHECK(m.description.empty());
    CHECK(m.n_sampling_vocab() == 0);
    const auto e = error_of([&] { m.require_net(); });
    CHECK(e.status() == Status::InvalidArg);
    CHECK_THAT(e.what(), Catch::Contains("vocab_only"));
  }
  SECTION("vocab only, from a vocab-only GGUF that a full load refuses") {
    const std::string vocab = data_path("tokenizer/gemma3-vocab.gguf");
    const auto m = open_mode(vocab, LoadMode::VocabOnly);
    REQUIRE(m.tokenizer);
    CHECK(m.tokenizer->n_vocab() == 262144);
    CHECK(m.source()->stored_tensors().empty());
    const auto e = error_of([&] { open_mode(vocab, LoadMode::Full); });
    CHECK(e.status() == Status::BadFormat);
    CHECK_THAT(e.what(), Catch::Contains("'gemma3.block_count' is 26 but the file holds tensors for 0 layers"));
  }
  SECTION("vocab only, from a folder or file with nothing but tokenizer.json") {
    TokenizerFolder folder;
    for (const std::string& path : {folder.dir.path.string(), folder.dir.file("tokenizer.json")}) {
      INFO(path);
      const auto m = open_mode(path, LoadMode::VocabOnly);
      CHECK(m.source() == nullptr);
      REQUIRE(m.tokenizer);
      CHECK(m.tokenizer->n_vocab() == 1024);
      CHECK(m.metadata.size() == 0);
      // The same folder is no model for the other modes.
      CHECK(error_of([&] { open_mode(path, LoadMode::FileOnly); }).status() != Status::Ok);
    }
  }
  SECTION("file only: tables and metadata, no tokenizer") {
    const auto m = open_mode(gguf, LoadMode::FileOnly);
    CHECK_FALSE(m.net);
    REQUIRE(m.file);
    CHECK_FALSE(m.tokenizer);
    CHECK(m.metadata.size() == 34);
    const auto e = error_of([&] { m.require_tokenizer(); });
    CHECK(e.status() == Status::InvalidArg);
    CHECK_THAT(e.what(), Catch::Contains("file_only"));
  }
  SECTION("file only opens what is not runnable; full and vocab-only say why not") {
    namespace g = lem::test::gguf;
    g::Builder b;
    b.kv("general.architecture", g::string("llama"));
    b.kv("llama.block_count", g::u32(1));
    b.tensor("token_embd.weight", {4, 2}, 0 /* F32 */, g::Bytes(32, 0));
    const std::string path = g::write_temp_file(b.build(), "llama-arch.gguf");
    const auto m = open_mode(path, LoadMode::FileOnly);
    CHECK(m.source()->architecture() == "llama");
    CHECK(m.source()->stored_tensors().size() == 1);
    CHECK(error_of([&] { open_mode(path, LoadMode::Full); }).status() == Status::Unsupported);
    const auto e = error_of([&] { open_mode(path, LoadMode::VocabOnly); });
    CHECK(e.status() == Status::Unsupported);
    CHECK_THAT(e.what(), Catch::Contains("no tokenizer"));
  }
  SECTION("missing and corrupt files") {
    for (const LoadMode mode : {LoadMode::Full, LoadMode::VocabOnly, LoadMode::FileOnly}) {
      const auto missing = error_of([&] { open_mode("/nonexistent/model.gguf", mode); });
      CHECK(missing.status() == Status::Io);
      CHECK_THAT(missing.what(), Catch::Contains("/nonexistent/model.gguf"));
    }
    lem::test::TempDir dir("lem-corrupt");
    const std::string bad = dir.file("bad.gguf");
    std::ofstream(bad) << "GGUF but not really a GGUF file";
    for (const LoadMode mode : {LoadMode::Full, LoadMode::VocabOnly, LoadMode::FileOnly})
      CHECK(error_of([&] { open_mode(bad, mode); }).status() == Status::BadFormat);
  }
}

TEST_CASE("the progress callback sees start, every layer and the end, and can cancel", "[loaded_model]") {
  const std::string gguf = data_path(kGguf);
  std::vector<float> seen;
  lem::LoadOptions o;
  o.progress = [&](float p) {
    seen.push_back(p);
    return false;
  };
  LoadedModel::open(gguf, o);
  REQUIRE(seen.size() == 8);  // start, 6 layers, end
  CHECK(seen.front() == 0.0f);
  CHECK(seen.back() == 1.0f);
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] > seen[i - 1]);

  for (const LoadMode mode : {LoadMode::VocabOnly, LoadMode::FileOnly}) {
    seen.clear();
    o.mode = mode;
    LoadedModel::open(gguf, o);
    CHECK(seen == std::vector<float>{0.0f, 1.0f});
  }

  o.mode = LoadMode::Full;
  for (const size_t stop_at : {size_t{0}, size_t{3}, size_t{7}}) {
    INFO("stop at call " << stop_at);
    size_t calls = 0;
    o.progress = [&](float) { return calls++ == stop_at; };
    const auto e = error_of([&] { LoadedModel::open(gguf, o); });
    CHECK(e.status() == Status::Cancelled);
    CHECK_THAT(e.what(), Catch::Contains("cancelled"));
    CHECK(calls == stop_at + 1);  // nothing called after the stop
  }
}

TEST_CASE("GGUF metadata as key -> text", "[loaded_model]") {
  const auto m = open_mode(data_path(kGguf), LoadMode::FileOnly);
  const auto& md = m.metadata;
  REQUIRE(md.size() == 34);
  CHECK(md.key(0) == "general.architecture");  // file order
  CHECK(md.key(33) == "general.file_type");
  CHECK(md.value_text("general.name") == "Tiny A");
  CHECK(md.value_text("gemma3.block_count") == "6");
  CHECK(md.value_text("gemma3.attention.layer_norm_rms_epsilon") == "1e-06");  // float precision
  CHECK(md.value_text("gemma3.rope.scaling.factor") == "8.0");
  CHECK(md.value_text("tokenizer.ggml.add_bos_token") == "true");
  CHECK(md.value_text("tokenizer.ggml.add_eos_token") == "false");
  const Json tokens = Json::parse(*md.value_text("tokenizer.ggml.tokens"));
  REQUIRE(tokens.size() == 1024);  // arrays in full
  CHECK(tokens[2] == "<bos>");
  CHECK(tokens[106] == "<end_of_turn>");
  const Json types = Json::parse(*md.value_text("tokenizer.ggml.token_type"));
  CHECK(types[5] == 4);
  CHECK(types[106] == 3);
  CHECK_FALSE(md.value_text("no.such.key"));
  CHECK_FALSE(md.value_text(""));
}

TEST_CASE("config.json metadata flattened with dots", "[loaded_model]") {
  const auto m = open_mode(data_path("tiny/tiny-a"), LoadMode::FileOnly);
  const auto& md = m.metadata;
  CHECK(md.size() == 34);  // 32 fields, rope_scaling's two flattened, the safetensors "format"
  CHECK(md.key(0) == "architectures");
  CHECK(md.value_text("architectures") == R"(["Gemma3ForCausalLM"])");
  CHECK(md.value_text("model_type") == "gemma3_text");
  CHECK(md.value_text("hidden_size") == "256");
  CHECK(md.value_text("rms_norm_eps") == "1e-06");
  CHECK(md.value_text("rope_scaling.rope_type") == "linear");
  CHECK(md.value_text("rope_scaling.factor") == "8.0");
  CHECK_FALSE(md.value_text("rope_scaling"));
  CHECK(md.value_text("eos_token_id") == "[1,106]");
  CHECK(md.value_text("attn_logit_softcapping") == "null");
  CHECK(md.value_text("tie_word_embeddings") == "true");
  CHECK(md.value_text("__metadata__.format") == "pt");

  const auto mlx = open_mode(data_path("tiny/tiny-b/mlx-4bit"), LoadMode::FileOnly);
  CHECK(mlx.metadata.value_text("quantization.bits") == "4");
  CHECK(mlx.metadata.value_text("quantization.mode") == "affine");
}
