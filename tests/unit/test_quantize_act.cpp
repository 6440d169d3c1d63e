// Activation quantisers (kernels/kernels.hpp quantize_activation_row) against ggml's reference
// quantisers: act.f32 of the quant fixtures must give act_q8_0/q8_1/q8_K/f16/bf16.bin byte for byte.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "support/test_data.hpp"

namespace {

using lem::ActType;
using lem::test::data_path;
using lem::test::read_bytes;

std::vector<float> fixture_act() {
  const std::vector<unsigned char> bytes = read_bytes(data_path("quant/act.f32"));
  REQUIRE(bytes.size() == 512 * sizeof(float));
  std::vector<float> act(512);
  std::memcpy(act.data(), bytes.data(), bytes.size());
  return act;
}

}  // namespace

TEST_CASE("quantize_activation_row matches ggml's reference quantisers byte for byte", "[kernels][quantize_act]") {
  const std::vector<float> act = fixture_act();
  const auto [type, file] = GENERATE(table<ActType, std::string>({
      {ActType::Q8_0, "act_q8_0.bin"},
      {ActType::Q8_1, "act_q8_1.bin"},
      {ActType::Q8_K, "act_q8_K.bin"},
      {ActType::F16, "act_f16.bin"},
      {ActType::BF16, "act_bf16.bin"},
  }));
  INFO("format " << lem::act_type_name(type) << ", golden " << file);
  const std::vector<unsigned char> want = read_bytes(data_path("quant/" + file));
  REQUIRE(want.size() == lem::act_row_bytes(type, 512));

  std::vector<unsigned char> got(want.size() + 16, 0xAB);
  lem::quantize_activation_row(type, act.data(), got.data(), 512);
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("byte " << i);
    REQUIRE(got[i] == want[i]);
  }
  for (size_t i = want.size(); i < got.size(); ++i) REQUIRE(got[i] == 0xAB);  // nothing written past the row
}

TEST_CASE("quantize_activation_row to F32 copies the row", "[kernels][quantize_act]") {
  const std::vector<float> act = fixture_act();
  std::vector<float> got(act.size());
  lem::quantize_activation_row(ActType::F32, act.data(), got.data(), static_cast<int64_t>(act.size()));
  REQUIRE(std::memcmp(got.data(), act.data(), act.size() * sizeof(float)) == 0);
}

TEST_CASE("activation format geometry", "[kernels][quantize_act]") {
  CHECK(lem::act_block_size(ActType::Q8_0) == 32);
  CHECK(lem::act_block_bytes(ActType::Q8_0) == 34);
  CHECK(lem::act_block_size(ActType::Q8_1) == 32);
  CHECK(lem::act_block_bytes(ActType::Q8_1) == 36);
  CHECK(lem::act_block_size(ActType::Q8_K) == 256);
  CHECK(lem::act_block_bytes(ActType::Q8_K) == 292);
  CHECK(lem::act_row_bytes(ActType::F32, 1152) == 4608);
  CHECK(lem::act_row_bytes(ActType::BF16, 1152) == 2304);
  CHECK(lem::act_row_bytes(ActType::Q8_0, 1152) == 36 * 34);
}
