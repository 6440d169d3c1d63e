// GEMM kernels of the 32-element formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) and the float
// formats (F32, F16, BF16), at every ISA level this CPU runs (LEM_ISA lowers the highest one):
// * ggml's vec_dot goldens (quant fixtures' ref_f64), scalar level included: the scalar kernels
//   are compiled with this build's own flags, and GCC once miscompiled ggml's scalar Q5_0 dot
//   into VNNI code with the wrong signedness (spec §6 "Hazard"), so they are checked too;
// * every SIMD level against the scalar reference on random data, shapes and strides;
// * activation quantiser + kernel against the float64 dot of dequantised weights and float
//   activations.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "kernels/dequant.hpp"
#include "kernels/fp16.hpp"
#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quant/formats.hpp"
#include "support/test_data.hpp"

namespace {

using lem::ActType;
using lem::GgmlType;
using lem::Isa;
using lem::test::data_path;
using lem::test::read_bytes;
using Bytes = std::vector<unsigned char>;

// The fixture names of the types this file covers (F32 has no quant fixture: see its own test).
const char* const kFixtureTypes[] = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"};
const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,  GgmlType::Q4_1,
                           GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::IQ4_NL};

std::vector<Isa> isa_levels() {
  std::vector<Isa> levels;
  for (int i = 0; i <= static_cast<int>(lem::active_isa()); ++i) levels.push_back(static_cast<Isa>(i));
  return levels;
}

const nlohmann::json& quant_index() {
  static const nlohmann::json index = [] {
    const Bytes bytes = read_bytes(data_path("quant/index.json"));
    REQUIRE(!bytes.empty());
    return nlohmann::json::parse(bytes.begin(), bytes.end());
  }();
  return index;
}

const nlohmann::json& fixture_entry(const std::string& name) {
  for (const auto& t : quant_index().at("types"))
    if (t.at("name") == name) return t;
  FAIL("no fixture entry " << name);
  throw std::logic_error("unreachable");
}

std::vector<float> floats_of(const Bytes& bytes) {
  std::vector<float> v(bytes.size() / sizeof(float));
  std::memcpy(v.data(), bytes.data(), v.size() * sizeof(float));
  return v;
}

