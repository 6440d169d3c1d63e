#include "io/gguf_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "util/error.hpp"
#include "util/checked_math.hpp"

namespace lem::io {
namespace {

constexpr uint64_t kMaxTensorNameBytes = 63;  // GGML_MAX_NAME - 1, as llama.cpp enforces
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayNesting = 8;           // arrays of arrays deeper than this are rejected

// Size in bytes of a fixed-size value type; 0 for STRING and ARRAY.
uint64_t fixed_size(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::BOOL: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    case GgufValueType::STRING: case GgufValueType::ARRAY: return 0;
  }
  return 0;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::F64); }

template <class T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // x86/ARM little-endian hosts; GGUF is little-endian
  return v;
}

// Keys and tensor names come from the file: show at most 64 bytes of them in messages, with
// control and non-ASCII bytes escaped, so a hostile name cannot flood or garble the error text.
std::string printable(std::string_view s) {
  constexpr size_t kMaxShown = 64;
  std::string out;
  for (size_t k = 0; k < s.size() && k < kMaxShown; ++k) {
    const auto ch = static_cast<unsigned char>(s[k]);
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') out += static_cast<char>(ch);
    else out += fmt::format("\\x{:02x}", ch);
  }
  if (s.size() > kMaxShown) out += fmt::format("...({} bytes)", s.size());
  return out;
}

// Float array elements widened to an integer: saturating, NaN -> 0 (a plain cast would be UB).
int64_t saturating_int64(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9223372036854775808.0) return INT64_MAX;
  if (x < -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(x);
}

constexpr uint64_t kNoIndex = UINT64_MAX;

// What is being read, for error messages. The element index is formatted only when an error is
// reported: the vocabulary array alone has 262144 strings.
struct Field {
  Field(std::string_view n, uint64_t i = kNoIndex) : name(n), index(i) {}
  Field(const std::string& n, uint64_t i = kNoIndex) : name(n), index(i) {}
  Field(const char* n, uint64_t i = kNoIndex) : name(n), index(i) {}
  std::string_view name;
  uint64_t index;
  std::string str() const { return index == kNoIndex ? std::string(name) : fmt::format("{}[{}]", name, index); }
};

// Bounds-checked sequential reader over the mapped header. Every read names what it reads so
// that a truncated or corrupt file yields "<file>: GGUF <what> at byte N: ..." errors (N: where
// reading stopped).
class Cursor {
 public:
  explicit Cursor(const MappedFile& f) : path_(f.path()), data_(f.data()), size_(f.size()) {}

  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  [[noreturn]] void bad(const Field& what, const std::string& why) const {
    fail(Status::BadFormat, "{}: GGUF {} at byte {}: {}", path_, what.str(), pos_, why);
  }

