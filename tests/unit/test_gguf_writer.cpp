// GGUF writer (lib/io/gguf_writer.hpp): files written and read back with lem::io::GgufFile, a
// fixture re-written key by key and tensor by tensor, and the writer's refusals.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "io/gguf_writer.hpp"
#include "support/test_data.hpp"

namespace {

namespace fs = std::filesystem;
using lem::GgmlType;
using lem::io::GgufFile;
using lem::io::GgufValue;
using lem::io::GgufValueType;
using lem::io::GgufWriter;

// A scratch path under the build tree's temp dir, removed when the test ends.
struct ScratchFile {
  std::string path;
  explicit ScratchFile(const std::string& name)
      : path((fs::temp_directory_path() / ("lem_test_gguf_writer_" + std::to_string(::getpid()) + "_" + name)).string()) {
    fs::remove(path);
  }
  ~ScratchFile() {
    std::error_code ec;
    fs::remove(path, ec);
    fs::remove(path + ".partial", ec);
  }
};

// Deep equality of two decoded values (arrays compared element by element).
bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case GgufValueType::U8: case GgufValueType::U16: case GgufValueType::U32: case GgufValueType::U64: return a.u == b.u;
    case GgufValueType::I8: case GgufValueType::I16: case GgufValueType::I32: case GgufValueType::I64: return a.i == b.i;
    case GgufValueType::F32: case GgufValueType::F64:
      return std::memcmp(&a.f, &b.f, sizeof a.f) == 0;  // bit patterns: NaNs and -0 too
    case GgufValueType::BOOL: return a.b == b.b;
    case GgufValueType::STRING: return a.str == b.str;
    case GgufValueType::ARRAY:
      if (a.elem_type != b.elem_type || a.count != b.count) return false;
      if (a.elem_type == GgufValueType::STRING) return a.strings == b.strings;
      if (a.elem_type == GgufValueType::ARRAY) {
        for (size_t k = 0; k < a.arrays.size(); ++k)
          if (!same_value(a.arrays[k], b.arrays[k])) return false;
        return a.arrays.size() == b.arrays.size();
      }
      for (uint64_t k = 0; k < a.count; ++k)
        if (a.int_at(k) != b.int_at(k) || a.float_at(k) != b.float_at(k)) return false;
      return true;
  }
  return false;
}

std::vector<uint8_t> pattern_bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 7 * i + (i >> 8));
  return v;
}

}  // namespace

