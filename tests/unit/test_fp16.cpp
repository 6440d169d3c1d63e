// f16 / bf16 <-> f32 conversions (kernels/fp16.hpp) against IEEE 754 and ggml's fixtures.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/fp16.hpp"
#include "support/test_data.hpp"

namespace {

using lem::bf16_to_f32;
using lem::f16_to_f32;
using lem::f32_to_bf16;
using lem::f32_to_f16;

uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }
float float_of(uint32_t u) { return std::bit_cast<float>(u); }

bool f16_is_nan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }

// The value of a finite f16 pattern from its definition: (-1)^s * m * 2^(e - 25), m including the
// implicit bit for normals; computed in double (exact) and narrowed (exact: f32 holds every f16).
float f16_value_by_definition(uint16_t h) {
  const int e = (h >> 10) & 0x1F;
  const int m = h & 0x3FF;
  const double magnitude = e == 0 ? std::ldexp(static_cast<double>(m), -24)
                                  : std::ldexp(static_cast<double>(m + 1024), e - 25);
  return static_cast<float>((h & 0x8000) ? -magnitude : magnitude);
}

std::vector<float> read_f32(const std::string& path) {
  const auto bytes = lem::test::read_bytes(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

std::vector<uint16_t> read_u16(const std::string& path) {
  const auto bytes = lem::test::read_bytes(path);
  std::vector<uint16_t> v(bytes.size() / 2);
  std::memcpy(v.data(), bytes.data(), v.size() * 2);
  return v;
}

}  // namespace

TEST_CASE("f16 -> f32 is exact for all 65536 patterns and f32 -> f16 round-trips", "[fp16]") {
  int mismatches = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = f16_to_f32(h);
    const int exponent = (h >> 10) & 0x1F;
    if (f16_is_nan(h)) {
      // NaN: sign and payload kept, made quiet; back to f16 it is ggml's canonical 0x7E00.
      const uint32_t want = (uint32_t{h & 0x8000u} << 16) | 0x7FC00000u | (uint32_t{h & 0x3FFu} << 13);
      if (bits_of(f) != want || f32_to_f16(f) != ((h & 0x8000) | 0x7E00)) ++mismatches;
    } else if (exponent == 0x1F) {
      if (!std::isinf(f) || std::signbit(f) != ((h & 0x8000) != 0) || f32_to_f16(f) != h) ++mismatches;
    } else {
      if (bits_of(f) != bits_of(f16_value_by_definition(h)) || f32_to_f16(f) != h) {
        if (mismatches < 5) UNSCOPED_INFO("f16 pattern 0x" << std::hex << i);
        ++mismatches;
      }
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("f32 -> f16 rounds to nearest even at every halfway point", "[fp16]") {
  // Between adjacent finite f16 values k and k+1 (both signs): the exact midpoint goes to the even
  // pattern, one f32 ulp either side goes to the nearer one. Includes 0|smallest subnormal,
  // subnormal|normal and 65504|inf (65520 -> inf).
  int mismatches = 0;
  for (uint32_t k = 0; k < 0x7C00; ++k) {
    const double lo = f16_value_by_definition(static_cast<uint16_t>(k));
    const double hi = k + 1 == 0x7C00 ? 65536.0 : f16_value_by_definition(static_cast<uint16_t>(k + 1));
    const auto mid = static_cast<float>((lo + hi) / 2);  // exact: needs at most 12 significant bits
    if (static_cast<double>(mid) != (lo + hi) / 2) ++mismatches;
    const uint16_t even = (k % 2 == 0) ? static_cast<uint16_t>(k) : static_cast<uint16_t>(k + 1);
    const float above = std::nextafter(mid, std::numeric_limits<float>::infinity());
    const float below = std::nextafter(mid, 0.0f);
    for (const uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
      const float s = sign ? -1.0f : 1.0f;
      if (f32_to_f16(s * mid) != (sign | even)) ++mismatches;
      if (f32_to_f16(s * above) != (sign | (k + 1))) ++mismatches;
      if (f32_to_f16(s * below) != (sign | k)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("f32 -> f16 examples: ties, overflow, underflow, NaN", "[fp16]") {
  CHECK(f32_to_f16(1.0f) == 0x3C00);
  CHECK(f32_to_f16(-2.0f) == 0xC000);
  CHECK(f32_to_f16(0.0f) == 0x0000);
  CHECK(f32_to_f16(-0.0f) == 0x8000);
  // ties: 1 + 2^-11 is halfway between 0x3C00 and 0x3C01 -> even 0x3C00; 1 + 3*2^-11 -> 0x3C02
  CHECK(f32_to_f16(1.0f + 0x1p-11f) == 0x3C00);
  CHECK(f32_to_f16(1.0f + 3 * 0x1p-11f) == 0x3C02);
  CHECK(f32_to_f16(2049.0f) == 0x6800);  // 2048 | 2050: tie to even 2048
  CHECK(f32_to_f16(2051.0f) == 0x6802);  // 2050 | 2052: tie to even 2052
  // overflow
  CHECK(f32_to_f16(65504.0f) == 0x7BFF);
  CHECK(f32_to_f16(65519.996f) == 0x7BFF);
  CHECK(f32_to_f16(65520.0f) == 0x7C00);
  CHECK(f32_to_f16(-65520.0f) == 0xFC00);
  CHECK(f32_to_f16(1e10f) == 0x7C00);
  CHECK(f32_to_f16(std::numeric_limits<float>::max()) == 0x7C00);
  CHECK(f32_to_f16(std::numeric_limits<float>::infinity()) == 0x7C00);
  CHECK(f32_to_f16(-std::numeric_limits<float>::infinity()) == 0xFC00);
  // underflow and subnormals
  CHECK(f32_to_f16(0x1p-14f) == 0x0400);         // smallest normal
  CHECK(f32_to_f16(0x1p-24f) == 0x0001);         // smallest subnormal
  CHECK(f32_to_f16(0x1p-25f) == 0x0000);         // halfway to it: ties to 0
  CHECK(f32_to_f16(-0x1p-25f) == 0x8000);
  CHECK(f32_to_f16(std::nextafter(0x1p-25f, 1.0f)) == 0x0001);
  CHECK(f32_to_f16(3 * 0x1p-25f) == 0x0002);     // 1.5 units: tie to even 2
  CHECK(f32_to_f16(5 * 0x1p-25f) == 0x0002);     // 2.5 units: tie to even 2
  CHECK(f32_to_f16(1e-8f) == 0x0000);
  CHECK(f32_to_f16(-1e-7f) == 0x8002);           // 1.68 units -> 2
  CHECK(f32_to_f16(float_of(0x00000001)) == 0x0000);  // f32 subnormal
  CHECK(f32_to_f16(float_of(0x80000001)) == 0x8000);
  CHECK(f32_to_f16(0x1p-14f - 0x1p-25f) == 0x0400);   // 1023.5 units: tie to even 1024 = smallest normal
  // NaN -> canonical quiet NaN with the sign kept
  CHECK(f32_to_f16(std::numeric_limits<float>::quiet_NaN()) == 0x7E00);
  CHECK(f32_to_f16(float_of(0x7F800001)) == 0x7E00);
  CHECK(f32_to_f16(float_of(0xFFC00000)) == 0xFE00);
}

TEST_CASE("bf16 <-> f32: exact widening, round-to-nearest-even narrowing, quiet NaNs", "[fp16]") {
  int mismatches = 0;
  for (uint32_t i = 0; i < 65536; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float f = bf16_to_f32(h);
    if (bits_of(f) != (i << 16)) ++mismatches;
    const bool nan = (i & 0x7F80) == 0x7F80 && (i & 0x7F) != 0;
    if (f32_to_bf16(f) != (nan ? (h | 0x40) : h)) ++mismatches;
  }
  CHECK(mismatches == 0);

  CHECK(f32_to_bf16(1.0f) == 0x3F80);
  CHECK(f32_to_bf16(float_of(0x3F808000)) == 0x3F80);  // tie -> even
  CHECK(f32_to_bf16(float_of(0x3F818000)) == 0x3F82);  // tie -> even
  CHECK(f32_to_bf16(float_of(0x3F808001)) == 0x3F81);
  CHECK(f32_to_bf16(float_of(0x3F807FFF)) == 0x3F80);
  CHECK(f32_to_bf16(std::numeric_limits<float>::max()) == 0x7F80);  // rounds up to inf
  CHECK(f32_to_bf16(-std::numeric_limits<float>::infinity()) == 0xFF80);
  // f32 subnormals are rounded, not flushed (ggml v0.5.0)
  CHECK(f32_to_bf16(float_of(0x00010000)) == 0x0001);
  CHECK(f32_to_bf16(float_of(0x00008000)) == 0x0000);
  CHECK(f32_to_bf16(float_of(0x00018000)) == 0x0002);
  CHECK(f32_to_bf16(float_of(0x80000001)) == 0x8000);
  // NaN: truncated, quiet bit forced
  CHECK(f32_to_bf16(float_of(0x7F800001)) == 0x7FC0);
  CHECK(f32_to_bf16(float_of(0xFF810000)) == 0xFFC1);
  CHECK(f32_to_bf16(float_of(0x7FC00000)) == 0x7FC0);
}

TEST_CASE("f32 -> f16/bf16 reproduce ggml's act_f16.bin and act_bf16.bin", "[fp16]") {
  const auto act = read_f32(lem::test::data_path("quant/act.f32"));
  const auto want_f16 = read_u16(lem::test::data_path("quant/act_f16.bin"));
  const auto want_bf16 = read_u16(lem::test::data_path("quant/act_bf16.bin"));
  REQUIRE(act.size() == 512);
  REQUIRE(want_f16.size() == act.size());
  REQUIRE(want_bf16.size() == act.size());
  for (size_t i = 0; i < act.size(); ++i) {
    INFO("element " << i << " value " << act[i]);
    CHECK(f32_to_f16(act[i]) == want_f16[i]);
    CHECK(f32_to_bf16(act[i]) == want_bf16[i]);
  }
}
