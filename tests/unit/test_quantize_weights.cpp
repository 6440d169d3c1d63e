// Weight quantisers (kernels/quant/quantize_weights.hpp) against ggml's own quantisation of the
// fixture matrix (quant/NAME.bin, made by ggml_quantize_chunk without an imatrix), byte for
// byte, plus round-trip error bounds on fresh data and the degenerate blocks.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/dequant.hpp"
#include "kernels/fp16.hpp"
#include "kernels/ggml_types.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/quantize_weights.hpp"
#include "support/test_data.hpp"

namespace {

using lem::GgmlType;
using lem::test::data_path;
using lem::test::read_bytes;

constexpr int64_t kRows = 8;
constexpr int64_t kCols = 512;

std::vector<float> fixture_source() {
  const auto bytes = read_bytes(data_path("quant/source.f32"));
  REQUIRE(bytes.size() == kRows * kCols * sizeof(float));
  std::vector<float> v(kRows * kCols);
  std::memcpy(v.data(), bytes.data(), bytes.size());
  return v;
}

const nlohmann::json& fixture_entry(const nlohmann::json& index, const std::string& name) {
  for (const auto& t : index.at("types"))
    if (t.at("name") == name) return t;
  FAIL("no fixture entry for " << name);
  return index;  // not reached
}

std::vector<uint8_t> quantize_rows(GgmlType type, const float* src, int64_t rows, int64_t cols) {
  const uint64_t row_bytes = *lem::ggml_row_bytes(type, static_cast<uint64_t>(cols));
  std::vector<uint8_t> out(static_cast<size_t>(rows) * row_bytes, 0xCD);
  for (int64_t r = 0; r < rows; ++r) REQUIRE(lem::quantize_row(type, src + r * cols, out.data() + r * row_bytes, cols));
  return out;
}

std::vector<float> dequantize_rows(GgmlType type, const std::vector<uint8_t>& q, int64_t rows, int64_t cols) {
  const uint64_t row_bytes = *lem::ggml_row_bytes(type, static_cast<uint64_t>(cols));
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) REQUIRE(lem::dequantize_row(type, q.data() + r * row_bytes, out.data() + r * cols, cols));
  return out;
}

// "" when equal; otherwise the first differing row, block and byte.
std::string first_byte_mismatch(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want, GgmlType type) {
  if (got.size() != want.size()) return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  const uint64_t row_bytes = *lem::ggml_row_bytes(type, kCols);
  const uint64_t block_bytes = lem::ggml_traits(type).type_size;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i]) {
      std::ostringstream msg;
      msg << "row " << i / row_bytes << " block " << (i % row_bytes) / block_bytes << " byte " << (i % row_bytes) % block_bytes
          << ": got 0x" << std::hex << int(got[i]) << " want 0x" << int(want[i]);
      return msg.str();
    }
  }
  return "";
}

struct RowError {
  double max_abs = 0;
  double rmse = 0;
  double rms = 0;
};

RowError row_error(const float* x, const float* y, int64_t n) {
  RowError e;
  double sq = 0, sx = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(y[i]) - static_cast<double>(x[i]);
    e.max_abs = std::max(e.max_abs, std::fabs(d));
    sq += d * d;
    sx += static_cast<double>(x[i]) * x[i];
  }
  e.rmse = std::sqrt(sq / static_cast<double>(n));
  e.rms = std::sqrt(sx / static_cast<double>(n));
  return e;
}

// Every type the quantiser implements, as the fixture names it.
const std::vector<std::string> kImplemented = {"F16",  "BF16", "Q4_0", "Q4_1", "Q5_0",   "Q5_1",   "Q8_0",  "Q2_K",  "Q3_K",
                                               "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0"};

GgmlType type_named(const std::string& fixture_name, const nlohmann::json& entry) {
  const auto type = lem::ggml_type_from_name(entry.at("ggml_type_name").get<std::string>());
  INFO(fixture_name);
  REQUIRE(type.has_value());
  return *type;
}

}  // namespace

TEST_CASE("quantize_row reproduces ggml's quantisation of the fixture bit for bit", "[quantize]") {
  const auto index = nlohmann::json::parse(read_bytes(data_path("quant/index.json")));
  const auto source = fixture_source();
  for (const auto& name : kImplemented) {
    const auto& entry = fixture_entry(index, name);
    const GgmlType type = type_named(name, entry);
    INFO("type " << name);
    REQUIRE_FALSE(entry.at("imatrix_used").get<bool>());
    REQUIRE(lem::quantize_supported(type));
    const auto want = read_bytes(data_path("quant/" + entry.at("bin").get<std::string>()));
    const auto got = quantize_rows(type, source.data(), kRows, kCols);
    CHECK(first_byte_mismatch(got, std::vector<uint8_t>(want.begin(), want.end()), type) == "");
  }
}