TEST_CASE("GgufWriter round-trips every metadata type and all three tensor sources", "[gguf_writer]") {
  ScratchFile file("roundtrip.gguf");
  GgufWriter w;
  w.add_string("general.architecture", "gemma3");
  w.add_u8("t.u8", 200);
  w.add_i8("t.i8", -100);
  w.add_u16("t.u16", 60000);
  w.add_i16("t.i16", -30000);
  w.add_u32("t.u32", 4000000000u);
  w.add_i32("t.i32", -2000000000);
  w.add_u64("t.u64", 0xFEDCBA9876543210ull);
  w.add_i64("t.i64", INT64_MIN);
  w.add_f32("t.f32", 9.99999997e-07f);
  w.add_f64("t.f64", -1.0 / 3.0);
  w.add_bool("t.true", true);
  w.add_bool("t.false", false);
  w.add_string("t.empty", "");
  w.add_string("t.utf8", "\xE2\x96\x81hello \xF0\x9F\x98\x80");
  const std::vector<std::string> strings = {"<pad>", "", "\xE2\x96\x81t", std::string("nul\0inside", 10)};
  w.add_string_array("t.strings", strings);
  const std::vector<float> floats = {-1000.0f, 0.0f, -0.0f, 1.5f};
  w.add_f32_array("t.f32s", floats);
  const std::vector<int32_t> ints = {3, 3, 1, 6, -5};
  w.add_i32_array("t.i32s", ints);
  const std::vector<uint32_t> uints = {};
  w.add_u32_array("t.u32s.empty", uints);
  // An array of arrays, given as a decoded value.
  GgufValue inner_a, inner_b, outer;
  const uint8_t packed_a[] = {1, 0, 1};
  inner_a.type = inner_b.type = outer.type = GgufValueType::ARRAY;
  inner_a.elem_type = GgufValueType::BOOL;
  inner_a.count = 3;
  inner_a.packed = packed_a;
  inner_b.elem_type = GgufValueType::STRING;
  inner_b.count = 2;
  inner_b.strings = {"x", "yz"};
  outer.elem_type = GgufValueType::ARRAY;
  outer.count = 2;
  outer.arrays = {inner_a, inner_b};
  w.add_value("t.nested", outer);

  // Owned bytes, a borrowed view and a producer (in chunks of 2 rows), with sizes that are not
  // multiples of the alignment so that padding is exercised.
  const auto f32_bytes = pattern_bytes(3 * 5 * 4, 1);                   // F32 [3, 5]
  const auto q8_bytes = pattern_bytes(2 * 34 * 3, 2);                   // Q8_0 [64, 3]
  w.add_tensor("a.f32", GgmlType::F32, {3, 5}, f32_bytes);
  w.add_tensor_view("b.q8_0", GgmlType::Q8_0, {64, 3}, q8_bytes.data(), q8_bytes.size());
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  const uint64_t q4k_row = 144;
  w.add_tensor("c.q4_k", GgmlType::Q4_K, {256, 5, 1, 1}, [&](uint64_t first, uint64_t n, uint8_t* out) {
    calls.emplace_back(first, n);
    for (uint64_t r = 0; r < n; ++r) std::memset(out + r * q4k_row, static_cast<int>(0x40 + first + r), q4k_row);
  });
  w.set_chunk_bytes(2 * q4k_row + 1);
  CHECK(w.n_tensors() == 3);
  w.write(file.path);

  CHECK(calls == std::vector<std::pair<uint64_t, uint64_t>>{{0, 2}, {2, 2}, {4, 1}});
  CHECK_FALSE(fs::exists(file.path + ".partial"));

  const auto g = GgufFile::open(file.path);
  CHECK(g->version() == 3);
  CHECK(g->alignment() == 32);
  CHECK(g->find("general.alignment") == nullptr);  // the default is not written
  CHECK(g->data_offset() % 32 == 0);
  REQUIRE(g->metadata().size() == w.n_kv());
  CHECK(g->metadata()[0].first == "general.architecture");  // order kept
  CHECK(g->get_string("general.architecture") == "gemma3");
  CHECK(g->find("t.u8")->u == 200);
  CHECK(g->find("t.i8")->i == -100);
  CHECK(g->find("t.u16")->u == 60000);
  CHECK(g->find("t.i16")->i == -30000);
  CHECK(g->find("t.u32")->u == 4000000000u);
  CHECK(g->find("t.i32")->i == -2000000000);
  CHECK(g->find("t.u64")->u == 0xFEDCBA9876543210ull);
  CHECK(g->find("t.i64")->i == INT64_MIN);
  CHECK(g->find("t.f32")->type == GgufValueType::F32);
  CHECK(static_cast<float>(g->find("t.f32")->f) == 9.99999997e-07f);
  CHECK(g->find("t.f64")->f == -1.0 / 3.0);
  CHECK(g->get_bool("t.true") == true);
  CHECK(g->get_bool("t.false") == false);
  CHECK(g->get_string("t.empty") == "");
  CHECK(g->get_string("t.utf8") == "\xE2\x96\x81hello \xF0\x9F\x98\x80");
  const GgufValue* s = g->find("t.strings");
  REQUIRE(s != nullptr);
  REQUIRE(s->strings.size() == strings.size());
  for (size_t k = 0; k < strings.size(); ++k) CHECK(s->strings[k] == strings[k]);
  const GgufValue* f = g->find("t.f32s");
  REQUIRE(f->elem_type == GgufValueType::F32);
  REQUIRE(f->count == floats.size());
  for (size_t k = 0; k < floats.size(); ++k) CHECK(std::signbit(f->float_at(k)) == std::signbit(floats[k]));
  CHECK(f->float_at(0) == -1000.0);
  const GgufValue* i = g->find("t.i32s");
  REQUIRE(i->elem_type == GgufValueType::I32);
  for (size_t k = 0; k < ints.size(); ++k) CHECK(i->int_at(k) == ints[k]);
  CHECK(g->find("t.u32s.empty")->count == 0);
  CHECK(same_value(*g->find("t.nested"), outer));

  REQUIRE(g->tensors().size() == 3);
  const auto* a = g->find_tensor("a.f32");
  const auto* b = g->find_tensor("b.q8_0");
  const auto* c = g->find_tensor("c.q4_k");
  REQUIRE((a && b && c));
  CHECK(a->ne == std::vector<uint64_t>{3, 5});
  CHECK(b->ne == std::vector<uint64_t>{64, 3});
  CHECK(c->ne == std::vector<uint64_t>{256, 5, 1, 1});
  CHECK(c->type == GgmlType::Q4_K);
  for (const auto* t : {a, b, c}) CHECK(t->offset % 32 == 0);
  CHECK(std::memcmp(a->data, f32_bytes.data(), f32_bytes.size()) == 0);
  CHECK(std::memcmp(b->data, q8_bytes.data(), q8_bytes.size()) == 0);
  REQUIRE(c->nbytes == 5 * q4k_row);
  for (uint64_t r = 0; r < 5; ++r) CHECK(c->data[r * q4k_row + 17] == 0x40 + r);
  // ggml pads after every tensor, the last one included.
  CHECK(g->file_size() == g->data_offset() + c->offset + ((c->nbytes + 31) / 32) * 32);
}

