// Dequantisation of the IQ formats: IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL,
// IQ4_XS (spec §6). The 256-element super-blocks are eight groups of 32 (`ib`), each made of four
// runs of 8 (`l`). Grid values come from kernels/quant/iq_grids.hpp.
//
// Group scales are computed exactly as ggml writes them, e.g. d * (0.5f + s) * 0.25f evaluated
// left to right; the sign is applied last as a multiplication by +-1.
#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant/dequant_blocks.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/iq_grids.hpp"

namespace lem::dequant {

using iq::kKmaskIq2xs;
using iq::kKsignsIq2xs;

namespace {

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

float sign_of(uint8_t signs, int j) { return (signs & kKmaskIq2xs[j]) ? -1.0f : 1.0f; }

// Eight elements from an 8-byte magnitude grid entry with sign byte `signs`.
void put8(float* y, float scale, const uint8_t (&grid)[8], uint8_t signs) {
  for (int j = 0; j < 8; ++j) y[j] = scale * static_cast<float>(grid[j]) * sign_of(signs, j);
}

// Eight elements from two 4-byte grid entries (IQ3_*): signs bits 0..3 for g1, 4..7 for g2.
void put4x2(float* y, float scale, const uint8_t (&g1)[4], const uint8_t (&g2)[4], uint8_t signs) {
  for (int j = 0; j < 4; ++j) {
    y[j] = scale * static_cast<float>(g1[j]) * sign_of(signs, j);
    y[j + 4] = scale * static_cast<float>(g2[j]) * sign_of(signs, j + 4);
  }
}

// Eight IQ1 elements: dl * (g + delta) with g in {-1, 0, 1}.
void put_iq1(float* y, float dl, const int8_t (&grid)[8], float delta) {
  for (int j = 0; j < 8; ++j) y[j] = dl * (static_cast<float>(grid[j]) + delta);
}

}  // namespace

void iq2_xxs(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ2_XXS>(src, i);
    const float d = f16_to_f32(b.d);
    const auto* qs = reinterpret_cast<const uint8_t*>(b.qs);
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const uint8_t* grid_idx = qs + 8 * ib;           // A: four 8-bit grid indices
      const uint32_t aux = load_u32(qs + 8 * ib + 4);  // B: 4 x 7-bit sign indices, scale in bits 28..31
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = kKsignsIq2xs[(aux >> (7 * l)) & 127];
        put8(y + 32 * ib + 8 * l, db, iq::kIq2xxsGrid[grid_idx[l]], signs);
      }
    }
  }
}

void iq2_xs(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ2_XS>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + static_cast<float>(b.scales[ib] & 0x0F)) * 0.25f,
                           d * (0.5f + static_cast<float>(b.scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const uint16_t v = b.qs[4 * ib + l];
        put8(y + 32 * ib + 8 * l, db[l / 2], iq::kIq2xsGrid[v & 511], kKsignsIq2xs[v >> 9]);
      }
    }
  }
}

void iq2_s(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ2_S>(src, i);
    const float d = f16_to_f32(b.d);
    const uint8_t* signs = b.qs + kQK_K / 8;  // second half of qs
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const float db[2] = {d * (0.5f + static_cast<float>(b.scales[ib] & 0x0F)) * 0.25f,
                           d * (0.5f + static_cast<float>(b.scales[ib] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const int idx = b.qs[4 * ib + l] | (((b.qh[ib] >> (2 * l)) & 3) << 8);
        put8(y + 32 * ib + 8 * l, db[l / 2], iq::kIq2sGrid[idx], signs[4 * ib + l]);
      }
    }
  }
}

void iq3_xxs(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ3_XXS>(src, i);
    const float d = f16_to_f32(b.d);
    const uint8_t* scales_and_signs = b.qs + kQK_K / 4;
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const uint32_t aux = load_u32(scales_and_signs + 4 * ib);
      const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
      const uint8_t* qs = b.qs + 8 * ib;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = kKsignsIq2xs[(aux >> (7 * l)) & 127];
        put4x2(y + 32 * ib + 8 * l, db, iq::kIq3xxsGrid[qs[2 * l]], iq::kIq3xxsGrid[qs[2 * l + 1]], signs);
      }
    }
  }
}

