// Dequantisation (kernels/dequant.hpp) against ggml's and the MLX fixture's float32 goldens, bit
// for bit.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/dequant.hpp"
#include "kernels/ggml_types.hpp"
#include "support/sha256.hpp"
#include "support/test_data.hpp"

namespace {

using lem::GgmlType;
using lem::test::data_path;
using lem::test::read_bytes;

std::vector<float> floats_from(const std::vector<unsigned char>& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

// "" when got and want have identical bit patterns; otherwise where the first difference is.
std::string first_mismatch(const std::vector<float>& got, const std::vector<float>& want, int64_t cols) {
  if (got.size() != want.size()) return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const uint32_t g = std::bit_cast<uint32_t>(got[i]);
    const uint32_t w = std::bit_cast<uint32_t>(want[i]);
    if (g != w) {
      std::ostringstream msg;
      msg << "row " << static_cast<int64_t>(i) / cols << " col " << static_cast<int64_t>(i) % cols << ": got " << got[i]
          << " (0x" << std::hex << g << ") want " << std::dec << want[i] << " (0x" << std::hex << w << ")";
      return msg.str();
    }
  }
  return "";
}

// A small, trusting safetensors reader for fixture files (the library's own reader is tested
// elsewhere): header JSON plus byte ranges, bounds-checked with REQUIRE.
struct FixtureSafetensors {
  std::vector<unsigned char> bytes;
  nlohmann::json header;
  size_t data_start = 0;

  explicit FixtureSafetensors(const std::string& path) : bytes(read_bytes(path)) {
    REQUIRE(bytes.size() >= 8);
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    REQUIRE(n <= bytes.size() - 8);
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
    data_start = 8 + n;
  }

  struct View {
    std::string dtype;
    std::vector<int64_t> shape;
    const unsigned char* data;
    size_t size;
  };

  View tensor(const std::string& name) const {
    INFO("tensor " << name);
    REQUIRE(header.contains(name));
    const auto& t = header.at(name);
    const auto begin = t.at("data_offsets").at(0).get<size_t>();
    const auto end = t.at("data_offsets").at(1).get<size_t>();
    REQUIRE(begin <= end);
    REQUIRE(end <= bytes.size() - data_start);
    return {t.at("dtype").get<std::string>(), t.at("shape").get<std::vector<int64_t>>(), bytes.data() + data_start + begin,
            end - begin};
  }

  // Tensor data copied out, so that uint32/float views are aligned.
  template <typename T>
  std::vector<T> copy(const std::string& name) const {
    const View v = tensor(name);
    REQUIRE(v.size % sizeof(T) == 0);
    std::vector<T> out(v.size / sizeof(T));
    std::memcpy(out.data(), v.data, v.size);
    return out;
  }
};

// Tensor name prefix in quant_vectors.safetensors, e.g. "b4.gpu.".
std::string vector_prefix(uint32_t bits, const char* variant) {
  std::ostringstream s;
  s << 'b' << bits << '.' << variant << '.';
  return s.str();
}

}  // namespace

TEST_CASE("dequantize_row is bit-exact with ggml for every golden type", "[dequant]") {
  const auto index = nlohmann::json::parse(read_bytes(data_path("quant/index.json")));
  const auto& types = index.at("types");
  REQUIRE(types.size() == 23);
  for (const auto& t : types) {
    const std::string name = t.at("name").get<std::string>();
    INFO("type " << name);
    const auto type = lem::ggml_type_from_name(t.at("ggml_type_name").get<std::string>());
    REQUIRE(type.has_value());
    CHECK(static_cast<uint32_t>(*type) == t.at("ggml_type_id").get<uint32_t>());
    REQUIRE(lem::dequantize_supported(*type));

    const int64_t rows = t.at("rows").get<int64_t>();
    const int64_t cols = t.at("cols").get<int64_t>();
    const uint64_t row_bytes = t.at("bytes_per_row").get<uint64_t>();
    CHECK(lem::ggml_traits(*type).block_size == t.at("block_size").get<uint32_t>());
    CHECK(lem::ggml_traits(*type).type_size == t.at("type_size").get<uint32_t>());
    REQUIRE(lem::ggml_row_bytes(*type, static_cast<uint64_t>(cols)) == row_bytes);

    const auto bin = read_bytes(data_path("quant/" + t.at("bin").get<std::string>()));
    const auto want = floats_from(read_bytes(data_path("quant/" + t.at("f32").get<std::string>())));
    REQUIRE(bin.size() == static_cast<size_t>(rows) * row_bytes);
    REQUIRE(want.size() == static_cast<size_t>(rows * cols));

    std::vector<float> got(want.size());
    for (int64_t r = 0; r < rows; ++r) {
      REQUIRE(lem::dequantize_row(*type, bin.data() + r * row_bytes, got.data() + r * cols, cols));
    }
    CHECK(first_mismatch(got, want, cols) == "");
  }
}

