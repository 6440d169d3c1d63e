// The SIMD activation quantisers (kernels/arch/<isa>/quantize_act_<isa>.cpp) against the scalar
// reference, which test_quantize_act.cpp checks against ggml's output: every level this CPU runs
// must write the same bytes for every format, on random rows and on the inputs where a different
// rounding, tie rule or NaN treatment would show. Levels the CPU lacks are skipped.
#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "support/test_data.hpp"

namespace {

using lem::ActType;
using lem::Isa;

constexpr unsigned char kSentinel = 0xAB;
constexpr size_t kOutOffset = 4;  // output not 32-byte aligned, still aligned for BlockQ8_K's float

// SIMD levels this build and CPU run (the scalar level is the reference).
std::vector<Isa> simd_levels() {
  std::vector<Isa> levels;
  for (Isa isa : {Isa::Avx2, Isa::Avx512})
    if (isa <= lem::detected_isa()) levels.push_back(isa);
  return levels;
}

// The row as quantised by level `isa`, read from an unaligned input, with a sentinel tail that
// shows writes past the row.
std::vector<unsigned char> quantize_with(Isa isa, ActType a, const std::vector<float>& x) {
  std::vector<float> input(x.size() + 1);
  std::copy(x.begin(), x.end(), input.begin() + 1);  // copies bit patterns, NaN payloads included
  const size_t row_bytes = lem::act_row_bytes(a, static_cast<int64_t>(x.size()));
  std::vector<unsigned char> buffer(kOutOffset + row_bytes + 64, kSentinel);
  REQUIRE(lem::quantize_activation_row_isa(isa, a, input.data() + 1, buffer.data() + kOutOffset,
                                           static_cast<int64_t>(x.size())));
  for (size_t i = kOutOffset + row_bytes; i < buffer.size(); ++i) REQUIRE(buffer[i] == kSentinel);
  return {buffer.begin() + kOutOffset, buffer.begin() + static_cast<std::ptrdiff_t>(kOutOffset + row_bytes)};
}

void require_same_as_scalar(ActType a, const std::vector<float>& x) {
  const std::vector<unsigned char> want = quantize_with(Isa::Scalar, a, x);
  for (Isa isa : simd_levels()) {
    const std::vector<unsigned char> got = quantize_with(isa, a, x);
    const auto diff = std::mismatch(want.begin(), want.end(), got.begin());
    if (diff.first != want.end()) {
      const size_t byte = static_cast<size_t>(diff.first - want.begin());
      FAIL(lem::isa_name(isa) << " " << lem::act_type_name(a) << ", k = " << x.size() << ": byte " << byte
                              << " (block " << byte / lem::act_block_bytes(a) << ") is " << int(*diff.second)
                              << ", scalar wrote " << int(*diff.first));
    }
  }
}

float from_bits(uint32_t u) { return std::bit_cast<float>(u); }

const ActType kAllTypes[] = {ActType::F32, ActType::F16, ActType::BF16, ActType::Q8_0, ActType::Q8_1, ActType::Q8_K};

}  // namespace

TEST_CASE("SIMD activation quantisers match the scalar one on random rows", "[kernels][quantize_act]") {
  const ActType type = GENERATE(from_range(std::begin(kAllTypes), std::end(kAllTypes)));
  const int64_t k = GENERATE(256, 512, 1152, 6912);
  // 1e-30 keeps every block's 1 / (amax / 127) finite, as Q8_0/Q8_1 need (see the tiny-values case).
  const float scale = GENERATE(1e-30f, 1e-3f, 1.0f, 1e3f, 1e30f);
  INFO(lem::act_type_name(type) << ", k = " << k << ", scale " << scale);
  if (k % lem::act_block_size(type) != 0) return;  // 1152 is not a whole number of Q8_K blocks

  std::mt19937 rng(static_cast<uint32_t>(k) * 31u + static_cast<uint32_t>(std::log10(scale) + 40.0f));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> outlier(0, 99);
  std::vector<float> x(static_cast<size_t>(k));
  for (float& v : x) v = scale * normal(rng) * (outlier(rng) == 0 ? 20.0f : 1.0f);  // activations have outliers
  require_same_as_scalar(type, x);

  // The dispatched entry point writes the same bytes too.
  std::vector<unsigned char> dispatched(lem::act_row_bytes(type, k));
  lem::quantize_activation_row(type, x.data(), dispatched.data(), k);
  REQUIRE(dispatched == quantize_with(Isa::Scalar, type, x));
}

