// The dispatched forward-pass operations (kernels/ops.hpp) at every ISA level this CPU runs,
// against double-precision evaluations of their definitions.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/fp16.hpp"
#include "kernels/kernels.hpp"
#include "kernels/ops.hpp"

namespace {

using lem::Isa;

std::vector<Isa> runnable_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
    if (isa <= lem::detected_isa()) out.push_back(isa);
  return out;
}

std::vector<float> random_floats(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

double gelu_tanh(double z) { return 0.5 * z * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (z + 0.044715 * z * z * z))); }

}  // namespace

TEST_CASE("GeGLU at every ISA level matches the tanh-GELU definition", "[ops]") {
  for (Isa isa : runnable_isas()) {
    INFO("isa " << lem::isa_name(isa));
    const auto& ops = lem::vector_ops(isa);
    for (int64_t n : {1, 7, 16, 33, 6912}) {
      auto gate = random_floats(static_cast<size_t>(n), 3.0f, 11 + static_cast<uint32_t>(n));
      const auto up = random_floats(static_cast<size_t>(n), 1.0f, 12);
      // Extremes: saturation both ways, zeros, values where 1 + tanh cancels.
      const float extremes[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 40.0f, -40.0f, 1e4f, -1e4f, 1e30f, -1e30f, -5.0f, -9.0f};
      for (size_t i = 0; i < std::size(extremes) && i < gate.size(); ++i) gate[i] = extremes[i];
      const auto in = gate;
      ops.geglu(gate.data(), up.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = gelu_tanh(in[i]) * up[i];
        INFO("z = " << in[i] << ", up = " << up[i]);
        REQUIRE(std::isfinite(gate[i]));
        // Relative to |z * up|: the scalar reference loses precision where 1 + tanh cancels.
        CHECK(std::fabs(gate[i] - want) <= 2e-6 * std::fabs(static_cast<double>(in[i]) * up[i]) + 1e-30);
      }
    }
  }
}

TEST_CASE("attention dot products and sums at every ISA level", "[ops]") {
  for (Isa isa : runnable_isas()) {
    INFO("isa " << lem::isa_name(isa));
    const auto& ops = lem::vector_ops(isa);
    for (int64_t n : {1, 15, 64, 256, 257}) {
      const auto a = random_floats(static_cast<size_t>(n), 1.0f, 3);
      const auto b = random_floats(static_cast<size_t>(n), 1.0f, 4);
      std::vector<uint16_t> b16(b.size());
      std::vector<float> b_rounded(b.size());
      for (size_t i = 0; i < b.size(); ++i) {
        b16[i] = lem::f32_to_f16(b[i]);
        b_rounded[i] = lem::f16_to_f32(b16[i]);
      }
      double dot = 0, dot16 = 0, abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        dot16 += static_cast<double>(a[i]) * b_rounded[i];
        abs_sum += std::fabs(static_cast<double>(a[i]) * b[i]);
      }
      CHECK(std::fabs(ops.dot_f32(a.data(), b.data(), n) - dot) <= 1e-6 * abs_sum);
      CHECK(std::fabs(ops.dot_f32_f16(a.data(), b16.data(), n) - dot16) <= 1e-6 * abs_sum);

      std::vector<float> y = a, y16 = a;
      ops.axpy_f32(0.375f, b.data(), y.data(), n);
      ops.axpy_f16(-1.5f, b16.data(), y16.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        CHECK(y[i] == Approx(a[i] + 0.375 * b[i]).margin(1e-6));
        CHECK(y16[i] == Approx(a[i] - 1.5 * b_rounded[i]).margin(1e-6));
      }
    }
  }
}

TEST_CASE("softmax at every ISA level", "[ops]") {
  for (Isa isa : runnable_isas()) {
    INFO("isa " << lem::isa_name(isa));
    const auto& ops = lem::vector_ops(isa);
    for (int64_t n : {1, 5, 16, 100, 4099}) {
      auto x = random_floats(static_cast<size_t>(n), 8.0f, 9 + static_cast<uint32_t>(n));
      if (n > 3) x[2] = -std::numeric_limits<float>::infinity();  // a masked score
      const auto in = x;
      double m = -INFINITY;
      for (float v : in) m = std::max(m, static_cast<double>(v));
      double sum = 0;
      for (float v : in) sum += std::exp(v - m);
      ops.softmax(x.data(), n);
      double total = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double want = std::exp(in[i] - m) / sum;
        CHECK(std::fabs(x[i] - want) <= 1e-6 * want + 1e-12);
        total += x[i];
      }
      CHECK(total == Approx(1.0).margin(1e-5));
    }
  }
}

