// Hostile safetensors files and index.json files: each handcrafted case maps to an exact status
// and a message substring; truncated and bit-flipped copies of a real MLX file must open or
// throw lem::Error, never crash (this executable runs under ASan + UBSan).
#include <atomic>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "util/error.hpp"
#include "io/safetensors_file.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"

using lem::Status;
using lem::io::SafetensorsFile;
using lem::io::SafetensorsSet;

namespace {

namespace fs = std::filesystem;

// A temporary folder named "lem-st-corrupt-<pid>-<n>", removed at scope exit.
struct TempDir : lem::test::TempDir {
  TempDir() : lem::test::TempDir("lem-st-corrupt") {}
};

std::string u64_le(uint64_t v) {
  std::string b(8, '\0');
  for (int k = 0; k < 8; ++k) b[k] = static_cast<char>(v >> (8 * k));
  return b;
}

// A file whose header is `json` followed by `data_bytes` zero bytes.
std::string st_file(const std::string& json, size_t data_bytes = 0) {
  return u64_le(json.size()) + json + std::string(data_bytes, '\0');
}

void write(const std::string& path, const std::string& bytes) {
  lem::test::write_bytes(path, bytes.data(), bytes.size());
}

template <class Open>
void expect_error(Open open, Status status, const std::string& substring) {
  try {
    open();
    FAIL("opened without error");
  } catch (const lem::Error& e) {
    INFO(e.what());
    CHECK(lem::status_name(e.status()) == std::string(lem::status_name(status)));
    CHECK_THAT(e.what(), Catch::Matchers::Contains(substring));
  }
}

// Opens `path`: true when it opened, false on lem::Error; anything else escapes and fails.
bool opens_or_clean_error(const std::string& path) {
  try {
    auto f = SafetensorsFile::open(path);
    for (const auto& t : f->tensors()) {
      // Touch the first and last byte of every tensor: views must lie inside the map.
      if (t.nbytes() > 0) {
        volatile uint8_t sink = t.data[0];
        sink = t.data[t.nbytes() - 1];
        (void)sink;
      }
    }
    return true;
  } catch (const lem::Error&) {
    return false;
  }
}

struct BadFile {
  const char* name;
  std::string bytes;
  Status status;
  const char* message;
};

std::vector<BadFile> bad_files() {
  const std::string ok_entry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  return {
      {"empty file", "", Status::BadFormat, "too short for the 8-byte"},
      {"7-byte file", std::string(7, '\x01'), Status::BadFormat, "file is 7 bytes"},
      {"header size 2^63", u64_le(uint64_t{1} << 63) + "{}", Status::BadFormat, "exceeds the limit"},
      {"header size just over 100 MiB", u64_le((uint64_t{100} << 20) + 1) + "{}", Status::BadFormat,
       "exceeds the limit"},
      {"header size past the file", u64_le(100) + "{}", Status::BadFormat,
       "header size 100 exceeds the 2 bytes"},
      {"zero header size", u64_le(0), Status::BadFormat, "not valid JSON"},
      {"header not JSON", st_file("hello world"), Status::BadFormat, "safetensors header is not valid JSON"},
      {"truncated JSON", st_file(R"({"a":{"dtype":"F32")"), Status::BadFormat, "not valid JSON"},
      {"trailing garbage", st_file(R"({}  x)"), Status::BadFormat, "not valid JSON"},
      {"NUL padding", st_file(std::string("{}") + '\0'), Status::BadFormat, "not valid JSON: NUL byte at offset 2"},
      {"NUL then garbage", st_file(std::string("{}") + '\0' + "{\"a\":"), Status::BadFormat, "NUL byte"},
      {"invalid UTF-8 in a name", st_file("{\"\xff\":{}}"), Status::BadFormat, "not valid JSON"},
      {"JSON array", st_file("[1,2]"), Status::BadFormat, "header is a JSON array, expected an object"},
      {"JSON string", st_file(R"("x")"), Status::BadFormat, "expected an object"},
      {"duplicate tensor key", st_file(R"({"a":)" + ok_entry + R"(,"a":)" + ok_entry + "}", 8),
       Status::BadFormat, "tensor \"a\" appears twice in the header"},
      {"duplicate __metadata__", st_file(R"({"__metadata__":{},"__metadata__":{}})"), Status::BadFormat,
       "\"__metadata__\" appears twice"},
      {"duplicate metadata key", st_file(R"({"__metadata__":{"k":"a","j":"b","k":"c"}})"), Status::BadFormat,
       "not valid JSON: duplicate key \"k\""},
      {"long array", st_file(R"({"a":{"dtype":"U8","shape":[1)" + [] {
         std::string s;
         for (int k = 0; k < 1024; ++k) s += ",1";  // 1025 dimensions
         return s;
       }() + "]}}"),
       Status::BadFormat, "JSON array longer than 1024 elements"},
      {"array of arrays", st_file("[" + [] {
         std::string s = "[]";
         for (int k = 0; k < 5000; ++k) s += ",[]";
         return s;
       }() + "]"),
       Status::BadFormat, "JSON array longer than 1024"},
      {"duplicate field key", st_file(R"({"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "duplicate key \"dtype\""},
      {"entry not an object", st_file(R"({"a":[1]})"), Status::BadFormat, "tensor \"a\": entry is a JSON array"},
      {"missing dtype", st_file(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", 8), Status::BadFormat,
       "tensor \"a\": missing \"dtype\""},
      {"dtype not a string", st_file(R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "\"dtype\" is number 4, expected a string"},
      {"unknown dtype", st_file(R"({"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}})", 1),
       Status::BadFormat, "tensor \"w\": unknown dtype \"F4\""},
      {"lowercase dtype", st_file(R"({"w":{"dtype":"bf16","shape":[2],"data_offsets":[0,4]}})", 4),
       Status::BadFormat, "unknown dtype \"bf16\""},
      {"missing shape", st_file(R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", 8), Status::BadFormat,
       "missing \"shape\""},
      {"shape not an array", st_file(R"({"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "\"shape\" is number 2, expected an array"},
      {"shape negative", st_file(R"({"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "shape[1] is number -1, expected a non-negative integer"},
      {"shape float", st_file(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "shape[0] is number 2.0, expected a non-negative integer"},
      {"shape string", st_file(R"({"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "shape[0] is the string \"2\""},
      {"shape beyond 2^64", st_file(R"({"a":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "shape[0] is number"},
      {"shape nested array", st_file(R"({"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "shape[0] is a JSON array"},
      {"shape product overflow",
       st_file(R"({"a":{"dtype":"U8","shape":[1099511627776,1099511627776],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "element count of shape [1099511627776,1099511627776] overflows"},
      {"byte size overflow",
       st_file(R"({"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "byte size of 4611686018427387904 F64 elements overflows"},
      {"missing data_offsets", st_file(R"({"a":{"dtype":"F32","shape":[2]}})", 8), Status::BadFormat,
       "missing \"data_offsets\""},
      {"data_offsets one number", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}})", 8),
       Status::BadFormat, "\"data_offsets\" is [8], expected [begin, end]"},
      {"data_offsets three numbers", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", 8),
       Status::BadFormat, "expected [begin, end]"},
      {"data_offsets string", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":"0-8"}})", 8),
       Status::BadFormat, "\"data_offsets\" is the string \"0-8\""},
      {"data_offsets negative", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", 8),
       Status::BadFormat, "expected [begin, end] of non-negative integers"},
      {"data_offsets past end", st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 8),
       Status::BadFormat, "data_offsets [4, 12] run past the end of the 8-byte data section"},
      {"data_offsets huge", st_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", 8),
       Status::BadFormat, "end before begin"},
      {"end before begin", st_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8),
       Status::BadFormat, "data_offsets [8, 4] end before begin"},
      {"size mismatch with shape", st_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
       Status::BadFormat, "shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8 bytes"},
      {"overlapping tensors",
       st_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[6,10]}})", 10),
       Status::BadFormat, "tensors \"a\" [0, 8) and \"b\" [6, 10) overlap"},
      {"identical offsets",
       st_file(R"({"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4),
       Status::BadFormat, "overlap"},
      {"__metadata__ non-string value", st_file(R"({"__metadata__":{"format":"pt","n":1}})"), Status::BadFormat,
       "\"__metadata__\" value of \"n\" is number 1, expected a string"},
      {"__metadata__ not an object", st_file(R"({"__metadata__":"pt"})"), Status::BadFormat,
       "\"__metadata__\" is the string \"pt\", expected an object"},
      {"deeply nested arrays", st_file(std::string(100000, '[')), Status::BadFormat,
       "JSON nested deeper than 64 levels"},
      {"deeply nested objects", st_file([] {
         std::string s;
         for (int k = 0; k < 100000; ++k) s += "{\"a\":";
         return s;
       }()),
       Status::BadFormat, "nested deeper than"},
      {"huge name is clipped", st_file("{\"" + std::string(100000, 'n') + "\":1}"), Status::BadFormat,
       "nnn...\": entry is number 1"},
  };
}

}  // namespace

TEST_CASE("corrupt safetensors files", "[corrupt][safetensors]") {
  TempDir dir;
  for (const BadFile& c : bad_files()) {
    SECTION(c.name) {
      const std::string path = dir.file("bad.safetensors");
      write(path, c.bytes);
      expect_error([&] { SafetensorsFile::open(path); }, c.status, c.message);
      // The message names the file.
      try {
        SafetensorsFile::open(path);
      } catch (const lem::Error& e) {
        CHECK_THAT(e.what(), Catch::Matchers::StartsWith(path));
      }
    }
  }
}

TEST_CASE("corrupt safetensors file kinds", "[corrupt][safetensors]") {
  TempDir dir;
  SECTION("missing file") {
    expect_error([&] { SafetensorsFile::open(dir.file("absent.safetensors")); }, Status::Io, "cannot open");
  }
  SECTION("a directory") {
    expect_error([&] { SafetensorsFile::open(dir.path.string()); }, Status::Io, "not a regular file");
  }
}

TEST_CASE("corrupt safetensors index files", "[corrupt][safetensors]") {
  TempDir dir;
  // Two valid shards: a = {x, y}, b = {y2, z}; c duplicates b's tensor z.
  write(dir.file("a.safetensors"),
        st_file(R"({"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"y":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2));
  write(dir.file("b.safetensors"),
        st_file(R"({"y2":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"z":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2));
  write(dir.file("c.safetensors"), st_file(R"({"z":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1));
  fs::create_directories(dir.path / "sub");
  write(dir.file("sub/d.safetensors"), st_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1));
  const std::string index = dir.file("model.safetensors.index.json");
  auto open_index = [&](const std::string& json) {
    write(index, json);
    return SafetensorsSet::open(index);
  };

  SECTION("a valid index opens") {
    auto set = open_index(R"({"metadata":{"total_size":4},"weight_map":{"x":"a.safetensors","z":"b.safetensors"}})");
    CHECK(set->shards().size() == 2);
    CHECK(set->tensors().size() == 4);
  }

  struct BadIndex {
    const char* name;
    std::string json;
    Status status;
    const char* message;
  };
  const std::vector<BadIndex> cases = {
      {"not JSON", "weight_map", Status::BadFormat, "index is not valid JSON"},
      {"empty", "", Status::BadFormat, "index is not valid JSON"},
      {"not an object", "[]", Status::BadFormat, "index is a JSON array, expected an object"},
      {"no weight_map", R"({"metadata":{}})", Status::BadFormat, "missing \"weight_map\""},
      {"weight_map not an object", R"({"weight_map":["a.safetensors"]})", Status::BadFormat,
       "\"weight_map\" is a JSON array"},
      {"empty weight_map", R"({"weight_map":{}})", Status::BadFormat, "\"weight_map\" is empty"},
      {"metadata not an object", R"({"metadata":3,"weight_map":{"x":"a.safetensors"}})", Status::BadFormat,
       "\"metadata\" is number 3"},
      {"shard name not a string", R"({"weight_map":{"x":1}})", Status::BadFormat,
       "weight_map[\"x\"] is number 1, expected a shard file name"},
      {"parent shard", R"({"weight_map":{"x":"../x"}})", Status::BadFormat,
       "names shard \"../x\", expected a plain file name"},
      {"dot-dot shard", R"({"weight_map":{"x":".."}})", Status::BadFormat, "expected a plain file name"},
      {"subfolder shard", R"({"weight_map":{"w":"sub/d.safetensors"}})", Status::BadFormat,
       "expected a plain file name"},
      {"absolute shard", R"({"weight_map":{"x":"/etc/passwd"}})", Status::BadFormat, "expected a plain file name"},
      {"empty shard name", R"({"weight_map":{"x":""}})", Status::BadFormat, "expected a plain file name"},
      {"NUL in shard name", R"({"weight_map":{"x":"a.safetensors\u0000.txt"}})", Status::BadFormat,
       "names shard \"a.safetensors\\x00.txt\", expected a plain file name"},
      {"missing shard file", R"({"weight_map":{"x":"nope.safetensors"}})", Status::Io, "cannot open"},
      {"missing tensor", R"({"weight_map":{"x":"a.safetensors","q":"a.safetensors"}})", Status::BadFormat,
       "weight_map puts tensor \"q\" in shard \"a.safetensors\", which has no such tensor"},
      {"tensor in the wrong shard", R"({"weight_map":{"x":"b.safetensors"}})", Status::BadFormat,
       "which has no such tensor"},
      {"duplicate tensor across shards", R"({"weight_map":{"x":"a.safetensors","y2":"b.safetensors","z":"c.safetensors"}})",
       Status::BadFormat, "tensor \"z\" is in both shard"},
      {"duplicate weight_map key", R"({"weight_map":{"x":"a.safetensors","x":"b.safetensors"}})", Status::BadFormat,
       "duplicate key \"x\""},
      {"deeply nested", "{\"metadata\":" + std::string(100000, '['), Status::BadFormat, "nested deeper than"},
  };
  for (const BadIndex& c : cases) {
    SECTION(c.name) { expect_error([&] { open_index(c.json); }, c.status, c.message); }
  }

  SECTION("a corrupt shard is reported with its path") {
    write(dir.file("bad.safetensors"), st_file("[]"));
    expect_error([&] { open_index(R"({"weight_map":{"x":"bad.safetensors"}})"); }, Status::BadFormat,
                 "bad.safetensors: safetensors header is a JSON array");
  }
}

TEST_CASE("truncated and bit-flipped MLX safetensors", "[corrupt][safetensors]") {
  const std::vector<unsigned char> original =
      lem::test::read_bytes(lem::test::data_path("tiny/tiny-b/mlx-4bit/model.safetensors"));
  REQUIRE(original.size() > 1000);
  TempDir dir;
  const std::string path = dir.file("mutant.safetensors");
  auto write_prefix = [&](const std::vector<unsigned char>& bytes, size_t n) {
    lem::test::write_bytes(path, bytes.data(), n);
  };

  write_prefix(original, original.size());
  REQUIRE(opens_or_clean_error(path));  // the intact file opens

  std::mt19937_64 rng(20250101);
  SECTION("truncated") {
    // The tensors of this file cover its data section to the last byte, so every truncation
    // must be rejected, whether it cuts the size field, the header or the data.
    std::vector<size_t> cuts;
    for (size_t n = 0; n < 64; ++n) cuts.push_back(n);
    std::uniform_int_distribution<size_t> pick(0, original.size() - 1);
    for (int k = 0; k < 50; ++k) cuts.push_back(pick(rng));
    cuts.push_back(original.size() - 1);
    for (size_t n : cuts) {
      INFO("truncated to " << n << " bytes");
      write_prefix(original, n);
      CHECK_FALSE(opens_or_clean_error(path));
    }
  }
  SECTION("header bytes flipped") {
    uint64_t header_size = 0;
    std::memcpy(&header_size, original.data(), 8);
    REQUIRE(header_size + 8 <= original.size());
    std::uniform_int_distribution<size_t> where(0, 8 + header_size - 1);
    std::uniform_int_distribution<int> value(0, 255);
    int opened = 0;
    for (int k = 0; k < 200; ++k) {
      std::vector<unsigned char> mutant = original;
      const size_t pos = where(rng);
      mutant[pos] = static_cast<unsigned char>(value(rng));
      INFO("byte " << pos << " set to " << int(mutant[pos]));
      write_prefix(mutant, mutant.size());
      opened += opens_or_clean_error(path) ? 1 : 0;
    }
    // Most single-byte changes break the JSON or a check; a few (a digit in a name) survive.
    CHECK(opened < 200);
  }
}
