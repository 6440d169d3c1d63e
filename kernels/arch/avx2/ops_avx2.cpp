// The forward-pass operations of kernels/ops.hpp at AVX2 + FMA + F16C (8 floats per step).
#include <immintrin.h>

#include "kernels/arch/ops_simd.hpp"
#include "kernels/arch/tables.hpp"
#include "kernels/fp16.hpp"

namespace lem {
namespace {

struct Avx2 {
  using arch = xsimd::fma3<xsimd::avx2>;
  static xsimd::batch<float, arch> load_f16(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static float f16_to_f32(uint16_t h) { return lem::f16_to_f32(h); }
};

}  // namespace

const VectorOps& avx2_vector_ops() { return simd_ops::Ops<Avx2>::table(); }

}  // namespace lem