TEST_CASE("GgufWriter records a non-default alignment as general.alignment", "[gguf_writer]") {
  ScratchFile file("align64.gguf");
  GgufWriter w(64);
  w.add_string("general.architecture", "gemma3");
  w.add_tensor("x", GgmlType::F16, {3}, std::vector<uint8_t>(6, 0x11));
  w.add_tensor("y", GgmlType::F16, {5}, std::vector<uint8_t>(10, 0x22));
  w.write(file.path);
  const auto g = GgufFile::open(file.path);
  CHECK(g->alignment() == 64);
  CHECK(g->get_uint("general.alignment") == 64u);
  CHECK(g->data_offset() % 64 == 0);
  CHECK(g->find_tensor("y")->offset == 64);
  CHECK(g->find_tensor("y")->data[9] == 0x22);
}

TEST_CASE("GgufWriter writes a vocabulary-only file without tensors", "[gguf_writer]") {
  ScratchFile file("vocab.gguf");
  GgufWriter w;
  w.add_string("general.architecture", "gemma3");
  const std::vector<std::string> tokens = {"<pad>", "<eos>", "<bos>"};
  w.add_string_array("tokenizer.ggml.tokens", tokens);
  w.write(file.path);
  const auto g = GgufFile::open(file.path);
  CHECK(g->tensors().empty());
  CHECK(g->find("tokenizer.ggml.tokens")->strings.size() == 3);
}

TEST_CASE("GgufWriter re-writes a fixture with identical metadata and tensor bytes", "[gguf_writer]") {
  for (const char* rel : {"tiny/tiny-a/gguf/tiny-a-Q4_K_M.gguf", "tiny/tiny-b/gguf/tiny-b-Q6_K.gguf",
                          "tokenizer/gemma3-vocab.gguf"}) {
    INFO(rel);
    const auto src = GgufFile::open(lem::test::data_path(rel));
    ScratchFile file("copy.gguf");
    GgufWriter w(static_cast<uint32_t>(src->alignment()));
    for (const auto& [key, value] : src->metadata()) w.add_value(key, value);
    for (const auto& t : src->tensors()) w.add_tensor_view(t.name, t.type, t.ne, t.data, t.nbytes);
    w.write(file.path);

    const auto copy = GgufFile::open(file.path);
    REQUIRE(copy->metadata().size() == src->metadata().size());
    for (size_t k = 0; k < src->metadata().size(); ++k) {
      INFO("key " << src->metadata()[k].first);
      CHECK(copy->metadata()[k].first == src->metadata()[k].first);
      CHECK(same_value(copy->metadata()[k].second, src->metadata()[k].second));
    }
    REQUIRE(copy->tensors().size() == src->tensors().size());
    for (size_t k = 0; k < src->tensors().size(); ++k) {
      const auto& a = src->tensors()[k];
      const auto& b = copy->tensors()[k];
      INFO("tensor " << a.name);
      CHECK(b.name == a.name);
      CHECK(b.type == a.type);
      CHECK(b.ne == a.ne);
      REQUIRE(b.nbytes == a.nbytes);
      CHECK(std::memcmp(a.data, b.data, a.nbytes) == 0);
    }
    // The layout rules are the ones gguf-py and ggml follow, so the whole file comes out the same.
    const auto written = lem::test::read_bytes(file.path);
    const auto original = lem::test::read_bytes(lem::test::data_path(rel));
    CHECK(written.size() == original.size());
    const auto diff = std::mismatch(written.begin(), written.end(), original.begin(), original.end());
    CHECK(diff.first - written.begin() == static_cast<std::ptrdiff_t>(std::min(written.size(), original.size())));
  }
}

