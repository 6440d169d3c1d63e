#include "model/model_source.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/error.hpp"
#include "io/gguf_file.hpp"
#include "io/safetensors_file.hpp"
#include "model/tensor_names.hpp"
#include "util/checked_math.hpp"

namespace fs = std::filesystem;

namespace lem {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

constexpr uint64_t kMaxConfigBytes = 16u << 20;  // config.json is a few KB; refuse absurd ones

nlohmann::ordered_json read_json_file(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) fail(Status::Io, "{}: cannot read: {}", path, ec.message());
  if (size > kMaxConfigBytes) fail(Status::BadFormat, "{}: {} bytes is too large for a config file", path, size);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(Status::Io, "{}: cannot open", path);
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    auto j = nlohmann::ordered_json::parse(buf.str());
    if (!j.is_object()) fail(Status::BadFormat, "{}: expected a JSON object at the top level", path);
    return j;
  } catch (const nlohmann::json::exception& e) {
    fail(Status::BadFormat, "{}: invalid JSON: {}", path, e.what());
  }
}

std::optional<GgmlType> float_dtype(io::StDtype d) {
  switch (d) {
    case io::StDtype::F32: return GgmlType::F32;
    case io::StDtype::F16: return GgmlType::F16;
    case io::StDtype::BF16: return GgmlType::BF16;
    default: return std::nullopt;
  }
}

std::vector<uint64_t> reversed(const std::vector<uint64_t>& v) { return {v.rbegin(), v.rend()}; }

// MLX quantisation parameters for one module (spec §7): the global "quantization" entry of
// config.json, overridden per module by a nested object, or `false` for "not quantised".
struct ModuleQuant {
  bool quantised = false;
  uint32_t bits = 0;
  uint32_t group_size = 0;
};

uint32_t read_quant_int(const nlohmann::ordered_json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_unsigned() || it->get<uint64_t>() == 0 || it->get<uint64_t>() > 1024)
    fail(Status::BadFormat, "{}: \"{}\" must be a positive integer", where, key);
  return it->get<uint32_t>();
}

ModuleQuant module_quant(const nlohmann::ordered_json* config, std::string_view module, const std::string& config_path) {
  if (!config) return {};
  const auto q = config->find("quantization");
  if (q == config->end() || q->is_null()) return {};
  if (!q->is_object()) fail(Status::BadFormat, "{}: \"quantization\" must be an object", config_path);
  const std::string where = config_path + ": quantization";
  if (const auto mode = q->find("mode"); mode != q->end()) {
    if (!mode->is_string() || mode->get<std::string>() != "affine")
      fail(Status::Unsupported, "{}: quantization mode {} is not supported (only \"affine\")", config_path, mode->dump());
  }
  const auto over = q->find(std::string(module));
  if (over != q->end()) {
    if (over->is_boolean()) {
      if (!over->get<bool>()) return {};
    } else if (over->is_object()) {
      const std::string w = where + "." + std::string(module);
      return {true, read_quant_int(*over, "bits", w), read_quant_int(*over, "group_size", w)};
    } else {
      fail(Status::BadFormat, "{}: entry \"{}\" must be an object or false", where, module);
    }
  }
  return {true, read_quant_int(*q, "bits", where), read_quant_int(*q, "group_size", where)};
}

}  // namespace

const char* model_format_name(ModelFormat f) {
  switch (f) {
    case ModelFormat::Gguf: return "gguf";
    case ModelFormat::Safetensors: return "safetensors";
    case ModelFormat::Mlx: return "mlx";
  }
  return "?";
}

uint64_t Weight::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;  // validated by the readers
  return n;
}

ModelSource::~ModelSource() = default;

std::unique_ptr<ModelSource> ModelSource::open(const std::string& path) {
  std::unique_ptr<ModelSource> m(new ModelSource());
  m->path_ = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path dir(path);
    const std::string config = (dir / "config.json").string();
    const std::string index = (dir / "model.safetensors.index.json").string();
    const std::string single = (dir / "model.safetensors").string();
    if (fs::exists(index)) {
      m->open_safetensors(index, config);
    } else if (fs::exists(single)) {
      m->open_safetensors(single, config);
    } else {
      std::vector<std::string> ggufs;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && ends_with(e.path().string(), ".gguf")) ggufs.push_back(e.path().string());
      if (ggufs.size() == 1) {
        m->open_gguf(ggufs[0]);
      } else if (ggufs.size() > 1) {
        fail(Status::InvalidArg, "{}: the folder holds {} .gguf files; name the one to load", path, ggufs.size());
      } else {
        fail(Status::Io, "{}: no model found (expected model.safetensors, model.safetensors.index.json or a .gguf file)", path);
      }
    }
    return m;
  }
  if (!fs::exists(path, ec)) fail(Status::Io, "{}: no such file or directory", path);
  if (io::GgufFile::has_magic(path)) {
    m->open_gguf(path);
  } else if (ends_with(path, ".safetensors") || ends_with(path, ".index.json")) {
    m->open_safetensors(path, (fs::path(path).parent_path() / "config.json").string());
  } else {
    fail(Status::BadFormat, "{}: not a GGUF file (no \"GGUF\" magic) and not a .safetensors file", path);
  }
  return m;
}

void ModelSource::open_gguf(const std::string& file) {
  format_ = ModelFormat::Gguf;
  gguf_ = io::GgufFile::open(file);
  const auto arch = gguf_->get_string("general.architecture");
  if (!arch) fail(Status::BadFormat, "{}: GGUF metadata 'general.architecture' is missing", file);
  architecture_ = std::string(*arch);
  for (const auto& t : gguf_->tensors()) {
    stored_.push_back({t.name, std::string(ggml_traits(t.type).name), t.ne, t.offset, t.nbytes, file});
    Weight w;
    w.name = w.file_name = t.name;
    w.type = t.type;
    w.ne = t.ne;
    w.data = t.data;
    w.nbytes = t.nbytes;
    add_weight(std::move(w));
  }
}