TEST_CASE("quantize -> dequantize errors equal the ones the fixture records for ggml", "[quantize]") {
  const auto index = nlohmann::json::parse(read_bytes(data_path("quant/index.json")));
  const auto source = fixture_source();
  for (const auto& name : kImplemented) {
    const auto& entry = fixture_entry(index, name);
    const GgmlType type = type_named(name, entry);
    const auto back = dequantize_rows(type, quantize_rows(type, source.data(), kRows, kCols), kRows, kCols);
    for (int64_t r = 0; r < kRows; ++r) {
      INFO("type " << name << " row " << r);
      const RowError e = row_error(source.data() + r * kCols, back.data() + r * kCols, kCols);
      const double want_max = entry.at("max_abs_err_per_row").at(r).get<double>();
      const double want_rmse = entry.at("rmse_per_row").at(r).get<double>();
      CHECK(e.max_abs == want_max);  // a difference of two floats, exact in double
      CHECK_THAT(e.rmse, Catch::Matchers::WithinRel(want_rmse, 1e-9));
    }
  }
}

TEST_CASE("round-trip error on fresh data stays within each family's bound", "[quantize]") {
  // Relative RMSE bounds (rmse / rms of the row), about 1.3x what ggml's own quantisation of
  // Gaussian rows gives (fixture row 0: Q8_0 0.0055, Q6_K 0.018, Q5_K 0.036, Q5_0 0.043,
  // Q4_K 0.069, Q4_0 0.086, IQ4 0.081, Q3_K 0.157, Q2_K 0.305, TQ 0.80).
  struct Bound {
    GgmlType type;
    double rel_rmse;
  };
  const Bound bounds[] = {
      {GgmlType::F16, 0.0005}, {GgmlType::BF16, 0.003},   {GgmlType::Q8_0, 0.008},  {GgmlType::Q6_K, 0.025},
      {GgmlType::Q5_K, 0.05},  {GgmlType::Q5_0, 0.06},    {GgmlType::Q5_1, 0.05},   {GgmlType::Q4_K, 0.09},
      {GgmlType::Q4_0, 0.11},  {GgmlType::Q4_1, 0.105},   {GgmlType::IQ4_NL, 0.105}, {GgmlType::IQ4_XS, 0.105},
      {GgmlType::Q3_K, 0.2},   {GgmlType::Q2_K, 0.4},     {GgmlType::TQ1_0, 1.0},   {GgmlType::TQ2_0, 1.0},
  };
  std::mt19937_64 rng(20240917);
  const int64_t rows = 16, cols = 1024;
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    // Alternate weight-like scales; odd rows get a mean offset, which the min formats absorb.
    std::normal_distribution<float> dist(r % 2 ? 0.01f : 0.0f, r % 4 < 2 ? 0.02f : 1.0f);
    for (int64_t c = 0; c < cols; ++c) x[static_cast<size_t>(r * cols + c)] = dist(rng);
  }
  for (const auto& b : bounds) {
    const auto back = dequantize_rows(b.type, quantize_rows(b.type, x.data(), rows, cols), rows, cols);
    for (int64_t r = 0; r < rows; ++r) {
      INFO("type " << lem::ggml_traits(b.type).name << " row " << r);
      const RowError e = row_error(x.data() + r * cols, back.data() + r * cols, cols);
      CHECK(e.rmse / e.rms < b.rel_rmse);
    }
  }
}

