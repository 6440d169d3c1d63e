// GEMM kernels of the 256-element super-block types (K-quants, IQ, TQ; kernels/arch/kquant_kernels.hpp)
// against ggml's fixture dot products, the scalar reference and the dequantised operands.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/dequant.hpp"
#include "kernels/fp16.hpp"
#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quant/formats.hpp"
#include "support/test_data.hpp"

namespace {

using lem::ActType;
using lem::GemmFn;
using lem::GgmlType;
using lem::Isa;
using lem::test::data_path;
using lem::test::read_bytes;

#if defined(__x86_64__) || defined(_M_X64)
#define LEM_TEST_X86_KERNELS 1
#endif

struct KernelSet {
  GgmlType type;
  const char* name;  // fixture file stem
  GemmFn scalar;
  GemmFn avx2 = nullptr;    // nullptr: this type has only the scalar kernel
  GemmFn avx512 = nullptr;
};

std::vector<KernelSet> all_kernels() {
  std::vector<KernelSet> k = {
      {GgmlType::Q2_K, "Q2_K", lem::gemm_q2_K_scalar},
      {GgmlType::Q3_K, "Q3_K", lem::gemm_q3_K_scalar},
      {GgmlType::Q4_K, "Q4_K", lem::gemm_q4_K_scalar},
      {GgmlType::Q5_K, "Q5_K", lem::gemm_q5_K_scalar},
      {GgmlType::Q6_K, "Q6_K", lem::gemm_q6_K_scalar},
      {GgmlType::IQ4_XS, "IQ4_XS", lem::gemm_iq4_xs_scalar},
      {GgmlType::IQ1_S, "IQ1_S", lem::gemm_iq1_s_scalar},
      {GgmlType::IQ1_M, "IQ1_M", lem::gemm_iq1_m_scalar},
      {GgmlType::IQ2_XXS, "IQ2_XXS", lem::gemm_iq2_xxs_scalar},
      {GgmlType::IQ2_XS, "IQ2_XS", lem::gemm_iq2_xs_scalar},
      {GgmlType::IQ2_S, "IQ2_S", lem::gemm_iq2_s_scalar},
      {GgmlType::IQ3_XXS, "IQ3_XXS", lem::gemm_iq3_xxs_scalar},
      {GgmlType::IQ3_S, "IQ3_S", lem::gemm_iq3_s_scalar},
      {GgmlType::TQ1_0, "TQ1_0", lem::gemm_tq1_0_scalar},
      {GgmlType::TQ2_0, "TQ2_0", lem::gemm_tq2_0_scalar},
  };
#if defined(LEM_TEST_X86_KERNELS)
  const GemmFn avx2[6] = {lem::gemm_q2_K_avx2, lem::gemm_q3_K_avx2, lem::gemm_q4_K_avx2,
                          lem::gemm_q5_K_avx2, lem::gemm_q6_K_avx2, lem::gemm_iq4_xs_avx2};
  const GemmFn avx512[6] = {lem::gemm_q2_K_avx512, lem::gemm_q3_K_avx512, lem::gemm_q4_K_avx512,
                            lem::gemm_q5_K_avx512, lem::gemm_q6_K_avx512, lem::gemm_iq4_xs_avx512};
  for (int i = 0; i < 6; ++i) {
    k[static_cast<size_t>(i)].avx2 = avx2[i];
    k[static_cast<size_t>(i)].avx512 = avx512[i];
  }
#endif
  return k;
}

// This type's own kernel at `isa` (called directly, not through the dispatch table), or nullptr
// when there is none or the CPU (or LEM_ISA) does not allow that level.
GemmFn direct_kernel(const KernelSet& ks, Isa isa) {
  if (isa > lem::active_isa()) return nullptr;
  switch (isa) {
    case Isa::Scalar: return ks.scalar;
    case Isa::Avx2: return ks.avx2;
    case Isa::Avx512: return ks.avx512;
  }
  return nullptr;
}

constexpr Isa kIsas[] = {Isa::Scalar, Isa::Avx2, Isa::Avx512};

size_t row_bytes(GgmlType type, int64_t k) { return *lem::ggml_row_bytes(type, static_cast<uint64_t>(k)); }

// --- (1) ggml's fixture: 8 rows x 512 of each type against act_q8_K.bin --------------------------

struct Fixture {
  std::vector<unsigned char> weights;
  size_t row_size = 0;
  std::vector<double> ref;      // exact dot products (float64) of the dequantised operands
  std::vector<double> abs_sum;  // sum |w a| per row
};

void check_fixture_rows(const char* what, GemmFn gemm, const Fixture& f, const std::vector<unsigned char>& act,
                        int64_t cols) {
  const auto rows = static_cast<int64_t>(f.ref.size());
  auto close = [&](float got, int64_t r) {
    return std::fabs(got - f.ref[static_cast<size_t>(r)]) <= 1e-5 * f.abs_sum[static_cast<size_t>(r)];
  };
  // All rows in one call (the GEMM path) and each row on its own (n_rows = 1).
  std::vector<float> y(static_cast<size_t>(rows), NAN);
  gemm(cols, f.weights.data(), f.row_size, rows, act.data(), act.size(), 1, y.data(), static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    float single = NAN;
    gemm(cols, f.weights.data() + static_cast<size_t>(r) * f.row_size, f.row_size, 1, act.data(), act.size(), 1,
         &single, 1);
    INFO(what << " row " << r << ": got " << y[static_cast<size_t>(r)] << " want " << f.ref[static_cast<size_t>(r)]);
    CHECK(close(y[static_cast<size_t>(r)], r));
    CHECK(single == y[static_cast<size_t>(r)]);
  }
  // A prefill-sized batch (the activation row repeated), which takes the SIMD kernels' multi-token
  // paths.
  const int64_t n_tok = 20;
  std::vector<unsigned char> acts;
  for (int64_t t = 0; t < n_tok; ++t) acts.insert(acts.end(), act.begin(), act.end());
  std::vector<float> yb(static_cast<size_t>(rows * n_tok), NAN);
  gemm(cols, f.weights.data(), f.row_size, rows, acts.data(), act.size(), n_tok, yb.data(), static_cast<size_t>(rows));
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t r = 0; r < rows; ++r) {
      INFO(what << " batch token " << t << " row " << r << ": got " << yb[static_cast<size_t>(t * rows + r)]);
      CHECK(close(yb[static_cast<size_t>(t * rows + r)], r));
    }
}

