// The generated IQ lookup tables (kernels/quant/iq_grids.cpp) against their source byte files.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <map>
#include <sstream>
#include <string>

#include "kernels/quant/iq_grids.hpp"
#include "support/sha256.hpp"
#include "support/test_data.hpp"

namespace {

using lem::test::read_bytes;
using lem::test::sha256_hex;
using lem::test::src_data_path;

struct TableSpec {
  const char* file;
  const void* table;
  size_t bytes;
};

const TableSpec kTables[] = {
    {"kmask_iq2xs.u8", lem::iq::kKmaskIq2xs, sizeof(lem::iq::kKmaskIq2xs)},
    {"ksigns_iq2xs.u8", lem::iq::kKsignsIq2xs, sizeof(lem::iq::kKsignsIq2xs)},
    {"kvalues_iq4nl.i8", lem::iq::kValuesIq4nl, sizeof(lem::iq::kValuesIq4nl)},
    {"iq2xxs_grid.u64", lem::iq::kIq2xxsGrid, sizeof(lem::iq::kIq2xxsGrid)},
    {"iq2xs_grid.u64", lem::iq::kIq2xsGrid, sizeof(lem::iq::kIq2xsGrid)},
    {"iq2s_grid.u64", lem::iq::kIq2sGrid, sizeof(lem::iq::kIq2sGrid)},
    {"iq3xxs_grid.u32", lem::iq::kIq3xxsGrid, sizeof(lem::iq::kIq3xxsGrid)},
    {"iq3s_grid.u32", lem::iq::kIq3sGrid, sizeof(lem::iq::kIq3sGrid)},
    {"iq1s_grid.u64", lem::iq::kIq1sGrid, sizeof(lem::iq::kIq1sGrid)},
};

std::map<std::string, std::string> read_sha256sums(const std::string& path) {
  const auto bytes = read_bytes(path);
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  std::map<std::string, std::string> sums;
  std::string digest, name;
  while (in >> digest >> name) sums[name] = digest;
  return sums;
}

bool all_bytes_in(const void* table, size_t n, std::initializer_list<int> allowed) {
  const auto* p = static_cast<const uint8_t*>(table);
  for (size_t i = 0; i < n; ++i) {
    bool ok = false;
    for (int a : allowed) ok = ok || p[i] == a;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("sha256 helper gives the FIPS 180-4 example digests", "[grids]") {
  CHECK(sha256_hex("", 0) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(sha256_hex(two_blocks.data(), two_blocks.size()) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("grid files match their SHA256SUMS", "[grids]") {
  const auto sums = read_sha256sums(src_data_path("grids/SHA256SUMS"));
  REQUIRE(sums.size() == std::size(kTables));
  for (const auto& t : kTables) {
    INFO(t.file);
    REQUIRE(sums.count(t.file) == 1);
    const auto bytes = read_bytes(src_data_path(std::string("grids/") + t.file));
    REQUIRE(bytes.size() == t.bytes);
    CHECK(sha256_hex(bytes) == sums.at(t.file));
  }
}

TEST_CASE("compiled IQ tables equal the grid file bytes", "[grids]") {
  for (const auto& t : kTables) {
    INFO(t.file);
    const auto bytes = read_bytes(src_data_path(std::string("grids/") + t.file));
    REQUIRE(bytes.size() == t.bytes);
    CHECK(std::memcmp(bytes.data(), t.table, t.bytes) == 0);
  }
}

TEST_CASE("IQ tables have the structure spec §6 describes", "[grids]") {
  for (int j = 0; j < 8; ++j) CHECK(lem::iq::kKmaskIq2xs[j] == (1 << j));
  for (int i = 0; i < 128; ++i) {
    INFO("ksigns index " << i);
    CHECK(lem::iq::kKsignsIq2xs[i] == (i | (std::popcount(static_cast<unsigned>(i)) % 2 ? 0x80 : 0)));
  }
  const int8_t iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
  CHECK(std::memcmp(lem::iq::kValuesIq4nl, iq4nl, sizeof iq4nl) == 0);
  CHECK(all_bytes_in(lem::iq::kIq2xxsGrid, sizeof(lem::iq::kIq2xxsGrid), {8, 25, 43}));
  CHECK(all_bytes_in(lem::iq::kIq2xsGrid, sizeof(lem::iq::kIq2xsGrid), {8, 25, 43}));
  CHECK(all_bytes_in(lem::iq::kIq2sGrid, sizeof(lem::iq::kIq2sGrid), {8, 25, 43}));
  CHECK(all_bytes_in(lem::iq::kIq3xxsGrid, sizeof(lem::iq::kIq3xxsGrid), {4, 12, 20, 28, 36, 44, 52, 62}));
  CHECK(all_bytes_in(lem::iq::kIq3sGrid, sizeof(lem::iq::kIq3sGrid), {1, 3, 5, 7, 9, 11, 13, 15}));
  CHECK(all_bytes_in(lem::iq::kIq1sGrid, sizeof(lem::iq::kIq1sGrid), {0xFF, 0, 1}));
}