uint16_t u16_at(const unsigned char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The fixture activation (in ggml's vec_dot_type) in the kernel's activation format. A kernel may
// take float32 where ggml uses f16/bf16: widening is exact, so the golden still applies.
Bytes act_for_kernel(ActType kernel_act, const std::string& vec_dot_type, const Bytes& act) {
  if (vec_dot_type == lem::act_type_name(kernel_act)) return act;
  REQUIRE(kernel_act == ActType::F32);
  REQUIRE((vec_dot_type == "f16" || vec_dot_type == "bf16"));
  std::vector<float> wide(act.size() / 2);
  for (size_t i = 0; i < wide.size(); ++i) {
    const uint16_t h = u16_at(act.data() + 2 * i);
    wide[i] = vec_dot_type == "f16" ? lem::f16_to_f32(h) : lem::bf16_to_f32(h);
  }
  Bytes out(wide.size() * sizeof(float));
  std::memcpy(out.data(), wide.data(), out.size());
  return out;
}

// Runs `kernel` over n_rows packed rows and n_tok copies of one activation row, with padded strides
// (activation rows 48 bytes apart, y rows n_rows + 3 apart). Returns y; checks the padding of y was
// not written.
std::vector<float> run_replicated(const lem::WeightKernel& kernel, int64_t k, const Bytes& w, size_t w_stride,
                                  int64_t n_rows, const Bytes& act_row, int64_t n_tok) {
  const size_t a_stride = act_row.size() + 48;
  Bytes a(a_stride * static_cast<size_t>(n_tok), 0xCD);
  for (int64_t t = 0; t < n_tok; ++t) std::memcpy(a.data() + t * a_stride, act_row.data(), act_row.size());
  const size_t y_stride = static_cast<size_t>(n_rows) + 3;
  std::vector<float> y(y_stride * static_cast<size_t>(n_tok), std::numeric_limits<float>::quiet_NaN());
  kernel.gemm(k, w.data(), w_stride, n_rows, a.data(), a_stride, n_tok, y.data(), y_stride);
  for (int64_t t = 0; t < n_tok; ++t)
    for (size_t r = static_cast<size_t>(n_rows); r < y_stride; ++r) REQUIRE(std::isnan(y[t * y_stride + r]));
  return y;
}

// --- random data -------------------------------------------------------------------------------

using Rng = std::mt19937_64;

float uniform(Rng& rng, float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(rng); }

// A random f16 scale, sign included, of a typical weight magnitude.
uint16_t random_scale(Rng& rng) {
  const float s = uniform(rng, 1e-3f, 2e-2f);
  return lem::f32_to_f16(rng() & 1 ? -s : s);
}

// One row of k elements of `type` with random content: every quant byte is random (so Q8_0 meets
// -128 and every nibble/high-bit pattern occurs), scales and mins are sane f16 values.
void randomize_row(GgmlType type, unsigned char* row, int64_t k, Rng& rng) {
  const size_t bytes = *lem::ggml_row_bytes(type, static_cast<uint64_t>(k));
  for (size_t i = 0; i < bytes; ++i) row[i] = static_cast<unsigned char>(rng());
  const int64_t nb = k / lem::kQK;
  auto set_u16 = [](unsigned char* p, uint16_t v) { std::memcpy(p, &v, sizeof v); };
  switch (type) {
    case GgmlType::F32:
      for (int64_t i = 0; i < k; ++i) {
        const float v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
        std::memcpy(row + 4 * i, &v, sizeof v);
      }
      return;
    case GgmlType::F16:
    case GgmlType::BF16:
      for (int64_t i = 0; i < k; ++i) {
        const float v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
        set_u16(row + 2 * i, type == GgmlType::F16 ? lem::f32_to_f16(v) : lem::f32_to_bf16(v));
      }
      return;
    case GgmlType::Q4_0:
    case GgmlType::Q5_0:
    case GgmlType::Q8_0:
    case GgmlType::IQ4_NL: {  // d is the first field of each of these blocks
      const size_t block = lem::ggml_traits(type).type_size;
      for (int64_t b = 0; b < nb; ++b) set_u16(row + b * block, random_scale(rng));
      return;
    }
    case GgmlType::Q4_1:
    case GgmlType::Q5_1: {  // d, then m
      const size_t block = lem::ggml_traits(type).type_size;
      for (int64_t b = 0; b < nb; ++b) {
        set_u16(row + b * block, random_scale(rng));
        set_u16(row + b * block + 2, random_scale(rng));
      }
      return;
    }
    default: FAIL("no random generator for this type");
  }
}

// Float values of an activation row in format `act` (for tolerances and references only).
std::vector<double> act_values(ActType act, const unsigned char* row, int64_t k) {
  std::vector<double> v(static_cast<size_t>(k));
  switch (act) {
    case ActType::F32:
      for (int64_t i = 0; i < k; ++i) {
        float f;
        std::memcpy(&f, row + 4 * i, sizeof f);
        v[i] = f;
      }
      return v;
    case ActType::Q8_0:
    case ActType::Q8_1: {
      const size_t block = lem::act_block_bytes(act);
      const size_t qs = act == ActType::Q8_0 ? offsetof(lem::BlockQ8_0, qs) : offsetof(lem::BlockQ8_1, qs);
      for (int64_t i = 0; i < k; ++i) {
        const unsigned char* blk = row + (i / 32) * block;
        v[i] = static_cast<double>(lem::f16_to_f32(u16_at(blk))) * static_cast<int8_t>(blk[qs + i % 32]);
      }
      return v;
    }
    default: FAIL("unexpected activation format");
  }
  return v;
}

std::vector<double> weight_values(GgmlType type, const unsigned char* row, int64_t k) {
  std::vector<float> f(static_cast<size_t>(k));
  REQUIRE(lem::dequantize_row(type, row, f.data(), k));
  return {f.begin(), f.end()};
}

double abs_dot(const std::vector<double>& w, const std::vector<double>& a) {
  double s = 0.0;
  for (size_t i = 0; i < w.size(); ++i) s += std::fabs(w[i] * a[i]);
  return s;
}

struct Shape {
  int64_t k, n_rows, n_tok;
};

// Runs every SIMD level against the scalar kernel of `type` on random data of the given shapes,
// with padded, unaligned strides. Integer kernels differ from scalar only in the order of the
// float additions of block terms; float kernels also in the order of their k products.
void check_against_scalar(GgmlType type, const std::vector<Shape>& shapes, Rng& rng) {
  const bool is_float = type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
  const double tolerance = is_float ? 1e-5 : 1e-6;
  const lem::WeightKernel reference = lem::weight_kernel(type, Isa::Scalar);
  REQUIRE(reference.gemm != nullptr);
  for (const Shape& shape : shapes) {
    const int64_t k = shape.k, n_rows = shape.n_rows, n_tok = shape.n_tok;
    const size_t row_bytes = *lem::ggml_row_bytes(type, static_cast<uint64_t>(k));
    const size_t w_stride = row_bytes + rng() % 80;  // rows need not be packed or aligned
    Bytes w(w_stride * static_cast<size_t>(n_rows) + 64);
    for (int64_t r = 0; r < n_rows; ++r) randomize_row(type, w.data() + r * w_stride, k, rng);

    const ActType act_type = reference.act;
    const size_t a_row_bytes = lem::act_row_bytes(act_type, k);
    // Padded activation rows; the quantiser writes whole blocks, so keep its 2/4-byte alignment.
    const size_t a_stride = a_row_bytes + 4 * (rng() % 20);
    Bytes a(a_stride * static_cast<size_t>(n_tok) + 64);
    std::vector<float> x(static_cast<size_t>(k));
    for (int64_t t = 0; t < n_tok; ++t) {
      for (float& v : x) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
      if (t == 0) x[0] = 40.0f;  // an outlier: its block quantises to +-127 extremes
      lem::quantize_activation_row(act_type, x.data(), a.data() + t * a_stride, k);
    }
    const size_t y_stride = static_cast<size_t>(n_rows) + rng() % 5;

    std::vector<float> want(y_stride * static_cast<size_t>(n_tok), 0.0f);
    reference.gemm(k, w.data(), w_stride, n_rows, a.data(), a_stride, n_tok, want.data(), y_stride);

    std::vector<std::vector<double>> wv, av;
    for (int64_t r = 0; r < n_rows; ++r) wv.push_back(weight_values(type, w.data() + r * w_stride, k));
    for (int64_t t = 0; t < n_tok; ++t) av.push_back(act_values(act_type, a.data() + t * a_stride, k));

    for (Isa isa : isa_levels()) {
      if (isa == Isa::Scalar) continue;
      const lem::WeightKernel kernel = lem::weight_kernel(type, isa);
      REQUIRE(kernel.gemm != nullptr);
      REQUIRE(kernel.act == act_type);
      std::vector<float> got(want.size(), std::numeric_limits<float>::quiet_NaN());
      kernel.gemm(k, w.data(), w_stride, n_rows, a.data(), a_stride, n_tok, got.data(), y_stride);
      for (int64_t t = 0; t < n_tok; ++t) {
        for (int64_t r = 0; r < n_rows; ++r) {
          INFO(lem::ggml_traits(type).name << " at " << lem::isa_name(isa) << ": k " << k << ", " << n_rows
                                           << " rows, " << n_tok << " tokens; row " << r << " token " << t);
          const double scale = abs_dot(wv[r], av[t]);
          CHECK(std::fabs(static_cast<double>(got[t * y_stride + r]) - want[t * y_stride + r]) <= tolerance * scale);
        }
        for (size_t r = static_cast<size_t>(n_rows); r < y_stride; ++r) CHECK(std::isnan(got[t * y_stride + r]));
      }
    }
  }
}

}  // namespace

TEST_CASE("kernel table: every type has a scalar kernel and pairs with ggml's activation format",
          "[kernels]") {
  const std::pair<GgmlType, ActType> expected[] = {
      {GgmlType::F32, ActType::F32},    {GgmlType::F16, ActType::F32},    {GgmlType::BF16, ActType::F32},
      {GgmlType::Q4_0, ActType::Q8_0},  {GgmlType::Q4_1, ActType::Q8_1},  {GgmlType::Q5_0, ActType::Q8_0},
      {GgmlType::Q5_1, ActType::Q8_1},  {GgmlType::Q8_0, ActType::Q8_0},  {GgmlType::IQ4_NL, ActType::Q8_0},
  };
  for (const auto& [type, act] : expected) {
    for (Isa isa : isa_levels()) {
      INFO(lem::ggml_traits(type).name << " at " << lem::isa_name(isa));
      const lem::WeightKernel k = lem::weight_kernel(type, isa);
      REQUIRE(k.gemm != nullptr);
      CHECK(k.act == act);
    }
  }
  // Activation-only and integer types have no kernel.
  for (GgmlType type : {GgmlType::Q8_1, GgmlType::Q8_K, GgmlType::I8, GgmlType::I32})
    CHECK(lem::best_weight_kernel(type, lem::active_isa()).gemm == nullptr);
}

TEST_CASE("legacy and float kernels reproduce ggml's vec_dot goldens at every ISA level", "[kernels]") {
  const std::string name = GENERATE(from_range(std::begin(kFixtureTypes), std::end(kFixtureTypes)));
  const nlohmann::json& entry = fixture_entry(name);
  const auto type = lem::ggml_type_from_name(entry.at("ggml_type_name").get<std::string>());
  REQUIRE(type.has_value());
  const int64_t rows = entry.at("rows").get<int64_t>();
  const int64_t k = entry.at("cols").get<int64_t>();
  const size_t row_bytes = entry.at("bytes_per_row").get<size_t>();
  const Bytes w = read_bytes(data_path("quant/" + entry.at("bin").get<std::string>()));
  REQUIRE(w.size() == row_bytes * static_cast<size_t>(rows));
  const nlohmann::json& dot = entry.at("dot");
  const std::string vec_dot_type = dot.at("vec_dot_type").get<std::string>();
  const Bytes act = read_bytes(data_path("quant/" + dot.at("act_file").get<std::string>()));
  const auto ref = dot.at("ref_f64").get<std::vector<double>>();
  const auto abs_sum = dot.at("abs_sum_f64").get<std::vector<double>>();

  for (Isa isa : isa_levels()) {
    const lem::WeightKernel kernel = lem::weight_kernel(*type, isa);
    REQUIRE(kernel.gemm != nullptr);
    const Bytes kernel_act = act_for_kernel(kernel.act, vec_dot_type, act);
    // One token (decode path) and nine (prefill path, and a partial token tile).
    for (int64_t n_tok : {1, 9}) {
      const std::vector<float> y = run_replicated(kernel, k, w, row_bytes, rows, kernel_act, n_tok);
      for (int64_t t = 0; t < n_tok; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          INFO(name << " at " << lem::isa_name(isa) << ", " << n_tok << " tokens, row " << r << " token " << t);
          const double got = y[t * (rows + 3) + r];
          CHECK(std::fabs(got - ref[r]) <= 1e-5 * abs_sum[r]);
        }
      }
    }
  }
}

