// Hostile GGUF files (built with ASan + UBSan): every malformed file must give a lem::Error with
// the right status and a message naming the problem, never a crash, an out-of-bounds view or a
// huge allocation.
//
// (a) handcrafted files, one per validation rule, each mapped to an exact status + message;
// (b) real fixtures truncated at every header field boundary and at random points;
// (c) real fixture headers with random byte flips and with every 8-byte count, length and
//     offset overwritten by 0, 2^63 and 2^64-1.
// Every open also checks the heap high-water mark against the file size (see HeapWatch).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "support/gguf_writer.hpp"
#include "support/test_data.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define LEM_TEST_HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LEM_TEST_HAS_ASAN 1
#endif
#endif

#ifdef LEM_TEST_HAS_ASAN
// From <sanitizer/allocator_interface.h>, which GCC does not ship; libasan exports both.
extern "C" {
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, size_t),
                                              void (*free_hook)(const volatile void*));
size_t __sanitizer_get_allocated_size(const volatile void* p);
}
#endif

namespace {

namespace w = lem::test::gguf;
using lem::Status;
using lem::io::GgufFile;
using lem::io::GgufValue;
using lem::io::GgufValueType;

// ---- heap high-water mark ---------------------------------------------------------------------

// Tracks live heap bytes through the sanitizer allocator hooks, so that a test can bound the
// peak allocation of one open() call. Without ASan the bound is not checked.
class HeapWatch {
 public:
  static bool available() { return installed(); }
  static void reset_peak() { peak_ = live_.load(); }
  static int64_t live() { return live_; }
  static int64_t peak() { return peak_; }

 private:
  static bool installed() {
#ifdef LEM_TEST_HAS_ASAN
    static const bool ok = __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free) != 0;
    return ok;
#else
    return false;
#endif
  }
#ifdef LEM_TEST_HAS_ASAN
  static void on_malloc(const volatile void*, size_t n) {
    const int64_t now = live_ += static_cast<int64_t>(n);
    if (now > peak_) peak_ = now;
  }
  static void on_free(const volatile void* p) {
    if (p) live_ -= static_cast<int64_t>(__sanitizer_get_allocated_size(p));
  }
#endif
  static inline std::atomic<int64_t> live_{0};
  static inline std::atomic<int64_t> peak_{0};
};

// The reader may build vectors and maps proportional to the header, never more than this.
int64_t allowed_heap_bytes(uint64_t file_size) { return static_cast<int64_t>(file_size) * 64 + (1 << 20); }

// Reads every byte a successful open() hands out (metadata views and each tensor's first and
// last byte), so that ASan reports any view that points outside the mapping.
uint64_t touch_all_views(const GgufFile& f) {
  uint64_t sum = 0;
  auto touch_value = [&](const GgufValue& v, auto&& self) -> void {
    for (char c : v.str) sum += static_cast<uint8_t>(c);
    if (v.type != GgufValueType::ARRAY) return;
    for (auto s : v.strings)
      for (char c : s) sum += static_cast<uint8_t>(c);
    for (const auto& a : v.arrays) self(a, self);
    if (v.packed)
      for (uint64_t k = 0; k < v.count; ++k) sum += static_cast<uint64_t>(v.int_at(k));
  };
  for (const auto& [key, v] : f.metadata()) {
    sum += key.size();
    touch_value(v, touch_value);
  }
  for (const auto& t : f.tensors()) {
    sum += t.n_elements();
    if (t.nbytes) sum += t.data[0] + t.data[t.nbytes - 1];
  }
  return sum;
}

struct OpenResult {
  bool opened = false;
  Status status = Status::Ok;
  std::string message;
};

