// Weight quantisers of the K-quant super-block formats Q2_K..Q6_K: ggml's quantize_row_*_ref
// (ggml-quants.c, llama.cpp v0.5.0), which ggml_quantize_chunk uses when no importance matrix
// is given. Each 256-element super-block is cut into sub-blocks (16 or 32 elements); every
// sub-block gets a scale (and min) by a small search, then the sub-block scales are themselves
// quantised to 4/6/8 bits against one f16 super-scale, and the codes are recomputed from the
// rounded scales.
//
// The float expressions keep ggml's order and types exactly (sums accumulated in sequence, int
// codes converted to float where ggml converts them): the searches compare errors, so one
// different rounding can pick a different scale.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/quantize_blocks.hpp"

namespace lem::quantize {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // ggml's GROUP_MAX_EPS: a sub-block below this is "all zero"

inline int clamp_int(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }

// ggml's make_qx_quants with rmse_type 1 and no importance weights (the Q6_K reference path),
// for G groups of N at once: symmetric codes L in [0, 2 nmax) for a scale searched over
// iscale = -(nmax + 0.1 is) / max, is = -9..9, weighting each element by x². Writes each group's
// scale (0 for an all-zero group) and codes.
//
// The groups run in lockstep, lane g doing exactly ggml's scalar operations on group g in the
// same order (so the results are bit-identical): ggml's version is a chain of dependent float
// additions, and interleaving independent groups keeps the FPU busy without changing any
// rounding (Q6_K and Q2_K run about twice as fast).
template <int G, int N>
void make_qx_quants_groups(int nmax, const float* x, int8_t* L, float* scale_out) {
  float xt[N][G], wt[N][G];  // element i of every group side by side
  int32_t Lt[N][G], Laux[N][G];  // codes
  for (int g = 0; g < G; ++g)
    for (int i = 0; i < N; ++i) {
      xt[i][g] = x[g * N + i];
      wt[i][g] = xt[i][g] * xt[i][g];
    }
  float max[G], amax[G];
  for (int g = 0; g < G; ++g) max[g] = amax[g] = 0;
  for (int i = 0; i < N; ++i)
    for (int g = 0; g < G; ++g) {
      const float ax = std::fabs(xt[i][g]);
      if (ax > amax[g]) {
        amax[g] = ax;
        max[g] = xt[i][g];
      }
    }

  // An all-zero group has max 0: its lane divides by 1 instead and its results are discarded.
  float divisor[G];
  for (int g = 0; g < G; ++g) divisor[g] = max[g] != 0 ? max[g] : 1.0f;
  float iscale[G], sumlx[G], suml2[G], scale[G], best[G];
  for (int g = 0; g < G; ++g) {
    iscale[g] = -nmax / divisor[g];
    sumlx[g] = suml2[g] = 0;
  }
  for (int i = 0; i < N; ++i)
    for (int g = 0; g < G; ++g) {
      const int l = clamp_int(nearest_int(iscale[g] * xt[i][g]), -nmax, nmax - 1);
      Lt[i][g] = l + nmax;
      sumlx[g] += wt[i][g] * xt[i][g] * l;
      suml2[g] += wt[i][g] * l * l;
    }
  for (int g = 0; g < G; ++g) {
    scale[g] = suml2[g] != 0 ? sumlx[g] / suml2[g] : 0.0f;
    best[g] = scale[g] * sumlx[g];
  }
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    for (int g = 0; g < G; ++g) {
      iscale[g] = -(nmax + 0.1f * is) / divisor[g];
      sumlx[g] = suml2[g] = 0;
    }
    for (int i = 0; i < N; ++i)
      for (int g = 0; g < G; ++g) {
        const int l = clamp_int(nearest_int(iscale[g] * xt[i][g]), -nmax, nmax - 1);
        Laux[i][g] = l + nmax;
        sumlx[g] += wt[i][g] * xt[i][g] * l;
        suml2[g] += wt[i][g] * l * l;
      }
    bool take[G];
    for (int g = 0; g < G; ++g) {
      take[g] = suml2[g] > 0 && sumlx[g] * sumlx[g] > best[g] * suml2[g];
      if (take[g]) {
        scale[g] = sumlx[g] / suml2[g];
        best[g] = scale[g] * sumlx[g];
      }
    }
    for (int i = 0; i < N; ++i)
      for (int g = 0; g < G; ++g)
        if (take[g]) Lt[i][g] = Laux[i][g];
  }

  for (int g = 0; g < G; ++g) {
    const bool all_zero = amax[g] < kGroupMaxEps;  // ggml returns early: codes 0, scale 0
    scale_out[g] = all_zero ? 0.f : scale[g];
    for (int i = 0; i < N; ++i) L[g * N + i] = static_cast<int8_t>(all_zero ? 0 : Lt[i][g]);
  }
}

