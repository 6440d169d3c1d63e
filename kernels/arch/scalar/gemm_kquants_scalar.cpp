// Scalar reference GEMM for the K-quants Q2_K..Q6_K and IQ4_XS against Q8_K activations.
//
// Per super-block, the integer parts are summed exactly in int32 per scale group and weighted by
// the integer sub-block scales; the float super-scales are applied once per block, as ggml does:
//   sum_e w_e a_e = d_a * (d_w * sum_s sc_s * sum_{e in s} q_e a_e  -  dmin_w * sum_s m_s * sum_{e in s} a_e)
// The second term (the per-sub-block minimum of Q2_K/Q4_K/Q5_K) uses the activation block's
// bsums (sums of q_a over each 16 elements). Block layouts: kernels/quant/formats.hpp.
#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/arch/scalar/q8k_gemm.hpp"
#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

using scalar::gemm_superblocks;
using scalar::q8k_group_sum;

// Dot product of n weights with n activations, in int32 (|sum| < 2^31 for every caller here).
template <typename T>
int dot_int(const T* q, const int8_t* a, int n) {
  int sum = 0;
  for (int j = 0; j < n; ++j) sum += static_cast<int>(q[j]) * a[j];
  return sum;
}

// 16 sub-blocks of 16: scales[s] low nibble scales q, high nibble is the min.
float dot_q2_K(const BlockQ2_K& w, const BlockQ8_K& a) {
  int8_t q[kQK_K];
  // Element 128h + 32j + l' (l' < 32) is crumb j of qs[32h + l'].
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) q[128 * h + 32 * j + l] = static_cast<int8_t>((w.qs[32 * h + l] >> (2 * j)) & 3);
  int isum = 0, msum = 0;
  for (int s = 0; s < 16; ++s) {
    isum += (w.scales[s] & 0x0F) * dot_int(q + 16 * s, a.qs + 16 * s, 16);
    msum += (w.scales[s] >> 4) * a.bsums[s];
  }
  return a.d * (f16_to_f32(w.d) * static_cast<float>(isum) - f16_to_f32(w.dmin) * static_cast<float>(msum));
}

// The 6-bit scale s (< 16) of Q3_K, minus 32: low nibbles in bytes 0..7, high crumbs in 8..11.
int q3_K_scale(const uint8_t (&scales)[12], int s) {
  const int lo = s < 8 ? (scales[s] & 0x0F) : (scales[s - 8] >> 4);
  const int hi = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

float dot_q3_K(const BlockQ3_K& w, const BlockQ8_K& a) {
  int8_t q[kQK_K];
  // As Q2_K, minus 4 where the element's hmask bit (4h + j of hmask[l']) is clear.
  for (int h = 0; h < 2; ++h)
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) {
        const int low = (w.qs[32 * h + l] >> (2 * j)) & 3;
        const bool high = (w.hmask[l] >> (4 * h + j)) & 1;
        q[128 * h + 32 * j + l] = static_cast<int8_t>(low - (high ? 0 : 4));
      }
  int isum = 0;
  for (int s = 0; s < 16; ++s) isum += q3_K_scale(w.scales, s) * dot_int(q + 16 * s, a.qs + 16 * s, 16);
  return a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

// 6-bit scale and min of sub-block b (< 8) of Q4_K/Q5_K (ggml's get_scale_min_k4): b < 4 in the
// low 6 bits of bytes b and b + 4; b >= 4 low nibbles / high nibbles of byte b + 4 plus the top
// 2 bits of bytes b - 4 and b.
void k4_scale_min(const uint8_t (&s)[12], int b, int& sc, int& m) {
  if (b < 4) {
    sc = s[b] & 63;
    m = s[b + 4] & 63;
  } else {
    sc = (s[b + 4] & 0x0F) | ((s[b - 4] >> 6) << 4);
    m = (s[b + 4] >> 4) | ((s[b] >> 6) << 4);
  }
}

// Q4_K and Q5_K share everything but the fifth bit: `q` holds the 256 unsigned values.
float dot_k4_style(const uint8_t (&q)[kQK_K], const uint8_t (&scales)[12], uint16_t d, uint16_t dmin,
                   const BlockQ8_K& a) {
  int isum = 0, msum = 0;
  for (int b = 0; b < 8; ++b) {
    int sc = 0, m = 0;
    k4_scale_min(scales, b, sc, m);
    isum += sc * dot_int(q + 32 * b, a.qs + 32 * b, 32);
    msum += m * q8k_group_sum(a, b);
  }
  return a.d * (f16_to_f32(d) * static_cast<float>(isum) - f16_to_f32(dmin) * static_cast<float>(msum));
}

float dot_q4_K(const BlockQ4_K& w, const BlockQ8_K& a) {
  uint8_t q[kQK_K];
  // Element 64g + l is the low nibble of qs[32g + l] (l < 32), element 64g + 32 + l the high one.
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) {
      q[64 * g + l] = w.qs[32 * g + l] & 0x0F;
      q[64 * g + 32 + l] = w.qs[32 * g + l] >> 4;
    }
  return dot_k4_style(q, w.scales, w.d, w.dmin, a);
}