void ModelSource::open_safetensors(const std::string& st_path, const std::string& config_path) {
  format_ = ModelFormat::Safetensors;
  std::error_code ec;
  if (fs::exists(config_path, ec)) {
    hf_config_ = read_json_file(config_path);
    const auto mt = hf_config_->find("model_type");
    if (mt != hf_config_->end() && !mt->is_string())
      fail(Status::BadFormat, "{}: \"model_type\" must be a string", config_path);
    architecture_ = mt != hf_config_->end() ? mt->get<std::string>() : "unknown";
  } else {
    architecture_ = "unknown";
  }
  st_ = io::SafetensorsSet::open(st_path);

  for (const io::StTensorInfo* t : st_->tensors())
    stored_.push_back({t->name, lower(io::st_dtype_name(t->dtype)), t->shape, t->begin, t->nbytes(), st_->shard_of(*t).path()});

  for (const io::StTensorInfo* t : st_->tensors()) {
    const HfNameMapping mapped = map_hf_tensor_name(t->name);
    if (mapped.kind == HfNameKind::Vision) continue;
    const std::string canonical = mapped.kind == HfNameKind::Text ? mapped.canonical : t->name;

    // MLX: <module>.weight (uint32 codes) + <module>.scales + <module>.biases form one weight;
    // the scales/biases are consumed by it.
    if (ends_with(t->name, ".scales") || ends_with(t->name, ".biases")) {
      const std::string weight_name = std::string(hf_module_path(t->name)) + ".weight";
      if (st_->find(weight_name)) continue;
    }
    const std::string module(hf_module_path(t->name));
    const io::StTensorInfo* scales = ends_with(t->name, ".weight") ? st_->find(module + ".scales") : nullptr;

    Weight w;
    w.name = canonical;
    w.file_name = t->name;
    w.data = t->data;
    w.nbytes = t->nbytes();
    if (scales) {
      format_ = ModelFormat::Mlx;
      const io::StTensorInfo* biases = st_->find(module + ".biases");
      const std::string where = fmt::format("{}: MLX-quantised tensor '{}'", st_->shard_of(*t).path(), t->name);
      if (!biases) fail(Status::BadFormat, "{} has scales but no '{}.biases'", where, module);
      const ModuleQuant q = module_quant(hf_config_ ? &*hf_config_ : nullptr, module, config_path);
      if (!q.quantised)
        fail(Status::BadFormat, "{} has scales, but config.json has no \"quantization\" entry for it", where);
      if (t->dtype != io::StDtype::U32 || t->shape.size() != 2)
        fail(Status::BadFormat, "{}: expected a 2-D U32 tensor of packed codes, got {} with {} dimensions", where,
             io::st_dtype_name(t->dtype), t->shape.size());
      const auto scale_type = float_dtype(scales->dtype);
      if (!scale_type || scales->dtype != biases->dtype)
        fail(Status::BadFormat, "{}: scales ({}) and biases ({}) must share one float dtype", where,
             io::st_dtype_name(scales->dtype), io::st_dtype_name(biases->dtype));
      const uint64_t rows = t->shape[0];
      const auto bits_total = checked_mul(t->shape[1], 32);
      if (!bits_total || *bits_total % q.bits != 0)
        fail(Status::BadFormat, "{}: {} packed words per row do not hold whole {}-bit codes", where, t->shape[1], q.bits);
      const uint64_t cols = *bits_total / q.bits;
      if (cols % q.group_size != 0)
        fail(Status::BadFormat, "{}: row length {} is not a multiple of group_size {}", where, cols, q.group_size);
      const std::vector<uint64_t> expect{rows, cols / q.group_size};
      if (scales->shape != expect || biases->shape != expect)
        fail(Status::BadFormat, "{}: scales and biases must have shape [{}, {}] for {} bits, group {}", where, rows,
             cols / q.group_size, q.bits, q.group_size);
      w.type = GgmlType::F32;  // not meaningful for affine weights; see `affine`
      w.ne = {cols, rows};
      w.affine = AffineQuant{q.bits, q.group_size, *scale_type, scales->data, biases->data};
    } else {
      const auto type = float_dtype(t->dtype);
      if (!type) continue;  // integer tensors that are not MLX codes are not weights; `lem info` still lists them
      w.type = *type;
      w.ne = t->shape.empty() ? std::vector<uint64_t>{1} : reversed(t->shape);
    }
    add_weight(std::move(w));
  }
}

void ModelSource::add_weight(Weight w) {
  if (by_name_.count(w.name))
    fail(Status::BadFormat, "{}: two tensors map to the same name '{}' (second: '{}')", path_, w.name, w.file_name);
  by_name_.emplace(w.name, weights_.size());
  by_file_name_.emplace(w.file_name, weights_.size());
  weights_.push_back(std::move(w));
}

const Weight* ModelSource::find(std::string_view name) const {
  const std::string key(name);
  if (auto it = by_name_.find(key); it != by_name_.end()) return &weights_[it->second];
  if (auto it = by_file_name_.find(key); it != by_file_name_.end()) return &weights_[it->second];
  return nullptr;
}

const Weight& ModelSource::require(std::string_view name) const {
  const Weight* w = find(name);
  if (!w) fail(Status::BadFormat, "{}: required tensor '{}' is missing", path_, name);
  return *w;
}

}  // namespace lem