// Opens `path`, touches every view when it opens, and checks the heap bound. Exceptions other
// than lem::Error propagate and fail the test.
OpenResult open_checked(const std::string& path) {
  OpenResult r;
  const uint64_t size = std::filesystem::is_regular_file(path) ? std::filesystem::file_size(path) : 0;
  const bool watch = HeapWatch::available();
  const int64_t before = HeapWatch::live();
  HeapWatch::reset_peak();
  try {
    const auto f = GgufFile::open(path);
    r.opened = true;
    volatile uint64_t sink = touch_all_views(*f);
    (void)sink;
  } catch (const lem::Error& e) {
    r.status = e.status();
    r.message = e.what();
  }
  if (watch && HeapWatch::peak() - before > allowed_heap_bytes(size)) {
    INFO(path << ": open() peaked at " << HeapWatch::peak() - before << " heap bytes for a " << size
              << "-byte file");
    FAIL_CHECK("heap bound exceeded");
  }
  return r;
}

// ---- (a) handcrafted hostile files ------------------------------------------------------------

// A small valid file: two key/values and one F32 tensor of 8 elements.
w::Builder valid_base() {
  w::Builder b;
  b.kv("general.architecture", w::string("gemma3")).kv("gemma3.block_count", w::u32(1));
  b.tensor("t", {8}, 0, w::Bytes(32, 7));
  return b;
}

w::Bytes u64_bytes(uint64_t v) {
  w::Bytes b;
  w::put<uint64_t>(b, v);
  return b;
}

// A value with an arbitrary type id and raw payload.
w::Value raw_value(uint32_t type, const w::Bytes& payload) { return w::Value{type, payload}; }

