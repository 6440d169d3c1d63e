// The AVX-512 kernel table (F, BW, VL, DQ, VNNI). Types without an AVX-512 kernel return {} and
// the dispatcher falls back to the AVX2, then the scalar table.
#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/arch/tables.hpp"

namespace lem {

WeightKernel avx512_weight_kernel(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return {ActType::F32, gemm_f32_avx512, kFloatAvx512WideMinTokens};
    case GgmlType::F16: return {ActType::F32, gemm_f16_avx512, kFloatAvx512WideMinTokens};
    case GgmlType::BF16: return {ActType::F32, gemm_bf16_avx512, kFloatAvx512WideMinTokens};
    case GgmlType::Q4_0: return {ActType::Q8_0, gemm_q4_0_avx512, kLegacyAvx512RepackMinTokens};
    case GgmlType::Q4_1: return {ActType::Q8_1, gemm_q4_1_avx512, kLegacyAvx512RepackMinTokens};
    case GgmlType::Q5_0: return {ActType::Q8_0, gemm_q5_0_avx512, kLegacyAvx512RepackMinTokens};
    case GgmlType::Q5_1: return {ActType::Q8_1, gemm_q5_1_avx512, kLegacyAvx512RepackMinTokens};
    case GgmlType::Q8_0: return {ActType::Q8_0, gemm_q8_0_avx512, kLegacyAvx512RepackMinTokens};
    case GgmlType::IQ4_NL: return {ActType::Q8_0, gemm_iq4_nl_avx512, kLegacyAvx512RepackMinTokens};
    case GgmlType::Q2_K: return {ActType::Q8_K, gemm_q2_K_avx512, kKquantAvx512RepackMinTokens};
    case GgmlType::Q3_K: return {ActType::Q8_K, gemm_q3_K_avx512, kKquantAvx512RepackMinTokens};
    case GgmlType::Q4_K: return {ActType::Q8_K, gemm_q4_K_avx512, kKquantAvx512RepackMinTokens};
    case GgmlType::Q5_K: return {ActType::Q8_K, gemm_q5_K_avx512, kKquantAvx512RepackMinTokens};
    case GgmlType::Q6_K: return {ActType::Q8_K, gemm_q6_K_avx512, kKquantAvx512RepackMinTokens};
    case GgmlType::IQ4_XS: return {ActType::Q8_K, gemm_iq4_xs_avx512, kKquantAvx512RepackMinTokens};
    default: return {};  // IQ1/IQ2/IQ3 and TQ: the scalar kernels
  }
}

}  // namespace lem