TEST_CASE("super-block kernels match ggml's fixture dot products at every ISA level", "[kernels]") {
  const auto index = nlohmann::json::parse(read_bytes(data_path("quant/index.json")));
  const int64_t cols = index.at("cols").get<int64_t>();
  const auto act = read_bytes(data_path("quant/act_q8_K.bin"));
  REQUIRE(act.size() == static_cast<size_t>(cols / lem::kQK_K) * sizeof(lem::BlockQ8_K));

  for (const KernelSet& ks : all_kernels()) {
    const nlohmann::json* entry = nullptr;
    for (const auto& t : index.at("types"))
      if (t.at("name") == ks.name) entry = &t;
    INFO("type " << ks.name);
    REQUIRE(entry != nullptr);
    REQUIRE(entry->at("dot").at("act_file") == "act_q8_K.bin");

    Fixture f;
    f.weights = read_bytes(data_path(std::string("quant/") + ks.name + ".bin"));
    f.row_size = entry->at("bytes_per_row").get<size_t>();
    REQUIRE(f.row_size == row_bytes(ks.type, cols));
    f.ref = entry->at("dot").at("ref_f64").get<std::vector<double>>();
    f.abs_sum = entry->at("dot").at("abs_sum_f64").get<std::vector<double>>();
    REQUIRE(f.weights.size() == f.ref.size() * f.row_size);

    for (Isa isa : kIsas) {
      if (const GemmFn fn = direct_kernel(ks, isa)) check_fixture_rows(lem::isa_name(isa), fn, f, act, cols);
      if (isa > lem::active_isa()) continue;
      // The same through the dispatch tables: every level has a kernel for these types, at worst
      // the scalar one, and it pairs with Q8_K.
      const lem::WeightKernel best = lem::best_weight_kernel(ks.type, isa);
      REQUIRE(best.gemm != nullptr);
      CHECK(best.act == ActType::Q8_K);
      check_fixture_rows("table", best.gemm, f, act, cols);
    }
  }
}