struct HostileCase {
  std::string name;
  w::Bytes bytes;
  Status status;
  std::string message;  // substring of the error message
};

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> cases;
  auto add = [&](std::string name, const w::Builder& b, std::string msg) {
    cases.push_back({std::move(name), b.build(), Status::BadFormat, std::move(msg)});
  };
  auto add_bytes = [&](std::string name, w::Bytes bytes, std::string msg) {
    cases.push_back({std::move(name), std::move(bytes), Status::BadFormat, std::move(msg)});
  };

  // The base itself must open (checked in the test), so every case differs by one defect.
  { auto b = valid_base(); std::memcpy(b.magic, "GGUX", 4); add("bad magic", b, "not a GGUF file"); }
  { auto b = valid_base(); std::memcpy(b.magic, "FUGG", 4); add("reversed magic", b, "not a GGUF file"); }
  { auto b = valid_base(); b.version = 1; add("version 1", b, "GGUF v1"); }
  { auto b = valid_base(); b.version = 0; add("version 0", b, "unsupported version 0, expected 2 or 3"); }
  { auto b = valid_base(); b.version = 4; add("version 4", b, "unsupported version 4, expected 2 or 3"); }
  { auto b = valid_base(); b.version = 0x03000000; add("big-endian version", b, "looks big-endian"); }
  { auto b = valid_base(); b.n_tensors_field = 1ull << 60; add("n_tensors 2^60", b, "1152921504606846976 tensors cannot fit"); }
  { auto b = valid_base(); b.n_tensors_field = UINT64_MAX; add("n_tensors 2^64-1", b, "tensors cannot fit"); }
  { auto b = valid_base(); b.n_tensors_field = 2; add("n_tensors one too many", b, "tensor '' at byte 149: 0 dimensions"); }  // reads the padding
  { auto b = valid_base(); b.n_kv_field = 1ull << 62; add("n_kv 2^62", b, "4611686018427387904 key/value pairs cannot fit"); }
  { auto b = valid_base(); b.n_kv_field = 3; add("n_kv one too many", b, "tensor '' at byte 130: 0 dimensions"); }  // 't' read as a key
  { auto b = valid_base(); b.kv("s", raw_value(w::kString, u64_bytes(1ull << 63))); add("string length 2^63", b, "string length 9223372036854775808 exceeds"); }
  { auto b = valid_base(); b.kv("s", raw_value(w::kString, u64_bytes(UINT64_MAX))); add("string length 2^64-1", b, "string length 18446744073709551615 exceeds"); }
  {
    // n_kv = 1, then a key whose length runs past the end of the file.
    w::Bytes f;
    w::put_bytes(f, "GGUF", 4);
    w::put<uint32_t>(f, 3);
    w::put<uint64_t>(f, 0);
    w::put<uint64_t>(f, 1);
    w::put<uint64_t>(f, 100);
    w::put_bytes(f, "abcdefghijklm", 13);
    add_bytes("key length past EOF", f, "metadata key #0 at byte 24: string length 100 exceeds the 13 bytes left");
  }
  { auto b = valid_base(); b.kv("x", raw_value(13, w::Bytes(8))); add("unknown value type 13", b, "unknown value type 13"); }
  { auto b = valid_base(); b.kv("x", raw_value(0xFFFFFFFF, w::Bytes(8))); add("unknown value type 2^32-1", b, "unknown value type 4294967295"); }
  { auto b = valid_base(); b.kv("x", w::array_raw(13, 1, w::Bytes(8))); add("unknown array element type", b, "unknown array element type 13"); }
  { auto b = valid_base(); b.kv("x", w::array_raw(w::kU32, 1ull << 61, w::Bytes(64))); add("array of 2^61 u32", b, "array of 2305843009213693952 u32 elements cannot fit"); }
  { auto b = valid_base(); b.kv("x", w::array_raw(w::kString, 1ull << 60, w::Bytes(64))); add("array of 2^60 strings", b, "array of 1152921504606846976 string elements cannot fit"); }
  { auto b = valid_base(); b.kv("x", w::array_raw(w::kArray, 1ull << 59, w::Bytes(64))); add("array of 2^59 arrays", b, "array elements cannot fit"); }
  {
    w::Builder b;  // the array is the last thing in the file
    b.kv("x", w::array_raw(w::kU64, 3, w::Bytes(16)));
    b.pad_data_start = false;
    add("u64 array data past EOF", b, "metadata 'x' at byte 49: array of 3 u64 elements cannot fit in the 16 bytes left");
  }
  {
    w::Value v = w::array(w::kU8, {});
    for (int k = 0; k < 100; ++k) v = w::array(w::kArray, {v});
    auto b = valid_base();
    b.kv("deep", v);
    add("arrays nested 100 deep", b, "arrays nested deeper than 8");
  }
  {
    w::Value v = w::array(w::kU8, {});
    for (int k = 0; k < 9; ++k) v = w::array(w::kArray, {v});
    auto b = valid_base();
    b.kv("deep", v);
    add("arrays nested 9 deep", b, "arrays nested deeper than 8");
  }
  { auto b = valid_base(); b.kv("flag", w::boolean(7)); add("bool value 7", b, "bool value is 7, expected 0 or 1"); }
  { auto b = valid_base(); b.kv("flags", w::array(w::kBool, {w::boolean(1), w::boolean(2)})); add("bool array element 2", b, "bool array element 1 is 2"); }
  { auto b = valid_base(); b.kv("gemma3.block_count", w::u32(2)); add("duplicate key", b, "metadata 'gemma3.block_count' at byte 130: duplicate key"); }
  { auto b = valid_base(); b.tensor("t", {8}, 0, w::Bytes(32)); add("duplicate tensor name", b, "tensor 't' at byte"); }
  { auto b = valid_base(); b.tensor(std::string(64, 'n'), {8}, 0, w::Bytes(32)); add("tensor name 64 bytes", b, "name is 64 bytes, the maximum is 63"); }
  { auto b = valid_base(); b.tensor(std::string(100000, '\x01'), {8}, 0, w::Bytes(32)); add("tensor name 100000 bytes", b, "\\x01\\x01...(100000 bytes)"); }
  { auto b = valid_base(); b.tensor_info({"z", {}, 0, 0}); add("n_dims 0", b, "0 dimensions, expected 1 to 4"); }
  { auto b = valid_base(); b.tensor_info({"z", {1, 1, 1, 1, 1}, 0, 0}); add("n_dims 5", b, "5 dimensions, expected 1 to 4"); }
  { auto b = valid_base(); b.tensor_info({"z", {1ull << 32, 1ull << 32}, 0, 0}); add("ne product overflows 2^64", b, "element count overflows"); }
  { auto b = valid_base(); b.tensor_info({"z", {1ull << 31, 1ull << 31, 2}, 0, 0}); add("ne product overflows int64", b, "element count overflows"); }
  { auto b = valid_base(); b.tensor_info({"z", {1ull << 63}, 0, 0}); add("ne negative as int64", b, "ne[0] = 9223372036854775808 is negative"); }
  { auto b = valid_base(); b.tensor_info({"z", {1ull << 62}, 0, 0}); add("byte size overflows", b, "byte size overflows 64 bits"); }
  { auto b = valid_base(); b.tensor_info({"z", {100, 2}, 12, 0}); add("ne[0] not a multiple of 256", b, "ne[0] = 100 is not a multiple of the q4_K block size 256"); }
  { auto b = valid_base(); b.tensor_info({"z", {48}, 8, 0}); add("ne[0] not a multiple of 32", b, "not a multiple of the q8_0 block size 32"); }
  for (uint32_t type : {4u, 5u, 31u, 36u, 40u, 1000u, 0xFFFFFFFFu}) {
    auto b = valid_base();
    b.tensor_info({"z", {256}, type, 0});
    add("unknown ggml type " + std::to_string(type), b, "unknown ggml type id " + std::to_string(type));
  }
  { auto b = valid_base(); b.tensor_info({"z", {8}, 0, 16}); add("offset not aligned", b, "data offset 16 is not a multiple of the alignment 32"); }
  { auto b = valid_base(); b.tensor_info({"z", {8}, 0, 1ull << 20}); add("offset past EOF", b, "tensor 'z': data [1048576, +32) extends past the end of the data section (32 bytes"); }
  { auto b = valid_base(); b.tensor_info({"z", {8}, 0, UINT64_MAX - 31}); add("offset 2^64-32", b, "extends past the end of the data section"); }
  { auto b = valid_base(); b.tensor_info({"z", {16}, 0, 0}); b.tensors.erase(b.tensors.begin()); add("data end past EOF", b, "tensor 'z': data [0, +64) extends past"); }
  {
    w::Builder b;
    b.tensor("a", {16}, 0, w::Bytes(64));
    b.tensor_info({"b", {16}, 0, 32});
    b.data.resize(96);
    add("overlapping tensors", b, "tensors overlap: data at offset 0 (+64) runs into data at offset 32");
  }
  { auto b = valid_base(); b.tensor_info({"z", {8}, 0, 0}); add("tensors at the same offset", b, "tensors overlap"); }
  { auto b = valid_base(); b.kv("general.alignment", w::u32(0)); add("alignment 0", b, "'general.alignment' is 0, expected a non-zero power of two"); }
  { auto b = valid_base(); b.kv("general.alignment", w::u32(3)); add("alignment 3", b, "'general.alignment' is 3, expected a non-zero power of two"); }
  { auto b = valid_base(); b.kv("general.alignment", w::string("32")); add("alignment as string", b, "'general.alignment' has type string, expected u32"); }
  { auto b = valid_base(); b.kv("general.alignment", w::u64(32)); add("alignment as u64", b, "'general.alignment' has type u64, expected u32"); }
  {
    auto b = valid_base();
    b.kv("general.alignment", w::u32(1u << 31));
    add("alignment 2^31: data start past EOF", b, "data section would start at byte 2147483648");
  }
  {
    // Header that does not end on a multiple of 32, no padding and no data after it.
    auto b = valid_base();
    b.kv("pad", w::u8(0));
    b.pad_data_start = false;
    b.data.clear();
    REQUIRE(b.header().size() % 32 != 0);
    add("data section start past EOF", b, "data section would start at byte");
  }
  add_bytes("empty file", {}, "GGUF magic at byte 0: needs 4 bytes but the file has only 0 left");
  add_bytes("magic only", {'G', 'G', 'U', 'F'}, "GGUF version at byte 4: needs 4 bytes");
  {
    w::Bytes f = valid_base().build();
    f.resize(20);
    add_bytes("truncated in n_kv", f, "metadata count at byte 16");
  }
  return cases;
}