TEST_CASE("F32 kernel reproduces the float64 dot of the fixture source and activation", "[kernels]") {
  const nlohmann::json& index = quant_index();
  const int64_t rows = index.at("rows").get<int64_t>();
  const int64_t k = index.at("cols").get<int64_t>();
  const Bytes w = read_bytes(data_path("quant/source.f32"));
  const Bytes act = read_bytes(data_path("quant/act.f32"));
  REQUIRE(w.size() == static_cast<size_t>(rows * k) * 4);
  // Any fixture entry lists the same float64 dot of source and act.
  const auto ideal = fixture_entry("Q8_0").at("dot").at("dot_source_x_f32_act").get<std::vector<double>>();
  const std::vector<float> wf = floats_of(w), af = floats_of(act);
  for (Isa isa : isa_levels()) {
    const lem::WeightKernel kernel = lem::weight_kernel(GgmlType::F32, isa);
    REQUIRE(kernel.gemm != nullptr);
    const std::vector<float> y = run_replicated(kernel, k, w, static_cast<size_t>(k) * 4, rows, act, 5);
    for (int64_t r = 0; r < rows; ++r) {
      double abs_sum = 0.0;
      for (int64_t i = 0; i < k; ++i) abs_sum += std::fabs(static_cast<double>(wf[r * k + i]) * af[i]);
      for (int64_t t = 0; t < 5; ++t) {
        INFO("f32 at " << lem::isa_name(isa) << ", row " << r << " token " << t);
        CHECK(std::fabs(y[t * (rows + 3) + r] - ideal[r]) <= 1e-5 * abs_sum);
      }
    }
  }
}

