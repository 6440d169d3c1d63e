// The scalar kernel table: every type the library computes with has a kernel here, so this
// level is the fallback for everything (kernels/dispatch.cpp).
#include "kernels/arch/kquant_kernels.hpp"
#include "kernels/arch/legacy_kernels.hpp"
#include "kernels/arch/tables.hpp"

namespace lem {

WeightKernel scalar_weight_kernel(GgmlType type) {
  switch (type) {
    case GgmlType::F32: return {ActType::F32, gemm_f32_scalar};
    case GgmlType::F16: return {ActType::F32, gemm_f16_scalar};
    case GgmlType::BF16: return {ActType::F32, gemm_bf16_scalar};
    case GgmlType::Q4_0: return {ActType::Q8_0, gemm_q4_0_scalar};
    case GgmlType::Q4_1: return {ActType::Q8_1, gemm_q4_1_scalar};
    case GgmlType::Q5_0: return {ActType::Q8_0, gemm_q5_0_scalar};
    case GgmlType::Q5_1: return {ActType::Q8_1, gemm_q5_1_scalar};
    case GgmlType::Q8_0: return {ActType::Q8_0, gemm_q8_0_scalar};
    case GgmlType::IQ4_NL: return {ActType::Q8_0, gemm_iq4_nl_scalar};
    case GgmlType::Q2_K: return {ActType::Q8_K, gemm_q2_K_scalar};
    case GgmlType::Q3_K: return {ActType::Q8_K, gemm_q3_K_scalar};
    case GgmlType::Q4_K: return {ActType::Q8_K, gemm_q4_K_scalar};
    case GgmlType::Q5_K: return {ActType::Q8_K, gemm_q5_K_scalar};
    case GgmlType::Q6_K: return {ActType::Q8_K, gemm_q6_K_scalar};
    case GgmlType::IQ4_XS: return {ActType::Q8_K, gemm_iq4_xs_scalar};
    case GgmlType::IQ1_S: return {ActType::Q8_K, gemm_iq1_s_scalar};
    case GgmlType::IQ1_M: return {ActType::Q8_K, gemm_iq1_m_scalar};
    case GgmlType::IQ2_XXS: return {ActType::Q8_K, gemm_iq2_xxs_scalar};
    case GgmlType::IQ2_XS: return {ActType::Q8_K, gemm_iq2_xs_scalar};
    case GgmlType::IQ2_S: return {ActType::Q8_K, gemm_iq2_s_scalar};
    case GgmlType::IQ3_XXS: return {ActType::Q8_K, gemm_iq3_xxs_scalar};
    case GgmlType::IQ3_S: return {ActType::Q8_K, gemm_iq3_s_scalar};
    case GgmlType::TQ1_0: return {ActType::Q8_K, gemm_tq1_0_scalar};
    case GgmlType::TQ2_0: return {ActType::Q8_K, gemm_tq2_0_scalar};
    default: return {};  // activation-only formats (Q8_1, Q8_K), integer and unsupported types
  }
}

}  // namespace lem