// ---- header walker (independent of the reader) ------------------------------------------------

struct HeaderField {
  uint64_t offset;
  uint64_t size;
  bool is_u64;  // an 8-byte count, length or offset
};

// Walks a well-formed GGUF header and lists its fields. String arrays longer than
// 2 * keep_elements record only their first and last keep_elements elements.
class HeaderWalker {
 public:
  HeaderWalker(const w::Bytes& file, uint64_t keep_elements) : f_(file), keep_(keep_elements) {
    field(4);  // magic
    field(4);  // version
    const uint64_t n_tensors = u64_field();
    const uint64_t n_kv = u64_field();
    for (uint64_t k = 0; k < n_kv; ++k) {
      string(true);
      value(u32_field(), true);
    }
    for (uint64_t k = 0; k < n_tensors; ++k) {
      string(true);
      const uint32_t n_dims = u32_field();
      for (uint32_t d = 0; d < n_dims; ++d) u64_field();
      field(4);  // type
      u64_field();  // offset
    }
  }
  const std::vector<HeaderField>& fields() const { return fields_; }
  uint64_t end() const { return pos_; }

 private:
  void field(uint64_t n, bool is_u64 = false, bool record = true) {
    REQUIRE(pos_ + n <= f_.size());
    if (record) fields_.push_back({pos_, n, is_u64});
    pos_ += n;
  }
  uint64_t u64_field(bool record = true) {
    uint64_t v;
    REQUIRE(pos_ + 8 <= f_.size());
    std::memcpy(&v, f_.data() + pos_, 8);
    field(8, true, record);
    return v;
  }
  uint32_t u32_field(bool record = true) {
    uint32_t v;
    REQUIRE(pos_ + 4 <= f_.size());
    std::memcpy(&v, f_.data() + pos_, 4);
    field(4, false, record);
    return v;
  }
  void string(bool record) { field(u64_field(record), false, record); }
  void value(uint32_t type, bool record) {
    switch (type) {
      case w::kU8: case w::kI8: case w::kBool: field(1, false, record); break;
      case w::kU16: case w::kI16: field(2, false, record); break;
      case w::kU32: case w::kI32: case w::kF32: field(4, false, record); break;
      case w::kU64: case w::kI64: case w::kF64: field(8, false, record); break;
      case w::kString: string(record); break;
      case w::kArray: {
        const uint32_t et = u32_field(record);
        const uint64_t n = u64_field(record);
        const uint64_t fixed = et == w::kU8 || et == w::kI8 || et == w::kBool ? 1
                               : et == w::kU16 || et == w::kI16             ? 2
                               : et == w::kU32 || et == w::kI32 || et == w::kF32 ? 4
                               : et == w::kU64 || et == w::kI64 || et == w::kF64 ? 8
                                                                                  : 0;
        if (fixed) {
          field(n * fixed, false, record);
          break;
        }
        for (uint64_t k = 0; k < n; ++k) value(et, record && (k < keep_ || k + keep_ >= n));
        break;
      }
      default: FAIL("the walker met value type " << type);
    }
  }

