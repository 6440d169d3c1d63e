// GEMM kernels for the 256-element super-block weight types (K-quants, IQ quants, ternary).
//
// All of them pair with ActType::Q8_K activations and have the GemmFn signature of
// kernels/kernels.hpp: Y[t * y_stride + r] = sum_i W[r][i] * A[t][i].
//
// Scalar kernels are the reference for every type (kernels/arch/scalar/); the AVX2 and AVX-512
// versions exist for the types that matter for speed (Q2_K..Q6_K, IQ4_XS) and are compiled in
// their own ISA directories, so they may only be called after dispatch has checked the CPU. The
// grid IQ types and TQ1_0/TQ2_0 have the scalar kernel only (best_weight_kernel falls back to it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lem {

#define LEM_KQUANT_GEMM(name)                                                                                   \
  void name(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, \
            int64_t n_tok, float* y, size_t y_stride)

// Scalar reference (kernels/arch/scalar/gemm_kquants_scalar.cpp, gemm_iquants_scalar.cpp).
LEM_KQUANT_GEMM(gemm_q2_K_scalar);
LEM_KQUANT_GEMM(gemm_q3_K_scalar);
LEM_KQUANT_GEMM(gemm_q4_K_scalar);
LEM_KQUANT_GEMM(gemm_q5_K_scalar);
LEM_KQUANT_GEMM(gemm_q6_K_scalar);
LEM_KQUANT_GEMM(gemm_iq4_xs_scalar);
LEM_KQUANT_GEMM(gemm_iq1_s_scalar);
LEM_KQUANT_GEMM(gemm_iq1_m_scalar);
LEM_KQUANT_GEMM(gemm_iq2_xxs_scalar);
LEM_KQUANT_GEMM(gemm_iq2_xs_scalar);
LEM_KQUANT_GEMM(gemm_iq2_s_scalar);
LEM_KQUANT_GEMM(gemm_iq3_xxs_scalar);
LEM_KQUANT_GEMM(gemm_iq3_s_scalar);
LEM_KQUANT_GEMM(gemm_tq1_0_scalar);
LEM_KQUANT_GEMM(gemm_tq2_0_scalar);

// AVX2 + FMA + F16C (kernels/arch/avx2/gemm_kquants_avx2.cpp).
LEM_KQUANT_GEMM(gemm_q2_K_avx2);
LEM_KQUANT_GEMM(gemm_q3_K_avx2);
LEM_KQUANT_GEMM(gemm_q4_K_avx2);
LEM_KQUANT_GEMM(gemm_q5_K_avx2);
LEM_KQUANT_GEMM(gemm_q6_K_avx2);
LEM_KQUANT_GEMM(gemm_iq4_xs_avx2);

// AVX-512 F/BW/VL/DQ/VNNI (kernels/arch/avx512/gemm_kquants_avx512.cpp). Calls of at least this
// many tokens take the repacked path (the table's WeightKernel::wide_min_tokens); below, repacking
// costs more than it saves.
inline constexpr int64_t kKquantAvx512RepackMinTokens = 16;
LEM_KQUANT_GEMM(gemm_q2_K_avx512);
LEM_KQUANT_GEMM(gemm_q3_K_avx512);
LEM_KQUANT_GEMM(gemm_q4_K_avx512);
LEM_KQUANT_GEMM(gemm_q5_K_avx512);
LEM_KQUANT_GEMM(gemm_q6_K_avx512);
LEM_KQUANT_GEMM(gemm_iq4_xs_avx512);

#undef LEM_KQUANT_GEMM

}  // namespace lem