// --- random blocks -------------------------------------------------------------------------------

// Random bytes are valid blocks of every type here except for the f16 scales, which are set to
// sane positive values (random f16 bits could be inf or NaN).
std::vector<unsigned char> random_blocks(GgmlType type, int64_t n_blocks, std::mt19937_64& rng) {
  const size_t block = lem::ggml_traits(type).type_size;
  std::vector<unsigned char> out(static_cast<size_t>(n_blocks) * block);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : out) b = static_cast<unsigned char>(byte(rng));
  std::uniform_real_distribution<float> scale(1e-3f, 3e-2f);
  for (int64_t i = 0; i < n_blocks; ++i) {
    unsigned char* p = out.data() + static_cast<size_t>(i) * block;
    auto set_f16 = [&](size_t offset) {
      const uint16_t h = lem::f32_to_f16(scale(rng));
      std::memcpy(p + offset, &h, 2);
    };
    switch (type) {
      case GgmlType::Q2_K: set_f16(offsetof(lem::BlockQ2_K, d)); set_f16(offsetof(lem::BlockQ2_K, dmin)); break;
      case GgmlType::Q3_K: set_f16(offsetof(lem::BlockQ3_K, d)); break;
      case GgmlType::Q4_K: set_f16(offsetof(lem::BlockQ4_K, d)); set_f16(offsetof(lem::BlockQ4_K, dmin)); break;
      case GgmlType::Q5_K: set_f16(offsetof(lem::BlockQ5_K, d)); set_f16(offsetof(lem::BlockQ5_K, dmin)); break;
      case GgmlType::Q6_K: set_f16(offsetof(lem::BlockQ6_K, d)); break;
      case GgmlType::TQ1_0: set_f16(offsetof(lem::BlockTQ1_0, d)); break;
      case GgmlType::TQ2_0: set_f16(offsetof(lem::BlockTQ2_0, d)); break;
      case GgmlType::IQ1_M: {
        // The f16 scale is the top nibble of each of the four u16 scale words.
        const uint16_t h = lem::f32_to_f16(scale(rng));
        uint16_t sc[4];
        std::memcpy(sc, p + offsetof(lem::BlockIQ1_M, scales), sizeof sc);
        for (int j = 0; j < 4; ++j)
          sc[j] = static_cast<uint16_t>((sc[j] & 0x0FFF) | (((h >> (4 * j)) & 0xF) << 12));
        std::memcpy(p + offsetof(lem::BlockIQ1_M, scales), sc, sizeof sc);
        break;
      }
      default: set_f16(0); break;  // IQ formats: d first
    }
  }
  return out;
}

// Random Q8_K blocks as the quantiser would make them: |q| <= 127, consistent bsums.
std::vector<lem::BlockQ8_K> random_act_blocks(int64_t n_blocks, std::mt19937_64& rng) {
  std::vector<lem::BlockQ8_K> out(static_cast<size_t>(n_blocks));
  std::uniform_int_distribution<int> q(-127, 127);
  std::uniform_real_distribution<float> d(-0.05f, 0.05f);
  for (auto& b : out) {
    b.d = d(rng);
    for (auto& v : b.qs) v = static_cast<int8_t>(q(rng));
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += b.qs[16 * g + j];
      b.bsums[g] = static_cast<int16_t>(sum);
    }
  }
  return out;
}

// A random GEMM problem laid out with padded strides: weight rows w_stride bytes apart, activation
// rows a_stride bytes apart, output rows y_stride floats apart, all larger than needed (and odd,
// so that rows are unaligned).
struct Problem {
  GgmlType type;
  int64_t k = 0, n_rows = 0, n_tok = 0;
  size_t w_stride = 0, a_stride = 0, y_stride = 0;
  std::vector<unsigned char> w, a;
  std::vector<double> exact, abs_sum;  // per output, from the dequantised operands in float64

