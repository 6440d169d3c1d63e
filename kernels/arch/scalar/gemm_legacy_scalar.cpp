// Scalar reference GEMM for the 32-element formats: Q4_0, Q5_0, Q8_0, IQ4_NL x Q8_0 and
// Q4_1, Q5_1 x Q8_1 (shared spec §6, "Activation formats").
//
// Per block b the dot product is ggml's: f32(d_w)·f32(d_a)·Σ q_w·q_a, plus f32(m_w)·f32(s_a) for
// the formats with a min, summed in float32. The integer sum is exact, so any ISA's result can
// differ from this one only by the order of the float additions.
//
// This file is compiled for the baseline target. It is the test truth for the SIMD kernels, and
// tests/unit/test_kernels_legacy.cpp checks it against ggml's goldens: GCC 12 with -march=native
// once turned ggml's own scalar Q5_0 loop into wrong AVX512-VNNI code (spec §6, "Hazard").
#include <cstring>
#include <vector>

#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

// One block of weights or activations as the dot product sees it: value[j] = d * q[j] (+ m).
// For a Q8_1 activation block, m holds its s = f16(d·Σq).
struct IntBlock {
  int8_t q[kQK];
  float d;
  float m;
};

uint32_t load_u32(const uint8_t (&bytes)[4]) {
  uint32_t v;
  std::memcpy(&v, bytes, sizeof v);
  return v;
}

IntBlock decode(const BlockQ4_0& b) {
  IntBlock o{};
  for (int j = 0; j < kQK / 2; ++j) {
    o.q[j] = static_cast<int8_t>((b.qs[j] & 0x0F) - 8);
    o.q[j + kQK / 2] = static_cast<int8_t>((b.qs[j] >> 4) - 8);
  }
  o.d = f16_to_f32(b.d);
  return o;
}

IntBlock decode(const BlockQ4_1& b) {
  IntBlock o{};
  for (int j = 0; j < kQK / 2; ++j) {
    o.q[j] = static_cast<int8_t>(b.qs[j] & 0x0F);
    o.q[j + kQK / 2] = static_cast<int8_t>(b.qs[j] >> 4);
  }
  o.d = f16_to_f32(b.d);
  o.m = f16_to_f32(b.m);
  return o;
}

// Bit 4 of element j is bit j of qh.
IntBlock decode(const BlockQ5_0& b) {
  const uint32_t qh = load_u32(b.qh);
  IntBlock o{};
  for (int j = 0; j < kQK / 2; ++j) {
    const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
    const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
    o.q[j] = static_cast<int8_t>(((b.qs[j] & 0x0F) | h0) - 16);
    o.q[j + kQK / 2] = static_cast<int8_t>(((b.qs[j] >> 4) | h1) - 16);
  }
  o.d = f16_to_f32(b.d);
  return o;
}

IntBlock decode(const BlockQ5_1& b) {
  const uint32_t qh = load_u32(b.qh);
  IntBlock o{};
  for (int j = 0; j < kQK / 2; ++j) {
    const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
    const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
    o.q[j] = static_cast<int8_t>((b.qs[j] & 0x0F) | h0);
    o.q[j + kQK / 2] = static_cast<int8_t>((b.qs[j] >> 4) | h1);
  }
  o.d = f16_to_f32(b.d);
  o.m = f16_to_f32(b.m);
  return o;
}

IntBlock decode(const BlockQ8_0& b) {
  IntBlock o{};
  std::memcpy(o.q, b.qs, sizeof o.q);
  o.d = f16_to_f32(b.d);
  return o;
}

IntBlock decode(const BlockQ8_1& b) {
  IntBlock o{};
  std::memcpy(o.q, b.qs, sizeof o.q);
  o.d = f16_to_f32(b.d);
  o.m = f16_to_f32(b.s);
  return o;
}

IntBlock decode(const BlockIQ4_NL& b) {
  IntBlock o{};
  for (int j = 0; j < kQK / 2; ++j) {
    o.q[j] = iq::kValuesIq4nl[b.qs[j] & 0x0F];
    o.q[j + kQK / 2] = iq::kValuesIq4nl[b.qs[j] >> 4];
  }
  o.d = f16_to_f32(b.d);
  return o;
}

// Decodes the n_blocks blocks of one row into out.
template <typename Block>
void decode_row(const void* row, int64_t n_blocks, IntBlock* out) {
  for (int64_t i = 0; i < n_blocks; ++i) out[i] = decode(load_block<Block>(row, i));
}

// Every weight row and every activation row is decoded once, then each (row, token) pair is a
// sum of per-block integer dot products.
template <typename WeightBlock, typename ActBlock, bool kHasMin>
void gemm(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, int64_t n_tok,
          float* y, size_t y_stride) {
  const int64_t nb = k / kQK;
  std::vector<IntBlock> acts(static_cast<size_t>(nb * n_tok));
  for (int64_t t = 0; t < n_tok; ++t)
    decode_row<ActBlock>(static_cast<const uint8_t*>(a) + t * a_stride, nb, acts.data() + t * nb);

  std::vector<IntBlock> weights(static_cast<size_t>(nb));
  for (int64_t r = 0; r < n_rows; ++r) {
    decode_row<WeightBlock>(static_cast<const uint8_t*>(w) + r * w_stride, nb, weights.data());
    for (int64_t t = 0; t < n_tok; ++t) {
      const IntBlock* act = acts.data() + t * nb;
      float sum = 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        int32_t sumi = 0;
        for (int j = 0; j < kQK; ++j) sumi += weights[b].q[j] * act[b].q[j];
        sum += static_cast<float>(sumi) * (weights[b].d * act[b].d);
        if constexpr (kHasMin) sum += weights[b].m * act[b].m;
      }
      y[t * y_stride + r] = sum;
    }
  }
}

}  // namespace

void gemm_q4_0_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<BlockQ4_0, BlockQ8_0, false>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_1_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<BlockQ4_1, BlockQ8_1, true>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_0_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<BlockQ5_0, BlockQ8_0, false>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_1_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<BlockQ5_1, BlockQ8_1, true>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q8_0_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm<BlockQ8_0, BlockQ8_0, false>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_nl_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride) {
  gemm<BlockIQ4_NL, BlockQ8_0, false>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
