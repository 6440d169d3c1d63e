// Per-thread scratch memory for the GEMM kernels (prepared activations, repacked weights).
//
// It lives in a baseline translation unit (kernels/arch/scalar/scratch.cpp): allocator and
// standard-library code must not be compiled with AVX flags, or the linker may pick an AVX copy
// of an inline function for code that runs on any CPU.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lem {

enum class ScratchSlot : int { Activations = 0, Weights = 1 };
inline constexpr int kScratchSlots = 2;

// A 64-byte aligned buffer of at least `bytes` bytes, owned by the calling thread. It stays valid
// until the same thread asks for the same slot again; contents are not preserved across calls.
uint8_t* kernel_scratch(ScratchSlot slot, size_t bytes);

}  // namespace lem