  Problem(GgmlType type_, int64_t k_, int64_t rows, int64_t toks, std::mt19937_64& rng)
      : type(type_), k(k_), n_rows(rows), n_tok(toks) {
    std::uniform_int_distribution<int> pad(1, 37);
    const size_t w_row = row_bytes(type, k), a_row = lem::act_row_bytes(ActType::Q8_K, k);
    w_stride = w_row + static_cast<size_t>(pad(rng));
    a_stride = a_row + static_cast<size_t>(pad(rng));
    y_stride = static_cast<size_t>(n_rows) + static_cast<size_t>(pad(rng));
    w.resize(w_stride * static_cast<size_t>(n_rows));
    a.resize(a_stride * static_cast<size_t>(n_tok));
    const int64_t n_blocks = k / lem::kQK_K;
    for (int64_t r = 0; r < n_rows; ++r) {
      const auto blocks = random_blocks(type, n_blocks, rng);
      std::memcpy(w.data() + static_cast<size_t>(r) * w_stride, blocks.data(), blocks.size());
    }
    for (int64_t t = 0; t < n_tok; ++t) {
      const auto blocks = random_act_blocks(n_blocks, rng);
      std::memcpy(a.data() + static_cast<size_t>(t) * a_stride, blocks.data(), a_row);
    }
    // Reference from kernels/dequant.hpp (bit-exact with ggml), accumulated in double.
    std::vector<float> wf(static_cast<size_t>(k)), af(static_cast<size_t>(k));
    std::vector<std::vector<float>> wrows;
    for (int64_t r = 0; r < n_rows; ++r) {
      REQUIRE(lem::dequantize_row(type, w.data() + static_cast<size_t>(r) * w_stride, wf.data(), k));
      wrows.push_back(wf);
    }
    exact.assign(static_cast<size_t>(n_rows * n_tok), 0.0);
    abs_sum.assign(static_cast<size_t>(n_rows * n_tok), 0.0);
    for (int64_t t = 0; t < n_tok; ++t) {
      REQUIRE(lem::dequantize_row(GgmlType::Q8_K, a.data() + static_cast<size_t>(t) * a_stride, af.data(), k));
      for (int64_t r = 0; r < n_rows; ++r) {
        double dot = 0.0, abs = 0.0;
        for (int64_t e = 0; e < k; ++e) {
          const double p = static_cast<double>(wrows[static_cast<size_t>(r)][static_cast<size_t>(e)]) *
                           static_cast<double>(af[static_cast<size_t>(e)]);
          dot += p;
          abs += std::fabs(p);
        }
        exact[static_cast<size_t>(t * n_rows + r)] = dot;
        abs_sum[static_cast<size_t>(t * n_rows + r)] = abs;
      }
    }
  }

  // Runs the kernel into a y buffer pre-filled with a sentinel and checks that only the outputs
  // were written.
  std::vector<float> run(GemmFn gemm) const {
    const float sentinel = -12345.0f;
    std::vector<float> y(y_stride * static_cast<size_t>(n_tok), sentinel);
    gemm(k, w.data(), w_stride, n_rows, a.data(), a_stride, n_tok, y.data(), y_stride);
    for (size_t t = 0; t < static_cast<size_t>(n_tok); ++t)
      for (size_t r = static_cast<size_t>(n_rows); r < y_stride; ++r) REQUIRE(y[t * y_stride + r] == sentinel);
    return y;
  }

  float at(const std::vector<float>& y, int64_t r, int64_t t) const {
    return y[static_cast<size_t>(t) * y_stride + static_cast<size_t>(r)];
  }
};

constexpr int64_t kRowLengths[] = {256, 2560, 6912, 10240};

// --- (2) every ISA level equals the scalar reference ---------------------------------------------

