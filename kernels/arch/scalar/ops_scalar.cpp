// Scalar reference versions of the SIMD-dispatched operations in kernels/ops.hpp.
#include <algorithm>
#include <cmath>

#include "kernels/arch/tables.hpp"
#include "kernels/fp16.hpp"
#include "kernels/ops.hpp"

namespace lem {
namespace {

void ref_rms_norm(const float* x, const float* gain, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(n) + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * inv * gain[i];
}

void ref_geglu(float* gate, const float* up, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float z = gate[i];
    const float g = 0.5f * z * (1.0f + std::tanh(kSqrt2OverPi * (z + 0.044715f * z * z * z)));
    gate[i] = g * up[i];
  }
}

float ref_dot_f32(const float* a, const float* b, int64_t n) {
  // Eight partial sums: vectorisable without -ffast-math and more accurate than one chain.
  float acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += a[i + j] * b[i + j];
  float s = 0.0f;
  for (; i < n; ++i) s += a[i] * b[i];
  for (int j = 0; j < 8; ++j) s += acc[j];
  return s;
}

void ref_axpy_f32(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

float ref_dot_f32_f16(const float* a, const uint16_t* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * f16_to_f32(b[i]);
  return s;
}

void ref_axpy_f16(float a, const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * f16_to_f32(x[i]);
}

void ref_softmax(float* x, int64_t n) {
  const float m = *std::max_element(x, x + n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - m);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

double ref_sum_exp(const float* x, int64_t n, float shift) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(std::exp(x[i] - shift));
  return sum;
}

// The value rows of the cache are float32 (ref_axpy_f32) or IEEE f16 (ref_axpy_f16).
template <class T, void (*Axpy)(float, const T*, float*, int64_t)>
void ref_pv(const float* p, int64_t p_stride, int64_t n_rows, const void* v, size_t v_stride, int64_t n_keys,
            int64_t dh, float* out, int64_t out_stride) {
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t j = 0; j < n_keys; ++j)
      Axpy(p[r * p_stride + j], reinterpret_cast<const T*>(static_cast<const uint8_t*>(v) + j * v_stride),
           out + r * out_stride, dh);
}

}  // namespace

const VectorOps& scalar_vector_ops() {
  static const VectorOps ops{ref_rms_norm,  ref_geglu,   ref_dot_f32,   ref_axpy_f32,
                             ref_dot_f32_f16, ref_axpy_f16, ref_softmax, ref_sum_exp,
                             ref_pv<float, ref_axpy_f32>, ref_pv<uint16_t, ref_axpy_f16>};
  return ops;
}

}  // namespace lem