  const uint8_t* take(uint64_t n, const Field& what) {
    if (n > remaining())
      bad(what, fmt::format("needs {} bytes but the file has only {} left (truncated?)", n, remaining()));
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  template <class T>
  T read(const Field& what) { return load_le<T>(take(sizeof(T), what)); }

  std::string_view read_string(const Field& what) {
    if (remaining() < 8)
      bad(what, fmt::format("the string length needs 8 bytes but the file has only {} left (truncated?)", remaining()));
    const uint64_t len = load_le<uint64_t>(data_ + pos_);
    if (len > remaining() - 8)
      bad(what, fmt::format("string length {} exceeds the {} bytes left in the file", len, remaining() - 8));
    const auto* p = reinterpret_cast<const char*>(data_ + pos_ + 8);
    pos_ += 8 + len;
    return {p, static_cast<size_t>(len)};
  }

 private:
  std::string path_;
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

GgufValue read_value(Cursor& c, GgufValueType type, const std::string& what, int depth);

GgufValue read_array(Cursor& c, const std::string& what, int depth) {
  GgufValue v;
  v.type = GgufValueType::ARRAY;
  const uint32_t et = c.read<uint32_t>(what + " array element type");
  if (!valid_value_type(et)) c.bad(what, fmt::format("unknown array element type {}", et));
  v.elem_type = static_cast<GgufValueType>(et);
  v.count = c.read<uint64_t>(what + " array length");
  // Every element needs at least this many bytes, so a hostile count is rejected before any
  // allocation is sized from it.
  const uint64_t min_elem = fixed_size(v.elem_type) ? fixed_size(v.elem_type)
                            : v.elem_type == GgufValueType::STRING ? 8 : 12;
  if (v.count > c.remaining() / min_elem)
    c.bad(what, fmt::format("array of {} {} elements cannot fit in the {} bytes left", v.count,
                            gguf_value_type_name(v.elem_type), c.remaining()));
  if (fixed_size(v.elem_type)) {
    v.packed = c.take(v.count * min_elem, what + " array data");
    if (v.elem_type == GgufValueType::BOOL)
      for (uint64_t k = 0; k < v.count; ++k)
        if (v.packed[k] > 1) c.bad(what, fmt::format("bool array element {} is {}, expected 0 or 1", k, v.packed[k]));
  } else if (v.elem_type == GgufValueType::STRING) {
    v.strings.reserve(v.count);
    for (uint64_t k = 0; k < v.count; ++k) v.strings.push_back(c.read_string(Field(what, k)));
  } else {
    if (depth >= kMaxArrayNesting) c.bad(what, fmt::format("arrays nested deeper than {}", kMaxArrayNesting));
    v.arrays.reserve(v.count);
    for (uint64_t k = 0; k < v.count; ++k)
      v.arrays.push_back(read_value(c, GgufValueType::ARRAY, fmt::format("{}[{}]", what, k), depth + 1));
  }
  return v;
}

GgufValue read_value(Cursor& c, GgufValueType type, const std::string& what, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufValueType::U8: v.u = c.read<uint8_t>(what); break;
    case GgufValueType::U16: v.u = c.read<uint16_t>(what); break;
    case GgufValueType::U32: v.u = c.read<uint32_t>(what); break;
    case GgufValueType::U64: v.u = c.read<uint64_t>(what); break;
    case GgufValueType::I8: v.i = c.read<int8_t>(what); break;
    case GgufValueType::I16: v.i = c.read<int16_t>(what); break;
    case GgufValueType::I32: v.i = c.read<int32_t>(what); break;
    case GgufValueType::I64: v.i = c.read<int64_t>(what); break;
    case GgufValueType::F32: v.f = c.read<float>(what); break;
    case GgufValueType::F64: v.f = c.read<double>(what); break;
    case GgufValueType::BOOL: {
      const uint8_t b = c.read<uint8_t>(what);
      if (b > 1) c.bad(what, fmt::format("bool value is {}, expected 0 or 1", b));
      v.b = b != 0;
      break;
    }
    case GgufValueType::STRING: v.str = c.read_string(what); break;
    case GgufValueType::ARRAY: return read_array(c, what, depth);
  }
  return v;
}

}  // namespace

const char* gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: return "u8";
    case GgufValueType::I8: return "i8";
    case GgufValueType::U16: return "u16";
    case GgufValueType::I16: return "i16";
    case GgufValueType::U32: return "u32";
    case GgufValueType::I32: return "i32";
    case GgufValueType::F32: return "f32";
    case GgufValueType::BOOL: return "bool";
    case GgufValueType::STRING: return "string";
    case GgufValueType::ARRAY: return "array";
    case GgufValueType::U64: return "u64";
    case GgufValueType::I64: return "i64";
    case GgufValueType::F64: return "f64";
  }
  return "?";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::U8: case GgufValueType::U16: case GgufValueType::U32: case GgufValueType::U64:
    case GgufValueType::I8: case GgufValueType::I16: case GgufValueType::I32: case GgufValueType::I64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_signed() const {
  return type == GgufValueType::I8 || type == GgufValueType::I16 || type == GgufValueType::I32 ||
         type == GgufValueType::I64;
}

int64_t GgufValue::int_at(uint64_t k) const {
  const uint8_t* p = packed + k * fixed_size(elem_type);
  switch (elem_type) {
    case GgufValueType::U8: case GgufValueType::BOOL: return *p;
    case GgufValueType::I8: return static_cast<int8_t>(*p);
    case GgufValueType::U16: return load_le<uint16_t>(p);
    case GgufValueType::I16: return load_le<int16_t>(p);
    case GgufValueType::U32: return load_le<uint32_t>(p);
    case GgufValueType::I32: return load_le<int32_t>(p);
    case GgufValueType::U64: return static_cast<int64_t>(load_le<uint64_t>(p));
    case GgufValueType::I64: return load_le<int64_t>(p);
    case GgufValueType::F32: return saturating_int64(load_le<float>(p));
    case GgufValueType::F64: return saturating_int64(load_le<double>(p));
    default: return 0;
  }
}

