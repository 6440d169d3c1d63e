// `lem synth`, driven as a user would: real Gemma 3 270M shapes with the tiny fixtures'
// vocabulary (small and fast), read back with lem::io::GgufFile and the dequantiser.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/gguf_file.hpp"
#include "kernels/dequant.hpp"
#include "model/quant_mix.hpp"
#include "support/run_command.hpp"
#include "support/test_data.hpp"

namespace {

namespace fs = std::filesystem;
using lem::GgmlType;
using lem::io::GgufFile;
using lem::io::GgufValue;
using lem::io::GgufValueType;
using lem::test::data_path;
using lem::test::lem_cli;
using lem::test::run_command;
using lem::test::shell_quote;

struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& name)
      : path((fs::temp_directory_path() / ("lem_test_synth_" + std::to_string(::getpid()) + "_" + name)).string()) {}
  ~ScratchFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

lem::test::CommandResult synth(const std::string& args, const std::string& out) {
  return run_command(lem_cli() + " synth " + args + " --out " + shell_quote(out));
}

std::string tiny_vocab_gguf() { return data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"); }

// Values of a numeric array as doubles.
std::vector<double> floats_of(const GgufValue& v) {
  std::vector<double> out(v.count);
  for (uint64_t k = 0; k < v.count; ++k) out[k] = v.float_at(k);
  return out;
}

std::vector<float> dequantized(const lem::io::GgufTensorInfo& t) {
  uint64_t n = 1;
  for (const uint64_t d : t.ne) n *= d;
  std::vector<float> out(n);
  REQUIRE(lem::dequantize_row(t.type, t.data, out.data(), static_cast<int64_t>(n)));
  return out;
}

}  // namespace

TEST_CASE("lem synth writes a 270M-shaped Gemma 3 with llama-quantize's type mix", "[synth]") {
  ScratchFile file("270m-q4_0.gguf");
  const auto r = synth("--size 270m --type Q4_0 --n-vocab 1024 --seed 7 --vocab " + shell_quote(tiny_vocab_gguf()), file.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Matchers::Contains("236 tensors, 1024 tokens"));

  const auto g = GgufFile::open(file.path);
  CHECK(g->get_string("general.architecture") == "gemma3");
  CHECK(g->get_uint("general.file_type") == 2u);
  CHECK(g->get_uint("general.quantization_version") == 2u);
  CHECK(g->get_uint("gemma3.block_count") == 18u);
  CHECK(g->get_uint("gemma3.embedding_length") == 640u);
  CHECK(g->get_uint("gemma3.feed_forward_length") == 2048u);
  CHECK(g->get_uint("gemma3.context_length") == 32768u);
  CHECK(g->get_uint("gemma3.attention.head_count") == 4u);
  CHECK(g->get_uint("gemma3.attention.head_count_kv") == 1u);
  CHECK(g->get_uint("gemma3.attention.key_length") == 256u);
  CHECK(g->get_uint("gemma3.attention.value_length") == 256u);
  CHECK(g->get_uint("gemma3.attention.sliding_window") == 512u);
  CHECK(g->get_float("gemma3.rope.freq_base") == 1e6);
  CHECK(g->get_float("gemma3.rope.freq_base_swa") == 1e4);
  CHECK(static_cast<float>(*g->get_float("gemma3.attention.layer_norm_rms_epsilon")) == 1e-6f);
  CHECK(g->find("gemma3.rope.scaling.type") == nullptr);

  // Every tokenizer.* key of the source, unchanged (same count, so nothing is padded).
  const auto src = GgufFile::open(tiny_vocab_gguf());
  int n_tokenizer_keys = 0;
  for (const auto& [key, value] : src->metadata()) {
    if (key.rfind("tokenizer.", 0) != 0) continue;
    INFO(key);
    const GgufValue* copy = g->find(key);
    REQUIRE(copy != nullptr);
    CHECK(copy->type == value.type);
    if (value.type == GgufValueType::ARRAY) {
      CHECK(copy->count == value.count);
      if (value.elem_type == GgufValueType::STRING) CHECK(copy->strings == value.strings);
      else CHECK(floats_of(*copy) == floats_of(value));
    } else {
      CHECK(copy->u == value.u);
      CHECK(copy->b == value.b);
      CHECK(copy->str == value.str);
    }
    ++n_tokenizer_keys;
  }
  CHECK(n_tokenizer_keys == 14);

  REQUIRE(g->tensors().size() == 236);  // token_embd + 18 x 13 + output_norm
  for (const auto& t : g->tensors()) {
    INFO(t.name);
    const bool norm = t.name.size() > 12 && t.name.substr(t.name.size() - 12) == "_norm.weight";
    CHECK(t.ne.size() == (norm ? 1u : 2u));
    const int layer = t.name.rfind("blk.", 0) == 0 ? std::stoi(t.name.substr(4)) : -1;
    CHECK(t.type == lem::llama_quantize_type(lem::LlamaFtype::Q4_0, t.name, layer, 18, t.ne[0], 4, 1));
  }
  CHECK(g->find_tensor("token_embd.weight")->ne == std::vector<uint64_t>{640, 1024});
  CHECK(g->find_tensor("token_embd.weight")->type == GgmlType::Q8_0);  // output rule: Q6_K, 640 % 256 -> Q8_0
  CHECK(g->find_tensor("blk.0.attn_q.weight")->ne == std::vector<uint64_t>{640, 1024});
  CHECK(g->find_tensor("blk.0.attn_k.weight")->ne == std::vector<uint64_t>{640, 256});
  CHECK(g->find_tensor("blk.0.attn_output.weight")->ne == std::vector<uint64_t>{1024, 640});
  CHECK(g->find_tensor("blk.17.ffn_down.weight")->ne == std::vector<uint64_t>{2048, 640});
  CHECK(g->find_tensor("blk.17.ffn_down.weight")->type == GgmlType::Q4_0);
  CHECK(g->find_tensor("blk.3.attn_q_norm.weight")->ne == std::vector<uint64_t>{256});

  // Values: norms around 1, weights ~N(0, 0.02²) after quantisation.
  const auto norm = dequantized(*g->find_tensor("blk.4.ffn_norm.weight"));
  double mean = 0;
  for (float v : norm) mean += v;
  mean /= static_cast<double>(norm.size());
  CHECK(std::fabs(mean - 1.0) < 0.02);
  const auto w = dequantized(*g->find_tensor("blk.4.ffn_gate.weight"));
  double sum = 0, sq = 0;
  for (float v : w) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(w.size());
  CHECK(std::fabs(sum / n) < 1e-3);
  CHECK(std::sqrt(sq / n) == Approx(0.02).epsilon(0.05));

  // The project's own loader accepts it as a Gemma 3 model.
  const auto info = run_command(lem_cli() + " info " + shell_quote(file.path));
  INFO(info.err);
  CHECK(info.exit_code == 0);
  CHECK_THAT(info.out, Catch::Matchers::Contains("tokenizer:    llama (1024 tokens)"));
}