// ggml's make_q3_quants with do_rmse: symmetric codes in [-nmax, nmax), then up to 5 rounds of
// moving single codes while that improves the x²-weighted fit. L gets the codes + nmax.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        const int new_l = clamp_int(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// ggml's make_qkx2_quants for G groups of N at once: asymmetric codes L in [0, nmax] with
// x ≈ scale * L - the_min. Starts from the min/max fit, then tries
// iscale = (rmin + rdelta is + nmax) / (max - min), is = 0..nstep, each refined by weighted least
// squares, keeping the one with the smallest weighted error (squared, or absolute when use_mad).
// Lockstep lanes as in make_qx_quants_groups: lane g repeats ggml's scalar operations on group g.
template <int G, int N, bool use_mad>
void make_qkx2_quants_groups(int nmax, const float* x, const float* weights, uint8_t* L, float* scale_out,
                             float* the_min_out, float rmin, float rdelta, int nstep) {
  float xt[N][G], wt[N][G];
  int32_t Lt[N][G], Laux[N][G];  // codes
  for (int g = 0; g < G; ++g)
    for (int i = 0; i < N; ++i) {
      xt[i][g] = x[g * N + i];
      wt[i][g] = weights[g * N + i];
    }
  float min[G], max[G], sum_w[G], sum_x[G];
  for (int g = 0; g < G; ++g) {
    min[g] = max[g] = xt[0][g];
    sum_w[g] = wt[0][g];
    sum_x[g] = sum_w[g] * xt[0][g];
  }
  for (int i = 1; i < N; ++i)
    for (int g = 0; g < G; ++g) {
      if (xt[i][g] < min[g]) min[g] = xt[i][g];
      if (xt[i][g] > max[g]) max[g] = xt[i][g];
      sum_w[g] += wt[i][g];
      sum_x[g] += wt[i][g] * xt[i][g];
    }
  float iscale[G], scale[G], best_error[G];
  bool flat[G];  // max == min: ggml returns early with codes 0 and scale 0; the lane divides by 1
  for (int g = 0; g < G; ++g) {
    if (min[g] > 0) min[g] = 0;
    flat[g] = max[g] == min[g];
    iscale[g] = nmax / (flat[g] ? 1.0f : max[g] - min[g]);
    scale[g] = 1 / iscale[g];
    best_error[g] = 0;
  }
  for (int i = 0; i < N; ++i)
    for (int g = 0; g < G; ++g) {
      Lt[i][g] = clamp_int(nearest_int(iscale[g] * (xt[i][g] - min[g])), 0, nmax);
      float diff = scale[g] * Lt[i][g] + min[g] - xt[i][g];
      diff = use_mad ? std::fabs(diff) : diff * diff;
      best_error[g] += wt[i][g] * diff;
    }
  for (int is = 0; is <= nstep; ++is) {
    float sum_l[G], sum_l2[G], sum_xl[G];
    for (int g = 0; g < G; ++g) {
      iscale[g] = (rmin + rdelta * is + nmax) / (flat[g] ? 1.0f : max[g] - min[g]);
      sum_l[g] = sum_l2[g] = sum_xl[g] = 0;
    }
    for (int i = 0; i < N; ++i)
      for (int g = 0; g < G; ++g) {
        const int l = clamp_int(nearest_int(iscale[g] * (xt[i][g] - min[g])), 0, nmax);
        Laux[i][g] = l;
        const float w = wt[i][g];
        sum_l[g] += w * l;
        sum_l2[g] += w * l * l;
        sum_xl[g] += w * l * xt[i][g];
      }
    float this_scale[G], this_min[G], cur_error[G];
    bool solvable[G];
    for (int g = 0; g < G; ++g) {
      const float D = sum_w[g] * sum_l2[g] - sum_l[g] * sum_l[g];
      solvable[g] = D > 0;  // ggml skips the step otherwise; the lane divides by 1 and is not taken
      const float Dd = solvable[g] ? D : 1.0f;
      this_scale[g] = (sum_w[g] * sum_xl[g] - sum_x[g] * sum_l[g]) / Dd;
      this_min[g] = (sum_l2[g] * sum_x[g] - sum_l[g] * sum_xl[g]) / Dd;
      if (solvable[g] && this_min[g] > 0) {
        this_min[g] = 0;
        this_scale[g] = sum_xl[g] / sum_l2[g];
      }
      cur_error[g] = 0;
    }
    for (int i = 0; i < N; ++i)
      for (int g = 0; g < G; ++g) {
        float diff = this_scale[g] * Laux[i][g] + this_min[g] - xt[i][g];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error[g] += wt[i][g] * diff;
      }
    bool take[G];
    for (int g = 0; g < G; ++g) {
      take[g] = solvable[g] && cur_error[g] < best_error[g];
      if (take[g]) {
        best_error[g] = cur_error[g];
        scale[g] = this_scale[g];
        min[g] = this_min[g];
      }
    }
    for (int i = 0; i < N; ++i)
      for (int g = 0; g < G; ++g)
        if (take[g]) Lt[i][g] = Laux[i][g];
  }

  for (int g = 0; g < G; ++g) {
    the_min_out[g] = -min[g];
    scale_out[g] = flat[g] ? 0.f : scale[g];
    for (int i = 0; i < N; ++i) L[g * N + i] = static_cast<uint8_t>(flat[g] ? 0 : Lt[i][g]);
  }
}

// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K super-block (ggml's get_scale_min_k4).
void get_scale_min_k4(int j, const uint8_t* q, uint8_t& d, uint8_t& m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

// The Q4_K/Q5_K scheme (8 sub-blocks of 32, 6-bit scales and mins): fills `scales` (12 bytes),
// d, dmin and the codes L[256] in [0, nmax]. rmin/nstep are ggml's per-type search settings.
void quantize_scale_min_32(const float* x, int nmax, float rmin, int nstep, uint8_t* packed_scales, uint16_t& d_out,
                           uint16_t& dmin_out, uint8_t* L) {
  float weights[kQK_K];
  float mins[kQK_K / 32];
  float scales[kQK_K / 32];
  for (int j = 0; j < kQK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[32 * j + l] = av_x + std::fabs(x[32 * j + l]);
  }
  make_qkx2_quants_groups<kQK_K / 32, 32, false>(nmax, x, weights, L, scales, mins, rmin, 0.1f, nstep);
  float max_scale = 0, max_min = 0;  // deducting the min keeps scales positive
  for (int j = 0; j < kQK_K / 32; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }

  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(packed_scales, 0, 12);
  for (int j = 0; j < kQK_K / 32; ++j) {
    // ggml stores nearest_int's int into a uint8_t (wrapping), then clamps to 63.
    uint8_t ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    uint8_t lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    ls = ls < 63 ? ls : 63;
    lm = lm < 63 ? lm : 63;
    if (j < 4) {
      packed_scales[j] = ls;
      packed_scales[j + 4] = lm;
    } else {
      packed_scales[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      packed_scales[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      packed_scales[j - 0] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  d_out = f32_to_f16(max_scale / 63.f);
  dmin_out = f32_to_f16(max_min / 63.f);

  // Codes again, against the scales as they will be decoded.
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, packed_scales, sc, m);
    const float d = f16_to_f32(d_out) * sc;
    if (d == 0) continue;
    const float dm = f16_to_f32(dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) L[32 * j + ii] = static_cast<uint8_t>(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
  }
}

}  // namespace

// 16 sub-blocks of 16: 2-bit codes, 4-bit scales and mins (absolute-error search).
void q2_k(const float* x, void* dst, int64_t nblocks) {
  constexpr float q4scale = 15.f;
  uint8_t L[kQK_K];
  float weights[kQK_K];
  float mins[kQK_K / 16];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK_K) {
    BlockQ2_K b;
    for (int l = 0; l < kQK_K; ++l) weights[l] = std::fabs(x[l]);
    make_qkx2_quants_groups<kQK_K / 16, 16, true>(3, x, weights, L, scales, mins, -0.5f, 0.1f, 15);
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < kQK_K / 16; ++j) {
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      b.d = f32_to_f16(max_scale / q4scale);
    } else {
      for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = 0;
      b.d = f32_to_f16(0.f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] |= static_cast<uint8_t>(nearest_int(iscale * mins[j]) << 4);
      b.dmin = f32_to_f16(max_min / q4scale);
    } else {
      b.dmin = f32_to_f16(0.f);
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = f16_to_f32(b.d) * (b.scales[j] & 0xF);
      if (d == 0) continue;
      const float dm = f16_to_f32(b.dmin) * (b.scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = static_cast<uint8_t>(clamp_int(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
    }
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        b.qs[j / 4 + l] =
            static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
      }
    }
    store_block(dst, i, b);
  }
}

// 16 sub-blocks of 16: 3-bit signed codes (2 low bits in qs, high bit in hmask), 6-bit signed scales.
void q3_k(const float* x, void* dst, int64_t nblocks) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK_K) {
    BlockQ3_K b;
    float max_scale = 0, amax = 0;
    for (int j = 0; j < kQK_K / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }

    std::memset(b.scales, 0, sizeof b.scales);
    if (max_scale != 0) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) {
        int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = static_cast<int8_t>(clamp_int(l, -32, 31) + 32);
        if (j < 8) {
          b.scales[j] = static_cast<uint8_t>(l & 0xF);
        } else {
          b.scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        }
        l = static_cast<int8_t>(l >> 4);
        b.scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
      }
      b.d = f32_to_f16(1 / iscale);
    } else {
      b.d = f32_to_f16(0.f);
    }

    for (int j = 0; j < kQK_K / 16; ++j) {
      int8_t sc = static_cast<int8_t>(j < 8 ? b.scales[j] & 0xF : b.scales[j - 8] >> 4);
      sc = static_cast<int8_t>((sc | (((b.scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
      const float d = f16_to_f32(b.d) * sc;
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }

    // High bit of element j goes to bit j / 32 of hmask[j % 32].
    std::memset(b.hmask, 0, sizeof b.hmask);
    int m = 0;
    uint8_t hm = 1;
    for (int j = 0; j < kQK_K; ++j) {
      if (L[j] > 3) {
        b.hmask[m] |= hm;
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
      if (++m == kQK_K / 8) {
        m = 0;
        hm = static_cast<uint8_t>(hm << 1);
      }
    }
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        b.qs[j / 4 + l] =
            static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
      }
    }
    store_block(dst, i, b);
  }
}

// 8 sub-blocks of 32: 4-bit codes, 6-bit scales and mins.
void q4_k(const float* x, void* dst, int64_t nblocks) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK_K) {
    BlockQ4_K b;
    quantize_scale_min_32(x, 15, -1.f, 20, b.scales, b.d, b.dmin, L);
    for (int j = 0; j < kQK_K / 64; ++j) {
      for (int l = 0; l < 32; ++l) b.qs[32 * j + l] = static_cast<uint8_t>(L[64 * j + l] | (L[64 * j + l + 32] << 4));
    }
    store_block(dst, i, b);
  }
}