TEST_CASE("dequantize_row reads unaligned blocks", "[dequant]") {
  // Q4_K row 0 placed at an odd address must give the same floats as the aligned copy.
  const auto bin = read_bytes(data_path("quant/Q4_K.bin"));
  const auto want = floats_from(read_bytes(data_path("quant/Q4_K.f32")));
  const uint64_t row_bytes = *lem::ggml_row_bytes(GgmlType::Q4_K, 512);
  std::vector<unsigned char> shifted(row_bytes + 1);
  std::memcpy(shifted.data() + 1, bin.data(), row_bytes);
  std::vector<float> got(512);
  REQUIRE(lem::dequantize_row(GgmlType::Q4_K, shifted.data() + 1, got.data(), 512));
  CHECK(first_mismatch(got, std::vector<float>(want.begin(), want.begin() + 512), 512) == "");
}

TEST_CASE("dequantize_row: F32 copies, Q8_K is d * q", "[dequant]") {
  const auto act = floats_from(read_bytes(data_path("quant/act.f32")));
  std::vector<float> got(act.size());
  REQUIRE(lem::dequantize_row(GgmlType::F32, act.data(), got.data(), static_cast<int64_t>(act.size())));
  CHECK(first_mismatch(got, act, 512) == "");

  // act_q8_K.bin: 2 blocks of {f32 d, int8 qs[256], int16 bsums[16]}. A product of a float and a
  // small integer, rounded once, is the same computed in double and then narrowed.
  const auto q8k = read_bytes(data_path("quant/act_q8_K.bin"));
  REQUIRE(q8k.size() == *lem::ggml_row_bytes(GgmlType::Q8_K, 512));
  std::vector<float> want(512);
  for (int b = 0; b < 2; ++b) {
    float d;
    std::memcpy(&d, q8k.data() + 292 * b, 4);
    for (int j = 0; j < 256; ++j) {
      const auto q = static_cast<int8_t>(q8k[292 * b + 4 + j]);
      want[256 * b + j] = static_cast<float>(static_cast<double>(d) * q);
    }
  }
  REQUIRE(lem::dequantize_row(GgmlType::Q8_K, q8k.data(), got.data(), 512));
  CHECK(first_mismatch(got, want, 512) == "");
}

TEST_CASE("dequantize_row rejects unsupported types and bad lengths without writing", "[dequant]") {
  const std::vector<unsigned char> src(1024, 0x11);
  std::vector<float> dst(64, 7.0f);
  for (const GgmlType t : {GgmlType::Q8_1, GgmlType::I8, GgmlType::I32, GgmlType::F64, GgmlType::MXFP4}) {
    INFO("type " << lem::ggml_traits(t).name);
    CHECK_FALSE(lem::dequantize_supported(t));
    CHECK_FALSE(lem::dequantize_row(t, src.data(), dst.data(), 32));
  }
  CHECK_FALSE(lem::dequantize_row(GgmlType::Q4_0, src.data(), dst.data(), 48));   // not a multiple of 32
  CHECK_FALSE(lem::dequantize_row(GgmlType::Q4_K, src.data(), dst.data(), 64));   // not a multiple of 256
  CHECK_FALSE(lem::dequantize_row(GgmlType::F16, src.data(), dst.data(), -1));
  for (float v : dst) REQUIRE(v == 7.0f);
  CHECK(lem::dequantize_row(GgmlType::Q4_0, src.data(), dst.data(), 0));
}

