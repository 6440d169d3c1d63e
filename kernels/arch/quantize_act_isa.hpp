// Per-ISA activation row quantisers (kernels/kernels.hpp quantize_activation_row), each defined
// in its own translation unit compiled with that ISA's flags. They write the same bytes as the
// scalar reference in kernels/quant/quantize_act.cpp for every input; call them only after the
// dispatcher has checked the CPU (quantize_activation_row_isa does).
#pragma once

#include <cstdint>

#include "kernels/kernels.hpp"

namespace lem {

void quantize_activation_row_avx2(ActType a, const float* x, void* out, int64_t k);    // AVX2, FMA, F16C
void quantize_activation_row_avx512(ActType a, const float* x, void* out, int64_t k);  // AVX-512 F, BW, VL, DQ

}  // namespace lem