  const w::Bytes& f_;
  uint64_t keep_;
  uint64_t pos_ = 0;
  std::vector<HeaderField> fields_;
};

// A scratch copy of a fixture that tests shrink or patch in place (no rewrite per case).
class ScratchFile {
 public:
  ScratchFile(const w::Bytes& bytes, const std::string& name) : path_(w::write_temp_file(bytes, name)) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd_ >= 0);
  }
  ~ScratchFile() { ::close(fd_); }
  const std::string& path() const { return path_; }
  void truncate(uint64_t size) { REQUIRE(::ftruncate(fd_, static_cast<off_t>(size)) == 0); }
  void write_at(uint64_t offset, const void* p, size_t n) {
    REQUIRE(::pwrite(fd_, p, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n));
  }

 private:
  std::string path_;
  int fd_ = -1;
};

const char* const kTinyB = "tiny/tiny-b/gguf/tiny-b-Q4_K_M.gguf";
const char* const kVocab = "tokenizer/gemma3-vocab.gguf";

}  // namespace

TEST_CASE("the heap watch sees allocations", "[corrupt][gguf]") {
#ifdef LEM_TEST_HAS_ASAN
  REQUIRE(HeapWatch::available());
  HeapWatch::reset_peak();
  const int64_t before = HeapWatch::live();
  {
    std::vector<uint8_t> big(10 << 20);
    big[0] = 1;
  }
  CHECK(HeapWatch::peak() - before >= (10 << 20));
  CHECK(HeapWatch::live() - before < (1 << 20));
#else
  WARN("built without ASan: heap bounds are not checked");
#endif
}

