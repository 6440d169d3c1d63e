// Activation quantisers: float32 rows -> the vec_dot formats of ggml (shared spec §6,
// "Activation formats"), bit-exact with quantize_row_q8_0_ref / q8_1_ref / q8_K_ref and
// ggml's f16/bf16 row conversions (checked against the fixtures' act_*.bin).
//
// The code here is the scalar reference; kernels/arch/<isa>/quantize_act_<isa>.cpp write the same
// bytes faster, and quantize_activation_row picks one of them once, from active_isa().
#include <cmath>
#include <cstring>

#include "kernels/arch/tables.hpp"
#include "kernels/fp16.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quant/formats.hpp"

namespace lem {
namespace {

// ggml's nearest_int: round to nearest, ties to even, for |x| < 2^22 (the magic-number trick
// works on the float's bits, so the result does not depend on the rounding mode).
inline int nearest_int(float x) {
  const float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof i);
  return (i & 0x007fffff) - 0x00400000;
}

void quantize_q8_0(const float* x, BlockQ8_0* out, int64_t k) {
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK; ++j) out[b].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

void quantize_q8_1(const float* x, BlockQ8_1* out, int64_t k) {
  for (int64_t b = 0; b < k / kQK; ++b, x += kQK) {
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    out[b].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQK / 2; ++j) {
      const int8_t lo = static_cast<int8_t>(std::roundf(x[j] * id));
      const int8_t hi = static_cast<int8_t>(std::roundf(x[j + kQK / 2] * id));
      out[b].qs[j] = lo;
      out[b].qs[j + kQK / 2] = hi;
      sum += lo + hi;
    }
    // s is computed from the float32 d, not the rounded f16 one (ggml does the same).
    out[b].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

void quantize_q8_k(const float* x, BlockQ8_K* out, int64_t k) {
  for (int64_t b = 0; b < k / kQK_K; ++b, x += kQK_K) {
    BlockQ8_K& y = out[b];
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y, 0, sizeof y);  // ggml leaves bsums unwritten here; zero is the only sane value
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      const int v = nearest_int(iscale * x[j]);
      y.qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y.qs[16 * g + j];
      y.bsums[g] = static_cast<int16_t>(sum);
    }
    y.d = 1.0f / iscale;
  }
}

}  // namespace

const char* act_type_name(ActType a) {
  switch (a) {
    case ActType::F32: return "f32";
    case ActType::F16: return "f16";
    case ActType::BF16: return "bf16";
    case ActType::Q8_0: return "q8_0";
    case ActType::Q8_1: return "q8_1";
    case ActType::Q8_K: return "q8_K";
  }
  return "?";
}

int64_t act_block_size(ActType a) {
  switch (a) {
    case ActType::F32: case ActType::F16: case ActType::BF16: return 1;
    case ActType::Q8_0: case ActType::Q8_1: return kQK;
    case ActType::Q8_K: return kQK_K;
  }
  return 1;
}

size_t act_block_bytes(ActType a) {
  switch (a) {
    case ActType::F32: return 4;
    case ActType::F16: case ActType::BF16: return 2;
    case ActType::Q8_0: return sizeof(BlockQ8_0);
    case ActType::Q8_1: return sizeof(BlockQ8_1);
    case ActType::Q8_K: return sizeof(BlockQ8_K);
  }
  return 4;
}

size_t act_row_bytes(ActType a, int64_t k) { return static_cast<size_t>(k / act_block_size(a)) * act_block_bytes(a); }

namespace {

void quantize_row_scalar(ActType a, const float* x, void* out, int64_t k) {
  switch (a) {
    case ActType::F32:
      std::memcpy(out, x, static_cast<size_t>(k) * sizeof(float));
      return;
    case ActType::F16: {
      auto* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < k; ++i) o[i] = f32_to_f16(x[i]);
      return;
    }
    case ActType::BF16: {
      auto* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < k; ++i) o[i] = f32_to_bf16(x[i]);
      return;
    }
    case ActType::Q8_0: quantize_q8_0(x, static_cast<BlockQ8_0*>(out), k); return;
    case ActType::Q8_1: quantize_q8_1(x, static_cast<BlockQ8_1*>(out), k); return;
    case ActType::Q8_K: quantize_q8_k(x, static_cast<BlockQ8_K*>(out), k); return;
  }
}

using RowQuantizer = void (*)(ActType a, const float* x, void* out, int64_t k);

// The row quantiser of level `isa`, or nullptr when this build or CPU does not have that level.
RowQuantizer row_quantizer(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return quantize_row_scalar;
#if defined(LEM_HAVE_AVX2_KERNELS)
    case Isa::Avx2: return isa <= detected_isa() ? quantize_activation_row_avx2 : nullptr;
#endif
#if defined(LEM_HAVE_AVX512_KERNELS)
    case Isa::Avx512: return isa <= detected_isa() ? quantize_activation_row_avx512 : nullptr;
#endif
    default: return nullptr;
  }
}

}  // namespace

void quantize_activation_row(ActType a, const float* x, void* out, int64_t k) {
  static const RowQuantizer quantize = row_quantizer(active_isa());  // active_isa() <= detected_isa()
  quantize(a, x, out, k);
}

bool quantize_activation_row_isa(Isa isa, ActType a, const float* x, void* out, int64_t k) {
  const RowQuantizer quantize = row_quantizer(isa);
  if (!quantize) return false;
  quantize(a, x, out, k);
  return true;
}

}  // namespace lem