TEST_CASE("activation quantiser + kernel matches the float dot of dequantised weights", "[kernels]") {
  const std::string name = GENERATE(from_range(std::begin(kFixtureTypes), std::end(kFixtureTypes)));
  const nlohmann::json& entry = fixture_entry(name);
  const auto type = lem::ggml_type_from_name(entry.at("ggml_type_name").get<std::string>());
  REQUIRE(type.has_value());
  const int64_t rows = entry.at("rows").get<int64_t>();
  const int64_t k = entry.at("cols").get<int64_t>();
  const size_t row_bytes = entry.at("bytes_per_row").get<size_t>();
  const Bytes w = read_bytes(data_path("quant/" + entry.at("bin").get<std::string>()));
  const std::vector<float> act = floats_of(read_bytes(data_path("quant/act.f32")));
  REQUIRE(static_cast<int64_t>(act.size()) == k);
  const auto want = entry.at("dot").at("dot_dequant_weights_x_f32_act").get<std::vector<double>>();
  const auto abs_sum = entry.at("dot").at("abs_sum_f64").get<std::vector<double>>();

  for (Isa isa : isa_levels()) {
    const lem::WeightKernel kernel = lem::weight_kernel(*type, isa);
    REQUIRE(kernel.gemm != nullptr);
    Bytes a(lem::act_row_bytes(kernel.act, k));
    lem::quantize_activation_row(kernel.act, act.data(), a.data(), k);
    const std::vector<float> y = run_replicated(kernel, k, w, row_bytes, rows, a, 1);
    for (int64_t r = 0; r < rows; ++r) {
      INFO(name << " at " << lem::isa_name(isa) << ", row " << r);
      CHECK(std::fabs(y[r] - want[r]) <= 1e-2 * abs_sum[r]);
    }
  }
}