TEST_CASE("hostile GGUF files give exact errors", "[corrupt][gguf]") {
  REQUIRE(open_checked(w::write_temp_file(valid_base().build(), "base.gguf")).opened);

  for (const auto& c : hostile_cases()) {
    INFO("case: " << c.name);
    const std::string path = w::write_temp_file(c.bytes, "hostile.gguf");
    const OpenResult r = open_checked(path);
    REQUIRE_FALSE(r.opened);
    CHECK(r.status == c.status);
    INFO("message: " << r.message);
    CHECK(r.message.find(c.message) != std::string::npos);
    CHECK(r.message.find(path) == 0);  // messages start with the file
    CHECK(r.message.size() < 400);     // names from the file are shortened
  }

  SECTION("paths that cannot be opened are I/O errors") {
    const OpenResult missing = open_checked("/nonexistent/lem/missing.gguf");
    CHECK(missing.status == Status::Io);
    CHECK(missing.message.find("cannot open") != std::string::npos);
    const OpenResult dir = open_checked(std::filesystem::temp_directory_path().string());
    CHECK(dir.status == Status::Io);
    CHECK(dir.message.find("not a regular file") != std::string::npos);
  }
}

TEST_CASE("truncated GGUF fixtures fail cleanly at every header field boundary", "[corrupt][gguf]") {
  struct Fixture {
    const char* rel;
    uint64_t keep_elements;  // string-array elements whose boundaries are all tested, at each end
    int random_points;
  };
  // The vocabulary has 262144 token strings: test the boundaries of the first and last 48.
  for (const Fixture fx : {Fixture{kTinyB, UINT64_MAX / 2, 200}, Fixture{kVocab, 48, 200}}) {
    INFO(fx.rel);
    const w::Bytes full = lem::test::read_bytes(lem::test::data_path(fx.rel));
    REQUIRE(full.size() > 1000);
    const HeaderWalker walker(full, fx.keep_elements);

    std::set<uint64_t, std::greater<>> cuts;  // descending: each cut shrinks the same file
    for (const auto& f : walker.fields()) {
      cuts.insert(f.offset);
      cuts.insert(f.offset + f.size);
    }
    cuts.insert(walker.end());
    std::mt19937_64 rng(0x6775'6666'0001);
    for (int k = 0; k < fx.random_points; ++k) cuts.insert(rng() % full.size());
    cuts.erase(full.size());  // the whole file is not a truncation (vocab: header ends the file)

    ScratchFile scratch(full, "truncated.gguf");
    size_t tested = 0;
    for (uint64_t cut : cuts) {
      INFO("truncated to " << cut << " bytes");
      scratch.truncate(cut);
      const OpenResult r = open_checked(scratch.path());
      REQUIRE_FALSE(r.opened);
      REQUIRE(r.status == Status::BadFormat);
      ++tested;
    }
    CHECK(tested > 200);
  }
}

