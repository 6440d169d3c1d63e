#include "kernels/ggml_types.hpp"

#include <array>

namespace lem {
namespace {

using T = GgmlType;

// Block geometry from ggml-common.h (static_asserts on the block structs there) and
// shared spec §6; verified against the fixtures' index.json by tests/unit/test_ggml_types.cpp.
constexpr std::array kTraits = {
    GgmlTypeTraits{T::F32, "f32", 1, 4},
    GgmlTypeTraits{T::F16, "f16", 1, 2},
    GgmlTypeTraits{T::Q4_0, "q4_0", 32, 18},
    GgmlTypeTraits{T::Q4_1, "q4_1", 32, 20},
    GgmlTypeTraits{T::Q5_0, "q5_0", 32, 22},
    GgmlTypeTraits{T::Q5_1, "q5_1", 32, 24},
    GgmlTypeTraits{T::Q8_0, "q8_0", 32, 34},
    GgmlTypeTraits{T::Q8_1, "q8_1", 32, 36},
    GgmlTypeTraits{T::Q2_K, "q2_K", 256, 84},
    GgmlTypeTraits{T::Q3_K, "q3_K", 256, 110},
    GgmlTypeTraits{T::Q4_K, "q4_K", 256, 144},
    GgmlTypeTraits{T::Q5_K, "q5_K", 256, 176},
    GgmlTypeTraits{T::Q6_K, "q6_K", 256, 210},
    GgmlTypeTraits{T::Q8_K, "q8_K", 256, 292},
    GgmlTypeTraits{T::IQ2_XXS, "iq2_xxs", 256, 66},
    GgmlTypeTraits{T::IQ2_XS, "iq2_xs", 256, 74},
    GgmlTypeTraits{T::IQ3_XXS, "iq3_xxs", 256, 98},
    GgmlTypeTraits{T::IQ1_S, "iq1_s", 256, 50},
    GgmlTypeTraits{T::IQ4_NL, "iq4_nl", 32, 18},
    GgmlTypeTraits{T::IQ3_S, "iq3_s", 256, 110},
    GgmlTypeTraits{T::IQ2_S, "iq2_s", 256, 82},
    GgmlTypeTraits{T::IQ4_XS, "iq4_xs", 256, 136},
    GgmlTypeTraits{T::I8, "i8", 1, 1},
    GgmlTypeTraits{T::I16, "i16", 1, 2},
    GgmlTypeTraits{T::I32, "i32", 1, 4},
    GgmlTypeTraits{T::I64, "i64", 1, 8},
    GgmlTypeTraits{T::F64, "f64", 1, 8},
    GgmlTypeTraits{T::IQ1_M, "iq1_m", 256, 56},
    GgmlTypeTraits{T::BF16, "bf16", 1, 2},
    GgmlTypeTraits{T::TQ1_0, "tq1_0", 256, 54},
    GgmlTypeTraits{T::TQ2_0, "tq2_0", 256, 66},
    GgmlTypeTraits{T::MXFP4, "mxfp4", 32, 17},
};

}  // namespace

std::optional<GgmlTypeTraits> ggml_type_traits(uint32_t id) {
  for (const auto& t : kTraits)
    if (static_cast<uint32_t>(t.type) == id) return t;
  return std::nullopt;
}

GgmlTypeTraits ggml_traits(GgmlType type) { return *ggml_type_traits(static_cast<uint32_t>(type)); }

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  for (const auto& t : kTraits)
    if (t.name == name) return t.type;
  return std::nullopt;
}

std::optional<uint64_t> ggml_row_bytes(GgmlType type, uint64_t n) {
  const auto t = ggml_traits(type);
  if (n % t.block_size != 0) return std::nullopt;
  const uint64_t blocks = n / t.block_size;
  uint64_t bytes;
  if (__builtin_mul_overflow(blocks, static_cast<uint64_t>(t.type_size), &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace lem
