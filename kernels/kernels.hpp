// The matmul kernel table: for every weight type, the activation format it pairs with, the
// activation quantiser, and a small GEMM over a block of weight rows x a block of tokens.
//
// y = W·x is the hot operation (decode: one token; prefill: many). As llama.cpp does, the
// activations are first rounded to the weight type's "vec_dot_type" (Q8_0, Q8_1, Q8_K, BF16,
// F16 or F32; shared spec §6) so that the inner loop is an integer (or bf16) dot product.
//
// Each ISA level (scalar reference, AVX2+FMA+F16C, AVX-512 with VNNI/BF16) provides its own
// table, compiled in its own translation units with its own flags (kernels/arch/<isa>/), and the
// dispatcher picks one table at start-up from CPUID; LEM_ISA=scalar|avx2|avx512 forces a level.
// Splitting rows across threads is the caller's job (lib/model/matmul.*).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/ggml_types.hpp"

namespace lem {

enum class Isa : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };
const char* isa_name(Isa isa);

// The best level this CPU supports (and this build compiled).
Isa detected_isa();
// detected_isa(), lowered by the LEM_ISA environment variable if set (read once).
Isa active_isa();

enum class ActType { F32, F16, BF16, Q8_0, Q8_1, Q8_K };
const char* act_type_name(ActType a);
// Elements per activation block and bytes per block.
int64_t act_block_size(ActType a);
size_t act_block_bytes(ActType a);
// Bytes of one activation row of k elements (k a multiple of the block size).
size_t act_row_bytes(ActType a, int64_t k);

// Quantises one row of k floats into activation format `a` (bit-exact with ggml's reference
// quantize_row_q8_0/q8_1/q8_K_ref and its f16/bf16 conversions). k must be a multiple of the
// block size.
void quantize_activation_row(ActType a, const float* x, void* out, int64_t k);
// The same with the quantiser of ISA level `isa` (all levels write the same bytes); returns false,
// writing nothing, when this build or CPU does not have that level.
bool quantize_activation_row_isa(Isa isa, ActType a, const float* x, void* out, int64_t k);

// Y[t * y_stride + r] = sum_i W[r][i] * A[t][i] for r < n_rows, t < n_tok.
// `w` points at the first weight row (row stride w_stride bytes), `a` at the first activation
// row (stride a_stride bytes) in the paired format. k is the row length in elements.
using GemmFn = void (*)(int64_t k, const void* w, size_t w_stride, int64_t n_rows, const void* a, size_t a_stride,
                        int64_t n_tok, float* y, size_t y_stride);

// Batch invariance: a kernel may have two paths, narrow (calls of fewer than wide_min_tokens
// tokens) and wide (at least that many; 0: a single path for every call). Within one path a
// token's result is bitwise the same whatever other tokens share the call, wherever the token
// sits in it and whichever rows the call covers (tests/unit/test_kernels_batch_invariance.cpp).
// Callers that batch tokens of independent sequences keep each on the path it would take alone.
struct WeightKernel {
  ActType act = ActType::F32;
  GemmFn gemm = nullptr;
  int64_t wide_min_tokens = 0;
};

// The kernel for `type` at ISA level `isa`; {F32, nullptr} when that level has none (the caller
// then tries a lower level: every type has a scalar kernel).
WeightKernel weight_kernel(GgmlType type, Isa isa);

// The best available kernel for `type` at or below `isa`, falling back level by level.
WeightKernel best_weight_kernel(GgmlType type, Isa isa);

}  // namespace lem