TEST_CASE("MLX affine dequantisation matches quant_vectors for every bit width", "[dequant]") {
  const FixtureSafetensors st(data_path("tiny/tiny-b/mlx-4bit/goldens/quant_vectors.safetensors"));
  for (const uint32_t bits : {2u, 3u, 4u, 5u, 6u, 8u}) {
    for (const char* variant : {"cpu", "gpu"}) {
      const std::string prefix = vector_prefix(bits, variant);
      INFO(prefix);
      const auto weight = st.copy<uint32_t>(prefix + "weight");
      const auto scales = st.tensor(prefix + "scales");
      const auto biases = st.tensor(prefix + "biases");
      const auto codes = st.tensor(prefix + "q");
      const auto want = st.copy<float>(prefix + "dequant");
      REQUIRE(scales.dtype == "BF16");
      REQUIRE(biases.dtype == "BF16");
      REQUIRE(st.tensor(prefix + "weight").shape == std::vector<int64_t>{16, 2 * static_cast<int64_t>(bits)});
      REQUIRE(want.size() == 16 * 64);
      REQUIRE(codes.size == 16 * 64);

      const size_t words_per_row = 2 * bits;  // 64 codes * bits / 32
      std::vector<float> got(16 * 64);
      for (size_t r = 0; r < 16; ++r) {
        REQUIRE(lem::dequantize_affine_row(bits, 64, GgmlType::BF16, weight.data() + r * words_per_row,
                                           scales.data + 2 * r, biases.data + 2 * r, got.data() + 64 * r, 64));
      }
      CHECK(first_mismatch(got, want, 64) == "");

      // Unpacking alone: scale 1 and bias 0 give back the codes.
      const float one = 1.0f, zero = 0.0f;
      std::vector<float> unpacked(16 * 64), want_codes(16 * 64);
      for (size_t i = 0; i < want_codes.size(); ++i) want_codes[i] = static_cast<float>(codes.data[i]);
      for (size_t r = 0; r < 16; ++r) {
        REQUIRE(lem::dequantize_affine_row(bits, 64, GgmlType::F32, weight.data() + r * words_per_row, &one, &zero,
                                           unpacked.data() + 64 * r, 64));
      }
      CHECK(first_mismatch(unpacked, want_codes, 64) == "");
    }
  }
}

TEST_CASE("MLX affine dequantisation: group sizes 32/128 and F16/F32 scales", "[dequant]") {
  // Codes from the fixture, scales chosen so every product and sum is exact in float32.
  const FixtureSafetensors st(data_path("tiny/tiny-b/mlx-4bit/goldens/quant_vectors.safetensors"));
  for (const uint32_t bits : {2u, 3u, 4u, 5u, 6u, 8u}) {
    const std::string prefix = vector_prefix(bits, "gpu");
    INFO(prefix);
    const auto weight = st.copy<uint32_t>(prefix + "weight");
    const auto codes = st.tensor(prefix + "q");

    // Rows 0 and 1 are contiguous: one 128-element row, as group 32 (F32) and group 128 (F16).
    const float scales32[4] = {0.5f, -2.0f, 0.25f, 4.0f};
    const float biases32[4] = {1.0f, -3.0f, 0.0f, 10.0f};
    std::vector<float> want(128), got(128);
    for (int c = 0; c < 128; ++c) want[c] = scales32[c / 32] * static_cast<float>(codes.data[c]) + biases32[c / 32];
    REQUIRE(lem::dequantize_affine_row(bits, 32, GgmlType::F32, weight.data(), scales32, biases32, got.data(), 128));
    CHECK(first_mismatch(got, want, 128) == "");

    const uint16_t scale_f16 = 0xB800;  // -0.5
    const uint16_t bias_f16 = 0x4500;   // 5.0
    for (int c = 0; c < 128; ++c) want[c] = -0.5f * static_cast<float>(codes.data[c]) + 5.0f;
    REQUIRE(lem::dequantize_affine_row(bits, 128, GgmlType::F16, weight.data(), &scale_f16, &bias_f16, got.data(), 128));
    CHECK(first_mismatch(got, want, 128) == "");
  }
}

