// Synthetic vocabularies: the two splitting rules on a tiny table, and malformed tokenizer.json
// and GGUF tokenizer metadata, each of which must give a clear lem::Error, never a crash.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "test_tokenizer_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using nlohmann::json;
using lem::Status;
using lem::Tokenizer;
using namespace lem::test;

// A small, valid tokenizer.json in the Gemma 3 layout: special tokens 0-4, non-special added
// tokens "xy" and "ycd", pieces a b c d ▁ x y and the merges a+b, c+d. No byte tokens, so
// characters outside the vocabulary become <unk>.
json small_tokenizer_json() {
  auto added = [](int id, const char* content, bool special) {
    return json{{"id", id},          {"content", content}, {"single_word", false}, {"lstrip", false},
                {"rstrip", false},   {"normalized", false}, {"special", special}};
  };
  json vocab = {{"<pad>", 0}, {"<eos>", 1}, {"<bos>", 2}, {"<unk>", 3}, {"<start_of_turn>", 4}, {"xy", 5},
                {"ycd", 6},   {"a", 7},     {"b", 8},     {"c", 9},     {"d", 10},             {"\u2581", 11},
                {"ab", 12},   {"cd", 13},   {"x", 14},    {"y", 15}};
  return json{
      {"version", "1.0"},
      {"added_tokens",
       {added(0, "<pad>", true), added(1, "<eos>", true), added(2, "<bos>", true), added(3, "<unk>", true),
        added(4, "<start_of_turn>", true), added(5, "xy", false), added(6, "ycd", false)}},
      {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}},
      {"pre_tokenizer",
       {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}}},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
          {{"type", "ByteFallback"}},
          {{"type", "Fuse"}}}}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", "<unk>"},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", true},
        {"byte_fallback", true},
        {"ignore_merges", false},
        {"vocab", vocab},
        {"merges", json::array({json::array({"a", "b"}), json::array({"c", "d"})})}}}};
}

Tokenizer load_json_text(const std::string& text) {
  const TempFile file("tokenizer.json", text);
  return Tokenizer::from_hf_json(file.path());
}

void check_json_error(const std::string& text, Status status, const std::string& message_part) {
  INFO("tokenizer.json: " << text.substr(0, 300));
  try {
    (void)load_json_text(text);
    FAIL("the tokenizer.json was accepted");
  } catch (const lem::Error& e) {
    CHECK(e.status() == status);
    CHECK_THAT(e.what(), Catch::Contains(message_part));
  }
}

void check_json_error(const std::function<void(json&)>& mutate, Status status, const std::string& message_part) {
  json j = small_tokenizer_json();
  mutate(j);
  check_json_error(j.dump(), status, message_part);
}

// A small SPM vocabulary in GGUF form, as llama.cpp's converter writes it.
struct SmallGguf {
  std::vector<std::string> tokens = {"<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "xy", "ycd", "a",
                                     "b",     "c",     "d",     "\u2581", "ab",  "cd",    "</s>", "<0x41>", "x", "y"};
  std::vector<float> scores = {-1000, -1000, -1000, -1000, -1000, -1000, -1000, -1, -2, -3,
                               -4,    -5,    -6,    -7,    -1000, 0,     -8,    -9};
  std::vector<int32_t> types = {3, 3, 3, 3, 3, 4, 4, 1, 1, 1, 1, 1, 1, 1, 4, 6, 1, 1};
  bool add_space_prefix = false;

  GgufWriter writer() const {
    GgufWriter w;
    w.add_string("general.architecture", "gemma3");
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", tokens);
    w.add_f32_array("tokenizer.ggml.scores", scores);
    w.add_i32_array("tokenizer.ggml.token_type", types);
    w.add_u32("tokenizer.ggml.bos_token_id", 2);
    w.add_u32("tokenizer.ggml.eos_token_id", 1);
    w.add_u32("tokenizer.ggml.unknown_token_id", 3);
    w.add_bool("tokenizer.ggml.add_space_prefix", add_space_prefix);
    return w;
  }
};

Tokenizer load_gguf(const GgufWriter& w) {
  const TempFile file("vocab.gguf", w.bytes());
  return Tokenizer::from_gguf(*lem::io::GgufFile::open(file.path()));
}

void check_gguf_error(const GgufWriter& w, Status status, const std::string& message_part) {
  try {
    (void)load_gguf(w);
    FAIL("the GGUF vocabulary was accepted");
  } catch (const lem::Error& e) {
    CHECK(e.status() == status);
    CHECK_THAT(e.what(), Catch::Contains(message_part));
  }
}

}  // namespace

