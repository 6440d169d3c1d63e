// Weight quantisers of the 32-element formats Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: ggml's
// quantize_row_*_ref (ggml-quants.c, llama.cpp v0.5.0), which ggml_quantize_chunk uses when no
// importance matrix is given. One scale (and min) per block, round-to-nearest codes.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/quantize_blocks.hpp"

namespace lem::quantize {
namespace {

// The element of largest magnitude, with its sign (the first one on ties), as ggml finds it.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

}  // namespace

// Symmetric 4-bit: d = max / -8, so the extreme element maps to code 0 and the rest to 0..15.
// A zero block gets d = -0 (f16 0x8000) and codes 8.
void q4_0(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i, x += kQK) {
    const float max = signed_absmax(x, kQK);
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_0 b;
    b.d = f32_to_f16(d);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(15, static_cast<int>(truncate_to_int8(x[j] * id + 8.5f)));
      const int hi = std::min(15, static_cast<int>(truncate_to_int8(x[kQK / 2 + j] * id + 8.5f)));
      b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    store_block(dst, i, b);
  }
}

// Unsigned 4-bit with a min: d = (max - min) / 15, m = min.
void q4_1(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i, x += kQK) {
    float min, max;
    min_max(x, kQK, min, max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ4_1 b;
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(min);
    for (int j = 0; j < kQK / 2; ++j) {
      const int lo = std::min(15, static_cast<int>(truncate_to_int8((x[j] - min) * id + 0.5f)));
      const int hi = std::min(15, static_cast<int>(truncate_to_int8((x[kQK / 2 + j] - min) * id + 0.5f)));
      b.qs[j] = static_cast<uint8_t>(lo | (hi << 4));
    }
    store_block(dst, i, b);
  }
}

// Symmetric 5-bit: d = max / -16; bit 4 of element j's code goes to bit j of qh.
void q5_0(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i, x += kQK) {
    const float max = signed_absmax(x, kQK);
    const float d = max / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ5_0 b;
    b.d = f32_to_f16(d);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const uint32_t lo = static_cast<uint32_t>(std::min(31, static_cast<int>(truncate_to_int8(x[j] * id + 16.5f))));
      const uint32_t hi =
          static_cast<uint32_t>(std::min(31, static_cast<int>(truncate_to_int8(x[kQK / 2 + j] * id + 16.5f))));
      b.qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= ((lo & 0x10u) >> 4) << j;
      qh |= ((hi & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, sizeof qh);
    store_block(dst, i, b);
  }
}

// Unsigned 5-bit with a min: d = (max - min) / 31, m = min. ggml does not clamp the code here.
void q5_1(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i, x += kQK) {
    float min, max;
    min_max(x, kQK, min, max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ5_1 b;
    b.d = f32_to_f16(d);
    b.m = f32_to_f16(min);
    uint32_t qh = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const uint32_t lo = truncate_low_byte((x[j] - min) * id + 0.5f);
      const uint32_t hi = truncate_low_byte((x[kQK / 2 + j] - min) * id + 0.5f);
      b.qs[j] = static_cast<uint8_t>((lo & 0x0F) | ((hi & 0x0F) << 4));
      qh |= ((lo & 0x10u) >> 4) << j;
      qh |= ((hi & 0x10u) >> 4) << (j + kQK / 2);
    }
    std::memcpy(b.qh, &qh, sizeof qh);
    store_block(dst, i, b);
  }
}

// Symmetric 8-bit: d = amax / 127, q = roundf(x / d) (ties away from zero).
void q8_0(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);  // ggml's MAX()
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    BlockQ8_0 b;
    b.d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) b.qs[j] = truncate_to_int8(std::round(x[j] * id));
    store_block(dst, i, b);
  }
}

}  // namespace lem::quantize