TEST_CASE("lem synth output depends on the seed, not on the thread count", "[synth]") {
  ScratchFile a("seed-a.gguf"), b("seed-b.gguf"), c("seed-c.gguf");
  const std::string args = "--size 270m --type Q8_0 --n-vocab 1024 --vocab " + shell_quote(tiny_vocab_gguf());
  REQUIRE(synth(args + " --seed 5 --threads 1", a.path).exit_code == 0);
  REQUIRE(synth(args + " --seed 5 --threads 3", b.path).exit_code == 0);
  REQUIRE(synth(args + " --seed 6 --threads 2", c.path).exit_code == 0);
  const auto bytes_a = lem::test::read_bytes(a.path);
  CHECK(bytes_a == lem::test::read_bytes(b.path));
  const auto bytes_c = lem::test::read_bytes(c.path);
  REQUIRE(bytes_c.size() == bytes_a.size());
  CHECK(std::memcmp(bytes_c.data(), bytes_a.data(), bytes_a.size()) != 0);
}

TEST_CASE("lem synth converts a tokenizer.json as llama.cpp's converter does", "[synth]") {
  // tiny-a's GGUF was converted by convert_hf_to_gguf.py from tokenizer.model; our tokenizer.json
  // conversion must give the same pieces, types and special ids. (Scores differ in value: the
  // tiny tokenizer.model numbers pieces -id; only their order matters to the SPM merge loop.)
  ScratchFile file("json-vocab.gguf");
  const auto r = synth("--size 270m --type Q8_0 --n-vocab 1030 --vocab " + shell_quote(data_path("tiny/tiny-a/tokenizer.json")),
                       file.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto g = GgufFile::open(file.path);
  const auto ref = GgufFile::open(tiny_vocab_gguf());

  const GgufValue* tokens = g->find("tokenizer.ggml.tokens");
  const GgufValue* ref_tokens = ref->find("tokenizer.ggml.tokens");
  REQUIRE(tokens->count == 1030);
  REQUIRE(ref_tokens->count == 1024);
  for (uint64_t id = 0; id < 1024; ++id) {
    INFO("token " << id);
    CHECK(tokens->strings[id] == ref_tokens->strings[id]);
    CHECK(g->find("tokenizer.ggml.token_type")->int_at(id) == ref->find("tokenizer.ggml.token_type")->int_at(id));
  }
  // Padding as the converter pads: "[PAD<id>]", score -10000, UNUSED.
  for (uint64_t id = 1024; id < 1030; ++id) {
    CHECK(tokens->strings[id] == "[PAD" + std::to_string(id) + "]");
    CHECK(g->find("tokenizer.ggml.scores")->float_at(id) == -10000.0);
    CHECK(g->find("tokenizer.ggml.token_type")->int_at(id) == 5);
  }
  // Scores of NORMAL pieces fall with the id in both; added tokens -1000; bytes 0.
  const GgufValue* scores = g->find("tokenizer.ggml.scores");
  const GgufValue* types = g->find("tokenizer.ggml.token_type");
  double last = 1.0;
  for (uint64_t id = 0; id < 1024; ++id) {
    INFO("token " << id);
    switch (types->int_at(id)) {
      case 1:
        CHECK(scores->float_at(id) < last);
        last = scores->float_at(id);
        break;
      case 6: CHECK(scores->float_at(id) == 0.0); break;
      default: CHECK(scores->float_at(id) == -1000.0); break;
    }
  }
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
                          "tokenizer.ggml.padding_token_id"}) {
    INFO(key);
    CHECK(g->get_uint(key) == ref->get_uint(key));
  }
  CHECK(g->get_bool("tokenizer.ggml.add_bos_token") == true);
  CHECK(g->get_string("tokenizer.chat_template") == ref->get_string("tokenizer.chat_template"));
  CHECK(g->get_string("tokenizer.ggml.model") == "llama");
  CHECK(g->find_tensor("token_embd.weight")->ne == std::vector<uint64_t>{640, 1030});
}

