// The ggml tensor types that can appear in a GGUF file: ids, names and block geometry.
//
// Ids and sizes are part of the GGUF format (ggml/include/ggml.h, ggml-common.h of llama.cpp
// v0.5.0; ../docs in the README). Removed ids (4, 5 = old Q4_2/Q4_3; 31-33, 36-38) are gaps and
// stay unknown. A type is "known" when its block geometry is known, so a file using it can be
// parsed and validated; whether the model can compute with it is a separate question.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lem {

enum class GgmlType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

struct GgmlTypeTraits {
  GgmlType type;
  std::string_view name;    // as llama.cpp spells it: "q4_K", "iq2_xxs", "bf16"
  uint32_t block_size;      // elements per block
  uint32_t type_size;       // bytes per block
};

// Traits of a type id read from a file; nullopt for ids this library does not know.
std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id);

// Traits of a type this library names; never fails.
GgmlTypeTraits ggml_traits(GgmlType type);

// Lookup by llama.cpp name ("q4_K"), case-sensitive; nullopt if unknown.
std::optional<GgmlType> ggml_type_from_name(std::string_view name);

// Bytes of one row of `n` elements (n must be a multiple of block_size); nullopt otherwise.
std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t n);

}  // namespace lem
