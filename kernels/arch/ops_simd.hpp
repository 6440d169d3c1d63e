// SIMD versions of the dispatched operations in kernels/ops.hpp, written once over xsimd batches
// and instantiated per ISA level (kernels/arch/avx2/ops_avx2.cpp, kernels/arch/avx512/ops_avx512.cpp).
// Include only from a translation unit compiled with that level's flags.
//
// `Isa` supplies the xsimd architecture and the one thing xsimd 8 lacks, an IEEE f16 load:
//   using arch = ...;  static batch<float, arch> load_f16(const uint16_t* p);  // arch::size values
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <xsimd/xsimd.hpp>

#include "kernels/ops.hpp"

namespace lem::simd_ops {

template <class Isa>
struct Ops {
  using A = typename Isa::arch;
  using V = xsimd::batch<float, A>;
  static constexpr int64_t W = static_cast<int64_t>(V::size);

  // GELU(z) = 0.5 z (1 + tanh(u)) = z / (1 + exp(-2u)), u = sqrt(2/pi) (z + 0.044715 z^3): the
  // same function without tanh's cancellation for negative z; exp overflowing to +inf gives -0.
  static V gelu(V z) {
    const V k(-2.0f * 0.7978845608028654f);
    const V z3 = z * z * z;
    const V e = xsimd::exp(k * xsimd::fma(V(0.044715f), z3, z));
    return z / (V(1.0f) + e);
  }

  // The sum of squares in double (as the scalar reference), so the result does not depend on
  // the vector width.
  static void rms_norm(const float* x, const float* gain, float* y, int64_t n, float eps) {
    using D = xsimd::batch<double, A>;
    constexpr int64_t WD = static_cast<int64_t>(D::size);
    D acc(0.0);
    int64_t i = 0;
    for (; i + WD <= n; i += WD) {
      alignas(64) double d[WD];
      for (int64_t j = 0; j < WD; ++j) d[j] = x[i + j];
      const D v = D::load_aligned(d);
      acc = xsimd::fma(v, v, acc);
    }
    double sum = xsimd::hadd(acc);
    for (; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
    const V inv(static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps)));
    for (i = 0; i + W <= n; i += W)
      (V::load_unaligned(x + i) * inv * V::load_unaligned(gain + i)).store_unaligned(y + i);
    const float inv_s = inv.get(0);
    for (; i < n; ++i) y[i] = x[i] * inv_s * gain[i];
  }

