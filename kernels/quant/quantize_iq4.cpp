// Weight quantisers of the non-linear 4-bit formats IQ4_NL and IQ4_XS: ggml's
// quantize_row_iq4_nl_impl as quantize_iq4_nl / quantize_iq4_xs call it without an importance
// matrix (ggml-quants.c, llama.cpp v0.5.0): x²-weighted fit of a scale over 15 trial scales
// (ntry = 7), codes = nearest of the 16 kValuesIq4nl levels. ggml_quantize_chunk and
// llama-quantize take this path; it differs from quantize_row_iq4_nl_ref (ntry = -1).
#include <cmath>
#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"
#include "kernels/quant/quantize_blocks.hpp"

namespace lem::quantize {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS
constexpr int kNtry = 7;

// Index of the level nearest to x in the ascending table `val` (ggml's best_index_int8). ggml
// finds the bracketing pair by binary search; counting the levels <= x finds the same pair
// without unpredictable branches (this runs 16 times per element).
int best_index_int8(int n, const int8_t* val, float x) {
  if (!(x > val[0])) return x <= val[0] ? 0 : n - 1;  // NaN ends at the top, as ggml's search does
  if (x >= val[n - 1]) return n - 1;
  int below = 0;  // levels <= x; val[0] is, val[n - 1] is not
  for (int k = 0; k < n; ++k) below += val[k] <= x;
  const int mu = below;  // val[mu - 1] <= x < val[mu]
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

// Best scale of one 32-element group (0 for an all-zero group); codes go to L.
float fit_group(const float* xb, uint8_t* L) {
  const int8_t* values = iq::kValuesIq4nl;
  float weight[32];
  for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
  float amax = 0, max = 0;
  for (int j = 0; j < 32; ++j) {
    const float ax = std::fabs(xb[j]);
    if (ax > amax) {
      amax = ax;
      max = xb[j];
    }
  }
  if (amax < kGroupMaxEps) return 0;
  float d = -max / values[0];
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < 32; ++j) {
    const int l = best_index_int8(16, values, id * xb[j]);
    L[j] = static_cast<uint8_t>(l);
    const float q = values[l];
    const float w = weight[j];
    sumqx += w * q * xb[j];
    sumq2 += w * q * q;
  }
  d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
  float best = d * sumqx;
  for (int itry = -kNtry; itry <= kNtry; ++itry) {
    id = (itry + values[0]) / max;
    sumqx = sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const int l = best_index_int8(16, values, id * xb[j]);
      const float q = values[l];
      const float w = weight[j];
      sumqx += w * q * xb[j];
      sumq2 += w * q * q;
    }
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

void pack_nibbles(const uint8_t* L, uint8_t* q4, int nelems) {
  for (int i = 0; i < nelems / 32; ++i) {
    for (int j = 0; j < 16; ++j) q4[16 * i + j] = static_cast<uint8_t>(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
  }
}

}  // namespace

// One group of 32 with an f16 scale; the codes are recomputed from the float scale.
void iq4_nl(const float* x, void* dst, int64_t nblocks) {
  uint8_t L[kQK];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK) {
    BlockIQ4_NL b;
    const float scale = fit_group(x, L);
    b.d = f32_to_f16(scale);
    const float id = scale != 0 ? 1 / scale : 0;
    for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>(best_index_int8(16, iq::kValuesIq4nl, id * x[j]));
    pack_nibbles(L, b.qs, kQK);
    store_block(dst, i, b);
  }
}

// Eight groups of 32 with 6-bit signed group scales against one f16 super-scale.
void iq4_xs(const float* x, void* dst, int64_t nblocks) {
  uint8_t L[kQK_K];
  float scales[kQK_K / 32];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK_K) {
    BlockIQ4_XS b;
    float max_scale = 0, amax_scale = 0;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      scales[ib] = fit_group(x + 32 * ib, L + 32 * ib);
      const float abs_d = std::fabs(scales[ib]);
      if (abs_d > amax_scale) {
        amax_scale = abs_d;
        max_scale = scales[ib];
      }
    }
    b.scales_h = 0;
    std::memset(b.scales_l, 0, sizeof b.scales_l);
    const float d = -max_scale / 32;
    b.d = f32_to_f16(d);
    const float id = d != 0 ? 1 / d : 0.f;
    for (int ib = 0; ib < kQK_K / 32; ++ib) {
      int l = nearest_int(id * scales[ib]);
      l = l < -32 ? -32 : (l > 31 ? 31 : l);
      const float dl = d * l;
      const float idl = dl != 0 ? 1 / dl : 0.f;
      for (int j = 0; j < 32; ++j) L[32 * ib + j] = static_cast<uint8_t>(best_index_int8(16, iq::kValuesIq4nl, idl * x[32 * ib + j]));
      l += 32;
      const uint8_t l_l = static_cast<uint8_t>(l & 0xf);
      const uint8_t l_h = static_cast<uint8_t>(l >> 4);
      if (ib % 2 == 0) {
        b.scales_l[ib / 2] = l_l;
      } else {
        b.scales_l[ib / 2] |= static_cast<uint8_t>(l_l << 4);
      }
      b.scales_h = static_cast<uint16_t>(b.scales_h | (l_h << 2 * (ib % 8)));
    }
    pack_nibbles(L, b.qs, kQK_K);
    store_block(dst, i, b);
  }
}

}  // namespace lem::quantize