TEST_CASE("GgufWriter refuses malformed input", "[gguf_writer]") {
  using Catch::Matchers::Contains;
  GgufWriter w;
  w.add_u32("k", 1);
  CHECK_THROWS_WITH(w.add_u32("k", 2), Contains("duplicate metadata key 'k'"));
  CHECK_THROWS_WITH(w.add_string("", "v"), Contains("empty metadata key"));
  CHECK_THROWS_WITH(GgufWriter(48), Contains("not a power of two"));
  GgufValue wrong_alignment;
  wrong_alignment.type = GgufValueType::U32;
  wrong_alignment.u = 64;
  CHECK_THROWS_WITH(w.add_value("general.alignment", wrong_alignment), Contains("differs from the writer's alignment 32"));

  w.add_tensor("t", GgmlType::F32, {2}, std::vector<uint8_t>(8));
  CHECK_THROWS_WITH(w.add_tensor("t", GgmlType::F32, {2}, std::vector<uint8_t>(8)), Contains("duplicate tensor name 't'"));
  CHECK_THROWS_WITH(w.add_tensor(std::string(64, 'n'), GgmlType::F32, {2}, std::vector<uint8_t>(8)),
                    Contains("expected 1 to 63"));
  CHECK_THROWS_WITH(w.add_tensor("u", GgmlType::F32, {2, 1, 1, 1, 1}, std::vector<uint8_t>(8)),
                    Contains("5 dimensions, expected 1 to 4"));
  CHECK_THROWS_WITH(w.add_tensor("u", GgmlType::Q4_K, {255, 2}, std::vector<uint8_t>(288)),
                    Contains("not a multiple of the q4_K block size 256"));
  CHECK_THROWS_WITH(w.add_tensor("u", GgmlType::Q8_0, {32, 2}, std::vector<uint8_t>(67)),
                    Contains("has 67 bytes of data, its shape and type need 68"));
  CHECK_THROWS_WITH(w.add_tensor("u", GgmlType::F32, {1ull << 40, 1ull << 40}, GgufWriter::RowProducer(
                                                                                 [](uint64_t, uint64_t, uint8_t*) {})),
                    Contains("overflows"));
  CHECK(w.n_tensors() == 1);  // nothing refused was added
}

TEST_CASE("GgufWriter reports I/O errors and leaves no file behind a failed write", "[gguf_writer]") {
  using Catch::Matchers::Contains;
  GgufWriter w;
  w.add_string("general.architecture", "gemma3");
  try {
    w.write("/nonexistent-dir/x.gguf");
    FAIL("expected an Io error");
  } catch (const lem::Error& e) {
    CHECK(e.status() == lem::Status::Io);
    CHECK_THAT(e.what(), Contains("/nonexistent-dir/x.gguf.partial: cannot create"));
  }

  ScratchFile file("failing.gguf");
  GgufWriter f;
  f.add_tensor("rows", GgmlType::F32, {4, 10}, [](uint64_t first, uint64_t, uint8_t*) {
    if (first >= 4) throw std::runtime_error("producer gave up");
  });
  f.set_chunk_bytes(16 * 2);
  CHECK_THROWS_WITH(f.write(file.path), Contains("producer gave up"));
  CHECK_FALSE(fs::exists(file.path));
  CHECK_FALSE(fs::exists(file.path + ".partial"));
}