double GgufValue::float_at(uint64_t k) const {
  const uint8_t* p = packed + k * fixed_size(elem_type);
  if (elem_type == GgufValueType::F32) return load_le<float>(p);
  if (elem_type == GgufValueType::F64) return load_le<double>(p);
  return static_cast<double>(int_at(k));
}

uint64_t GgufTensorInfo::n_elements() const {
  uint64_t n = 1;
  for (uint64_t d : ne) n *= d;  // validated not to overflow at load
  return n;
}

bool GgufFile::has_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  std::unique_ptr<GgufFile> f(new GgufFile(std::make_unique<MappedFile>(path)));
  f->parse();
  return f;
}

void GgufFile::parse() {
  const std::string& path = file_->path();
  Cursor c(*file_);

  const uint8_t* magic = c.take(4, "magic");
  if (std::memcmp(magic, "GGUF", 4) != 0) c.bad("magic", "not a GGUF file (expected the bytes \"GGUF\")");
  version_ = c.read<uint32_t>("version");
  if (version_ == 1) c.bad("version", "GGUF v1 (32-bit counts) is not supported; re-convert the model");
  if (version_ != 2 && version_ != 3) {
    if (version_ != 0 && (version_ & 0xFFFF) == 0) c.bad("version", fmt::format("version {:#x} looks big-endian; only little-endian GGUF is supported", version_));
    c.bad("version", fmt::format("unsupported version {}, expected 2 or 3", version_));
  }
  const uint64_t n_tensors = c.read<uint64_t>("tensor count");
  const uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Minimal encodings: a key/value needs >= 8+4+1 bytes, a tensor info >= 8+4+8+4+8 bytes.
  if (n_kv > c.remaining() / 13)
    c.bad("metadata count", fmt::format("{} key/value pairs cannot fit in a {}-byte file", n_kv, file_->size()));
  if (n_tensors > c.remaining() / 32)
    c.bad("tensor count", fmt::format("{} tensors cannot fit in a {}-byte file", n_tensors, file_->size()));

  kv_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    const std::string_view key = c.read_string(fmt::format("metadata key #{}", k));
    const std::string what = fmt::format("metadata '{}'", printable(key));
    if (kv_index_.count(key)) c.bad(what, "duplicate key");
    const uint32_t t = c.read<uint32_t>(what + " type");
    if (!valid_value_type(t)) c.bad(what, fmt::format("unknown value type {}", t));
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::string(key), read_value(c, static_cast<GgufValueType>(t), what, 0));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (a->type != GgufValueType::U32)
      fail(Status::BadFormat, "{}: GGUF metadata 'general.alignment' has type {}, expected u32", path,
           gguf_value_type_name(a->type));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      fail(Status::BadFormat, "{}: GGUF metadata 'general.alignment' is {}, expected a non-zero power of two", path, a->u);
    alignment_ = a->u;
  }

  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensorInfo t;
    const std::string_view name = c.read_string(fmt::format("tensor #{} name", k));
    const std::string what = fmt::format("tensor '{}'", printable(name));
    if (name.size() > kMaxTensorNameBytes)
      c.bad(what, fmt::format("name is {} bytes, the maximum is {}", name.size(), kMaxTensorNameBytes));
    if (tensor_index_.count(name)) c.bad(what, "duplicate tensor name");
    const uint32_t n_dims = c.read<uint32_t>(what + " dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) c.bad(what, fmt::format("{} dimensions, expected 1 to {}", n_dims, kMaxDims));
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t ne = c.read<uint64_t>(fmt::format("{} ne[{}]", what, d));
      if (ne > static_cast<uint64_t>(INT64_MAX)) c.bad(what, fmt::format("ne[{}] = {} is negative as int64", d, ne));
      const auto prod = checked_mul(n_elements, ne);
      if (!prod || *prod > static_cast<uint64_t>(INT64_MAX))
        c.bad(what, "element count overflows 64 bits");
      n_elements = *prod;
      t.ne.push_back(ne);
    }
    const uint32_t type_id = c.read<uint32_t>(what + " type");
    const auto traits = ggml_type_traits(type_id);
    if (!traits) c.bad(what, fmt::format("unknown ggml type id {}", type_id));
    t.type = traits->type;
    if (t.ne[0] % traits->block_size != 0)
      c.bad(what, fmt::format("row length ne[0] = {} is not a multiple of the {} block size {}", t.ne[0],
                              traits->name, traits->block_size));
    t.offset = c.read<uint64_t>(what + " offset");
    if (t.offset % alignment_ != 0)
      c.bad(what, fmt::format("data offset {} is not a multiple of the alignment {}", t.offset, alignment_));
    const auto nbytes = checked_mul(n_elements / traits->block_size, traits->type_size);
    if (!nbytes) c.bad(what, "byte size overflows 64 bits");
    t.nbytes = *nbytes;
    t.name = std::string(name);
    tensor_index_.emplace(name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  // A file without tensors (a vocabulary-only GGUF) may end right after the tensor infos, without
  // the padding: llama.cpp's writer and reader both accept that.
  const auto data_start = align_up(c.pos(), alignment_);
  if (tensors_.empty() && (!data_start || *data_start > file_->size())) {
    data_offset_ = file_->size();
    return;
  }
  if (!data_start || *data_start > file_->size())
    fail(Status::BadFormat,
         "{}: GGUF data section would start at byte {} (the header ends at byte {}, aligned to {}), past the end of the {}-byte file",
         path, data_start ? fmt::format("{}", *data_start) : std::string("2^64+"), c.pos(), alignment_, file_->size());
  data_offset_ = *data_start;
  const uint64_t data_size = file_->size() - data_offset_;

  // Every tensor's bytes must lie inside the data section and not overlap another tensor
  // (empty tensors occupy no bytes and cannot overlap anything).
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  ranges.reserve(tensors_.size());
  for (auto& t : tensors_) {
    if (!range_fits(t.offset, t.nbytes, data_size))
      fail(Status::BadFormat,
           "{}: GGUF tensor '{}': data [{}, +{}) extends past the end of the data section ({} bytes; truncated file?)",
           path, printable(t.name), t.offset, t.nbytes, data_size);
    t.data = file_->data() + data_offset_ + t.offset;
    if (t.nbytes > 0) ranges.emplace_back(t.offset, t.nbytes);
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k)
    if (ranges[k - 1].first + ranges[k - 1].second > ranges[k].first)
      fail(Status::BadFormat, "{}: GGUF tensors overlap: data at offset {} (+{}) runs into data at offset {}", path,
           ranges[k - 1].first, ranges[k - 1].second, ranges[k].first);
}

