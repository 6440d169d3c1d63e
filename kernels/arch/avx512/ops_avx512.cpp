// The forward-pass operations of kernels/ops.hpp at AVX-512 (16 floats per step).
#include <immintrin.h>

#include "kernels/arch/ops_simd.hpp"
#include "kernels/arch/tables.hpp"
#include "kernels/fp16.hpp"

namespace lem {
namespace {

struct Avx512 {
  using arch = xsimd::avx512bw;
  static xsimd::batch<float, arch> load_f16(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static float f16_to_f32(uint16_t h) { return lem::f16_to_f32(h); }
};

}  // namespace

const VectorOps& avx512_vector_ops() { return simd_ops::Ops<Avx512>::table(); }

}  // namespace lem