TEST_CASE("small tokenizer.json: added tokens split leftmost-longest", "[tokenizer][hostile]") {
  const Tokenizer t = load_json_text(small_tokenizer_json().dump());
  CHECK(t.n_vocab() == 16);
  CHECK(t.add_bos_by_default());
  CHECK(t.eos_ids() == std::vector<int32_t>{1});
  // HF: at the first position where an added text starts, take the longest one there: "xy"
  // wins over the longer "ycd" that starts later.
  CHECK(t.encode("xycd", false, true) == std::vector<int32_t>{5, 13});
  CHECK(t.encode("xyab cd", true, true) == std::vector<int32_t>{2, 5, 12, 11, 13});
  CHECK(t.encode("<start_of_turn>ab", false, true) == std::vector<int32_t>{4, 12});
  // Without special parsing the special text goes to BPE. With no byte tokens, characters
  // outside the vocabulary become <unk>, and fuse_unk folds each run of them into one.
  CHECK(t.encode("<start_of_turn>", false, false) == std::vector<int32_t>{3, 7, 3});
  CHECK(t.encode("zzz", false, false) == std::vector<int32_t>{3});
  CHECK(t.encode("zabz", false, false) == std::vector<int32_t>{3, 12, 3});
  CHECK(t.decode(std::vector<int32_t>{2, 12, 11, 13, 1}, true) == "ab cd");
}

TEST_CASE("small GGUF vocab: llama.cpp cuts longest tokens first and merges by score", "[tokenizer][hostile]") {
  SmallGguf g;
  const Tokenizer t = load_gguf(g.writer());
  CHECK(t.kind() == lem::TokenizerKind::Spm);
  CHECK(t.eos_ids() == std::vector<int32_t>{1});
  // llama.cpp: the longest user-defined text "ycd" is cut out before the shorter "xy", even
  // though "xy" starts first (tokenizer.json semantics give 5 13 here).
  CHECK(t.encode("xycd", false, false) == std::vector<int32_t>{16, 6});
  CHECK(t.encode("xyab cd", false, false) == std::vector<int32_t>{5, 12, 11, 13});
  // Control tokens only with special parsing; </s> is forced to control like llama.cpp does.
  CHECK(t.encode("<bos>ab", false, true) == std::vector<int32_t>{2, 12});
  CHECK(t.encode("</s>", false, true) == std::vector<int32_t>{14});
  // Without special parsing "</s>" is spelled out, which here needs byte tokens the vocabulary
  // lacks: a clear error ("A" has one: <0x41>).
  CHECK(t.encode("A", false, false) == std::vector<int32_t>{15});
  CHECK_THROWS_WITH(t.encode("</s>", false, false), Catch::Contains("no <0x3C> token"));
  CHECK_THROWS_AS(t.encode("z", false, false), lem::Error);
  CHECK(t.decode(std::vector<int32_t>{15, 12, 11, 13}, false) == "Aab cd");
  CHECK(t.decode(std::vector<int32_t>{2, 12, 1}, true) == "ab");

  // add_space_prefix (absent from the file means true for llama.cpp SPM): "▁" before the text
  // at the start and after special tokens, and decode drops the first token's leading space.
  g.tokens[13] = "\u2581ab";
  g.add_space_prefix = true;
  const Tokenizer prefixed = load_gguf(g.writer());
  CHECK(prefixed.decode_strips_leading_space());
  const auto ids = prefixed.encode("ab", false, true);
  CHECK(ids == std::vector<int32_t>{13});
  CHECK(prefixed.decode(ids, false) == "ab");
  CHECK(prefixed.encode("<bos>ab", false, true) == std::vector<int32_t>{2, 13});
  lem::StreamingDetokenizer detok(prefixed);
  CHECK(detok.push(13) == "ab");
  CHECK(detok.push(13) == " ab");
}