TEST_CASE("every ISA level agrees with the scalar kernels on random shapes and strides", "[kernels]") {
  const GgmlType type = GENERATE(from_range(std::begin(kTypes), std::end(kTypes)));
  Rng rng(0x1E3 + static_cast<uint64_t>(type));
  // The model's row lengths and one block, then random ones; 1..37 rows, 1..9 tokens (both the
  // decode path and, from 8 tokens, the AVX-512 repacked path).
  std::vector<Shape> shapes;
  for (int i = 0; i < 24; ++i) {
    const int64_t fixed_k[] = {32, 1152, 6912};
    shapes.push_back({i < 3 ? fixed_k[i] : 32 * static_cast<int64_t>(1 + rng() % 48), 1 + static_cast<int64_t>(rng() % 37),
                      1 + static_cast<int64_t>(rng() % 9)});
  }
  check_against_scalar(type, shapes, rng);
}

TEST_CASE("kernels accept a single row with zero row stride, and empty rows", "[kernels]") {
  const GgmlType type = GENERATE(from_range(std::begin(kTypes), std::end(kTypes)));
  Rng rng(0xAB + static_cast<uint64_t>(type));
  const int64_t k = 1152;
  const size_t row_bytes = *lem::ggml_row_bytes(type, static_cast<uint64_t>(k));
  Bytes w(row_bytes);
  randomize_row(type, w.data(), k, rng);
  for (Isa isa : isa_levels()) {
    INFO(lem::ggml_traits(type).name << " at " << lem::isa_name(isa));
    const lem::WeightKernel kernel = lem::weight_kernel(type, isa);
    REQUIRE(kernel.gemm != nullptr);
    std::vector<float> x(static_cast<size_t>(k));
    for (float& v : x) v = std::normal_distribution<float>(0.0f, 1.0f)(rng);
    const size_t a_bytes = lem::act_row_bytes(kernel.act, k);
    Bytes a(a_bytes * 9);
    for (int t = 0; t < 9; ++t) lem::quantize_activation_row(kernel.act, x.data(), a.data() + t * a_bytes, k);
    for (int64_t n_tok : {1, 9}) {
      std::vector<float> packed(static_cast<size_t>(n_tok)), zero_stride(static_cast<size_t>(n_tok));
      kernel.gemm(k, w.data(), row_bytes, 1, a.data(), a_bytes, n_tok, packed.data(), 1);
      kernel.gemm(k, w.data(), 0, 1, a.data(), a_bytes, n_tok, zero_stride.data(), 1);
      CHECK(packed == zero_stride);
      // k = 0: every output is an empty sum.
      std::vector<float> empty(static_cast<size_t>(n_tok), 1.0f);
      kernel.gemm(0, w.data(), row_bytes, 1, a.data(), a_bytes, n_tok, empty.data(), 1);
      CHECK(empty == std::vector<float>(static_cast<size_t>(n_tok), 0.0f));
    }
  }
}

TEST_CASE("every ISA level agrees with the scalar kernels on prefill-sized shapes", "[kernels]") {
  // Enough tokens and rows for several token chunks, row chunks and partial tiles.
  const GgmlType type = GENERATE(GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_1, GgmlType::F16);
  Rng rng(0x5EED + static_cast<uint64_t>(type));
  check_against_scalar(type, {{6912, 37, 41}, {1152, 300, 130}, {96, 17, 23}}, rng);
}