// 8 sub-blocks of 32: 5-bit codes (4 low bits in qs, the fifth in qh), 6-bit scales and mins.
void q5_k(const float* x, void* dst, int64_t nblocks) {
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK_K) {
    BlockQ5_K b;
    quantize_scale_min_32(x, 31, -0.5f, 15, b.scales, b.d, b.dmin, L);
    std::memset(b.qh, 0, sizeof b.qh);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64) {
      uint8_t* ql = b.qs + n / 2;
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j];
        if (l1 > 15) {
          l1 -= 16;
          b.qh[j] |= m1;
        }
        int l2 = L[n + j + 32];
        if (l2 > 15) {
          l2 -= 16;
          b.qh[j] |= m2;
        }
        ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
      m1 = static_cast<uint8_t>(m1 << 2);
      m2 = static_cast<uint8_t>(m2 << 2);
    }
    store_block(dst, i, b);
  }
}

// 16 sub-blocks of 16: 6-bit signed codes, int8 scales. An all-zero super-block is all zero bytes.
void q6_k(const float* x, void* dst, int64_t nblocks) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  for (int64_t i = 0; i < nblocks; ++i, x += kQK_K) {
    BlockQ6_K b;
    make_qx_quants_groups<kQK_K / 16, 16>(32, x, L, scales);
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const float scale = scales[ib];
      const float abs_scale = std::fabs(scale);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&b, 0, sizeof b);
      b.d = f32_to_f16(0.f);
      store_block(dst, i, b);
      continue;
    }

    const float iscale = -128.f / max_scale;
    b.d = f32_to_f16(1 / iscale);
    for (int ib = 0; ib < kQK_K / 16; ++ib) {
      const int s = nearest_int(iscale * scales[ib]);
      b.scales[ib] = static_cast<int8_t>(s < 127 ? s : 127);
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float d = f16_to_f32(b.d) * b.scales[j];
      if (d == 0) continue;
      for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }

    for (int j = 0; j < kQK_K; j += 128) {
      uint8_t* ql = b.ql + j / 2;
      uint8_t* qh = b.qh + j / 4;
      for (int l = 0; l < 32; ++l) {
        const uint8_t q1 = L[j + l + 0] & 0xF;
        const uint8_t q2 = L[j + l + 32] & 0xF;
        const uint8_t q3 = L[j + l + 64] & 0xF;
        const uint8_t q4 = L[j + l + 96] & 0xF;
        ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
        ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
        qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                     ((L[j + l + 96] >> 4) << 6));
      }
    }
    store_block(dst, i, b);
  }
}

}  // namespace lem::quantize