  static void geglu(float* gate, const float* up, int64_t n) {
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      const V g = gelu(V::load_unaligned(gate + i)) * V::load_unaligned(up + i);
      g.store_unaligned(gate + i);
    }
    if (i < n) {  // the tail through a padded buffer: every element takes the same formula
      alignas(64) float g[W] = {}, u[W] = {};
      std::memcpy(g, gate + i, static_cast<size_t>(n - i) * sizeof(float));
      std::memcpy(u, up + i, static_cast<size_t>(n - i) * sizeof(float));
      (gelu(V::load_aligned(g)) * V::load_aligned(u)).store_aligned(g);
      std::memcpy(gate + i, g, static_cast<size_t>(n - i) * sizeof(float));
    }
  }

  static float dot_f32(const float* a, const float* b, int64_t n) {
    V acc0(0.0f), acc1(0.0f);
    int64_t i = 0;
    for (; i + 2 * W <= n; i += 2 * W) {
      acc0 = xsimd::fma(V::load_unaligned(a + i), V::load_unaligned(b + i), acc0);
      acc1 = xsimd::fma(V::load_unaligned(a + i + W), V::load_unaligned(b + i + W), acc1);
    }
    for (; i + W <= n; i += W) acc0 = xsimd::fma(V::load_unaligned(a + i), V::load_unaligned(b + i), acc0);
    float s = xsimd::hadd(acc0 + acc1);
    for (; i < n; ++i) s += a[i] * b[i];
    return s;
  }

  static void axpy_f32(float alpha, const float* x, float* y, int64_t n) {
    const V a(alpha);
    int64_t i = 0;
    for (; i + W <= n; i += W) xsimd::fma(a, V::load_unaligned(x + i), V::load_unaligned(y + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] += alpha * x[i];
  }

  static float dot_f32_f16(const float* a, const uint16_t* b, int64_t n) {
    V acc(0.0f);
    int64_t i = 0;
    for (; i + W <= n; i += W) acc = xsimd::fma(V::load_unaligned(a + i), Isa::load_f16(b + i), acc);
    float s = xsimd::hadd(acc);
    for (; i < n; ++i) s += a[i] * Isa::f16_to_f32(b[i]);
    return s;
  }

  static void axpy_f16(float alpha, const uint16_t* x, float* y, int64_t n) {
    const V a(alpha);
    int64_t i = 0;
    for (; i + W <= n; i += W) xsimd::fma(a, Isa::load_f16(x + i), V::load_unaligned(y + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] += alpha * Isa::f16_to_f32(x[i]);
  }

  static void softmax(float* x, int64_t n) {
    V vmax(-std::numeric_limits<float>::infinity());
    int64_t i = 0;
    for (; i + W <= n; i += W) vmax = xsimd::max(vmax, V::load_unaligned(x + i));
    alignas(64) float lanes[W];
    vmax.store_aligned(lanes);
    float m = *std::max_element(lanes, lanes + W);
    for (; i < n; ++i) m = std::max(m, x[i]);

    const V vm(m);
    V vsum(0.0f);
    i = 0;
    for (; i + W <= n; i += W) {
      const V e = xsimd::exp(V::load_unaligned(x + i) - vm);
      e.store_unaligned(x + i);
      vsum += e;
    }
    if (i < n) {  // padded with -inf: exp gives 0 and adds nothing
      alignas(64) float t[W];
      std::fill(t, t + W, -std::numeric_limits<float>::infinity());
      std::memcpy(t, x + i, static_cast<size_t>(n - i) * sizeof(float));
      const V e = xsimd::exp(V::load_aligned(t) - vm);
      e.store_aligned(t);
      vsum += e;
      std::memcpy(x + i, t, static_cast<size_t>(n - i) * sizeof(float));
    }
    const float inv = 1.0f / xsimd::hadd(vsum);
    for (i = 0; i + W <= n; i += W) (V::load_unaligned(x + i) * V(inv)).store_unaligned(x + i);
    for (; i < n; ++i) x[i] *= inv;
  }

  // Lanes of exp in float, each added to its own double accumulator: the sum is as accurate as
  // the scalar reference's whatever the vector width.
  static double sum_exp(const float* x, int64_t n, float shift) {
    const V vs(shift);
    alignas(64) float lanes[W];
    double acc[W] = {};
    int64_t i = 0;
    for (; i + W <= n; i += W) {
      xsimd::exp(V::load_unaligned(x + i) - vs).store_aligned(lanes);
      for (int64_t j = 0; j < W; ++j) acc[j] += static_cast<double>(lanes[j]);
    }
    double sum = 0.0;
    for (int64_t j = 0; j < W; ++j) sum += acc[j];
    for (; i < n; ++i) sum += static_cast<double>(std::exp(x[i] - shift));
    return sum;
  }

  // P·V, register-blocked: R probability rows x NV vectors of the head dimension stay in
  // registers while the value rows stream past, so each value vector loaded feeds R FMAs.
  static V load_values(const float* p) { return V::load_unaligned(p); }
  static V load_values(const uint16_t* p) { return Isa::load_f16(p); }
  static float value_at(const float* p) { return *p; }
  static float value_at(const uint16_t* p) { return Isa::f16_to_f32(*p); }

  template <int R, int NV, class T>
  static void pv_block(const float* p, int64_t ps, const uint8_t* v, size_t vs, int64_t n_keys, int64_t d0, float* out,
                       int64_t os) {
    V acc[R][NV];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < NV; ++c) acc[r][c] = V::load_unaligned(out + r * os + d0 + c * W);
    for (int64_t j = 0; j < n_keys; ++j) {
      const T* row = reinterpret_cast<const T*>(v + static_cast<size_t>(j) * vs) + d0;
      V vals[NV];
      for (int c = 0; c < NV; ++c) vals[c] = load_values(row + c * W);
      for (int r = 0; r < R; ++r) {
        const V pr(p[r * ps + j]);
        for (int c = 0; c < NV; ++c) acc[r][c] = xsimd::fma(pr, vals[c], acc[r][c]);
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < NV; ++c) acc[r][c].store_unaligned(out + r * os + d0 + c * W);
  }

  template <int R, class T>
  static void pv_rows(const float* p, int64_t ps, const uint8_t* v, size_t vs, int64_t n_keys, int64_t dh, float* out,
                      int64_t os) {
    constexpr int NV = W >= 16 ? 4 : 2;  // 16 or 8 accumulators: within the register file
    int64_t d = 0;
    for (; d + NV * W <= dh; d += NV * W) pv_block<R, NV, T>(p, ps, v, vs, n_keys, d, out, os);
    for (; d + W <= dh; d += W) pv_block<R, 1, T>(p, ps, v, vs, n_keys, d, out, os);
    for (; d < dh; ++d)
      for (int r = 0; r < R; ++r) {
        float s = out[r * os + d];
        for (int64_t j = 0; j < n_keys; ++j)
          s += p[r * ps + j] * value_at(reinterpret_cast<const T*>(v + static_cast<size_t>(j) * vs) + d);
        out[r * os + d] = s;
      }
  }

  template <class T>
  static void pv(const float* p, int64_t ps, int64_t n_rows, const void* v, size_t vs, int64_t n_keys, int64_t dh,
                 float* out, int64_t os) {
    const auto* vb = static_cast<const uint8_t*>(v);
    int64_t r = 0;
    for (; r + 4 <= n_rows; r += 4) pv_rows<4, T>(p + r * ps, ps, vb, vs, n_keys, dh, out + r * os, os);
    for (; r < n_rows; ++r) pv_rows<1, T>(p + r * ps, ps, vb, vs, n_keys, dh, out + r * os, os);
  }

  static void pv_f32(const float* p, int64_t ps, int64_t n_rows, const void* v, size_t vs, int64_t n_keys, int64_t dh,
                     float* out, int64_t os) {
    pv<float>(p, ps, n_rows, v, vs, n_keys, dh, out, os);
  }
  static void pv_f16(const float* p, int64_t ps, int64_t n_rows, const void* v, size_t vs, int64_t n_keys, int64_t dh,
                     float* out, int64_t os) {
    pv<uint16_t>(p, ps, n_rows, v, vs, n_keys, dh, out, os);
  }

  static const VectorOps& table() {
    static const VectorOps ops{rms_norm, geglu,   dot_f32, axpy_f32, dot_f32_f16,
                               axpy_f16, softmax, sum_exp, pv_f32,   pv_f16};
    return ops;
  }
};

}  // namespace lem::simd_ops
