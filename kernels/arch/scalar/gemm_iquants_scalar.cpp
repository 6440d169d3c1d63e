// Scalar GEMM for the grid-based IQ formats (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
// IQ3_S) and the ternary TQ1_0/TQ2_0 against Q8_K activations. These are the only kernels for
// these types at every ISA level (they are rare in Gemma 3 files), so they stay simple.
//
// Each super-block is decoded to small signed integers plus integer group scales, dotted with
// the activations in int32, and the float scale applied once per block. The constant factors of
// ggml's scale formulas are pulled out of the integer part, e.g. IQ2_XXS's
// d * (0.5 + s) * 0.25 = d * (2s + 1) / 8. Formats: spec §6, kernels/quant/formats.hpp.
#include <cstring>

#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/arch/scalar/q8k_gemm.hpp"
#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem {
namespace {

using scalar::gemm_superblocks;
using scalar::q8k_group_sum;

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Sum over j < 8 of grid[j] * a[j], negated where bit j of `signs` is set.
int dot_signed8(const uint8_t (&grid)[8], uint8_t signs, const int8_t* a) {
  int sum = 0;
  for (int j = 0; j < 8; ++j) sum += ((signs >> j) & 1) ? -grid[j] * a[j] : grid[j] * a[j];
  return sum;
}

// The same for two 4-byte grid entries (IQ3_*): bits 0..3 of `signs` for g1, 4..7 for g2.
int dot_signed4x2(const uint8_t (&g1)[4], const uint8_t (&g2)[4], uint8_t signs, const int8_t* a) {
  int sum = 0;
  for (int j = 0; j < 4; ++j) {
    sum += ((signs >> j) & 1) ? -g1[j] * a[j] : g1[j] * a[j];
    sum += ((signs >> (j + 4)) & 1) ? -g2[j] * a[j + 4] : g2[j] * a[j + 4];
  }
  return sum;
}

// y = d * (2s + 1) / 8 * grid * sign.
float dot_iq2_xxs(const BlockIQ2_XXS& w, const BlockQ8_K& a) {
  const auto* qs = reinterpret_cast<const uint8_t*>(w.qs);
  int isum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const uint8_t* grid_idx = qs + 8 * ib;           // four 8-bit grid indices
    const uint32_t aux = load_u32(qs + 8 * ib + 4);  // 4 x 7-bit sign indices, scale in bits 28..31
    int sum = 0;
    for (int l = 0; l < 4; ++l)
      sum += dot_signed8(iq::kIq2xxsGrid[grid_idx[l]], iq::kKsignsIq2xs[(aux >> (7 * l)) & 127], a.qs + 32 * ib + 8 * l);
    isum += static_cast<int>(2 * (aux >> 28) + 1) * sum;
  }
  return 0.125f * a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

// y = d * (2s + 1) / 8 * grid * sign, one 4-bit s per 16 elements.
float dot_iq2_xs(const BlockIQ2_XS& w, const BlockQ8_K& a) {
  int isum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int ls[2] = {2 * (w.scales[ib] & 0x0F) + 1, 2 * (w.scales[ib] >> 4) + 1};
    for (int l = 0; l < 4; ++l) {
      const uint16_t v = w.qs[4 * ib + l];  // 9-bit grid index | 7-bit sign index << 9
      isum += ls[l / 2] * dot_signed8(iq::kIq2xsGrid[v & 511], iq::kKsignsIq2xs[v >> 9], a.qs + 32 * ib + 8 * l);
    }
  }
  return 0.125f * a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

// As IQ2_XS with 10-bit grid indices (2 bits from qh) and sign bytes stored directly.
float dot_iq2_s(const BlockIQ2_S& w, const BlockQ8_K& a) {
  const uint8_t* signs = w.qs + kQK_K / 8;
  int isum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int ls[2] = {2 * (w.scales[ib] & 0x0F) + 1, 2 * (w.scales[ib] >> 4) + 1};
    for (int l = 0; l < 4; ++l) {
      const int idx = w.qs[4 * ib + l] | (((w.qh[ib] >> (2 * l)) & 3) << 8);
      isum += ls[l / 2] * dot_signed8(iq::kIq2sGrid[idx], signs[4 * ib + l], a.qs + 32 * ib + 8 * l);
    }
  }
  return 0.125f * a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

// y = d * (2s + 1) / 4 * grid * sign.
float dot_iq3_xxs(const BlockIQ3_XXS& w, const BlockQ8_K& a) {
  const uint8_t* scales_and_signs = w.qs + kQK_K / 4;
  int isum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const uint32_t aux = load_u32(scales_and_signs + 4 * ib);
    const uint8_t* qs = w.qs + 8 * ib;
    int sum = 0;
    for (int l = 0; l < 4; ++l)
      sum += dot_signed4x2(iq::kIq3xxsGrid[qs[2 * l]], iq::kIq3xxsGrid[qs[2 * l + 1]],
                           iq::kKsignsIq2xs[(aux >> (7 * l)) & 127], a.qs + 32 * ib + 8 * l);
    isum += static_cast<int>(2 * (aux >> 28) + 1) * sum;
  }
  return 0.25f * a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

// y = d * (2s + 1) * grid * sign, 9-bit grid indices (bit 8 from qh).
float dot_iq3_s(const BlockIQ3_S& w, const BlockQ8_K& a) {
  int isum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int ls = (w.scales[ib / 2] >> (4 * (ib % 2))) & 0x0F;
    const uint8_t* qs = w.qs + 8 * ib;
    const uint8_t qh = w.qh[ib];
    int sum = 0;
    for (int l = 0; l < 4; ++l) {
      const int idx1 = qs[2 * l] | (((qh >> (2 * l)) & 1) << 8);
      const int idx2 = qs[2 * l + 1] | (((qh >> (2 * l + 1)) & 1) << 8);
      sum += dot_signed4x2(iq::kIq3sGrid[idx1], iq::kIq3sGrid[idx2], w.signs[4 * ib + l], a.qs + 32 * ib + 8 * l);
    }
    isum += (2 * ls + 1) * sum;
  }
  return a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

int dot_ternary8(const int8_t (&grid)[8], const int8_t* a) {
  int sum = 0;
  for (int j = 0; j < 8; ++j) sum += grid[j] * a[j];
  return sum;
}

int sum8(const int8_t* a) {
  int sum = 0;
  for (int j = 0; j < 8; ++j) sum += a[j];
  return sum;
}

// y = d * (2s + 1) * (g + delta), g in {-1, 0, 1}, delta = +-1/8 per 32 elements:
// sum y a = d * sum_ib (2s + 1) * (sum g a  +  delta * sum a).
float dot_iq1_s(const BlockIQ1_S& w, const BlockQ8_K& a) {
  int isum = 0, delta_sum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const uint16_t h = w.qh[ib];  // 4 x 3 index bits, 3-bit scale (bits 12..14), delta sign (bit 15)
    const int ls = 2 * ((h >> 12) & 7) + 1;
    int sum = 0;
    for (int l = 0; l < 4; ++l) {
      const int idx = w.qs[4 * ib + l] | (((h >> (3 * l)) & 7) << 8);
      sum += dot_ternary8(iq::kIq1sGrid[idx], a.qs + 32 * ib + 8 * l);
    }
    isum += ls * sum;
    delta_sum += ls * ((h & 0x8000) ? -q8k_group_sum(a, ib) : q8k_group_sum(a, ib));
  }
  return a.d * f16_to_f32(w.d) * (static_cast<float>(isum) + iq::kIq1Delta * static_cast<float>(delta_sum));
}

