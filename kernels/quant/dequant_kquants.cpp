// Dequantisation of the K-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and Q8_K (spec §6).
//
// ggml's order matters for bit-exactness: the sub-block scale is formed first (d * sc, dmin * m,
// both float), then multiplied by q, then the min is subtracted.
#include "kernels/fp16.hpp"
#include "kernels/quant/dequant_blocks.hpp"
#include "kernels/quant/formats.hpp"

namespace lem::dequant {

void q2_k(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockQ2_K>(src, i);
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    float* y = dst + i * kQK_K;
    // e = 128h + 32j + 16k + l, scale index 8h + 2j + k, q = (qs[32h + 16k + l] >> 2j) & 3.
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        for (int k = 0; k < 2; ++k) {
          const uint8_t sc = b.scales[8 * h + 2 * j + k];
          const float dl = d * static_cast<float>(sc & 0x0F);
          const float ml = dmin * static_cast<float>(sc >> 4);
          const uint8_t* q = b.qs + 32 * h + 16 * k;
          float* out = y + 128 * h + 32 * j + 16 * k;
          for (int l = 0; l < 16; ++l) out[l] = dl * static_cast<float>((q[l] >> (2 * j)) & 3) - ml;
        }
      }
    }
  }
}

namespace {

// The 6-bit signed scale s (< 16) of Q3_K: low 4 bits from the nibbles of bytes 0..7, high 2 bits
// from the crumbs of bytes 8..11, minus 32.
int q3_k_scale(const uint8_t (&scales)[12], int s) {
  const int lo = s < 8 ? (scales[s] & 0x0F) : (scales[s - 8] >> 4);
  const int hi = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

// 6-bit scale and min of sub-block j (< 8) of Q4_K/Q5_K (ggml's get_scale_min_k4).
void k4_scale_min(const uint8_t (&q)[12], int j, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace

void q3_k(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockQ3_K>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        const uint8_t high_bit = static_cast<uint8_t>(1u << (4 * h + j));
        for (int k = 0; k < 2; ++k) {
          const float dl = d * static_cast<float>(q3_k_scale(b.scales, 8 * h + 2 * j + k));
          const uint8_t* q = b.qs + 32 * h + 16 * k;
          const uint8_t* hm = b.hmask + 16 * k;
          float* out = y + 128 * h + 32 * j + 16 * k;
          for (int l = 0; l < 16; ++l) {
            // The stored high bit set means q >= 0; clear means 4 is subtracted.
            const int qv = ((q[l] >> (2 * j)) & 3) - ((hm[l] & high_bit) ? 0 : 4);
            out[l] = dl * static_cast<float>(qv);
          }
        }
      }
    }
  }
}

void q4_k(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockQ4_K>(src, i);
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    float* y = dst + i * kQK_K;
    for (int g = 0; g < 4; ++g) {
      int sc = 0, m = 0;
      k4_scale_min(b.scales, 2 * g, sc, m);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = dmin * static_cast<float>(m);
      k4_scale_min(b.scales, 2 * g + 1, sc, m);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = dmin * static_cast<float>(m);
      const uint8_t* q = b.qs + 32 * g;
      float* out = y + 64 * g;
      for (int l = 0; l < 32; ++l) out[l] = d1 * static_cast<float>(q[l] & 0x0F) - m1;
      for (int l = 0; l < 32; ++l) out[32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void q5_k(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockQ5_K>(src, i);
    const float d = f16_to_f32(b.d);
    const float dmin = f16_to_f32(b.dmin);
    float* y = dst + i * kQK_K;
    for (int g = 0; g < 4; ++g) {
      int sc = 0, m = 0;
      k4_scale_min(b.scales, 2 * g, sc, m);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = dmin * static_cast<float>(m);
      k4_scale_min(b.scales, 2 * g + 1, sc, m);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = dmin * static_cast<float>(m);
      const uint8_t bit_lo = static_cast<uint8_t>(1u << (2 * g));
      const uint8_t bit_hi = static_cast<uint8_t>(1u << (2 * g + 1));
      const uint8_t* q = b.qs + 32 * g;
      float* out = y + 64 * g;
      for (int l = 0; l < 32; ++l) {
        const int qv = (q[l] & 0x0F) + ((b.qh[l] & bit_lo) ? 16 : 0);
        out[l] = d1 * static_cast<float>(qv) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const int qv = (q[l] >> 4) + ((b.qh[l] & bit_hi) ? 16 : 0);
        out[32 + l] = d2 * static_cast<float>(qv) - m2;
      }
    }
  }
}

void q6_k(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockQ6_K>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      const int8_t* sc = b.scales + 8 * h;
      float* out = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        // (d * sc) first, then * q: ggml's d * sc[is] * q evaluates left to right.
        out[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        out[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        out[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        out[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void q8_k(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockQ8_K>(src, i);
    float* y = dst + i * kQK_K;
    for (int j = 0; j < kQK_K; ++j) y[j] = b.d * static_cast<float>(b.qs[j]);
  }
}

}  // namespace lem::dequant