TEST_CASE("malformed tokenizer.json gives BadFormat or Unsupported", "[tokenizer][hostile]") {
  SECTION("not JSON") {
    check_json_error("", Status::BadFormat, "not valid JSON");
    check_json_error("{\"model\": {\"vocab\": {\"a\": 0", Status::BadFormat, "not valid JSON");
    check_json_error("[1, 2]", Status::BadFormat, "top level");
  }
  SECTION("missing pieces") {
    check_json_error([](json& j) { j.erase("model"); }, Status::BadFormat, "'model'");
    check_json_error([](json& j) { j["model"].erase("vocab"); }, Status::BadFormat, "model.vocab is missing");
    check_json_error([](json& j) { j["model"].erase("merges"); }, Status::BadFormat, "model.merges is missing");
    check_json_error([](json& j) { j["model"]["vocab"] = json::object(); }, Status::BadFormat, "model.vocab is empty");
  }
  SECTION("wrong types") {
    check_json_error([](json& j) { j["model"]["vocab"]["a"] = "7"; }, Status::BadFormat, "model.vocab['a']");
    check_json_error([](json& j) { j["model"]["vocab"]["a"] = json::array({7}); }, Status::BadFormat, "model.vocab['a']");
    check_json_error([](json& j) { j["model"]["vocab"]["a"] = 7.5; }, Status::BadFormat, "model.vocab['a']");
    check_json_error([](json& j) { j["model"]["merges"][0] = 5; }, Status::BadFormat, "model.merges[0]");
    check_json_error([](json& j) { j["model"]["merges"][0] = json::array({"a", "b", "c"}); }, Status::BadFormat, "model.merges[0]");
    check_json_error([](json& j) { j["model"]["merges"][1] = "cd"; }, Status::BadFormat, "model.merges[1]");
    check_json_error([](json& j) { j["model"]["merges"][1] = json::array({json::array({"c"}), "d"}); },
                     Status::BadFormat, "model.merges[1]");
    check_json_error([](json& j) { j["model"]["byte_fallback"] = "yes"; }, Status::BadFormat, "byte_fallback");
    check_json_error([](json& j) { j["added_tokens"] = json::object(); }, Status::BadFormat, "added_tokens");
    check_json_error([](json& j) { j["added_tokens"][0]["id"] = "0"; }, Status::BadFormat, "added_tokens[0]");
    check_json_error([](json& j) { j["added_tokens"][0].erase("content"); }, Status::BadFormat, "content");
    check_json_error([](json& j) { j["model"]["unk_token"] = 3; }, Status::BadFormat, "unk_token");
  }
  SECTION("ids out of range or inconsistent") {
    check_json_error([](json& j) { j["model"]["vocab"]["a"] = -1; }, Status::BadFormat, "out of range");
    check_json_error([](json& j) { j["model"]["vocab"]["a"] = 4000000000u; }, Status::BadFormat, "out of range");
    check_json_error([](json& j) { j["model"]["vocab"]["a"] = 8; }, Status::BadFormat, "id 8");
    check_json_error([](json& j) { j["added_tokens"][6]["id"] = 100000000; }, Status::BadFormat, "out of range");
    check_json_error([](json& j) { j["added_tokens"][6]["id"] = 17; }, Status::BadFormat, "not contiguous");
    check_json_error([](json& j) { j["added_tokens"][6] = j["added_tokens"][5]; }, Status::BadFormat,
                     "two added tokens have id 5");
    check_json_error([](json& j) { j["added_tokens"][6]["content"] = "yce"; }, Status::BadFormat, "model.vocab has 'ycd'");
    check_json_error([](json& j) { j["model"]["unk_token"] = "<nope>"; }, Status::BadFormat, "<nope>");
  }
  SECTION("merges naming unknown tokens") {
    check_json_error([](json& j) { j["model"]["merges"].push_back(json::array({"a", "q"})); }, Status::BadFormat, "'q'");
    check_json_error([](json& j) { j["model"]["merges"].push_back(json::array({"b", "c"})); }, Status::BadFormat,
                     "makes 'bc', which is not in model.vocab");
  }
  SECTION("features Gemma 3 does not use") {
    check_json_error([](json& j) { j["model"]["type"] = "WordPiece"; }, Status::Unsupported, "WordPiece");
    check_json_error([](json& j) { j["model"]["dropout"] = 0.1; }, Status::Unsupported, "dropout");
    check_json_error([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }, Status::Unsupported, "Lowercase");
    check_json_error([](json& j) { j["pre_tokenizer"] = {{"type", "ByteLevel"}}; }, Status::Unsupported, "ByteLevel");
    check_json_error([](json& j) { j["decoder"] = {{"type", "ByteLevel"}}; }, Status::Unsupported, "decoder");
    check_json_error([](json& j) { j["added_tokens"][5]["lstrip"] = true; }, Status::Unsupported, "lstrip");
    check_json_error([](json& j) { j["added_tokens"][5]["normalized"] = true; }, Status::Unsupported, "normalized");
  }
  SECTION("unreadable files") {
    try {
      (void)Tokenizer::from_hf_json(temp_path("does-not-exist.json"));
      FAIL("a missing file was accepted");
    } catch (const lem::Error& e) {
      CHECK(e.status() == Status::Io);
    }
    CHECK_THROWS_AS(Tokenizer::from_path(temp_path("no-such-folder")), lem::Error);
  }
}