TEST_CASE("SIMD super-block kernels equal the scalar reference on random blocks and shapes", "[kernels]") {
  // The integer sums are exact at every level; only the float accumulation order over super-blocks
  // and SIMD lanes differs: a few float32 roundings (eps 6e-8) relative to the sum of |w a|
  // (observed up to ~3e-8).
  const double tolerance = 2e-7;
  std::mt19937_64 rng(0x5EED4B51);
  std::uniform_int_distribution<int> rows(1, 37), toks(1, 9), len(0, 3);
  for (const KernelSet& ks : all_kernels()) {
    if (!direct_kernel(ks, Isa::Avx2) && !direct_kernel(ks, Isa::Avx512)) continue;
    INFO("type " << ks.name);
    for (int trial = 0; trial < 12; ++trial) {
      const Problem p(ks.type, kRowLengths[len(rng)], rows(rng), toks(rng), rng);
      INFO("k " << p.k << " rows " << p.n_rows << " tokens " << p.n_tok);
      const auto ref = p.run(ks.scalar);
      for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        const GemmFn fn = direct_kernel(ks, isa);
        if (!fn) continue;
        INFO("isa " << lem::isa_name(isa));
        const auto y = p.run(fn);
        double worst = 0.0;
        for (int64_t t = 0; t < p.n_tok; ++t)
          for (int64_t r = 0; r < p.n_rows; ++r) {
            const double err = std::fabs(static_cast<double>(p.at(y, r, t)) - p.at(ref, r, t));
            worst = std::max(worst, err / p.abs_sum[static_cast<size_t>(t * p.n_rows + r)]);
          }
        CHECK(worst <= tolerance);
      }
    }
  }
}

// Decode-sized and prefill-sized calls (the kernels switch between a per-row path and a path
// that repacks 16 rows for many tokens), with row counts that leave partial 16-row groups.
TEST_CASE("SIMD super-block kernels equal scalar on decode and prefill batch sizes", "[kernels]") {
  std::mt19937_64 rng(0x5EED4B52);
  std::uniform_int_distribution<int> rows(1, 37), len(0, 3);
  for (const KernelSet& ks : all_kernels()) {
    if (!direct_kernel(ks, Isa::Avx2) && !direct_kernel(ks, Isa::Avx512)) continue;
    INFO("type " << ks.name);
    for (int64_t n_tok : {1, 2, 8, 15, 16, 17, 33, 40}) {
      const Problem p(ks.type, kRowLengths[len(rng)], rows(rng), n_tok, rng);
      const auto ref = p.run(ks.scalar);
      for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
        const GemmFn fn = direct_kernel(ks, isa);
        if (!fn) continue;
        INFO("isa " << lem::isa_name(isa) << " k " << p.k << " rows " << p.n_rows << " tokens " << n_tok);
        const auto y = p.run(fn);
        for (int64_t t = 0; t < p.n_tok; ++t)
          for (int64_t r = 0; r < p.n_rows; ++r)
            CHECK(std::fabs(static_cast<double>(p.at(y, r, t)) - p.at(ref, r, t)) <=
                  2e-7 * p.abs_sum[static_cast<size_t>(t * p.n_rows + r)]);
      }
    }
  }
}

// --- (3) the kernels compute the dot product of the dequantised operands -------------------------

TEST_CASE("super-block kernels equal the dot product of the dequantised weights and activations", "[kernels]") {
  std::mt19937_64 rng(0x5EED4B53);
  std::uniform_int_distribution<int> rows(1, 9), toks(1, 4), len(0, 3);
  for (const KernelSet& ks : all_kernels()) {
    INFO("type " << ks.name);
    for (int trial = 0; trial < 4; ++trial) {
      const Problem p(ks.type, kRowLengths[len(rng)], rows(rng), toks(rng), rng);
      INFO("k " << p.k << " rows " << p.n_rows << " tokens " << p.n_tok);
      for (Isa isa : kIsas) {
        const GemmFn fn = direct_kernel(ks, isa);
        if (!fn) continue;
        INFO("isa " << lem::isa_name(isa));
        const auto y = p.run(fn);
        for (int64_t t = 0; t < p.n_tok; ++t)
          for (int64_t r = 0; r < p.n_rows; ++r) {
            const size_t i = static_cast<size_t>(t * p.n_rows + r);
            INFO("row " << r << " token " << t << ": got " << p.at(y, r, t) << " want " << p.exact[i]);
            CHECK(std::fabs(static_cast<double>(p.at(y, r, t)) - p.exact[i]) <= 1e-5 * p.abs_sum[i]);
          }
      }
    }
  }
}

}  // namespace
