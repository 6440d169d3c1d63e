// lem::quantize_row: dispatch to the per-type weight quantisers (kernels/quant/quantize_blocks.hpp)
// and the float formats, which ggml_quantize_chunk converts element by element
// (ggml_fp32_to_fp16_row, ggml_fp32_to_bf16_row_ref).
#include "kernels/quant/quantize_weights.hpp"

#include <cstring>

#include "kernels/fp16.hpp"
#include "kernels/quant/quantize_blocks.hpp"

namespace lem {
namespace {

using BlockQuantizer = void (*)(const float* x, void* dst, int64_t nblocks);

BlockQuantizer block_quantizer(GgmlType type) {
  switch (type) {
    case GgmlType::Q4_0: return quantize::q4_0;
    case GgmlType::Q4_1: return quantize::q4_1;
    case GgmlType::Q5_0: return quantize::q5_0;
    case GgmlType::Q5_1: return quantize::q5_1;
    case GgmlType::Q8_0: return quantize::q8_0;
    case GgmlType::Q2_K: return quantize::q2_k;
    case GgmlType::Q3_K: return quantize::q3_k;
    case GgmlType::Q4_K: return quantize::q4_k;
    case GgmlType::Q5_K: return quantize::q5_k;
    case GgmlType::Q6_K: return quantize::q6_k;
    case GgmlType::IQ4_NL: return quantize::iq4_nl;
    case GgmlType::IQ4_XS: return quantize::iq4_xs;
    case GgmlType::TQ1_0: return quantize::tq1_0;
    case GgmlType::TQ2_0: return quantize::tq2_0;
    default: return nullptr;
  }
}

bool is_float_type(GgmlType type) {
  return type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
}

}  // namespace

bool quantize_supported(GgmlType type) { return is_float_type(type) || block_quantizer(type) != nullptr; }

bool quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  if (!quantize_supported(type) || n < 0) return false;
  const int64_t block = ggml_traits(type).block_size;
  if (n % block != 0) return false;
  auto* out = static_cast<uint8_t*>(dst);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(out, src, static_cast<size_t>(n) * sizeof(float));
      return true;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return true;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return true;
    default:
      block_quantizer(type)(src, dst, n / block);
      return true;
  }
}

}  // namespace lem
