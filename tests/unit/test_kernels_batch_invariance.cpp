// Batch invariance of the GEMM kernels: a token's result must not depend on which other tokens
// share the call, where it sits in the call, or which rows the call covers, as long as the call
// takes the same path (kernels/kernels.hpp, WeightKernel::wide_min_tokens). The batched forward
// relies on this to give a sequence bitwise the same logits alone and in any batch.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <vector>

#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quant/quantize_weights.hpp"

namespace {

using lem::GgmlType;
using lem::Isa;

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0, GgmlType::Q4_1,
                           GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0, GgmlType::IQ4_NL, GgmlType::Q2_K,
                           GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K, GgmlType::IQ4_XS,
                           GgmlType::TQ2_0};

struct Operands {
  int64_t k, n_rows, n_tok;
  size_t w_stride, a_stride;
  std::vector<uint8_t> w, a;
};

Operands random_operands(GgmlType type, lem::ActType act, int64_t k, int64_t n_rows, int64_t n_tok) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Operands o{k, n_rows, n_tok, *lem::ggml_row_bytes(type, static_cast<uint64_t>(k)), lem::act_row_bytes(act, k), {}, {}};
  o.w.resize(o.w_stride * static_cast<size_t>(n_rows));
  o.a.resize(o.a_stride * static_cast<size_t>(n_tok));
  std::vector<float> x(static_cast<size_t>(k));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (float& v : x) v = normal(rng);
    REQUIRE(lem::quantize_row(type, x.data(), o.w.data() + static_cast<size_t>(r) * o.w_stride, k));
  }
  for (int64_t t = 0; t < n_tok; ++t) {
    for (float& v : x) v = normal(rng);
    lem::quantize_activation_row(act, x.data(), o.a.data() + static_cast<size_t>(t) * o.a_stride, k);
  }
  return o;
}

// Y for tokens [t0, t0 + nt) and rows [r0, r0 + nr), stored as [nt, nr].
std::vector<float> run(const lem::WeightKernel& kernel, const Operands& o, int64_t t0, int64_t nt, int64_t r0,
                       int64_t nr) {
  std::vector<float> y(static_cast<size_t>(nt * nr));
  kernel.gemm(o.k, o.w.data() + static_cast<size_t>(r0) * o.w_stride, o.w_stride, nr,
              o.a.data() + static_cast<size_t>(t0) * o.a_stride, o.a_stride, nt, y.data(), static_cast<size_t>(nr));
  return y;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("a token's GEMM result does not depend on the other tokens or rows of a call on the same path",
          "[kernels][batch]") {
  const GgmlType type = GENERATE(from_range(std::begin(kTypes), std::end(kTypes)));
  // 2816 = 11 super-blocks: long enough for the kernels' activation slicing to split a row.
  const int64_t k = 2816, n_rows = 53, n_tok = 48;
  for (int level = 0; level <= static_cast<int>(lem::active_isa()); ++level) {
    const Isa isa = static_cast<Isa>(level);
    const lem::WeightKernel kernel = lem::best_weight_kernel(type, isa);
    REQUIRE(kernel.gemm != nullptr);
    const Operands o = random_operands(type, kernel.act, k, n_rows, n_tok);
    // Each path's reference: the narrow path alone per token; the wide path with all tokens.
    std::vector<float> narrow_ref(static_cast<size_t>(n_tok * n_rows));
    for (int64_t t = 0; t < n_tok; ++t) {
      const std::vector<float> y = run(kernel, o, t, 1, 0, n_rows);
      std::copy(y.begin(), y.end(), narrow_ref.begin() + t * n_rows);
    }
    const bool two_paths = kernel.wide_min_tokens > 0;
    REQUIRE((!two_paths || kernel.wide_min_tokens <= n_tok - 8));
    const std::vector<float> wide_ref = two_paths ? run(kernel, o, 0, n_tok, 0, n_rows) : narrow_ref;
    // Calls of every size, at several token offsets, over a band of rows that starts off a tile.
    for (int64_t nt = 1; nt <= n_tok; ++nt) {
      const bool wide = two_paths && nt >= kernel.wide_min_tokens;
      const std::vector<float>& ref = wide ? wide_ref : narrow_ref;
      for (int64_t t0 : {int64_t{0}, n_tok - nt, (n_tok - nt) / 2}) {
        for (auto [r0, nr] : {std::pair<int64_t, int64_t>{0, n_rows}, {5, 21}, {17, 1}}) {
          const std::vector<float> y = run(kernel, o, t0, nt, r0, nr);
          int mismatches = 0;
          for (int64_t t = 0; t < nt; ++t)
            for (int64_t r = 0; r < nr; ++r)
              mismatches += !same_bits(y[t * nr + r], ref[(t0 + t) * n_rows + r0 + r]);
          INFO(lem::ggml_traits(type).name << " at " << lem::isa_name(isa) << ": " << nt << " tokens from " << t0
                                           << ", rows " << r0 << "+" << nr << (wide ? " (wide path)" : ""));
          CHECK(mismatches == 0);
        }
      }
    }
  }
}