void iq3_s(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ3_S>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const int ls = (b.scales[ib / 2] >> (4 * (ib % 2))) & 0x0F;
      const float db = d * static_cast<float>(1 + 2 * ls);
      const uint8_t* qs = b.qs + 8 * ib;
      const uint8_t qh = b.qh[ib];
      for (int l = 0; l < 4; ++l) {
        const int idx1 = qs[2 * l] | (((qh >> (2 * l)) & 1) << 8);
        const int idx2 = qs[2 * l + 1] | (((qh >> (2 * l + 1)) & 1) << 8);
        put4x2(y + 32 * ib + 8 * l, db, iq::kIq3sGrid[idx1], iq::kIq3sGrid[idx2], b.signs[4 * ib + l]);
      }
    }
  }
}

void iq1_s(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ1_S>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const uint16_t w = b.qh[ib];
      const float dl = d * static_cast<float>(2 * ((w >> 12) & 7) + 1);
      const float delta = (w & 0x8000) ? -iq::kIq1Delta : iq::kIq1Delta;
      for (int l = 0; l < 4; ++l) {
        const int idx = b.qs[4 * ib + l] | (((w >> (3 * l)) & 7) << 8);
        put_iq1(y + 32 * ib + 8 * l, dl, iq::kIq1sGrid[idx], delta);
      }
    }
  }
}

void iq1_m(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ1_M>(src, i);
    uint16_t sc[4];
    std::memcpy(sc, b.scales, sizeof sc);
    // The block's f16 scale is the top nibble of each of the four u16 scale words.
    const uint16_t d_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) |
                                                  ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000));
    const float d = f16_to_f32(d_bits);
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const int shift = 6 * (ib % 2);
      const float dl1 = d * static_cast<float>(2 * ((sc[ib / 2] >> shift) & 7) + 1);
      const float dl2 = d * static_cast<float>(2 * ((sc[ib / 2] >> (shift + 3)) & 7) + 1);
      const uint8_t* qs = b.qs + 4 * ib;
      const uint8_t q0 = b.qh[2 * ib];
      const uint8_t q1 = b.qh[2 * ib + 1];
      const int idx[4] = {qs[0] | ((q0 & 7) << 8), qs[1] | (((q0 >> 4) & 7) << 8),
                          qs[2] | ((q1 & 7) << 8), qs[3] | (((q1 >> 4) & 7) << 8)};
      const float delta[4] = {(q0 & 0x08) ? -iq::kIq1Delta : iq::kIq1Delta,
                              (q0 & 0x80) ? -iq::kIq1Delta : iq::kIq1Delta,
                              (q1 & 0x08) ? -iq::kIq1Delta : iq::kIq1Delta,
                              (q1 & 0x80) ? -iq::kIq1Delta : iq::kIq1Delta};
      for (int l = 0; l < 4; ++l) put_iq1(y + 32 * ib + 8 * l, l < 2 ? dl1 : dl2, iq::kIq1sGrid[idx[l]], delta[l]);
    }
  }
}

void iq4_nl(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ4_NL>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      y[j] = d * static_cast<float>(iq::kValuesIq4nl[b.qs[j] & 0x0F]);
      y[j + kQK / 2] = d * static_cast<float>(iq::kValuesIq4nl[b.qs[j] >> 4]);
    }
  }
}

void iq4_xs(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockIQ4_XS>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int ib = 0; ib < 8; ++ib) {
      const int ls = ((b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0F) | (((b.scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * static_cast<float>(ls - 32);
      const uint8_t* qs = b.qs + 16 * ib;
      float* out = y + 32 * ib;
      for (int j = 0; j < 16; ++j) {
        out[j] = dl * static_cast<float>(iq::kValuesIq4nl[qs[j] & 0x0F]);
        out[j + 16] = dl * static_cast<float>(iq::kValuesIq4nl[qs[j] >> 4]);
      }
    }
  }
}

}  // namespace lem::dequant