TEST_CASE("SIMD Q8_0/Q8_1 round exact halves away from zero as roundf", "[kernels][quantize_act]") {
  // Block 0: amax 127 gives d = 1 and id = 1, so x * id = x; block 1: amax 63.5 gives d = 0.5,
  // id = 2 and x * id = 2x. The other elements are n + 1/2 after scaling, for every n.
  std::vector<float> halves;
  for (int n = -127; n <= 126; ++n) halves.push_back(static_cast<float>(n) + 0.5f);
  std::vector<float> x;
  size_t next = 0;
  for (int block = 0; next < halves.size() || block % 2 != 0; ++block) {
    const bool unit = block % 2 == 0;
    const float amax = (block / 2) % 2 == 0 ? 127.0f : -127.0f;
    x.push_back(unit ? amax : amax / 2.0f);
    for (int j = 1; j < 32; ++j) {
      const float v = next < halves.size() ? halves[next++] : 0.5f;
      x.push_back(unit ? v : v / 2.0f);
    }
  }
  const ActType type = GENERATE(ActType::Q8_0, ActType::Q8_1);
  require_same_as_scalar(type, x);

  // The row really holds ties, and the reference rounds them away from zero.
  const std::vector<unsigned char> ref = quantize_with(Isa::Scalar, ActType::Q8_0, x);
  const auto* q = reinterpret_cast<const int8_t*>(ref.data() + 2);  // block 0: {127, -126.5, -125.5, ...}
  CHECK(q[0] == 127);
  CHECK(q[1] == -127);
  CHECK(q[2] == -126);
}

TEST_CASE("SIMD Q8_K rounds exact halves to even as nearest_int", "[kernels][quantize_act]") {
  // max = -127 gives iscale = 1, max = 127 gives iscale = -1, max = 254 gives iscale = -1/2; the
  // other elements land on n + 1/2 after scaling.
  std::vector<float> x(4 * 256);
  for (int block = 0; block < 4; ++block) {
    const float max = block == 0 ? -127.0f : block == 1 ? 127.0f : block == 2 ? 254.0f : -254.0f;
    const float step = block < 2 ? 1.0f : 2.0f;
    float* b = x.data() + 256 * block;
    b[0] = max;
    for (int j = 1; j < 256; ++j) b[j] = step * (static_cast<float>(j % 254 - 127) + 0.5f);
  }
  require_same_as_scalar(ActType::Q8_K, x);

  // The row really holds ties, and the reference rounds them to even. Block 0 (iscale = 1):
  // x[1] = -125.5, x[2] = -124.5, ..., x[126] = -0.5, x[127] = 0.5, x[128] = 1.5, x[129] = 2.5.
  const std::vector<unsigned char> ref = quantize_with(Isa::Scalar, ActType::Q8_K, x);
  const auto* q = reinterpret_cast<const int8_t*>(ref.data() + 4);
  CHECK(q[1] == -126);
  CHECK(q[2] == -124);
  CHECK(q[126] == 0);
  CHECK(q[127] == 0);
  CHECK(q[128] == 2);
  CHECK(q[129] == 2);
}

