// Dequantisation of the ternary formats TQ1_0 and TQ2_0 (spec §6): y = (t - 1) * d, t in {0, 1, 2}.
#include "kernels/fp16.hpp"
#include "kernels/quant/dequant_blocks.hpp"
#include "kernels/quant/formats.hpp"

namespace lem::dequant {

namespace {

// Trit n (< 5) of a base-3 packed byte: multiplying by 3^n modulo 256 rotates trit n to the top,
// then (x * 3) >> 8 reads it off.
int trit(uint8_t packed, int n) {
  static constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};
  const uint8_t rotated = static_cast<uint8_t>(packed * kPow3[n]);
  return (rotated * 3) >> 8;
}

}  // namespace

void tq1_0(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockTQ1_0>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    // Elements 0..159: 5 trits from each of qs[0..31]; 160..239: 5 from each of qs[32..47];
    // 240..255: 4 from each of qh[0..3]. Trit n of all bytes comes before trit n + 1.
    for (int n = 0; n < 5; ++n)
      for (int m = 0; m < 32; ++m) *y++ = static_cast<float>(trit(b.qs[m], n) - 1) * d;
    for (int n = 0; n < 5; ++n)
      for (int m = 0; m < 16; ++m) *y++ = static_cast<float>(trit(b.qs[32 + m], n) - 1) * d;
    for (int n = 0; n < 4; ++n)
      for (int m = 0; m < 4; ++m) *y++ = static_cast<float>(trit(b.qh[m], n) - 1) * d;
  }
}

void tq2_0(const void* src, float* dst, int64_t nblocks) {
  for (int64_t i = 0; i < nblocks; ++i) {
    const auto b = load_block<BlockTQ2_0>(src, i);
    const float d = f16_to_f32(b.d);
    float* y = dst + i * kQK_K;
    for (int j = 0; j < 2; ++j)
      for (int l = 0; l < 4; ++l)
        for (int m = 0; m < 32; ++m) {
          const int q = (b.qs[32 * j + m] >> (2 * l)) & 3;
          y[128 * j + 32 * l + m] = static_cast<float>(q - 1) * d;
        }
  }
}

}  // namespace lem::dequant