float dot_q5_K(const BlockQ5_K& w, const BlockQ8_K& a) {
  uint8_t q[kQK_K];
  // As Q4_K; bit 2g (2g + 1) of qh[l] adds 16 to element 64g + l (64g + 32 + l).
  for (int g = 0; g < 4; ++g)
    for (int l = 0; l < 32; ++l) {
      q[64 * g + l] = static_cast<uint8_t>((w.qs[32 * g + l] & 0x0F) | (((w.qh[l] >> (2 * g)) & 1) << 4));
      q[64 * g + 32 + l] = static_cast<uint8_t>((w.qs[32 * g + l] >> 4) | (((w.qh[l] >> (2 * g + 1)) & 1) << 4));
    }
  return dot_k4_style(q, w.scales, w.d, w.dmin, a);
}

float dot_q6_K(const BlockQ6_K& w, const BlockQ8_K& a) {
  int8_t q[kQK_K];
  // Element 128h + 32c + l (c < 4, l < 32): low nibble from ql[64h + l + 32(c & 1)] (c < 2: low
  // nibble, else high), high 2 bits from crumb c of qh[32h + l]; stored with an offset of 32.
  for (int h = 0; h < 2; ++h)
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l) {
        const uint8_t lo_byte = w.ql[64 * h + l + 32 * (c & 1)];
        const int lo = c < 2 ? (lo_byte & 0x0F) : (lo_byte >> 4);
        const int hi = (w.qh[32 * h + l] >> (2 * c)) & 3;
        q[128 * h + 32 * c + l] = static_cast<int8_t>((lo | (hi << 4)) - 32);
      }
  int isum = 0;
  for (int s = 0; s < 16; ++s) isum += w.scales[s] * dot_int(q + 16 * s, a.qs + 16 * s, 16);
  return a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

float dot_iq4_xs(const BlockIQ4_XS& w, const BlockQ8_K& a) {
  int isum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int ls = ((w.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0F) | (((w.scales_h >> (2 * ib)) & 3) << 4);
    const uint8_t* qs = w.qs + 16 * ib;
    const int8_t* qa = a.qs + 32 * ib;
    int sum = 0;
    for (int j = 0; j < 16; ++j)
      sum += iq::kValuesIq4nl[qs[j] & 0x0F] * qa[j] + iq::kValuesIq4nl[qs[j] >> 4] * qa[j + 16];
    isum += (ls - 32) * sum;
  }
  return a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

}  // namespace

void gemm_q2_K_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockQ2_K, dot_q2_K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q3_K_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockQ3_K, dot_q3_K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q4_K_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockQ4_K, dot_q4_K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q5_K_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockQ5_K, dot_q5_K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_q6_K_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                      int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockQ6_K, dot_q6_K>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq4_xs_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ4_XS, dot_iq4_xs>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