TEST_CASE("degenerate blocks: zero, constant and tiny values", "[quantize]") {
  const auto source = fixture_source();
  const float* row4 = source.data() + 4 * kCols;  // [0..31] = 0, [32..63] = 0.75
  const float* row5 = source.data() + 5 * kCols;  // N(0, 1e-3) with +-1e-5 .. 1e-8 at [0..7]

  SECTION("an all-zero 32-block is written as spec §6 'Zero blocks' says") {
    uint8_t out[64];
    auto f16_at = [&](int offset) {
      uint16_t h;
      std::memcpy(&h, out + offset, 2);
      return h;
    };
    REQUIRE(lem::quantize_row(GgmlType::Q4_0, row4, out, 32));
    CHECK(f16_at(0) == 0x8000);  // d = -0
    for (int j = 0; j < 16; ++j) CHECK(out[2 + j] == 0x88);

    REQUIRE(lem::quantize_row(GgmlType::Q5_0, row4, out, 32));
    CHECK(f16_at(0) == 0x8000);
    for (int j = 0; j < 4; ++j) CHECK(out[2 + j] == 0xFF);   // q = 16: the fifth bit of every element
    for (int j = 0; j < 16; ++j) CHECK(out[6 + j] == 0x00);

    for (const GgmlType t : {GgmlType::Q4_1, GgmlType::Q5_1, GgmlType::Q8_0}) {
      INFO(lem::ggml_traits(t).name);
      REQUIRE(lem::quantize_row(t, row4, out, 32));
      for (uint32_t j = 0; j < lem::ggml_traits(t).type_size; ++j) CHECK(out[j] == 0);
    }

    REQUIRE(lem::quantize_row(GgmlType::IQ4_NL, row4, out, 32));
    CHECK(f16_at(0) == 0x0000);
    for (int j = 0; j < 16; ++j) CHECK(out[2 + j] == 0x88);
  }

  SECTION("an all-zero row decodes to zeros in every type") {
    const std::vector<float> zeros(512, 0.0f);
    for (const GgmlType type : {GgmlType::F16, GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0,
                                GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K,
                                GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::TQ1_0,
                                GgmlType::TQ2_0}) {
      INFO(lem::ggml_traits(type).name);
      const auto back = dequantize_rows(type, quantize_rows(type, zeros.data(), 1, 512), 1, 512);
      for (float v : back) REQUIRE(v == 0.0f);
    }
    // Q6_K writes an all-zero super-block as all zero bytes.
    const auto q6 = quantize_rows(GgmlType::Q6_K, zeros.data(), 1, 512);
    for (uint8_t byte : q6) REQUIRE(byte == 0);
  }

  SECTION("a constant block comes back close to its value") {
    // Elements 32..63 of row 4 are 0.75; the 32-element formats see it as its own block.
    for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                GgmlType::IQ4_NL}) {
      INFO(lem::ggml_traits(type).name);
      const auto back = dequantize_rows(type, quantize_rows(type, row4 + 32, 1, 32), 1, 32);
      for (float v : back) CHECK(std::fabs(v - 0.75f) < 1e-3f);
    }
  }

  SECTION("values far below f16's range neither crash nor produce NaN") {
    // 1e-30 .. 1e-40 (float subnormals): every f16 scale underflows to zero or 1/d overflows.
    std::vector<float> tiny(512);
    for (size_t i = 0; i < tiny.size(); ++i) tiny[i] = (i % 2 ? -1.0f : 1.0f) * std::pow(10.0f, -30.0f - float(i % 11));
    for (const GgmlType type : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                                GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K,
                                GgmlType::IQ4_NL, GgmlType::IQ4_XS, GgmlType::TQ1_0, GgmlType::TQ2_0}) {
      INFO(lem::ggml_traits(type).name);
      const auto back = dequantize_rows(type, quantize_rows(type, tiny.data(), 1, 512), 1, 512);
      for (float v : back) REQUIRE(std::fabs(v) < 1e-6f);
    }
  }

  SECTION("row 5's tiny values round to f16 subnormals as ggml's do") {
    // Covered byte for byte by the first test case; here the decoded row stays within 1e-3.
    const auto back = dequantize_rows(GgmlType::Q8_0, quantize_rows(GgmlType::Q8_0, row5, 1, kCols), 1, kCols);
    const RowError e = row_error(row5, back.data(), kCols);
    CHECK(e.max_abs < 1e-4);
  }
}

TEST_CASE("quantize_row rejects unsupported types and bad lengths without writing", "[quantize]") {
  std::vector<float> src(512, 0.5f);
  std::vector<uint8_t> dst(4096, 0xAB);
  for (const GgmlType t : {GgmlType::IQ2_XXS, GgmlType::IQ1_S, GgmlType::IQ3_S, GgmlType::Q8_1, GgmlType::Q8_K,
                           GgmlType::I8, GgmlType::MXFP4}) {
    INFO(lem::ggml_traits(t).name);
    CHECK_FALSE(lem::quantize_supported(t));
    CHECK_FALSE(lem::quantize_row(t, src.data(), dst.data(), 256));
  }
  CHECK_FALSE(lem::quantize_row(GgmlType::Q4_0, src.data(), dst.data(), 48));
  CHECK_FALSE(lem::quantize_row(GgmlType::Q4_K, src.data(), dst.data(), 288));
  CHECK_FALSE(lem::quantize_row(GgmlType::F16, src.data(), dst.data(), -2));
  for (uint8_t b : dst) REQUIRE(b == 0xAB);
  CHECK(lem::quantize_row(GgmlType::Q4_0, src.data(), dst.data(), 0));
}

TEST_CASE("quantize_row writes unaligned destinations", "[quantize]") {
  const auto source = fixture_source();
  const uint64_t row_bytes = *lem::ggml_row_bytes(GgmlType::Q4_K, kCols);
  std::vector<uint8_t> aligned(row_bytes), shifted(row_bytes + 1);
  REQUIRE(lem::quantize_row(GgmlType::Q4_K, source.data(), aligned.data(), kCols));
  REQUIRE(lem::quantize_row(GgmlType::Q4_K, source.data(), shifted.data() + 1, kCols));
  CHECK(std::memcmp(aligned.data(), shifted.data() + 1, row_bytes) == 0);
}
