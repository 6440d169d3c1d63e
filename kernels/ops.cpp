#include "kernels/ops.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/arch/tables.hpp"

namespace lem {

void add_inplace(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void rope_apply(float* x, const float* cos, const float* sin, int64_t dim) {
  const int64_t half = dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    x[i] = a * cos[i] - b * sin[i];
    x[i + half] = b * cos[i] + a * sin[i];
  }
}

void rope_angles(int64_t pos, float base, float scale, int64_t dim, float* cos, float* sin) {
  for (int64_t i = 0; i < dim / 2; ++i) {
    const double inv_freq = std::pow(static_cast<double>(base), -2.0 * static_cast<double>(i) / static_cast<double>(dim));
    const double angle = static_cast<double>(pos) * static_cast<double>(scale) * inv_freq;
    cos[i] = static_cast<float>(std::cos(angle));
    sin[i] = static_cast<float>(std::sin(angle));
  }
}

const VectorOps& vector_ops(Isa isa) {
#if defined(LEM_HAVE_AVX512_KERNELS)
  if (isa >= Isa::Avx512) return avx512_vector_ops();
#endif
#if defined(LEM_HAVE_AVX2_KERNELS)
  if (isa >= Isa::Avx2) return avx2_vector_ops();
#endif
  (void)isa;
  return scalar_vector_ops();
}

namespace {
const VectorOps& active_ops() {
  static const VectorOps& ops = vector_ops(active_isa());
  return ops;
}
}  // namespace

void rms_norm(const float* x, const float* gain, float* y, int64_t n, float eps) {
  active_ops().rms_norm(x, gain, y, n, eps);
}
void geglu_inplace(float* gate, const float* up, int64_t n) { active_ops().geglu(gate, up, n); }
float dot_f32(const float* a, const float* b, int64_t n) { return active_ops().dot_f32(a, b, n); }
void axpy_f32(float a, const float* x, float* y, int64_t n) { active_ops().axpy_f32(a, x, y, n); }
float dot_f32_f16(const float* a, const uint16_t* b, int64_t n) { return active_ops().dot_f32_f16(a, b, n); }
void axpy_f16(float a, const uint16_t* x, float* y, int64_t n) { active_ops().axpy_f16(a, x, y, n); }
void softmax_inplace(float* x, int64_t n) { active_ops().softmax(x, n); }

double sum_exp(const float* x, int64_t n, float shift) { return active_ops().sum_exp(x, n, shift); }
void attention_pv(bool v_is_f16, const float* p, int64_t p_stride, int64_t n_rows, const void* v, size_t v_stride,
                  int64_t n_keys, int64_t dh, float* out, int64_t out_stride) {
  (v_is_f16 ? active_ops().pv_f16 : active_ops().pv_f32)(p, p_stride, n_rows, v, v_stride, n_keys, dh, out, out_stride);
}

}  // namespace lem
