// Dispatch of lem::dequantize_row to the per-type reference dequantisers (kernels/quant/).
#include "kernels/dequant.hpp"

#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant/dequant_blocks.hpp"

namespace lem {

namespace {

using BlockDequantizer = void (*)(const void* src, float* dst, int64_t nblocks);

void f32_row(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float)); }

void f16_row(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, sizeof h);
    dst[i] = f16_to_f32(h);
  }
}

void bf16_row(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, sizeof h);
    dst[i] = bf16_to_f32(h);
  }
}

// The dequantiser of `type`, or nullptr. F32/F16/BF16 have block size 1, so their "blocks" are
// elements. Q8_1 is not here: ggml defines no dequantiser for it.
BlockDequantizer dequantizer_for(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return f32_row;
    case GgmlType::F16: return f16_row;
    case GgmlType::BF16: return bf16_row;
    case GgmlType::Q4_0: return dequant::q4_0;
    case GgmlType::Q4_1: return dequant::q4_1;
    case GgmlType::Q5_0: return dequant::q5_0;
    case GgmlType::Q5_1: return dequant::q5_1;
    case GgmlType::Q8_0: return dequant::q8_0;
    case GgmlType::Q2_K: return dequant::q2_k;
    case GgmlType::Q3_K: return dequant::q3_k;
    case GgmlType::Q4_K: return dequant::q4_k;
    case GgmlType::Q5_K: return dequant::q5_k;
    case GgmlType::Q6_K: return dequant::q6_k;
    case GgmlType::Q8_K: return dequant::q8_k;
    case GgmlType::IQ1_S: return dequant::iq1_s;
    case GgmlType::IQ1_M: return dequant::iq1_m;
    case GgmlType::IQ2_XXS: return dequant::iq2_xxs;
    case GgmlType::IQ2_XS: return dequant::iq2_xs;
    case GgmlType::IQ2_S: return dequant::iq2_s;
    case GgmlType::IQ3_XXS: return dequant::iq3_xxs;
    case GgmlType::IQ3_S: return dequant::iq3_s;
    case GgmlType::IQ4_NL: return dequant::iq4_nl;
    case GgmlType::IQ4_XS: return dequant::iq4_xs;
    case GgmlType::TQ1_0: return dequant::tq1_0;
    case GgmlType::TQ2_0: return dequant::tq2_0;
    default: return nullptr;
  }
}

}  // namespace

bool dequantize_supported(GgmlType type) { return dequantizer_for(type) != nullptr; }

bool dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const BlockDequantizer fn = dequantizer_for(type);
  if (fn == nullptr || n < 0) return false;
  const int64_t block_size = ggml_traits(type).block_size;
  if (n % block_size != 0) return false;
  if (n > 0) fn(src, dst, n / block_size);
  return true;
}

}  // namespace lem
