// Scalar reference GEMM for float weights (F32, F16, BF16) with float32 activations.
//
// Weights are widened to float32 exactly (kernels/fp16.hpp), then each (row, token) pair is a
// plain float32 dot product in element order. Activations stay float32 for every weight format:
// see kernels/arch/legacy_kernels.hpp for why this differs from ggml's vec_dot_type.
#include <cstring>
#include <vector>

#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/fp16.hpp"

namespace lem {
namespace {

float widen_f16(uint16_t h) { return f16_to_f32(h); }
float widen_bf16(uint16_t h) { return bf16_to_f32(h); }

template <float (*kWiden)(uint16_t)>
void widen_row(const void* src, int64_t k, float* dst) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < k; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, sizeof h);
    dst[i] = kWiden(h);
  }
}

// k == 0: every dot product is an empty sum (and there is nothing to copy).
void write_zeros(int64_t n_rows, int64_t n_tok, float* y, size_t y_stride) {
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t r = 0; r < n_rows; ++r) y[t * y_stride + r] = 0.0f;
}

// The activation rows, copied out once (they may be unaligned): n_tok x k floats.
std::vector<float> load_acts(int64_t k, const void* a, size_t a_stride, int64_t n_tok) {
  std::vector<float> acts(static_cast<size_t>(k * n_tok));
  for (int64_t t = 0; t < n_tok; ++t)
    std::memcpy(acts.data() + t * k, static_cast<const uint8_t*>(a) + t * a_stride, static_cast<size_t>(k) * sizeof(float));
  return acts;
}

// y[t * y_stride + r] = w_row . acts[t] for every token.
void dot_row(int64_t k, const float* w_row, const std::vector<float>& acts, int64_t n_tok, float* y, size_t y_stride,
             int64_t r) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* act = acts.data() + t * k;
    float sum = 0.0f;
    for (int64_t i = 0; i < k; ++i) sum += w_row[i] * act[i];
    y[t * y_stride + r] = sum;
  }
}

template <float (*kWiden)(uint16_t)>
void gemm_half(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
               int64_t n_tok, float* y, size_t y_stride) {
  if (k == 0) return write_zeros(n_rows, n_tok, y, y_stride);
  const std::vector<float> acts = load_acts(k, a, a_stride, n_tok);
  std::vector<float> w_row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n_rows; ++r) {
    widen_row<kWiden>(static_cast<const uint8_t*>(w) + r * w_stride, k, w_row.data());
    dot_row(k, w_row.data(), acts, n_tok, y, y_stride, r);
  }
}

}  // namespace

void gemm_f32_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                     int64_t n_tok, float* y, size_t y_stride) {
  if (k == 0) return write_zeros(n_rows, n_tok, y, y_stride);
  const std::vector<float> acts = load_acts(k, a, a_stride, n_tok);
  std::vector<float> w_row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n_rows; ++r) {
    std::memcpy(w_row.data(), static_cast<const uint8_t*>(w) + r * w_stride, static_cast<size_t>(k) * sizeof(float));
    dot_row(k, w_row.data(), acts, n_tok, y, y_stride, r);
  }
}

void gemm_f16_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                     int64_t n_tok, float* y, size_t y_stride) {
  gemm_half<widen_f16>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_bf16_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm_half<widen_bf16>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
