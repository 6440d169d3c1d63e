// GEMM kernels for the 32-element weight formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) and the
// float formats (F32, F16, BF16), one set per ISA level.
//
// All have the GemmFn signature of kernels/kernels.hpp: Y[t * y_stride + r] = sum_i W[r][i] * A[t][i].
// Activation formats (the tables pair them):
// * Q4_0, Q5_0, Q8_0, IQ4_NL x Q8_0 and Q4_1, Q5_1 x Q8_1, as ggml does (vec_dot_type).
// * F32, F16 and BF16 weights x F32 activations. ggml rounds the activations to the weight's own
//   format instead; we keep them in float32 because rounding them to bf16 costs ~0.1 in the
//   logits and f16 overflows on large activations (shared spec §8, §9: the float GGUFs must
//   match ref-gguf to 1e-3 with fp32 activations). Decode is bandwidth-bound either way.
//
// Scalar kernels (kernels/arch/scalar/) are the reference; the AVX2 and AVX-512 versions are
// compiled in their own ISA directories and may only be called after dispatch has checked the CPU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lem {

#define LEM_LEGACY_GEMM(name)                                                                               \
  void name(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride, \
            int64_t n_tok, float* y, size_t y_stride)

// Scalar reference (gemm_legacy_scalar.cpp, gemm_float_scalar.cpp).
LEM_LEGACY_GEMM(gemm_q4_0_scalar);
LEM_LEGACY_GEMM(gemm_q4_1_scalar);
LEM_LEGACY_GEMM(gemm_q5_0_scalar);
LEM_LEGACY_GEMM(gemm_q5_1_scalar);
LEM_LEGACY_GEMM(gemm_q8_0_scalar);
LEM_LEGACY_GEMM(gemm_iq4_nl_scalar);
LEM_LEGACY_GEMM(gemm_f32_scalar);
LEM_LEGACY_GEMM(gemm_f16_scalar);
LEM_LEGACY_GEMM(gemm_bf16_scalar);

// AVX2 + FMA + F16C (gemm_legacy_avx2.cpp, gemm_float_avx2.cpp).
LEM_LEGACY_GEMM(gemm_q4_0_avx2);
LEM_LEGACY_GEMM(gemm_q4_1_avx2);
LEM_LEGACY_GEMM(gemm_q5_0_avx2);
LEM_LEGACY_GEMM(gemm_q5_1_avx2);
LEM_LEGACY_GEMM(gemm_q8_0_avx2);
LEM_LEGACY_GEMM(gemm_iq4_nl_avx2);
LEM_LEGACY_GEMM(gemm_f32_avx2);
LEM_LEGACY_GEMM(gemm_f16_avx2);
LEM_LEGACY_GEMM(gemm_bf16_avx2);

// AVX-512 F/BW/VL/DQ/VNNI (gemm_legacy_avx512.cpp, gemm_float_avx512.cpp). From this many tokens
// on, the integer formats repack the weights (it pays for itself, measured on Zen 5): the table's
// WeightKernel::wide_min_tokens.
inline constexpr int64_t kLegacyAvx512RepackMinTokens = 8;
// The float kernels tile 4 rows x 4 tokens from this many tokens on; below, every (row, token) is
// computed alone (WeightKernel::wide_min_tokens).
inline constexpr int64_t kFloatAvx512WideMinTokens = 4;
LEM_LEGACY_GEMM(gemm_q4_0_avx512);
LEM_LEGACY_GEMM(gemm_q4_1_avx512);
LEM_LEGACY_GEMM(gemm_q5_0_avx512);
LEM_LEGACY_GEMM(gemm_q5_1_avx512);
LEM_LEGACY_GEMM(gemm_q8_0_avx512);
LEM_LEGACY_GEMM(gemm_iq4_nl_avx512);
LEM_LEGACY_GEMM(gemm_f32_avx512);
LEM_LEGACY_GEMM(gemm_f16_avx512);
LEM_LEGACY_GEMM(gemm_bf16_avx512);

#undef LEM_LEGACY_GEMM

}  // namespace lem
