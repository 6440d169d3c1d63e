// Per-type scalar dequantisers behind lem::dequantize_row (kernels/dequant.hpp).
//
// Each takes `nblocks` packed blocks of its type at `src` (any alignment) and writes
// nblocks * block_size floats to `dst`. They are the reference: plain scalar code that keeps
// ggml's operation order (dequantize_row_* in ggml-quants.c, llama.cpp v0.5.0) so the results
// equal ggml's bit for bit. The translation units are compiled with -ffp-contract=off: a fused
// multiply-add would round differently. Integer parts stay in int and are converted to float
// exactly once, as in ggml, so no ISA's integer dot-product instructions can change the result.
#pragma once

#include <cstdint>

namespace lem::dequant {

void q4_0(const void* src, float* dst, int64_t nblocks);
void q4_1(const void* src, float* dst, int64_t nblocks);
void q5_0(const void* src, float* dst, int64_t nblocks);
void q5_1(const void* src, float* dst, int64_t nblocks);
void q8_0(const void* src, float* dst, int64_t nblocks);

void q2_k(const void* src, float* dst, int64_t nblocks);
void q3_k(const void* src, float* dst, int64_t nblocks);
void q4_k(const void* src, float* dst, int64_t nblocks);
void q5_k(const void* src, float* dst, int64_t nblocks);
void q6_k(const void* src, float* dst, int64_t nblocks);
void q8_k(const void* src, float* dst, int64_t nblocks);

void iq1_s(const void* src, float* dst, int64_t nblocks);
void iq1_m(const void* src, float* dst, int64_t nblocks);
void iq2_xxs(const void* src, float* dst, int64_t nblocks);
void iq2_xs(const void* src, float* dst, int64_t nblocks);
void iq2_s(const void* src, float* dst, int64_t nblocks);
void iq3_xxs(const void* src, float* dst, int64_t nblocks);
void iq3_s(const void* src, float* dst, int64_t nblocks);
void iq4_nl(const void* src, float* dst, int64_t nblocks);
void iq4_xs(const void* src, float* dst, int64_t nblocks);

void tq1_0(const void* src, float* dst, int64_t nblocks);
void tq2_0(const void* src, float* dst, int64_t nblocks);

}  // namespace lem::dequant
