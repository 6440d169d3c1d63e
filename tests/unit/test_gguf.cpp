// GGUF reader: the shipped fixtures (tensor tables, shapes, metadata) and round trips through the
// test writer covering every value type and alignment.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "support/gguf_writer.hpp"
#include "support/test_data.hpp"

namespace {

namespace fs = std::filesystem;
namespace w = lem::test::gguf;
using lem::io::GgufFile;
using lem::io::GgufTensorInfo;
using lem::io::GgufValue;
using lem::io::GgufValueType;

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<std::string> gguf_files_in(const std::string& rel_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(lem::test::data_path(rel_dir)))
    if (e.path().extension() == ".gguf") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::string upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

// Model dimensions from the HF config.json next to the GGUFs.
struct Dims {
  uint64_t d, layers, heads, kv_heads, head_dim, ffn, vocab;
};

Dims dims_of(const std::string& model) {
  const auto c = read_json(lem::test::data_path("tiny/" + model + "/config.json"));
  return {c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"], c["num_key_value_heads"],
          c["head_dim"],    c["intermediate_size"], c["vocab_size"]};
}

// Expected ne (fastest first) of every tensor of a Gemma 3 GGUF (shared spec §5 table).
std::map<std::string, std::vector<uint64_t>> expected_shapes(const Dims& m) {
  std::map<std::string, std::vector<uint64_t>> s;
  s["token_embd.weight"] = {m.d, m.vocab};
  s["output_norm.weight"] = {m.d};
  for (uint64_t l = 0; l < m.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    s[b + "attn_norm.weight"] = {m.d};
    s[b + "attn_q.weight"] = {m.d, m.heads * m.head_dim};
    s[b + "attn_k.weight"] = {m.d, m.kv_heads * m.head_dim};
    s[b + "attn_v.weight"] = {m.d, m.kv_heads * m.head_dim};
    s[b + "attn_output.weight"] = {m.heads * m.head_dim, m.d};
    s[b + "attn_q_norm.weight"] = {m.head_dim};
    s[b + "attn_k_norm.weight"] = {m.head_dim};
    s[b + "post_attention_norm.weight"] = {m.d};
    s[b + "ffn_norm.weight"] = {m.d};
    s[b + "ffn_gate.weight"] = {m.d, m.ffn};
    s[b + "ffn_up.weight"] = {m.d, m.ffn};
    s[b + "ffn_down.weight"] = {m.ffn, m.d};
    s[b + "post_ffw_norm.weight"] = {m.d};
  }
  return s;
}

const GgufValue& require_key(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.find(key);
  INFO("key " << key);
  REQUIRE(v != nullptr);
  return *v;
}

// Token strings as stored in the GGUF must equal the HF tokenizer.json vocabulary, except that
// the converter stores the whitespace-run tokens ("▁▁", "▁▁▁", ...) with plain spaces.
void check_tokens_match_tokenizer_json(const GgufValue& tokens, const std::string& tokenizer_json) {
  const auto vocab = read_json(tokenizer_json)["model"]["vocab"];
  REQUIRE(vocab.size() == tokens.count);
  std::vector<std::string> by_id(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) by_id.at(it.value().get<size_t>()) = it.key();
  size_t space_runs = 0;
  for (size_t id = 0; id < by_id.size(); ++id) {
    std::string expected = by_id[id];
    const std::string underline = "\xE2\x96\x81";  // U+2581
    bool all_underlines = !expected.empty() && expected.size() % 3 == 0;
    for (size_t k = 0; all_underlines && k < expected.size(); k += 3)
      all_underlines = expected.compare(k, 3, underline) == 0;
    if (all_underlines && expected.size() > 3 && tokens.strings[id] != expected) {
      expected = std::string(expected.size() / 3, ' ');
      ++space_runs;
    }
    if (tokens.strings[id] != expected) {
      INFO("token id " << id);
      CHECK(tokens.strings[id] == expected);
    }
  }
  CHECK(space_runs == 30);
}

}  // namespace