TEST_CASE("MLX affine dequantisation rejects unsupported parameters", "[dequant]") {
  const std::vector<uint32_t> packed(64, 0x12345678u);
  const float s = 1.0f, b = 0.0f;
  std::vector<float> dst(256, 7.0f);
  CHECK_FALSE(lem::dequantize_affine_row(1, 64, GgmlType::F32, packed.data(), &s, &b, dst.data(), 64));
  CHECK_FALSE(lem::dequantize_affine_row(7, 64, GgmlType::F32, packed.data(), &s, &b, dst.data(), 64));
  CHECK_FALSE(lem::dequantize_affine_row(16, 64, GgmlType::F32, packed.data(), &s, &b, dst.data(), 64));
  CHECK_FALSE(lem::dequantize_affine_row(4, 16, GgmlType::F32, packed.data(), &s, &b, dst.data(), 64));
  CHECK_FALSE(lem::dequantize_affine_row(4, 256, GgmlType::F32, packed.data(), &s, &b, dst.data(), 256));
  CHECK_FALSE(lem::dequantize_affine_row(4, 64, GgmlType::Q8_0, packed.data(), &s, &b, dst.data(), 64));
  CHECK_FALSE(lem::dequantize_affine_row(4, 64, GgmlType::F32, packed.data(), &s, &b, dst.data(), 96));
  CHECK_FALSE(lem::dequantize_affine_row(4, 64, GgmlType::F32, packed.data(), &s, &b, dst.data(), -64));
  for (float v : dst) REQUIRE(v == 7.0f);
}

TEST_CASE("MLX affine dequantisation of tiny-b's model.safetensors matches dequant.*.f32", "[dequant]") {
  const std::string dir = data_path("tiny/tiny-b/mlx-4bit/");
  const FixtureSafetensors st(dir + "model.safetensors");
  const auto index = nlohmann::json::parse(read_bytes(dir + "goldens/dequant_index.json"));
  REQUIRE(index.size() == 3);
  for (const auto& [file, entry] : index.items()) {
    INFO(file);
    const auto golden = read_bytes(dir + "goldens/" + file);
    REQUIRE(lem::test::sha256_hex(golden) == entry.at("sha256").get<std::string>());
    const auto want = floats_from(golden);

    const std::string weight_name = entry.at("tensor").get<std::string>();
    const std::string module = weight_name.substr(0, weight_name.size() - std::string(".weight").size());
    const auto shape = entry.at("shape").get<std::vector<int64_t>>();
    const int64_t rows = shape.at(0), cols = shape.at(1);
    REQUIRE(want.size() == static_cast<size_t>(rows * cols));

    const auto weight_view = st.tensor(weight_name);
    const auto scales = st.tensor(module + ".scales");
    const auto biases = st.tensor(module + ".biases");
    REQUIRE(weight_view.dtype == "U32");
    REQUIRE(scales.dtype == "BF16");
    REQUIRE(weight_view.shape.at(0) == rows);
    const int64_t words_per_row = weight_view.shape.at(1);
    const auto bits = static_cast<uint32_t>(words_per_row * 32 / cols);
    const int64_t groups = scales.shape.at(1);
    const auto group_size = static_cast<uint32_t>(cols / groups);
    CHECK(bits == 4);
    CHECK(group_size == 64);

    const auto weight = st.copy<uint32_t>(weight_name);
    std::vector<float> got(want.size());
    for (int64_t r = 0; r < rows; ++r) {
      REQUIRE(lem::dequantize_affine_row(bits, group_size, GgmlType::BF16, weight.data() + r * words_per_row,
                                         scales.data + 2 * r * groups, biases.data + 2 * r * groups,
                                         got.data() + r * cols, cols));
    }
    CHECK(first_mismatch(got, want, cols) == "");
  }
}
