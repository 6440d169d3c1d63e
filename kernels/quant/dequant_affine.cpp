// MLX affine dequantisation (mlx.core.quantize, mode "affine"; spec §7 and the tiny-b mlx-4bit
// fixture README): w[c] = scale[c / group_size] * q[c] + bias[c / group_size] in float32.
//
// The codes form one little-endian bit stream per row, LSB first: code c occupies bits
// [c * bits, (c + 1) * bits), so 3/5/6-bit codes straddle bytes. The stream is read byte by byte,
// which is endian-independent and accepts the unaligned data mlx writes.
#include <cstring>

#include "kernels/dequant.hpp"
#include "kernels/fp16.hpp"

namespace lem {

namespace {

bool affine_bits_supported(uint32_t bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 5 || bits == 6 || bits == 8;
}

bool affine_group_supported(uint32_t group_size) {
  return group_size == 32 || group_size == 64 || group_size == 128;
}

// Element g of a scale/bias array of `type` (F16, BF16 or F32), converted exactly to float.
float load_scale(GgmlType type, const void* values, int64_t g) {
  const auto* bytes = static_cast<const uint8_t*>(values);
  if (type == GgmlType::F32) {
    float v;
    std::memcpy(&v, bytes + 4 * g, sizeof v);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, bytes + 2 * g, sizeof h);
  return type == GgmlType::BF16 ? bf16_to_f32(h) : f16_to_f32(h);
}

// Code c of the packed row. bits <= 8, so a code spans at most two bytes; the second byte is read
// only when the code reaches into it (the last code must not read past the row).
uint32_t unpack_code(const uint8_t* stream, int64_t c, uint32_t bits) {
  const uint64_t bit = static_cast<uint64_t>(c) * bits;
  const uint64_t byte = bit / 8;
  const uint32_t shift = static_cast<uint32_t>(bit % 8);
  uint32_t v = stream[byte];
  if (shift + bits > 8) v |= static_cast<uint32_t>(stream[byte + 1]) << 8;
  return (v >> shift) & ((1u << bits) - 1u);
}

}  // namespace

bool dequantize_affine_row(uint32_t bits, uint32_t group_size, GgmlType scale_type, const uint32_t* packed,
                           const void* scales, const void* biases, float* dst, int64_t n) {
  if (!affine_bits_supported(bits) || !affine_group_supported(group_size)) return false;
  if (scale_type != GgmlType::F16 && scale_type != GgmlType::BF16 && scale_type != GgmlType::F32) return false;
  if (n < 0 || n % group_size != 0) return false;

  const auto* stream = reinterpret_cast<const uint8_t*>(packed);
  const int64_t groups = n / group_size;
  for (int64_t g = 0; g < groups; ++g) {
    const float scale = load_scale(scale_type, scales, g);
    const float bias = load_scale(scale_type, biases, g);
    for (int64_t c = g * group_size; c < (g + 1) * group_size; ++c) {
      dst[c] = scale * static_cast<float>(unpack_code(stream, c, bits)) + bias;
    }
  }
  return true;
}

}  // namespace lem
