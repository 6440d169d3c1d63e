// Element-wise and reduction operations of the Gemma 3 forward pass (everything but the matmuls),
// on float32 activations (spec §2: activations stay fp32; Gemma 3 overflows fp16).
//
// The hot ones (GeGLU, the attention dot products and sums, softmax) have SIMD versions per ISA
// level, picked once through active_isa() like the matmul kernels; the functions below call the
// active level. The scalar versions are the reference the others are tested against.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.hpp"

namespace lem {

struct VectorOps {
  void (*rms_norm)(const float* x, const float* gain, float* y, int64_t n, float eps);
  void (*geglu)(float* gate, const float* up, int64_t n);
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  void (*axpy_f32)(float a, const float* x, float* y, int64_t n);
  float (*dot_f32_f16)(const float* a, const uint16_t* b, int64_t n);
  void (*axpy_f16)(float a, const uint16_t* x, float* y, int64_t n);
  void (*softmax)(float* x, int64_t n);
  // Σ exp(x[i] - shift) over n values: exp in float, the sum in double.
  double (*sum_exp)(const float* x, int64_t n, float shift);
  // out[r * out_stride + d] += sum_j p[r * p_stride + j] * v_j[d] for r < n_rows, d < dh, j < n_keys,
  // where v_j is the row at v + j * v_stride bytes (float32 or IEEE f16): attention's P·V with the
  // values read straight from the KV cache.
  void (*pv_f32)(const float* p, int64_t p_stride, int64_t n_rows, const void* v, size_t v_stride, int64_t n_keys,
                 int64_t dh, float* out, int64_t out_stride);
  void (*pv_f16)(const float* p, int64_t p_stride, int64_t n_rows, const void* v, size_t v_stride, int64_t n_keys,
                 int64_t dh, float* out, int64_t out_stride);
};

// The operations of ISA level `isa` (the best compiled level at or below it).
const VectorOps& vector_ops(Isa isa);

// y = x / sqrt(mean(x^2) + eps) * gain, over n elements (y may alias x). The mean is
// accumulated in double so the result does not depend on the summation order.
void rms_norm(const float* x, const float* gain, float* y, int64_t n, float eps);

// x += y, n elements.
void add_inplace(float* x, const float* y, int64_t n);

// gate[i] = gelu_tanh(gate[i]) * up[i] (GeGLU with the tanh approximation, spec §2).
void geglu_inplace(float* gate, const float* up, int64_t n);

// Rotate-half (NeoX) RoPE of one head of `dim` values with precomputed cos/sin of dim/2 angles:
// (x[i], x[i + dim/2]) <- (x[i] c - x[i + dim/2] s, x[i + dim/2] c + x[i] s).
void rope_apply(float* x, const float* cos, const float* sin, int64_t dim);

// cos/sin of the dim/2 RoPE angles of position `pos`: angle_i = pos * scale * base^(-2i/dim),
// computed in double for accuracy at long contexts.
void rope_angles(int64_t pos, float base, float scale, int64_t dim, float* cos, float* sin);

float dot_f32(const float* a, const float* b, int64_t n);
// y += a * x
void axpy_f32(float a, const float* x, float* y, int64_t n);
// Same with x stored as IEEE f16 (the F16 KV cache).
float dot_f32_f16(const float* a, const uint16_t* b, int64_t n);
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n);

// In-place softmax over n scores; returns nothing, n >= 1. -inf scores get probability 0.
void softmax_inplace(float* x, int64_t n);

// Σ exp(x[i] - shift), each term in float, accumulated in double (a log-sum-exp over a whole
// vocabulary row with shift = its maximum). -inf values add nothing.
double sum_exp(const float* x, int64_t n, float shift);

// VectorOps::pv_f32 / pv_f16 at the active level.
void attention_pv(bool v_is_f16, const float* p, int64_t p_stride, int64_t n_rows, const void* v, size_t v_stride,
                  int64_t n_keys, int64_t dh, float* out, int64_t out_stride);

}  // namespace lem
