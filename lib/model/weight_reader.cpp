#include "model/weight_reader.hpp"

#include "util/error.hpp"
#include "kernels/dequant.hpp"

namespace lem {

uint64_t weight_row_bytes(const Weight& w) {
  if (w.affine) return w.row_length() * w.affine->bits / 8;
  return *ggml_row_bytes(w.type, w.row_length());  // validated when the file was opened
}

void read_weight_rows(const Weight& w, uint64_t row_begin, uint64_t n_rows, float* out) {
  if (row_begin > w.n_rows() || n_rows > w.n_rows() - row_begin)
    fail(Status::InvalidArg, "tensor '{}': rows [{}, {}) are out of range ({} rows)", w.name, row_begin,
         row_begin + n_rows, w.n_rows());
  const uint64_t n = w.row_length();
  const uint64_t row_bytes = weight_row_bytes(w);
  if (w.affine) {
    const AffineQuant& q = *w.affine;
    const uint64_t groups = n / q.group_size;
    const uint64_t scale_bytes = ggml_traits(q.scale_type).type_size;
    for (uint64_t r = row_begin; r < row_begin + n_rows; ++r) {
      const uint64_t scale_offset = r * groups * scale_bytes;
      if (!dequantize_affine_row(q.bits, q.group_size, q.scale_type,
                                 reinterpret_cast<const uint32_t*>(w.data + r * row_bytes), q.scales + scale_offset,
                                 q.biases + scale_offset, out + (r - row_begin) * n, static_cast<int64_t>(n)))
        fail(Status::Unsupported, "tensor '{}': MLX affine {}-bit, group {} is not supported", w.file_name, q.bits,
             q.group_size);
    }
    return;
  }
  if (!dequantize_supported(w.type))
    fail(Status::Unsupported, "tensor '{}': type {} is not supported yet", w.file_name, ggml_traits(w.type).name);
  for (uint64_t r = row_begin; r < row_begin + n_rows; ++r)
    dequantize_row(w.type, w.data + r * row_bytes, out + (r - row_begin) * n, static_cast<int64_t>(n));
}

}  // namespace lem