TEST_CASE("every GGUF fixture opens as version 3 with consistent tensor data", "[gguf]") {
  auto files = gguf_files_in("tiny/tiny-a/gguf");
  REQUIRE(files.size() == 14);
  const auto b = gguf_files_in("tiny/tiny-b/gguf");
  REQUIRE(b.size() == 4);
  files.insert(files.end(), b.begin(), b.end());
  files.push_back(lem::test::data_path("tokenizer/gemma3-vocab.gguf"));

  for (const auto& path : files) {
    INFO(path);
    const auto f = GgufFile::open(path);
    CHECK(f->version() == 3);
    CHECK(f->alignment() == 32);
    CHECK(f->file_size() == fs::file_size(path));
    CHECK(GgufFile::has_magic(path));
    CHECK(f->get_string("general.architecture") == "gemma3");

    // llama.cpp writes tensor data back to back in info order, each at the next multiple of the
    // alignment, and the last one ends the file: so the reader's byte sizes must tile the file.
    // Each view must show the file's bytes at data_offset + offset.
    const auto bytes = lem::test::read_bytes(path);
    uint64_t expected_offset = 0;
    for (const auto& t : f->tensors()) {
      INFO(t.name);
      CHECK(t.offset == expected_offset);
      CHECK(f->find_tensor(t.name) == &t);
      REQUIRE(f->data_offset() + t.offset + t.nbytes <= bytes.size());
      CHECK(std::memcmp(t.data, bytes.data() + f->data_offset() + t.offset, t.nbytes) == 0);
      expected_offset = (t.offset + t.nbytes + 31) / 32 * 32;
    }
    if (!f->tensors().empty()) {
      const auto& last = f->tensors().back();
      CHECK(f->data_offset() % 32 == 0);
      CHECK(f->data_offset() + last.offset + last.nbytes == f->file_size());
    }
  }
}

TEST_CASE("tiny GGUF tensor tables equal tensor_types.json", "[gguf]") {
  for (const std::string model : {"tiny-a", "tiny-b"}) {
    const auto table = read_json(lem::test::data_path("tiny/" + model + "/gguf/tensor_types.json"));
    size_t shipped = 0;
    for (auto it = table.begin(); it != table.end(); ++it) {
      if (!it.value()["shipped"].get<bool>()) continue;
      ++shipped;
      const std::string path = lem::test::data_path("tiny/" + model + "/gguf/" + it.key());
      INFO(path);
      const auto f = GgufFile::open(path);
      CHECK(f->file_size() == it.value()["bytes"].get<uint64_t>());
      const auto& expected = it.value()["tensors"];
      REQUIRE(f->tensors().size() == expected.size());
      for (const auto& t : f->tensors()) {
        INFO(t.name);
        REQUIRE(expected.contains(t.name));
        CHECK(upper(lem::ggml_traits(t.type).name) == expected[t.name].get<std::string>());
      }
    }
    CHECK(shipped == (model == "tiny-a" ? 14u : 4u));
  }
}

