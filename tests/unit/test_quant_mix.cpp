// llama-quantize's per-tensor type choice (lib/model/quant_mix.hpp) against what llama-quantize
// actually wrote for the tiny models (tiny/*/gguf/tensor_types.json, shipped files and not), and
// the 1B/4B consequences spelled out in shared spec §6.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "io/gguf_file.hpp"
#include "model/quant_mix.hpp"
#include "support/test_data.hpp"

namespace {

using lem::GgmlType;
using lem::LlamaFtype;
using lem::llama_quantize_type;

int layer_of(const std::string& name) {
  if (name.rfind("blk.", 0) != 0) return -1;
  return std::stoi(name.substr(4, name.find('.', 4) - 4));
}

std::string blk(int i, const char* tensor) {
  std::string name = "blk.";
  name += std::to_string(i);
  name += tensor;
  return name;
}

std::string type_name(GgmlType t) {
  std::string s(lem::ggml_traits(t).name);
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST_CASE("llama_quantize_type reproduces llama-quantize's choices for the tiny models", "[quant_mix]") {
  int files_checked = 0;
  for (const std::string model : {"tiny-a", "tiny-b"}) {
    // Shapes and head counts from a shipped file of the same model (all files share them).
    const auto shapes = lem::io::GgufFile::open(lem::test::data_path("tiny/" + model + "/gguf/" + model + "-Q4_K_M.gguf"));
    const int n_layers = static_cast<int>(*shapes->get_uint("gemma3.block_count"));
    const int n_head = static_cast<int>(*shapes->get_uint("gemma3.attention.head_count"));
    const int n_head_kv = static_cast<int>(*shapes->get_uint("gemma3.attention.head_count_kv"));

    std::ifstream in(lem::test::data_path("tiny/" + model + "/gguf/tensor_types.json"));
    const auto files = nlohmann::json::parse(in);
    for (const auto& [file, entry] : files.items()) {
      if (entry.at("imatrix").get<bool>()) continue;  // imatrix mixes (IQ1/IQ2/IQ3) are not supported
      const auto ftype = static_cast<LlamaFtype>(entry.at("file_type").get<uint32_t>());
      INFO(file << " (ftype " << lem::llama_ftype_name(ftype) << ")");
      REQUIRE(lem::llama_ftype_name(ftype) != "?");
      // The file name spells the ftype.
      std::string suffix = "-";
      suffix += lem::llama_ftype_name(ftype);
      suffix += ".gguf";
      CHECK(file.find(suffix) != std::string::npos);
      for (const auto& [tensor, want] : entry.at("tensors").items()) {
        const auto* info = shapes->find_tensor(tensor);
        REQUIRE(info != nullptr);
        const GgmlType got =
            llama_quantize_type(ftype, tensor, layer_of(tensor), n_layers, info->ne[0], n_head, n_head_kv);
        INFO(tensor << " ne[0] " << info->ne[0]);
        CHECK(type_name(got) == want.get<std::string>());
      }
      ++files_checked;
    }
  }
  CHECK(files_checked == 24);  // 12 ftypes without an imatrix per model
}

TEST_CASE("llama_quantize_type: Gemma 3 1B and 4B mixes of spec §6", "[quant_mix]") {
  auto t = [](LlamaFtype f, const std::string& name, int layer, int n_layers, uint64_t row, int h, int hkv) {
    return llama_quantize_type(f, name, layer, n_layers, row, h, hkv);
  };
  SECTION("1B Q4_K_M: 1152-wide rows fall back to 32-element types") {
    const int n = 26;
    CHECK(t(LlamaFtype::Q4_K_M, "token_embd.weight", -1, n, 1152, 4, 1) == GgmlType::Q8_0);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.0.attn_q.weight", 0, n, 1152, 4, 1) == GgmlType::Q5_0);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.0.attn_k.weight", 0, n, 1152, 4, 1) == GgmlType::Q5_0);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.0.attn_v.weight", 0, n, 1152, 4, 1) == GgmlType::Q8_0);  // more(0): Q6_K -> Q8_0
    CHECK(t(LlamaFtype::Q4_K_M, "blk.3.attn_v.weight", 3, n, 1152, 4, 1) == GgmlType::Q5_0);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.3.attn_output.weight", 3, n, 1024, 4, 1) == GgmlType::Q4_K);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.5.ffn_down.weight", 5, n, 6912, 4, 1) == GgmlType::Q6_K);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.6.ffn_down.weight", 6, n, 6912, 4, 1) == GgmlType::Q4_K);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.6.ffn_gate.weight", 6, n, 1152, 4, 1) == GgmlType::Q5_0);
    CHECK(t(LlamaFtype::Q4_K_M, "blk.6.ffn_norm.weight", 6, n, 1152, 4, 1) == GgmlType::F32);
    CHECK(t(LlamaFtype::Q5_K_M, "blk.6.ffn_up.weight", 6, n, 1152, 4, 1) == GgmlType::Q5_1);
    CHECK(t(LlamaFtype::Q4_0, "token_embd.weight", -1, n, 1152, 4, 1) == GgmlType::Q8_0);  // Q6_K -> Q8_0
    CHECK(t(LlamaFtype::Q8_0, "token_embd.weight", -1, n, 1152, 4, 1) == GgmlType::Q8_0);
    CHECK(t(LlamaFtype::F16, "token_embd.weight", -1, n, 1152, 4, 1) == GgmlType::F16);
    CHECK(t(LlamaFtype::BF16, "blk.0.attn_q.weight", 0, n, 1152, 4, 1) == GgmlType::BF16);
  }
  SECTION("more(i) layers of 1B and 4B") {
    const std::vector<int> more_1b = {0, 1, 2, 5, 8, 11, 14, 17, 20, 22, 23, 24, 25};
    for (int i = 0; i < 26; ++i) {
      const bool more = std::find(more_1b.begin(), more_1b.end(), i) != more_1b.end();
      INFO("1B layer " << i);
      CHECK((t(LlamaFtype::Q4_K_M, blk(i, ".ffn_down.weight"), i, 26, 6912, 4, 1) ==
             GgmlType::Q6_K) == more);
    }
    // 4B: rows of 2560 take K-quants; more(i) = 0-3, 6, 9, ..., 27, 29-33.
    for (int i = 0; i < 34; ++i) {
      const bool more = i < 4 || i >= 29 || (i - 4) % 3 == 2;
      INFO("4B layer " << i);
      CHECK(t(LlamaFtype::Q4_K_M, blk(i, ".attn_v.weight"), i, 34, 2560, 8, 4) ==
            (more ? GgmlType::Q6_K : GgmlType::Q4_K));
    }
    CHECK(t(LlamaFtype::Q4_K_M, "token_embd.weight", -1, 34, 2560, 8, 4) == GgmlType::Q6_K);
    CHECK(t(LlamaFtype::Q2_K, "blk.7.attn_v.weight", 7, 34, 2560, 8, 4) == GgmlType::Q3_K);  // H/Hkv = 2 < 4
    CHECK(t(LlamaFtype::Q2_K, "blk.7.attn_v.weight", 7, 26, 2560, 4, 1) == GgmlType::Q4_K);  // H/Hkv = 4
  }
}

TEST_CASE("llama_ftype names round-trip", "[quant_mix]") {
  for (const char* name : {"F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_S",
                           "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ4_NL", "IQ4_XS",
                           "TQ1_0", "TQ2_0"}) {
    const auto f = lem::llama_ftype_from_name(name);
    REQUIRE(f.has_value());
    CHECK(lem::llama_ftype_name(*f) == name);
  }
  CHECK_FALSE(lem::llama_ftype_from_name("Q4_K").has_value());
  CHECK_FALSE(lem::llama_ftype_from_name("IQ2_XXS").has_value());
  CHECK_FALSE(lem::llama_ftype_from_name("Q2_K_S").has_value());  // llama-quantize requires an imatrix
  CHECK(static_cast<uint32_t>(*lem::llama_ftype_from_name("Q4_K_M")) == 15);
  CHECK(lem::llama_ftype_default_type(LlamaFtype::Q5_K_S) == GgmlType::Q5_K);
}