TEST_CASE("GGUF fixture headers with corrupted bytes open or fail cleanly", "[corrupt][gguf]") {
  const w::Bytes original = lem::test::read_bytes(lem::test::data_path(kTinyB));
  const HeaderWalker walker(original, UINT64_MAX / 2);
  const uint64_t header_end = walker.end();
  ScratchFile scratch(original, "mutated.gguf");
  REQUIRE(open_checked(scratch.path()).opened);

  auto restore = [&](uint64_t offset, size_t n) { scratch.write_at(offset, original.data() + offset, n); };
  size_t opened = 0, failed = 0;
  auto expect_clean = [&](const OpenResult& r) {
    if (r.opened) {
      ++opened;
    } else {
      ++failed;
      CHECK(r.status == Status::BadFormat);
    }
  };

  SECTION("random byte flips and overwrites") {
    std::mt19937_64 rng(0x6775'6666'0002);
    for (int iter = 0; iter < 2000; ++iter) {
      const int n_edits = 1 + static_cast<int>(rng() % 4);
      std::vector<uint64_t> touched;
      for (int e = 0; e < n_edits; ++e) {
        const uint64_t at = rng() % header_end;
        uint8_t b = original[at];
        switch (rng() % 3) {
          case 0: b ^= static_cast<uint8_t>(1u << (rng() % 8)); break;  // one bit
          case 1: b = static_cast<uint8_t>(rng()); break;                 // any byte
          default: b = (rng() % 2) ? 0xFF : 0x00; break;
        }
        scratch.write_at(at, &b, 1);
        touched.push_back(at);
      }
      INFO("iteration " << iter);
      expect_clean(open_checked(scratch.path()));
      for (uint64_t at : touched) restore(at, 1);
    }
    CHECK(failed > 1000);  // most edits break something
  }

  SECTION("every 8-byte count, length and offset set to 0, 2^63, 2^64-1") {
    size_t fields = 0;
    for (const auto& f : walker.fields()) {
      if (!f.is_u64) continue;
      ++fields;
      for (uint64_t v : {uint64_t{0}, uint64_t{1} << 63, UINT64_MAX}) {
        INFO("field at byte " << f.offset << " = " << v);
        scratch.write_at(f.offset, &v, 8);
        expect_clean(open_checked(scratch.path()));
        restore(f.offset, 8);
      }
    }
    CHECK(fields > 1000);  // 2 counts, 33 keys, 1024 token lengths, 54 x (name, ne, offset)
  }
  CHECK(open_checked(scratch.path()).opened);  // restored
}

TEST_CASE("valid GGUF files built to amplify memory stay within the heap bound", "[corrupt][gguf]") {
  // The cheapest encodings of what the reader turns into objects: empty arrays (12 bytes each),
  // empty strings (8 bytes), one-byte keys with u8 values (14 bytes), minimal tensor infos.
  std::vector<std::pair<std::string, w::Builder>> files;
  {
    w::Builder b;
    b.kv("arrays", w::array(w::kArray, std::vector<w::Value>(80000, w::array(w::kU8, {}))));
    files.emplace_back("80000 empty arrays", std::move(b));
  }
  {
    w::Builder b;
    b.kv("strings", w::array(w::kString, std::vector<w::Value>(100000, w::string(""))));
    files.emplace_back("100000 empty strings", std::move(b));
  }
  {
    w::Builder b;
    for (int k = 0; k < 50000; ++k) b.kv(std::to_string(k), w::u8(0));
    files.emplace_back("50000 key/values", std::move(b));
  }
  {
    w::Builder b;
    for (int k = 0; k < 30000; ++k) b.tensor_info({std::to_string(k), {0}, 0, 0});
    files.emplace_back("30000 empty tensors", std::move(b));
  }
  for (const auto& [name, builder] : files) {
    INFO(name);
    const OpenResult r = open_checked(w::write_temp_file(builder.build(), "amplify.gguf"));
    CHECK(r.opened);
  }
}