TEST_CASE("malformed tokenizer_config.json and generation_config.json", "[tokenizer][hostile]") {
  const TempFile tokenizer_json("cfg-tokenizer.json", small_tokenizer_json().dump());
  auto check_config = [&](const std::string& config, const std::string& generation, const std::string& part) {
    INFO("config " << config << " generation " << generation);
    const TempFile config_file("config.json", config);
    const TempFile generation_file("generation.json", generation);
    try {
      (void)Tokenizer::from_hf_json(tokenizer_json.path(), config.empty() ? "" : config_file.path(),
                                    generation.empty() ? "" : generation_file.path());
      FAIL("the config was accepted");
    } catch (const lem::Error& e) {
      CHECK(e.status() == Status::BadFormat);
      CHECK_THAT(e.what(), Catch::Contains(part));
    }
  };
  check_config("{", "", "not valid JSON");
  check_config("[]", "", "JSON object");
  check_config(R"({"add_bos_token": "yes"})", "", "add_bos_token");
  check_config(R"({"eos_token": "<nope>"})", "", "eos_token");
  check_config(R"({"bos_token": 2})", "", "bos_token");
  check_config(R"({"chat_template": 5})", "", "chat_template");
  check_config("", R"({"eos_token_id": [1, 99]})", "eos_token_id 99");
  check_config("", R"({"eos_token_id": "1"})", "eos_token_id");

  const TempFile config("config.json", R"({"add_bos_token": false, "eos_token": {"content": "<start_of_turn>"},
      "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  const TempFile generation("generation.json", R"({"eos_token_id": [1, 2]})");
  const Tokenizer t = Tokenizer::from_hf_json(tokenizer_json.path(), config.path(), generation.path());
  CHECK_FALSE(t.add_bos_by_default());
  CHECK(t.eos_id() == 4);
  CHECK(t.eos_ids() == std::vector<int32_t>{1, 2, 4});
  CHECK(t.chat_template_source() == "D");
}

TEST_CASE("malformed GGUF tokenizer metadata gives BadFormat or Unsupported", "[tokenizer][hostile]") {
  const SmallGguf base;
  auto without = [&](const std::string& skipped_key) {
    // Rebuilds the base file without one key.
    GgufWriter w;
    w.add_string("general.architecture", "gemma3");
    if (skipped_key != "tokenizer.ggml.model") w.add_string("tokenizer.ggml.model", "llama");
    if (skipped_key != "tokenizer.ggml.tokens") w.add_string_array("tokenizer.ggml.tokens", base.tokens);
    w.add_f32_array("tokenizer.ggml.scores", base.scores);
    w.add_i32_array("tokenizer.ggml.token_type", base.types);
    return w;
  };
  check_gguf_error(without("tokenizer.ggml.model"), Status::BadFormat, "tokenizer.ggml.model is missing");
  check_gguf_error(without("tokenizer.ggml.tokens"), Status::BadFormat, "'tokenizer.ggml.tokens' is missing");

  SECTION("wrong types") {
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_i32_array("tokenizer.ggml.tokens", {1, 2, 3});
    check_gguf_error(w, Status::BadFormat, "expected an array of string");
    GgufWriter s;
    s.add_string("tokenizer.ggml.model", "llama");
    s.add_string("tokenizer.ggml.tokens", "abc");
    check_gguf_error(s, Status::BadFormat, "expected an array of string");
    GgufWriter t2;
    t2.add_string("tokenizer.ggml.model", "llama");
    t2.add_string_array("tokenizer.ggml.tokens", base.tokens);
    t2.add_string_array("tokenizer.ggml.scores", base.tokens);
    check_gguf_error(t2, Status::BadFormat, "tokenizer.ggml.scores");
    GgufWriter t3;
    t3.add_string("tokenizer.ggml.model", "llama");
    t3.add_string_array("tokenizer.ggml.tokens", base.tokens);
    t3.add_f32_array("tokenizer.ggml.token_type", base.scores);
    check_gguf_error(t3, Status::BadFormat, "tokenizer.ggml.token_type");
    GgufWriter t4 = base.writer();
    t4.add_string("tokenizer.ggml.padding_token_id", "zero");
    check_gguf_error(t4, Status::BadFormat, "padding_token_id");
  }
  SECTION("mismatched lengths") {
    SmallGguf g;
    g.scores.pop_back();
    check_gguf_error(g.writer(), Status::BadFormat, "tokenizer.ggml.scores' has 17 entries");
    SmallGguf h;
    h.types.push_back(1);
    check_gguf_error(h.writer(), Status::BadFormat, "tokenizer.ggml.token_type' has 19 entries");
  }
  SECTION("bad values") {
    SmallGguf g;
    g.types[7] = 9;
    check_gguf_error(g.writer(), Status::BadFormat, "token_type[7] is 9");
    SmallGguf nan;
    nan.scores[8] = std::nanf("");
    check_gguf_error(nan.writer(), Status::BadFormat, "scores[8] is NaN");
    SmallGguf byte;
    byte.types[7] = 6;
    check_gguf_error(byte.writer(), Status::BadFormat, "type byte");
    SmallGguf dup;
    dup.tokens[8] = "a";
    check_gguf_error(dup.writer(), Status::BadFormat, "duplicate token text");
    GgufWriter bos = base.writer();
    bos.add_u32("tokenizer.ggml.padding_token_id", 18);
    check_gguf_error(bos, Status::BadFormat, "padding_token_id' is 18");
    GgufWriter empty;
    empty.add_string("tokenizer.ggml.model", "llama");
    empty.add_string_array("tokenizer.ggml.tokens", {});
    check_gguf_error(empty, Status::BadFormat, "empty");
  }
  SECTION("other tokenizer models") {
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "bert");
    w.add_string_array("tokenizer.ggml.tokens", base.tokens);
    check_gguf_error(w, Status::Unsupported, "'bert'");
  }
  SECTION("gpt2 vocabularies need well-formed merges") {
    auto gpt2 = [&](const std::vector<std::string>& merges) {
      GgufWriter w;
      w.add_string("tokenizer.ggml.model", "gpt2");
      w.add_string_array("tokenizer.ggml.tokens", base.tokens);
      w.add_i32_array("tokenizer.ggml.token_type", base.types);
      w.add_string_array("tokenizer.ggml.merges", merges);
      return w;
    };
    GgufWriter no_merges;
    no_merges.add_string("tokenizer.ggml.model", "gpt2");
    no_merges.add_string_array("tokenizer.ggml.tokens", base.tokens);
    check_gguf_error(no_merges, Status::BadFormat, "'tokenizer.ggml.merges' is missing");
    check_gguf_error(gpt2({"ab"}), Status::BadFormat, "merges[0] is 'ab'");
    check_gguf_error(gpt2({"a b", " ab"}), Status::BadFormat, "merges[1]");
    check_gguf_error(gpt2({"a b", "c  d"}), Status::BadFormat, "merges[1]");
    check_gguf_error(gpt2({"a b", "c x"}), Status::BadFormat, "merges[1] ('c' + 'x') names a piece");
    check_gguf_error(gpt2({"q b"}), Status::BadFormat, "merges[0]");
    GgufWriter ints = gpt2({});
    ints.add_i32_array("tokenizer.ggml.merges", {1});
    check_gguf_error(ints, Status::BadFormat, "merges");
  }
}

