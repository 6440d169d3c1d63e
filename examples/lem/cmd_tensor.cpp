// `lem tensor FILE NAME --out OUT.f32`: one tensor dequantised to little-endian float32,
// row-major with ggml dimension 0 fastest (i.e. an HF [out, in] matrix comes out as written).
// --out - writes to standard output. A developer tool: it reads the file through the library's
// internals (dev_tools.hpp).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "dev_tools.hpp"
#include "io/safetensors_file.hpp"
#include "model/model_source.hpp"
#include "model/weight_reader.hpp"

namespace lem::cli {
namespace {

// A tensor that is not a model weight (e.g. the scales of an MLX weight) can still be dumped
// when it is stored as a float type.
std::optional<Weight> stored_float_tensor(const ModelSource& m, const std::string& name) {
  if (!m.safetensors()) return std::nullopt;
  const io::StTensorInfo* t = m.safetensors()->find(name);
  if (!t) return std::nullopt;
  Weight w;
  w.name = w.file_name = t->name;
  switch (t->dtype) {
    case io::StDtype::F32: w.type = GgmlType::F32; break;
    case io::StDtype::F16: w.type = GgmlType::F16; break;
    case io::StDtype::BF16: w.type = GgmlType::BF16; break;
    default: fail(Status::Unsupported, "tensor '{}' has dtype {}, which is not a float type", name, io::st_dtype_name(t->dtype));
  }
  w.ne.assign(t->shape.rbegin(), t->shape.rend());
  if (w.ne.empty()) w.ne = {1};
  w.data = t->data;
  w.nbytes = t->nbytes();
  return w;
}

}  // namespace

int tensor_main(Args& args) {
  std::string out_path;
  if (!args.value("--out", out_path)) fail(Status::InvalidArg, "usage: lem tensor FILE NAME --out OUT.f32");
  const auto pos = args.finish();
  if (pos.size() != 2) fail(Status::InvalidArg, "usage: lem tensor FILE NAME --out OUT.f32");
  const auto model = ModelSource::open(pos[0]);

  std::optional<Weight> fallback;
  const Weight* w = model->find(pos[1]);
  if (!w) {
    fallback = stored_float_tensor(*model, pos[1]);
    if (!fallback) fail(Status::InvalidArg, "{}: no tensor named '{}'", pos[0], pos[1]);
    w = &*fallback;
  }

  const bool to_stdout = out_path == "-";
  std::unique_ptr<FILE, int (*)(FILE*)> opened(to_stdout ? nullptr : std::fopen(out_path.c_str(), "wb"), &std::fclose);
  FILE* out = to_stdout ? stdout : opened.get();
  const std::string out_name = to_stdout ? "standard output" : out_path;
  if (!out) fail(Status::Io, "{}: cannot open for writing: {}", out_name, std::strerror(errno));
  const uint64_t n = w->row_length();
  // Rows in chunks of ~4 MiB of floats, so huge tensors (262144 x 2560) stream through.
  const uint64_t chunk_rows = std::max<uint64_t>(1, (1u << 20) / std::max<uint64_t>(1, n));
  std::vector<float> buf(chunk_rows * n);
  for (uint64_t r = 0; r < w->n_rows(); r += chunk_rows) {
    const uint64_t rows = std::min(chunk_rows, w->n_rows() - r);
    read_weight_rows(*w, r, rows, buf.data());
    if (std::fwrite(buf.data(), sizeof(float), rows * n, out) != rows * n)
      fail(Status::Io, "{}: write failed: {}", out_name, std::strerror(errno));
  }
  if (std::fflush(out) != 0) fail(Status::Io, "{}: write failed: {}", out_name, std::strerror(errno));
  std::string shape;
  for (size_t d = 0; d < w->ne.size(); ++d) shape += (d ? ", " : "") + std::to_string(w->ne[d]);
  std::fprintf(stderr, "%s: %llu floats, ne = [%s] (ggml order), from %s\n", out_name.c_str(),
               static_cast<unsigned long long>(w->n_elements()), shape.c_str(),
               w->affine ? "MLX affine" : std::string(ggml_traits(w->type).name).c_str());
  return 0;
}

}  // namespace lem::cli

int cli::cmd_tensor(Args& args) {
  return run_dev_tool([&] { return lem::cli::tensor_main(args); });
}