// As IQ1_S with a 3-bit scale per 16 elements and a delta sign per 8; the f16 block scale is
// spread over the top nibbles of the four u16 scale words.
float dot_iq1_m(const BlockIQ1_M& w, const BlockQ8_K& a) {
  uint16_t sc[4];
  std::memcpy(sc, w.scales, sizeof sc);
  const uint16_t d_bits =
      static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
  int isum = 0, delta_sum = 0;
  for (int ib = 0; ib < 8; ++ib) {
    const int shift = 6 * (ib % 2);
    const int ls[2] = {2 * ((sc[ib / 2] >> shift) & 7) + 1, 2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1};
    for (int l = 0; l < 4; ++l) {
      const uint8_t h = w.qh[2 * ib + l / 2] >> (4 * (l % 2));  // 3 index bits, then the delta sign
      const int idx = w.qs[4 * ib + l] | ((h & 7) << 8);
      const int8_t* qa = a.qs + 32 * ib + 8 * l;
      isum += ls[l / 2] * dot_ternary8(iq::kIq1sGrid[idx], qa);
      delta_sum += ls[l / 2] * ((h & 8) ? -sum8(qa) : sum8(qa));
    }
  }
  return a.d * f16_to_f32(d_bits) * (static_cast<float>(isum) + iq::kIq1Delta * static_cast<float>(delta_sum));
}

// Trit n (< 5) of a base-3 packed byte: multiplying by 3^n modulo 256 rotates trit n to the top,
// then (x * 3) >> 8 reads it off.
int trit(uint8_t packed, int n) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const uint8_t rotated = static_cast<uint8_t>(packed * kPow3[n]);
  return (rotated * 3) >> 8;
}

// y = d * (t - 1). Elements 0..159: trit n of qs[m] (m < 32) is element 32n + m; 160..239: trit n
// of qs[32 + m] (m < 16) is 160 + 16n + m; 240..255: trit n of qh[m] (m < 4) is 240 + 4n + m.
float dot_tq1_0(const BlockTQ1_0& w, const BlockQ8_K& a) {
  int isum = 0;
  const int8_t* qa = a.qs;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 32; ++m) isum += (trit(w.qs[m], n) - 1) * *qa++;
  for (int n = 0; n < 5; ++n)
    for (int m = 0; m < 16; ++m) isum += (trit(w.qs[32 + m], n) - 1) * *qa++;
  for (int n = 0; n < 4; ++n)
    for (int m = 0; m < 4; ++m) isum += (trit(w.qh[m], n) - 1) * *qa++;
  return a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

// y[128j + 32l + m] = d * (crumb l of qs[32j + m] - 1).
float dot_tq2_0(const BlockTQ2_0& w, const BlockQ8_K& a) {
  int isum = 0;
  for (int j = 0; j < 2; ++j)
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 32; ++m) isum += (((w.qs[32 * j + m] >> (2 * l)) & 3) - 1) * a.qs[128 * j + 32 * l + m];
  return a.d * f16_to_f32(w.d) * static_cast<float>(isum);
}

}  // namespace

void gemm_iq1_s_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                       int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ1_S, dot_iq1_s>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq1_m_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                       int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ1_M, dot_iq1_m>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq2_xxs_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                         int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ2_XXS, dot_iq2_xxs>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq2_xs_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ2_XS, dot_iq2_xs>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq2_s_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                       int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ2_S, dot_iq2_s>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq3_xxs_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                         int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ3_XXS, dot_iq3_xxs>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_iq3_s_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                       int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockIQ3_S, dot_iq3_s>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_tq1_0_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                       int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockTQ1_0, dot_tq1_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

void gemm_tq2_0_scalar(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                       int64_t n_tok, float* y, size_t y_stride) {
  gemm_superblocks<BlockTQ2_0, dot_tq2_0>(k, w, w_stride, n_rows, a, a_stride, n_tok, y, y_stride);
}

}  // namespace lem
