// Lookup tables of the IQ1/IQ2/IQ3/IQ4 GGUF block formats (format data, not code).
//
// The values are llama.cpp v0.5.0's ggml-common.h tables, generated into iq_grids.cpp by
// tools/gen_iq_grids.py from tests/data/grids/ (checked against SHA256SUMS by the generator and
// by tests/unit/test_iq_grids.cpp). ggml declares the grids as uint64_t/uint32_t arrays and reads
// each entry as its little-endian bytes; here each entry is stored as those bytes directly, so
// the tables are host-endian independent. alignas(8): an entry may be loaded as one u64/u32.
#pragma once

#include <cstdint>

namespace lem::iq {

// kKmaskIq2xs[j] = 1 << j: bit j of a sign byte negates element j.
extern const uint8_t kKmaskIq2xs[8];
// 7-bit sign index -> 8 sign bits; bit 7 is the parity bit (set when popcount(i) is odd), so
// every entry has an even number of negative signs.
extern const uint8_t kKsignsIq2xs[128];
// IQ4_NL / IQ4_XS non-linear levels.
extern const int8_t kValuesIq4nl[16];

// Magnitude grids: each entry is 8 (or 4) unsigned magnitudes.
extern const uint8_t kIq2xxsGrid[256][8];   // IQ2_XXS, bytes in {8, 25, 43}
extern const uint8_t kIq2xsGrid[512][8];    // IQ2_XS
extern const uint8_t kIq2sGrid[1024][8];    // IQ2_S
extern const uint8_t kIq3xxsGrid[256][4];   // IQ3_XXS, bytes in {4, 12, ..., 52, 62}
extern const uint8_t kIq3sGrid[512][4];     // IQ3_S, bytes in {1, 3, ..., 15}
// IQ1_S / IQ1_M: each entry is 8 signed values in {-1, 0, 1}.
extern const int8_t kIq1sGrid[2048][8];

// Offset added to every IQ1_S / IQ1_M grid value, sign chosen per group (IQ1S_DELTA, IQ1M_DELTA).
inline constexpr float kIq1Delta = 0.125f;

}  // namespace lem::iq