const GgufValue* GgufFile::find(std::string_view key) const {
  const auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

std::optional<uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (!v->is_integer())
    fail(Status::BadFormat, "{}: GGUF metadata '{}' has type {}, expected an integer", path(), key,
         gguf_value_type_name(v->type));
  if (!v->is_signed()) return v->u;
  if (v->i < 0) fail(Status::BadFormat, "{}: GGUF metadata '{}' is {}, expected a non-negative value", path(), key, v->i);
  return static_cast<uint64_t>(v->i);
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->is_float()) return v->f;
  if (v->is_integer()) return v->is_signed() ? static_cast<double>(v->i) : static_cast<double>(v->u);
  fail(Status::BadFormat, "{}: GGUF metadata '{}' has type {}, expected a number", path(), key,
       gguf_value_type_name(v->type));
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type != GgufValueType::STRING)
    fail(Status::BadFormat, "{}: GGUF metadata '{}' has type {}, expected string", path(), key,
         gguf_value_type_name(v->type));
  return v->str;
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  if (v->type == GgufValueType::BOOL) return v->b;
  if (v->is_integer()) return v->is_signed() ? v->i != 0 : v->u != 0;
  fail(Status::BadFormat, "{}: GGUF metadata '{}' has type {}, expected bool", path(), key,
       gguf_value_type_name(v->type));
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace lem::io