TEST_CASE("SIMD Q8_K keeps the first of equal +a and -a maxima", "[kernels][quantize_act]") {
  const float a = GENERATE(3.0f, 1e-20f, 7.5e30f);
  const auto [first, second] = GENERATE(table<int, int>({{0, 255}, {3, 4}, {5, 21}, {17, 200}, {250, 251}}));
  const float sign = GENERATE(1.0f, -1.0f);
  INFO("a = " << a << ", positions " << first << ", " << second << ", first sign " << sign);
  std::mt19937 rng(static_cast<uint32_t>(first * 256 + second));
  std::uniform_real_distribution<float> smaller(-0.9f, 0.9f);
  std::vector<float> x(512);
  for (float& v : x) v = a * smaller(rng);
  x[first] = sign * a;
  x[second] = -sign * a;
  x[256 + first] = sign * a;  // and again with a third equal maximum elsewhere
  x[256 + second] = -sign * a;
  x[256 + 255 - (first + second) % 8] = sign * a;
  require_same_as_scalar(ActType::Q8_K, x);

  // d = -max / 127 in the reference, so its sign shows which maximum was kept.
  const std::vector<unsigned char> ref = quantize_with(Isa::Scalar, ActType::Q8_K, x);
  float d;
  std::memcpy(&d, ref.data(), sizeof d);
  CHECK((d < 0.0f) == (sign > 0.0f));
}

TEST_CASE("SIMD quantisers zero all-zero blocks as the scalar one", "[kernels][quantize_act]") {
  const ActType type = GENERATE(ActType::Q8_0, ActType::Q8_1, ActType::Q8_K, ActType::F16, ActType::BF16);
  std::vector<float> x(1280, 0.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    if (i % 3 == 0) x[i] = -0.0f;
    if (i >= 512 && i < 768) x[i] = 0.25f * static_cast<float>(static_cast<int>(i % 17) - 8);  // one live Q8_K block
    if (i >= 96 && i < 128) x[i] = static_cast<float>(i) - 110.0f;                            // one live Q8_0 block
  }
  require_same_as_scalar(type, x);
}

TEST_CASE("SIMD quantisers match the scalar one on tiny and huge values", "[kernels][quantize_act]") {
  const float max_float = std::numeric_limits<float>::max();
  const float min_normal = std::numeric_limits<float>::min();
  const float denorm = std::numeric_limits<float>::denorm_min();
  std::vector<float> x;
  // Q8_0/Q8_1 need 1 / (amax / 127) finite in every block: amax >= 1e-35 / 2 here (below about
  // 4e-37 the reference converts an infinity to int8, which C++ leaves undefined). Denormal
  // elements may sit beside it.
  const float block_maxima[] = {1e-35f, -3e-30f, 1e-10f, 1.0f, 65504.0f, 65520.0f, 1e20f, -3e38f, max_float};
  for (float amax : block_maxima) {
    for (int j = 0; j < 64; ++j) {
      const float t = static_cast<float>(j) / 63.0f - 0.5f;
      const float v = j % 5 == 0 ? denorm * static_cast<float>(j) : j % 7 == 0 ? min_normal * t : amax * t;
      x.push_back(j == 37 ? amax : v);
    }
  }
  for (int j = 0; j < 64; ++j) x.push_back(j == 9 ? -max_float : max_float * (j % 2 ? 0.999999f : -0.5f));
  x.resize(1024, 1.0f);
  const ActType type = GENERATE(from_range(std::begin(kAllTypes), std::end(kAllTypes)));
  require_same_as_scalar(type, x);
}

TEST_CASE("SIMD Q8_K, F16 and BF16 match the scalar one on NaN, infinity and denormal-only blocks",
          "[kernels][quantize_act]") {
  // These formats are defined for every input (Q8_K narrows integers, not floats), so the SIMD
  // code must reproduce what the reference does with them, payloads included.
  const float inf = std::numeric_limits<float>::infinity();
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), from_bits(0x7FA12345u), from_bits(0xFFC00001u),
                            from_bits(0x7F800001u), from_bits(0xFFFFFFFFu), inf, -inf, 1.0f, -2.0f, 0.0f};
  std::vector<float> x(256 * 8, 0.5f);
  // Block 0: one NaN among normal values; block 1: NaNs and an infinity; block 2: only NaNs;
  // block 3: only denormals (iscale overflows to inf); block 4: -inf first; blocks 5-7: mixtures.
  x[7] = specials[1];
  for (int j = 0; j < 256; j += 9) x[256 + j] = specials[j % 5];
  x[256 + 100] = inf;
  for (int j = 0; j < 256; ++j) x[512 + j] = specials[j % 5];
  for (int j = 0; j < 256; ++j) x[768 + j] = from_bits(static_cast<uint32_t>(j * 997 + 1) | (j % 2 ? 0x80000000u : 0u));
  x[1024] = -inf;
  x[1024 + 40] = inf;
  for (int j = 0; j < 3 * 256; ++j) x[1280 + j] = specials[(j * 7) % 10] * static_cast<float>(j % 3 + 1);
  const ActType type = GENERATE(ActType::Q8_K, ActType::F16, ActType::BF16);
  require_same_as_scalar(type, x);
}

