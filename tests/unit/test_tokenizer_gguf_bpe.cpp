// A GGUF vocabulary of the "gpt2" kind (BPE with merges), written from the fixture tokenizer.json
// the way llama.cpp's converter writes one when a checkpoint has no tokenizer.model
// (convert_hf_to_gguf get_vocab_base + gguf-py SpecialVocab, spec §4): tokens in id order,
// added tokens CONTROL when special or "looking special" (<mask>, <unusedN>), else USER_DEFINED
// with U+2581 stored as spaces, every other piece NORMAL (byte pieces included), merges as
// "left right". Tokenising it must give the HF ids of the fixture cases.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "test_tokenizer_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using lem::Tokenizer;
using lem::TokenType;
using nlohmann::json;
using namespace lem::test;

bool looks_special(const std::string& text) {
  auto starts = [&](const char* p) { return text.rfind(p, 0) == 0; };
  auto ends = [&](const char* s) {
    const std::string suffix(s);
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return text == "<pad>" || text == "<mask>" || text == "<2mass>" || text == "[@BOS@]" ||
         (starts("<|") && ends("|>")) || (starts("<unused") && ends(">"));
}

std::string markers_to_spaces(std::string text) {
  const std::string marker = "\xE2\x96\x81";
  for (size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1))
    text.replace(at, marker.size(), " ");
  return text;
}

std::string write_gpt2_vocab() {
  const json tj = read_json(data_path("tokenizer/tokenizer.json"));
  std::vector<std::string> tokens(tj["model"]["vocab"].size());
  std::vector<int32_t> types(tokens.size(), static_cast<int32_t>(TokenType::Normal));
  for (const auto& [piece, id] : tj["model"]["vocab"].items()) tokens.at(id.get<size_t>()) = piece;
  for (const json& added : tj["added_tokens"]) {
    const auto id = added["id"].get<size_t>();
    if (id >= tokens.size()) {
      tokens.resize(id + 1);
      types.resize(id + 1, static_cast<int32_t>(TokenType::Normal));
    }
    std::string text = added["content"];
    if (added["special"].get<bool>() || looks_special(text)) {
      types[id] = static_cast<int32_t>(TokenType::Control);
    } else {
      text = markers_to_spaces(text);
      types[id] = static_cast<int32_t>(TokenType::UserDefined);
    }
    tokens[id] = text;
  }
  std::vector<std::string> merges;
  merges.reserve(tj["model"]["merges"].size());
  for (const json& m : tj["model"]["merges"]) merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());

  GgufWriter w;
  w.add_string("general.architecture", "gemma3");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "default");
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.add_i32_array("tokenizer.ggml.token_type", types);
  w.add_string_array("tokenizer.ggml.merges", merges);
  w.add_u32("tokenizer.ggml.bos_token_id", 2);
  w.add_u32("tokenizer.ggml.eos_token_id", 1);
  w.add_u32("tokenizer.ggml.unknown_token_id", 3);
  w.add_u32("tokenizer.ggml.padding_token_id", 0);
  w.add_bool("tokenizer.ggml.add_bos_token", true);
  return w.bytes();
}

std::vector<int32_t> with_bos(std::vector<int32_t> ids) {
  ids.insert(ids.begin(), 2);
  return ids;
}

}  // namespace

TEST_CASE("a gpt2-kind GGUF vocabulary reproduces HF on all 408 cases", "[tokenizer]") {
  const TempFile file("gpt2-vocab.gguf", write_gpt2_vocab());
  const Tokenizer t = Tokenizer::from_path(file.path());
  CHECK(t.kind() == lem::TokenizerKind::HfBpe);
  CHECK(t.n_vocab() == 262145);
  CHECK(t.bos_id() == 2);
  CHECK(t.eos_ids() == std::vector<int32_t>{1, 106});
  CHECK(t.token_type(238) == TokenType::Byte);  // <0x00>, written as NORMAL
  CHECK(t.piece(138) == "\xE2\x96\x81\xE2\x96\x81");  // the converter's spaces turned back into U+2581
  CHECK(t.token_text(138) == "  ");

  const auto cases = read_jsonl(data_path("tokenizer/cases.jsonl"));
  REQUIRE(cases.size() == 408);
  int n_looking_special = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"];
    INFO("case " << c["id"].dump() << " (" << c["category"].get<std::string>() << ")");
    const auto ids = ids_of(c["ids_hf"]);
    CHECK(t.encode(text, false, true) == ids);
    CHECK(t.encode(text, true, true) == with_bos(ids));
    CHECK(t.decode(ids, false) == c["decoded"].get<std::string>());

    // Without special parsing HF still matches <mask> and <unusedN> (non-special added tokens);
    // the converter made them CONTROL, so here they are spelled out like llama.cpp does.
    const auto split = ids_of(c["ids_hf_split_special"]);
    bool has_looking_special = false;
    for (int32_t id : split) has_looking_special = has_looking_special || t.token_type(id) == TokenType::Control;
    if (has_looking_special) {
      ++n_looking_special;
      CHECK(t.encode(text, false, false) != split);
    } else {
      CHECK(t.encode(text, false, false) == split);
    }
  }
  CHECK(n_looking_special == 8);  // spec §4, A2
}