TEST_CASE("tiny GGUF tensor shapes follow the model config", "[gguf]") {
  const Dims a = dims_of("tiny-a");
  const Dims b = dims_of("tiny-b");
  // The configs the fixtures were built from (tiny/README.md).
  CHECK((a.d == 256 && a.layers == 6 && a.heads == 4 && a.kv_heads == 1 && a.head_dim == 64 && a.ffn == 256 &&
         a.vocab == 1024));
  CHECK((b.d == 256 && b.layers == 4 && b.heads == 8 && b.kv_heads == 2 && b.head_dim == 48 && b.ffn == 256 &&
         b.vocab == 1024));

  for (const std::string model : {"tiny-a", "tiny-b"}) {
    const auto shapes = expected_shapes(model == "tiny-a" ? a : b);
    for (const auto& path : gguf_files_in("tiny/" + model + "/gguf")) {
      INFO(path);
      const auto f = GgufFile::open(path);
      REQUIRE(f->tensors().size() == shapes.size());
      for (const auto& t : f->tensors()) {
        INFO(t.name);
        REQUIRE(shapes.count(t.name) == 1);
        CHECK(t.ne == shapes.at(t.name));
        uint64_t n = 1;
        for (uint64_t d : t.ne) n *= d;
        CHECK(t.n_elements() == n);
        if (t.ne.size() == 1) CHECK(t.type == lem::GgmlType::F32);  // norms are never quantized
      }
    }
  }

  // The literal shapes of the task description.
  const auto fa = GgufFile::open(lem::test::data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  CHECK(fa->find_tensor("blk.5.attn_q.weight")->ne == std::vector<uint64_t>{256, 256});
  CHECK(fa->find_tensor("blk.5.attn_k.weight")->ne == std::vector<uint64_t>{256, 64});
  CHECK(fa->find_tensor("blk.5.attn_v.weight")->ne == std::vector<uint64_t>{256, 64});
  CHECK(fa->find_tensor("blk.5.attn_output.weight")->ne == std::vector<uint64_t>{256, 256});
  CHECK(fa->find_tensor("blk.0.ffn_down.weight")->ne == std::vector<uint64_t>{256, 256});
  CHECK(fa->find_tensor("token_embd.weight")->ne == std::vector<uint64_t>{256, 1024});
  CHECK(fa->find_tensor("blk.0.attn_q_norm.weight")->ne == std::vector<uint64_t>{64});
  CHECK(fa->find_tensor("blk.6.attn_q.weight") == nullptr);
  CHECK(fa->find_tensor("output.weight") == nullptr);  // tied embeddings
  const auto fb = GgufFile::open(lem::test::data_path("tiny/tiny-b/gguf/tiny-b-Q4_K_M.gguf"));
  CHECK(fb->find_tensor("blk.3.attn_q.weight")->ne == std::vector<uint64_t>{256, 384});
  CHECK(fb->find_tensor("blk.3.attn_k.weight")->ne == std::vector<uint64_t>{256, 96});
  CHECK(fb->find_tensor("blk.3.attn_v.weight")->ne == std::vector<uint64_t>{256, 96});
  CHECK(fb->find_tensor("blk.3.attn_output.weight")->ne == std::vector<uint64_t>{384, 256});
  CHECK(fb->find_tensor("blk.3.attn_k_norm.weight")->ne == std::vector<uint64_t>{48});
  CHECK(fb->find_tensor("blk.4.attn_q.weight") == nullptr);
}

TEST_CASE("tiny GGUF metadata values", "[gguf]") {
  const auto a = GgufFile::open(lem::test::data_path("tiny/tiny-a/gguf/tiny-a-Q4_K_M.gguf"));
  const auto b = GgufFile::open(lem::test::data_path("tiny/tiny-b/gguf/tiny-b-Q4_K_M.gguf"));

  CHECK(a->get_string("general.architecture") == "gemma3");
  CHECK(a->get_uint("gemma3.block_count") == 6u);
  CHECK(b->get_uint("gemma3.block_count") == 4u);
  CHECK(a->get_uint("gemma3.attention.sliding_window") == 16u);
  CHECK(b->get_uint("gemma3.attention.sliding_window") == 8u);
  CHECK(a->get_uint("gemma3.embedding_length") == 256u);
  CHECK(b->get_uint("gemma3.attention.head_count") == 8u);
  CHECK(b->get_uint("gemma3.attention.head_count_kv") == 2u);
  CHECK(b->get_uint("gemma3.attention.key_length") == 48u);
  CHECK(require_key(*a, "gemma3.block_count").type == GgufValueType::U32);
  CHECK(a->get_float("gemma3.rope.freq_base") == 1e6);
  CHECK(a->get_float("gemma3.rope.freq_base_swa") == 1e4);
  CHECK(a->get_float("gemma3.attention.layer_norm_rms_epsilon") == static_cast<double>(1e-6f));
  CHECK(a->get_string("gemma3.rope.scaling.type") == "linear");
  CHECK(a->get_float("gemma3.rope.scaling.factor") == 8.0);
  CHECK_FALSE(b->get_string("gemma3.rope.scaling.type").has_value());
  CHECK(a->get_bool("tokenizer.ggml.add_bos_token") == true);
  CHECK(a->get_bool("tokenizer.ggml.add_eos_token") == false);
  CHECK(a->get_uint("tokenizer.ggml.eos_token_id") == 106u);
  CHECK(a->get_uint("general.file_type") == 15u);  // Q4_K_M
  CHECK(a->metadata().front().first == "general.architecture");

  // tiny-b's extra key; tiny-a has none (pattern 6 is the default).
  CHECK(a->find("gemma3.attention.sliding_window_pattern") == nullptr);
  const GgufValue& pattern = require_key(*b, "gemma3.attention.sliding_window_pattern");
  REQUIRE(pattern.type == GgufValueType::ARRAY);
  REQUIRE(pattern.elem_type == GgufValueType::BOOL);
  REQUIRE(pattern.count == 4);
  CHECK(pattern.int_at(0) == 1);
  CHECK(pattern.int_at(1) == 1);
  CHECK(pattern.int_at(2) == 1);
  CHECK(pattern.int_at(3) == 0);

  for (const auto* f : {a.get(), b.get()}) {
    const GgufValue& tokens = require_key(*f, "tokenizer.ggml.tokens");
    REQUIRE(tokens.type == GgufValueType::ARRAY);
    REQUIRE(tokens.elem_type == GgufValueType::STRING);
    CHECK(tokens.count == 1024);
    REQUIRE(tokens.strings.size() == 1024);
    CHECK(tokens.strings[2] == "<bos>");
    CHECK(tokens.strings[106] == "<end_of_turn>");
    const GgufValue& scores = require_key(*f, "tokenizer.ggml.scores");
    CHECK(scores.elem_type == GgufValueType::F32);
    CHECK(scores.count == 1024);
    CHECK(scores.float_at(0) == -1000.0);
    const GgufValue& types = require_key(*f, "tokenizer.ggml.token_type");
    CHECK(types.elem_type == GgufValueType::I32);
    CHECK(types.count == 1024);
    CHECK(types.int_at(0) == 3);  // <pad> is a control token
  }
  check_tokens_match_tokenizer_json(require_key(*a, "tokenizer.ggml.tokens"),
                                    lem::test::data_path("tiny/tiny-a/tokenizer.json"));
}

TEST_CASE("the vocabulary-only GGUF holds the 262144 Gemma 3 tokens", "[gguf]") {
  const auto f = GgufFile::open(lem::test::data_path("tokenizer/gemma3-vocab.gguf"));
  CHECK(f->version() == 3);
  CHECK(f->tensors().empty());
  CHECK(f->data_offset() <= f->file_size());
  CHECK(f->get_uint("gemma3.block_count") == 26u);
  const GgufValue& tokens = require_key(*f, "tokenizer.ggml.tokens");
  REQUIRE(tokens.elem_type == GgufValueType::STRING);
  CHECK(tokens.count == 262144);
  REQUIRE(tokens.strings.size() == 262144);
  CHECK(tokens.strings[105] == "<start_of_turn>");
  CHECK(tokens.strings.back() == "<unused6241>");
  CHECK(require_key(*f, "tokenizer.ggml.scores").count == 262144);
  CHECK(require_key(*f, "tokenizer.ggml.token_type").count == 262144);
  check_tokens_match_tokenizer_json(tokens, lem::test::data_path("tokenizer/tokenizer.json"));
}

TEST_CASE("typed metadata lookups check the stored type", "[gguf]") {
  const auto path = w::write_temp_file(w::Builder{}
                                           .kv("s", w::string("text"))
                                           .kv("u8", w::u8(200))
                                           .kv("i16", w::i16(-5))
                                           .kv("i64", w::i64(7))
                                           .kv("f32", w::f32(0.5f))
                                           .kv("b", w::boolean(1))
                                           .kv("arr", w::array(w::kU32, {w::u32(1)}))
                                           .build(),
                                       "typed.gguf");
  const auto f = GgufFile::open(path);
  CHECK(f->get_uint("u8") == 200u);
  CHECK(f->get_uint("i64") == 7u);
  CHECK(f->get_float("f32") == 0.5);
  CHECK(f->get_float("u8") == 200.0);
  CHECK(f->get_float("i16") == -5.0);
  CHECK(f->get_bool("b") == true);
  CHECK(f->get_bool("u8") == true);
  CHECK(f->get_string("s") == "text");
  CHECK_FALSE(f->get_uint("absent").has_value());
  CHECK_FALSE(f->get_string("absent").has_value());
  CHECK_FALSE(f->get_float("absent").has_value());
  CHECK_FALSE(f->get_bool("absent").has_value());

  auto status_of = [](auto&& fn) {
    try {
      fn();
    } catch (const lem::Error& e) {
      CHECK(std::string(e.what()).find("typed.gguf") != std::string::npos);
      return e.status();
    }
    return lem::Status::Ok;
  };
  CHECK(status_of([&] { (void)f->get_uint("i16"); }) == lem::Status::BadFormat);  // negative
  CHECK(status_of([&] { (void)f->get_uint("s"); }) == lem::Status::BadFormat);
  CHECK(status_of([&] { (void)f->get_uint("f32"); }) == lem::Status::BadFormat);
  CHECK(status_of([&] { (void)f->get_string("u8"); }) == lem::Status::BadFormat);
  CHECK(status_of([&] { (void)f->get_float("s"); }) == lem::Status::BadFormat);
  CHECK(status_of([&] { (void)f->get_bool("arr"); }) == lem::Status::BadFormat);
}

TEST_CASE("GGUF round trip: every value type, nested arrays, alignment", "[gguf]") {
  const uint64_t alignment = GENERATE(as<uint64_t>{}, 32, 64, 1);
  const uint32_t version = GENERATE(as<uint32_t>{}, 3, 2);
  INFO("alignment " << alignment << ", version " << version);

  w::Builder b;
  b.version = version;
  b.alignment = alignment;
  if (alignment != 32) b.kv("general.alignment", w::u32(static_cast<uint32_t>(alignment)));
  b.kv("v.u8", w::u8(255))
      .kv("v.i8", w::i8(-128))
      .kv("v.u16", w::u16(65535))
      .kv("v.i16", w::i16(-32768))
      .kv("v.u32", w::u32(4294967295u))
      .kv("v.i32", w::i32(-2147483647 - 1))
      .kv("v.f32", w::f32(-1.5f))
      .kv("v.true", w::boolean(1))
      .kv("v.false", w::boolean(0))
      .kv("v.string", w::string("h\xC3\xA9llo"))
      .kv("v.empty_string", w::string(""))
      .kv("v.nul_string", w::string(std::string_view("a\0b", 3)))
      .kv("v.u64", w::u64(UINT64_MAX))
      .kv("v.i64", w::i64(INT64_MIN))
      .kv("v.f64", w::f64(1e300))
      .kv("a.u8", w::array(w::kU8, {w::u8(1), w::u8(255)}))
      .kv("a.i8", w::array(w::kI8, {w::i8(-1), w::i8(127)}))
      .kv("a.u16", w::array(w::kU16, {w::u16(65535)}))
      .kv("a.i16", w::array(w::kI16, {w::i16(-300), w::i16(300)}))
      .kv("a.u32", w::array(w::kU32, {w::u32(7), w::u32(8), w::u32(9)}))
      .kv("a.i32", w::array(w::kI32, {w::i32(-7)}))
      .kv("a.f32", w::array(w::kF32, {w::f32(0.25f), w::f32(-2.0f), w::f32(1e30f)}))
      .kv("a.bool", w::array(w::kBool, {w::boolean(1), w::boolean(0), w::boolean(1)}))
      .kv("a.u64", w::array(w::kU64, {w::u64(1ull << 40)}))
      .kv("a.i64", w::array(w::kI64, {w::i64(-(1ll << 40))}))
      .kv("a.f64", w::array(w::kF64, {w::f64(3.5), w::f64(-0.125)}))
      .kv("a.string", w::string_array({"one", "", "three"}))
      .kv("a.empty", w::array(w::kU32, {}))
      .kv("a.nested", w::array(w::kArray, {w::string_array({"x", "yy"}), w::string_array({}),
                                          w::string_array({"zzz"})}))
      .kv("a.nested3", w::array(w::kArray, {w::array(w::kArray, {w::string_array({"deep"}),
                                                                 w::array(w::kI16, {w::i16(-9)})})}));

  // Tensors of several block geometries; bytes are a counter so any misplaced view shows.
  struct Spec {
    std::string name;
    std::vector<uint64_t> ne;
    lem::GgmlType type;
    size_t bytes;  // expected size: ggml-common.h block sizes, written out here
  };
  const std::vector<Spec> specs = {
      {"f32", {3, 2}, lem::GgmlType::F32, 3 * 2 * 4},
      {"f16", {5}, lem::GgmlType::F16, 5 * 2},
      {"q8_0", {64, 2}, lem::GgmlType::Q8_0, 4 * 34},
      {"q4_k", {256, 1, 1, 3}, lem::GgmlType::Q4_K, 3 * 144},
      {"bf16", {1, 1, 7}, lem::GgmlType::BF16, 7 * 2},
      {"empty", {32, 0}, lem::GgmlType::Q4_0, 0},
      {"i8", {9}, lem::GgmlType::I8, 9},
  };
  std::vector<w::Bytes> payloads;
  uint8_t counter = 1;
  for (const auto& s : specs) {
    w::Bytes bytes(s.bytes);
    for (auto& x : bytes) x = counter++;
    b.tensor(s.name, s.ne, static_cast<uint32_t>(s.type), bytes);
    payloads.push_back(bytes);
  }

  const w::Bytes file = b.build();
  const auto f = GgufFile::open(w::write_temp_file(file, "roundtrip.gguf"));
  CHECK(f->version() == version);
  CHECK(f->alignment() == alignment);
  CHECK(f->data_offset() % alignment == 0);
  CHECK(f->data_offset() == (b.header().size() + alignment - 1) / alignment * alignment);
  CHECK(f->metadata().size() == b.kvs.size());

  auto get = [&](std::string_view key) -> const GgufValue& { return require_key(*f, key); };
  CHECK(get("v.u8").type == GgufValueType::U8);
  CHECK(get("v.u8").u == 255);
  CHECK(get("v.i8").i == -128);
  CHECK(get("v.u16").u == 65535);
  CHECK(get("v.i16").i == -32768);
  CHECK(get("v.u32").u == 4294967295u);
  CHECK(get("v.i32").i == INT32_MIN);
  CHECK(get("v.f32").f == -1.5);
  CHECK(get("v.f32").is_float());
  CHECK(get("v.true").type == GgufValueType::BOOL);
  CHECK(get("v.true").b);
  CHECK_FALSE(get("v.false").b);
  CHECK(get("v.string").str == "h\xC3\xA9llo");
  CHECK(get("v.empty_string").str.empty());
  CHECK(get("v.nul_string").str == std::string_view("a\0b", 3));
  CHECK(get("v.u64").u == UINT64_MAX);
  CHECK(get("v.i64").i == INT64_MIN);
  CHECK(get("v.i64").is_signed());
  CHECK(get("v.f64").f == 1e300);
  CHECK(get("v.u64").is_integer());
  CHECK_FALSE(get("v.string").is_integer());

  CHECK(get("a.u8").elem_type == GgufValueType::U8);
  CHECK(get("a.u8").count == 2);
  CHECK(get("a.u8").int_at(1) == 255);
  CHECK(get("a.i8").int_at(0) == -1);
  CHECK(get("a.u16").int_at(0) == 65535);
  CHECK(get("a.i16").int_at(0) == -300);
  CHECK(get("a.i16").int_at(1) == 300);
  CHECK(get("a.u32").count == 3);
  CHECK(get("a.u32").int_at(2) == 9);
  CHECK(get("a.i32").int_at(0) == -7);
  CHECK(get("a.f32").float_at(0) == 0.25);
  CHECK(get("a.f32").float_at(1) == -2.0);
  CHECK(get("a.f32").int_at(1) == -2);
  CHECK(get("a.f32").int_at(2) == INT64_MAX);  // 1e30 saturates
  CHECK(get("a.bool").int_at(0) == 1);
  CHECK(get("a.bool").int_at(1) == 0);
  CHECK(get("a.u64").int_at(0) == (1ll << 40));
  CHECK(get("a.i64").int_at(0) == -(1ll << 40));
  CHECK(get("a.f64").float_at(0) == 3.5);
  CHECK(get("a.f64").float_at(1) == -0.125);
  CHECK(get("a.u32").float_at(1) == 8.0);
  CHECK(get("a.string").strings == std::vector<std::string_view>{"one", "", "three"});
  CHECK(get("a.empty").count == 0);
  CHECK(get("a.empty").elem_type == GgufValueType::U32);

  const GgufValue& nested = get("a.nested");
  REQUIRE(nested.elem_type == GgufValueType::ARRAY);
  REQUIRE(nested.arrays.size() == 3);
  CHECK(nested.arrays[0].type == GgufValueType::ARRAY);
  CHECK(nested.arrays[0].elem_type == GgufValueType::STRING);
  CHECK(nested.arrays[0].strings == std::vector<std::string_view>{"x", "yy"});
  CHECK(nested.arrays[1].count == 0);
  CHECK(nested.arrays[2].strings == std::vector<std::string_view>{"zzz"});
  const GgufValue& nested3 = get("a.nested3");
  REQUIRE(nested3.arrays.size() == 1);
  REQUIRE(nested3.arrays[0].arrays.size() == 2);
  CHECK(nested3.arrays[0].arrays[0].strings == std::vector<std::string_view>{"deep"});
  CHECK(nested3.arrays[0].arrays[1].int_at(0) == -9);

  REQUIRE(f->tensors().size() == specs.size());
  for (size_t k = 0; k < specs.size(); ++k) {
    const GgufTensorInfo& t = f->tensors()[k];
    INFO(t.name);
    CHECK(t.name == specs[k].name);
    CHECK(t.type == specs[k].type);
    CHECK(t.ne == specs[k].ne);
    CHECK(t.offset == b.tensors[k].offset);
    CHECK(t.offset % alignment == 0);
    REQUIRE(t.nbytes == specs[k].bytes);
    CHECK(t.data == f->find_tensor(t.name)->data);
    if (t.nbytes) CHECK(std::memcmp(t.data, payloads[k].data(), t.nbytes) == 0);
    if (t.nbytes) CHECK(std::memcmp(t.data, file.data() + f->data_offset() + t.offset, t.nbytes) == 0);
  }
}

TEST_CASE("GGUF edge cases that are valid", "[gguf]") {
  SECTION("no metadata and no tensors") {
    const auto f = GgufFile::open(w::write_temp_file(w::Builder{}.build(), "empty.gguf"));
    CHECK(f->metadata().empty());
    CHECK(f->tensors().empty());
  }
  SECTION("a file without tensors may end without padding to the alignment") {
    w::Builder b;
    b.pad_data_start = false;
    b.kv("k", w::u8(1));
    const auto f = GgufFile::open(w::write_temp_file(b.build(), "nopad.gguf"));  // vocab-only style
    CHECK(f->tensors().empty());
    CHECK(f->data_offset() <= f->file_size());
  }
  SECTION("empty tensors may share offsets with other tensors") {
    w::Builder b;
    b.tensor("a", {32}, 0, w::Bytes(128, 1));
    b.tensor_info({"b", {0, 4}, 0, 0});
    b.tensor_info({"c", {0}, 12, 32});
    const auto f = GgufFile::open(w::write_temp_file(b.build(), "empties.gguf"));
    CHECK(f->tensors().size() == 3);
    CHECK(f->find_tensor("b")->nbytes == 0);
    CHECK(f->find_tensor("b")->n_elements() == 0);
  }
  SECTION("a 63-byte tensor name is the longest allowed") {
    w::Builder b;
    b.tensor(std::string(63, 'n'), {1}, 0, w::Bytes(4));
    CHECK(GgufFile::open(w::write_temp_file(b.build(), "name63.gguf"))->tensors().size() == 1);
  }
  SECTION("arrays nested 8 deep") {
    w::Value v = w::string_array({"leaf"});
    for (int k = 0; k < 8; ++k) v = w::array(w::kArray, {v});
    const auto f = GgufFile::open(w::write_temp_file(w::Builder{}.kv("deep", v).build(), "deep8.gguf"));
    const GgufValue* x = f->find("deep");
    for (int k = 0; k < 8; ++k) x = &x->arrays.at(0);
    CHECK(x->strings.at(0) == "leaf");
  }
  SECTION("has_magic does not validate") {
    CHECK(GgufFile::has_magic(w::write_temp_file({'G', 'G', 'U', 'F'}, "magic_only.gguf")));
    CHECK_FALSE(GgufFile::has_magic(w::write_temp_file({'G', 'G', 'U'}, "short.gguf")));
    CHECK_FALSE(GgufFile::has_magic("/nonexistent/lem/file.gguf"));
  }
}

TEST_CASE("the GGUF fuzz seeds are valid files", "[gguf]") {
  // tools/make_fuzz_seeds_gguf.py writes them; a seed the reader rejects would waste the fuzzer's
  // time on the first check.
  const fs::path dir = fs::path(lem::test::src_data_path("")) / ".." / "fuzz" / "corpus" / "gguf";
  size_t seeds = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    INFO(e.path().string());
    const auto f = GgufFile::open(e.path().string());
    CHECK(f->version() >= 2);
    ++seeds;
  }
  CHECK(seeds >= 5);
}
