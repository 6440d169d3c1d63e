// IEEE half (f16) and bfloat16 (bf16) <-> float32 conversions, on raw uint16_t bit patterns.
//
// Bit-exact with ggml's reference conversions (ggml-impl.h of llama.cpp v0.5.0), which produced
// every F16/BF16 value in the fixtures:
// * f16 -> f32 is exact, subnormals included; a NaN keeps sign and payload and comes back
//   quiet, as ggml's float-arithmetic version (and x86 F16C) does.
// * f32 -> f16 rounds to nearest, ties to even, into subnormals; |x| >= 65520 gives inf; every
//   NaN becomes 0x7E00 with its sign (ggml_compute_fp32_to_fp16).
// * bf16 -> f32 is the top half of the f32 pattern.
// * f32 -> bf16 rounds to nearest even without flushing subnormals; a NaN is truncated and made
//   quiet (ggml_compute_fp32_to_bf16).
// Everything is integer arithmetic, so the result does not depend on compiler flags, the
// floating-point environment or the target ISA.
#pragma once

#include <bit>
#include <cstdint>

namespace lem {

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    // inf, or NaN made quiet (bit 22) with the payload kept.
    bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa != 0 ? 0x00400000u : 0u);
  } else if (exponent != 0) {
    bits = sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal: value = mantissa * 2^-24. Shift the leading 1 up to the implicit bit position.
    int32_t e = 1 - 15;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --e;
    }
    bits = sign | (static_cast<uint32_t>(e + 127) << 23) | ((mantissa & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline uint16_t f32_to_f16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return sign | 0x7E00u;  // NaN
  if (a >= 0x477FF000u) return sign | 0x7C00u; // >= 65520 (halfway to 2^16, ties to even): inf
  if (a >= 0x38800000u) {
    // Normal f16 (>= 2^-14): rebias the exponent, round the low 13 mantissa bits to nearest even.
    // A carry out of the mantissa correctly bumps the exponent.
    const uint32_t r = a - ((127u - 15u) << 23);
    return static_cast<uint16_t>(sign | ((r + 0x0FFFu + ((r >> 13) & 1u)) >> 13));
  }
  if (a <= 0x33000000u) return sign;  // <= 2^-25: halfway to the smallest subnormal ties to 0
  // Subnormal f16: q = m * 2^(e - 150) / 2^-24 = m >> (126 - e), with 14 <= shift <= 24.
  const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - (a >> 23);
  uint32_t q = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rest > half || (rest == half && (q & 1u) != 0)) ++q;  // may carry into the smallest normal
  return static_cast<uint16_t>(sign | q);
}

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // quiet NaN
  return static_cast<uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace lem