TEST_CASE("SIMD F16 and BF16 conversions match the scalar one over the float bit patterns", "[kernels][quantize_act]") {
  // A stride through all 2^32 patterns (every exponent, both signs, NaN payloads), plus the f16
  // boundaries: largest finite, the round-to-inf threshold, the subnormal range and its ties.
  std::vector<float> x;
  for (uint64_t u = 0; u < (uint64_t{1} << 32); u += 4099) x.push_back(from_bits(static_cast<uint32_t>(u)));
  for (uint32_t sign : {0u, 0x80000000u}) {
    for (uint32_t base : {0x477FE000u, 0x477FEFFFu, 0x477FF000u, 0x477FF001u, 0x38800000u, 0x387FFFFFu, 0x33000000u,
                          0x33000001u, 0x33800000u, 0x33C00000u, 0x34400000u, 0x3F801000u, 0x3F803000u, 0x3F808000u}) {
      for (uint32_t delta = 0; delta < 3; ++delta) x.push_back(from_bits(sign | (base + delta)));
    }
  }
  const ActType type = GENERATE(ActType::F16, ActType::BF16);
  require_same_as_scalar(type, x);
}

TEST_CASE("SIMD F16, BF16 and F32 rows of any length match the scalar one", "[kernels][quantize_act]") {
  const ActType type = GENERATE(ActType::F32, ActType::F16, ActType::BF16);
  const int k = GENERATE(1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100);
  std::vector<float> x(static_cast<size_t>(k));
  for (int i = 0; i < k; ++i) x[static_cast<size_t>(i)] = std::sin(static_cast<float>(i) * 0.7f) * 3e4f;
  require_same_as_scalar(type, x);
}

TEST_CASE("every ISA level's activation quantiser matches ggml's reference byte for byte", "[kernels][quantize_act]") {
  const std::vector<unsigned char> bytes = lem::test::read_bytes(lem::test::data_path("quant/act.f32"));
  REQUIRE(bytes.size() == 512 * sizeof(float));
  std::vector<float> act(512);
  std::memcpy(act.data(), bytes.data(), bytes.size());
  const auto [type, file] = GENERATE(table<ActType, std::string>({
      {ActType::Q8_0, "act_q8_0.bin"},
      {ActType::Q8_1, "act_q8_1.bin"},
      {ActType::Q8_K, "act_q8_K.bin"},
      {ActType::F16, "act_f16.bin"},
      {ActType::BF16, "act_bf16.bin"},
  }));
  const std::vector<unsigned char> want = lem::test::read_bytes(lem::test::data_path("quant/" + file));
  std::vector<Isa> levels = simd_levels();
  levels.insert(levels.begin(), Isa::Scalar);
  for (Isa isa : levels) {
    INFO(lem::isa_name(isa) << " " << lem::act_type_name(type));
    REQUIRE(quantize_with(isa, type, act) == want);
  }
}

TEST_CASE("quantize_activation_row_isa refuses levels this CPU does not run", "[kernels][quantize_act]") {
  if (lem::detected_isa() == Isa::Avx512) SUCCEED("every level runs here");
  for (int level = static_cast<int>(lem::detected_isa()) + 1; level <= static_cast<int>(Isa::Avx512); ++level) {
    const float x[32] = {1.0f};
    unsigned char out[64];
    std::memset(out, kSentinel, sizeof out);
    REQUIRE_FALSE(lem::quantize_activation_row_isa(static_cast<Isa>(level), ActType::Q8_0, x, out, 32));
    REQUIRE(std::all_of(std::begin(out), std::end(out), [](unsigned char c) { return c == kSentinel; }));
  }
}