TEST_CASE("lem synth turns the real Gemma 3 tokenizer.json into the reference vocabulary GGUF", "[synth]") {
  // tokenizer/gemma3-vocab.gguf holds what convert_hf_to_gguf.py writes for Gemma 3 (fixtures
  // README); every tokenizer.* value must come out the same, bit for bit.
  ScratchFile file("gemma3-json.gguf");
  const auto r = synth("--size 270m --type Q8_0 --vocab " + shell_quote(data_path("tokenizer/tokenizer.json")), file.path);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto g = GgufFile::open(file.path);
  const auto ref = GgufFile::open(data_path("tokenizer/gemma3-vocab.gguf"));
  std::vector<std::string> keys, ref_keys;
  for (const auto& kv : g->metadata())
    if (kv.first.rfind("tokenizer.", 0) == 0) keys.push_back(kv.first);
  for (const auto& kv : ref->metadata())
    if (kv.first.rfind("tokenizer.", 0) == 0) ref_keys.push_back(kv.first);
  CHECK(keys == ref_keys);
  for (const auto& key : ref_keys) {
    INFO(key);
    const GgufValue* a = g->find(key);
    const GgufValue* b = ref->find(key);
    REQUIRE(a != nullptr);
    CHECK(a->type == b->type);
    if (b->type != GgufValueType::ARRAY) {
      CHECK((a->u == b->u && a->i == b->i && a->b == b->b && a->str == b->str));
    } else if (b->elem_type == GgufValueType::STRING) {
      CHECK(a->strings == b->strings);
    } else {
      REQUIRE(a->elem_type == b->elem_type);
      REQUIRE(a->count == b->count);
      CHECK(std::memcmp(a->packed, b->packed, a->count * 4) == 0);  // f32 scores, i32 types: bit patterns
    }
  }
  CHECK(g->find_tensor("token_embd.weight")->ne == std::vector<uint64_t>{640, 262144});
}

TEST_CASE("lem synth refuses bad arguments", "[synth]") {
  ScratchFile file("bad.gguf");
  const std::string vocab = " --vocab " + shell_quote(tiny_vocab_gguf());
  auto r = synth("--size 2b --type Q4_0" + vocab, file.path);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Matchers::Contains("expected 270m, 1b or 4b"));
  r = synth("--size 1b --type IQ2_XXS" + vocab, file.path);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Matchers::Contains("--type 'IQ2_XXS'"));
  r = synth("--size 1b --type Q4_0 --n-vocab 100" + vocab, file.path);  // eos id 106 does not fit
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Matchers::Contains("does not fit a vocabulary of 100 tokens"));
  r = synth("--size 1b --type Q4_0 --vocab /nonexistent/tokenizer.json", file.path);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Matchers::Contains("cannot open"));
  CHECK_FALSE(fs::exists(file.path));
}
