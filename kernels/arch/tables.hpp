// Per-ISA kernel tables. Each is defined in its own directory, whose translation units are
// compiled with that ISA's flags (cmake: kernels/CMakeLists.txt); nothing compiled with AVX
// flags may be inlined into code that runs before dispatch has checked the CPU.
#pragma once

#include "kernels/kernels.hpp"
#include "kernels/ops.hpp"

namespace lem {

WeightKernel scalar_weight_kernel(GgmlType type);   // kernels/arch/scalar/
WeightKernel avx2_weight_kernel(GgmlType type);     // kernels/arch/avx2/   (AVX2, FMA, F16C)
WeightKernel avx512_weight_kernel(GgmlType type);   // kernels/arch/avx512/ (F, BW, VL, DQ, VNNI, BF16)

// Activation row quantisers, byte-identical to the scalar reference in kernels/quant/quantize_act.cpp.
void quantize_activation_row_avx2(ActType a, const float* x, void* out, int64_t k);    // AVX2, FMA, F16C
void quantize_activation_row_avx512(ActType a, const float* x, void* out, int64_t k);  // AVX-512 F, BW, VL, DQ

const VectorOps& scalar_vector_ops();
const VectorOps& avx2_vector_ops();
const VectorOps& avx512_vector_ops();

}  // namespace lem