TEST_CASE("sum of exponentials (log-sum-exp) at every ISA level", "[ops]") {
  for (Isa isa : runnable_isas()) {
    INFO("isa " << lem::isa_name(isa));
    const auto& ops = lem::vector_ops(isa);
    for (int64_t n : {1, 7, 16, 100, 262144 + 3}) {
      auto x = random_floats(static_cast<size_t>(n), 8.0f, 21 + static_cast<uint32_t>(n));
      if (n > 3) x[2] = -std::numeric_limits<float>::infinity();  // a banned token adds nothing
      double m = -INFINITY;
      for (float v : x) m = std::max(m, static_cast<double>(v));
      long double want = 0;
      for (float v : x) want += std::exp(static_cast<long double>(v) - m);
      const double got = ops.sum_exp(x.data(), n, static_cast<float>(m));
      CHECK(std::fabs(got - static_cast<double>(want)) <= 1e-6 * static_cast<double>(want));
    }
  }
}

TEST_CASE("attention P·V over cached value rows at every ISA level", "[ops]") {
  for (Isa isa : runnable_isas()) {
    INFO("isa " << lem::isa_name(isa));
    const auto& ops = lem::vector_ops(isa);
    // Head dims with and without a full register block; odd row and key counts; value rows
    // strided as in a cache holding two KV heads.
    for (int64_t dh : {64, 72, 256}) {
      for (int64_t n_rows : {1, 3, 4, 9}) {
        const int64_t n_keys = 37, row_values = 2 * dh;
        const auto p = random_floats(static_cast<size_t>(n_rows * n_keys), 0.3f, 21);
        const auto v = random_floats(static_cast<size_t>(n_keys * row_values), 1.0f, 22);
        std::vector<uint16_t> v16(v.size());
        std::vector<float> v_rounded(v.size());
        for (size_t i = 0; i < v.size(); ++i) {
          v16[i] = lem::f32_to_f16(v[i]);
          v_rounded[i] = lem::f16_to_f32(v16[i]);
        }
        const auto start = random_floats(static_cast<size_t>(n_rows * dh), 1.0f, 23);  // accumulated onto
        std::vector<float> out = start, out16 = start;
        ops.pv_f32(p.data(), n_keys, n_rows, v.data() + dh, row_values * sizeof(float), n_keys, dh, out.data(), dh);
        ops.pv_f16(p.data(), n_keys, n_rows, v16.data() + dh, row_values * sizeof(uint16_t), n_keys, dh, out16.data(),
                   dh);
        for (int64_t r = 0; r < n_rows; ++r)
          for (int64_t d = 0; d < dh; ++d) {
            double want = start[r * dh + d], want16 = want;
            for (int64_t j = 0; j < n_keys; ++j) {
              want += static_cast<double>(p[r * n_keys + j]) * v[j * row_values + dh + d];
              want16 += static_cast<double>(p[r * n_keys + j]) * v_rounded[j * row_values + dh + d];
            }
            CHECK(out[r * dh + d] == Approx(want).margin(1e-5));
            CHECK(out16[r * dh + d] == Approx(want16).margin(1e-5));
          }
      }
    }
  }
}

TEST_CASE("RMSNorm at every ISA level", "[ops]") {
  for (Isa isa : runnable_isas()) {
    INFO("isa " << lem::isa_name(isa));
    for (int64_t n : {1, 7, 64, 1152, 2563}) {
      const auto x = random_floats(static_cast<size_t>(n), 40.0f, 31);
      const auto gain = random_floats(static_cast<size_t>(n), 1.0f, 32);
      double sum = 0;
      for (float v : x) sum += static_cast<double>(v) * v;
      const double inv = 1.0 / std::sqrt(sum / static_cast<double>(n) + 1e-6);
      std::vector<float> y(x.size());
      lem::vector_ops(isa).rms_norm(x.data(), gain.data(), y.data(), n, 1e-6f);
      for (int64_t i = 0; i < n; ++i) CHECK(y[i] == Approx(x[i] * inv * gain[i]).epsilon(1e-6).margin(1e-30));
      std::vector<float> in_place = x;  // y may alias x
      lem::vector_ops(isa).rms_norm(in_place.data(), gain.data(), in_place.data(), n, 1e-6f);
      CHECK(in_place == y);
    }
  }
}
