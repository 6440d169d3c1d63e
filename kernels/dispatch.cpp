// ISA detection and the choice of kernel table, made once per process.
#include <cstdlib>
#include <cstring>

#include "kernels/arch/tables.hpp"
#include "kernels/kernels.hpp"

namespace lem {
namespace {

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // The AVX-512 kernels use F, BW, VL, DQ and VNNI (and BF16 where present, checked per kernel).
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

Isa detect() {
#if defined(LEM_HAVE_AVX512_KERNELS)
  if (cpu_has_avx512()) return Isa::Avx512;
#endif
#if defined(LEM_HAVE_AVX2_KERNELS)
  if (cpu_has_avx2()) return Isa::Avx2;
#endif
  return Isa::Scalar;
}

Isa choose() {
  Isa isa = detect();
  if (const char* env = std::getenv("LEM_ISA")) {
    Isa wanted = isa;
    if (!std::strcmp(env, "scalar")) wanted = Isa::Scalar;
    else if (!std::strcmp(env, "avx2")) wanted = Isa::Avx2;
    else if (!std::strcmp(env, "avx512")) wanted = Isa::Avx512;
    if (wanted < isa) isa = wanted;  // an override can only lower the level: higher would crash
  }
  return isa;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
  }
  return "?";
}

Isa detected_isa() {
  static const Isa isa = detect();
  return isa;
}

Isa active_isa() {
  static const Isa isa = choose();
  return isa;
}

WeightKernel weight_kernel(GgmlType type, Isa isa) {
  switch (isa) {
    case Isa::Scalar: return scalar_weight_kernel(type);
#if defined(LEM_HAVE_AVX2_KERNELS)
    case Isa::Avx2: return isa <= detected_isa() ? avx2_weight_kernel(type) : WeightKernel{};
#endif
#if defined(LEM_HAVE_AVX512_KERNELS)
    case Isa::Avx512: return isa <= detected_isa() ? avx512_weight_kernel(type) : WeightKernel{};
#endif
    default: return {};
  }
}

WeightKernel best_weight_kernel(GgmlType type, Isa isa) {
  for (int level = static_cast<int>(isa); level >= 0; --level) {
    const WeightKernel k = weight_kernel(type, static_cast<Isa>(level));
    if (k.gemm) return k;
  }
  return {};
}

}  // namespace lem