TEST_CASE("a small gpt2 GGUF vocabulary tokenises with BPE merge ranks", "[tokenizer]") {
  const SmallGguf base;
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string_array("tokenizer.ggml.tokens", base.tokens);
  w.add_i32_array("tokenizer.ggml.token_type", base.types);
  w.add_string_array("tokenizer.ggml.merges", {"c d", "a b", "x y"});
  w.add_u32("tokenizer.ggml.bos_token_id", 2);
  w.add_u32("tokenizer.ggml.eos_token_id", 1);
  const Tokenizer t = load_gguf(w);
  CHECK(t.kind() == lem::TokenizerKind::HfBpe);
  CHECK(t.encode("ab", false, false) == std::vector<int32_t>{12});
  CHECK(t.encode("xycd", false, false) == std::vector<int32_t>{5, 13});   // USER_DEFINED "xy" cut out first
  CHECK(t.encode("</s>", false, false) == std::vector<int32_t>{14});      // USER_DEFINED: HF semantics, no override
  CHECK(t.encode("A", false, false) == std::vector<int32_t>{15});         // <0x41>: byte fallback
  CHECK(t.encode("a b", false, false) == std::vector<int32_t>{7, 11, 8});  // space -> U+2581
  CHECK(t.encode("<start_of_turn>a", true, true) == std::vector<int32_t>{2, 4, 7});
  CHECK(t.token_type(15) == lem::TokenType::Byte);
  CHECK(t.decode(std::vector<int32_t>{7, 11, 8, 15}, false) == "a bA");
}
