// Weight quantisers of the ternary formats TQ1_0 and TQ2_0: ggml's quantize_row_tq1_0_ref /
// quantize_row_tq2_0_ref (ggml-quants.c, llama.cpp v0.5.0). d = amax of the 256 elements,
// t = lroundf(x / d) + 1 in {0, 1, 2}.
#include <cmath>

#include "kernels/fp16.hpp"
#include "kernels/quant/formats.hpp"
#include "kernels/quant/quantize_blocks.hpp"

namespace lem::quantize {
namespace {

float block_absmax(const float* x) {
  float amax = 0.0f;
  for (int j = 0; j < kQK_K; ++j) amax = amax > std::fabs(x[j]) ? amax : std::fabs(x[j]);  // ggml's MAX()
  return amax;
}

inline int trit(float x, float id) { return static_cast<int>(std::lround(x * id)) + 1; }

// `count` trits packed base 3 (first trit most significant) and scaled to a byte by the
// ceiling of q * 256 / 243, so that the decoder can extract trit n as ((q * 3^n) mod 256 * 3) >> 8.
uint8_t pack_trits(const float* x, int count, int stride, float id) {
  uint8_t q = 0;
  for (int n = 0; n < count; ++n) q = static_cast<uint8_t>(q * 3 + trit(x[n * stride], id));
  if (count == 4) q = static_cast<uint8_t>(q * 3);  // 4 trits: shift to the most significant place
  return static_cast<uint8_t>((static_cast<uint16_t>(q) * 256 + (243 - 1)) / 243);
}

}  // namespace

// 5 trits per byte in qs (32-byte then 16-byte runs), 4 per byte in qh.
void tq1_0(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    BlockTQ1_0 b;
    const float d = block_absmax(x);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    constexpr int kRun32 = sizeof(b.qs) - sizeof(b.qs) % 32;  // 32
    for (int m = 0; m < 32; ++m) b.qs[m] = pack_trits(x + m, 5, 32, id);
    x += 5 * 32;
    for (int j = kRun32; j < static_cast<int>(sizeof(b.qs)); j += 16) {
      for (int m = 0; m < 16; ++m) b.qs[j + m] = pack_trits(x + m, 5, 16, id);
      x += 5 * 16;
    }
    for (int j = 0; j < static_cast<int>(sizeof(b.qh)); ++j) b.qh[j] = pack_trits(x + j, 4, sizeof(b.qh), id);
    x += 4 * sizeof(b.qh);
    store_block(dst, i, b);
  }
}

// 2 bits per element: qs[32j + m] holds elements 128j + 32n + m at bits 2n.
void tq2_0(const float* x, void* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    BlockTQ2_0 b;
    const float d = block_absmax(x);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    b.d = f32_to_f16(d);
    for (int j = 0; j < static_cast<int>(sizeof(b.qs)); j += 32) {
      for (int m = 0; m < 32; ++m) {
        uint8_t q = 0;
        for (int n = 0; n < 4; ++n) q = static_cast<uint8_t>(q + ((trit(x[m + n * 32], id) & 3) << (2 * n)));
        b.qs[j + m] = q;
      }
      x += 4 * 32;
    }
    store_block(dst, i, b);
  }
}

}  // namespace lem::quantize
