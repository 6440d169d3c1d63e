#include "io/safetensors_file.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <filesystem>
#include <functional>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "util/error.hpp"
#include "util/checked_math.hpp"

namespace lem::io {
namespace {

using Json = nlohmann::ordered_json;

// The reference implementation (huggingface/safetensors) refuses headers above 100 MB; we use
// the same order of magnitude so that a hostile size never drives a huge parse.
constexpr uint64_t kMaxHeaderBytes = uint64_t{100} << 20;
// A safetensors header nests 3 levels (root, tensor entry, shape array), an index 2 or 3;
// anything far deeper is hostile, and bounding it bounds the parser's stacks.
constexpr size_t kMaxJsonDepth = 64;
// Arrays in these files are shapes and offset pairs; a long one is hostile, and each element
// would cost ~16 bytes of DOM per 2 bytes of input.
constexpr size_t kMaxJsonArray = 1024;
// Longest excerpt of a name or of nlohmann's message quoted in an error.
constexpr size_t kMaxQuoted = 200;

constexpr std::array<StDtype, 15> kAllDtypes = {
    StDtype::BOOL, StDtype::U8,  StDtype::I8,  StDtype::U16,  StDtype::I16,
    StDtype::U32,  StDtype::I32, StDtype::U64, StDtype::I64,  StDtype::F16,
    StDtype::BF16, StDtype::F32, StDtype::F64, StDtype::F8_E4M3, StDtype::F8_E5M2,
};

// `s` made safe to quote in a message: cut to kMaxQuoted bytes (at a UTF-8 character boundary)
// so that a hostile megabyte-long name cannot blow up the message, and control characters
// escaped (a NUL would end what() early).
std::string clip(std::string_view s) {
  size_t n = s.size();
  if (n > kMaxQuoted) {
    n = kMaxQuoted;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::string out;
  out.reserve(n + 3);
  for (char c : s.substr(0, n)) {
    if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  if (n < s.size()) out += "...";
  return out;
}

// A short description of a JSON value for messages: the value itself for scalars.
std::string describe(const Json& v) {
  if (v.is_structured()) return fmt::format("a JSON {}", v.type_name());
  if (v.is_string()) return fmt::format("the string \"{}\"", clip(v.get_ref<const std::string&>()));
  return fmt::format("{} {}", v.type_name(), clip(v.dump()));
}

// Receives each member of the root object as soon as it is complete (see DomBuilder).
using MemberSink = std::function<void(const std::string& key, const Json& value)>;

// SAX handler that builds an ordered_json DOM like nlohmann's own parser, but
//  * rejects duplicate keys (nlohmann silently keeps the last one),
//  * rejects nesting deeper than kMaxJsonDepth and arrays longer than kMaxJsonArray,
//  * appends keys in O(1): ordered_map::operator[] searches linearly, which makes an object with
//    millions of keys quadratic (a hang on a hostile 100 MiB header),
//  * with a sink, hands each member of the root object over as soon as it is complete and keeps
//    none of them: a header is checked entry by entry, hostile input fails at its first bad
//    entry, and the whole document is never held in memory at once.
class DomBuilder final : public nlohmann::json_sax<Json> {
 public:
  explicit DomBuilder(MemberSink sink = {}) : sink_(std::move(sink)) {}

  Json root;
  std::string error;  // set when a handler method stopped the parse

  bool null() override { return put(Json(nullptr)); }
  bool boolean(bool v) override { return put(Json(v)); }
  bool number_integer(number_integer_t v) override { return put(Json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(Json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return put(Json(v)); }
  bool string(string_t& v) override { return put(Json(std::move(v))); }
  bool binary(binary_t& v) override { return put(Json::binary(std::move(v))); }

  bool start_object(std::size_t) override { return open(Json::object()); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    pending_key_ = std::move(k);
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& ex) override {
    error = clip(ex.what());
    return false;
  }

 private:
  // Places `v` where the parse currently is and returns its address, nullptr when a limit is hit.
  // Addresses stay valid: a container only grows while it is the innermost open one, and then
  // nothing points into it.
  Json* place(Json&& v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    Json& parent = *stack_.back();
    if (parent.is_array()) {
      auto& arr = parent.get_ref<Json::array_t&>();
      if (arr.size() >= kMaxJsonArray) {
        error = fmt::format("JSON array longer than {} elements", kMaxJsonArray);
        return nullptr;
      }
      arr.push_back(std::move(v));
      return &arr.back();
    }
    if (sink_ && stack_.size() == 1) {  // a member of the root: built aside, then handed over
      member_key_ = std::move(pending_key_);
      member_ = std::move(v);
      return &member_;
    }
    // ordered_map is a std::vector of pairs; appending to it directly skips the linear search.
    auto& items = static_cast<std::vector<std::pair<const std::string, Json>>&>(
        parent.get_ref<Json::object_t&>());
    items.emplace_back(std::move(pending_key_), std::move(v));
    return &items.back().second;
  }

  bool put(Json&& v) {
    Json* p = place(std::move(v));
    if (p == &member_) deliver();
    return p != nullptr;
  }

  bool open(Json&& v) {
    if (stack_.size() >= kMaxJsonDepth) {
      error = fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth);
      return false;
    }
    Json* p = place(std::move(v));
    if (p) stack_.push_back(p);
    return p != nullptr;
  }

  bool close() {
    Json* done = stack_.back();
    stack_.pop_back();
    if (done->is_object() && !keys_unique(*done)) return false;
    if (done == &member_) deliver();
    return true;
  }

  // Checked once the object is complete: sorting its keys costs O(k log k) and no lasting memory.
  bool keys_unique(const Json& obj) {
    const auto& items = obj.get_ref<const Json::object_t&>();
    if (items.size() < 2) return true;
    std::vector<const std::string*> keys;
    keys.reserve(items.size());
    for (const auto& item : items) keys.push_back(&item.first);
    std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t k = 1; k < keys.size(); ++k) {
      if (*keys[k - 1] == *keys[k]) {
        error = fmt::format("duplicate key \"{}\"", clip(*keys[k]));
        return false;
      }
    }
    return true;
  }

  void deliver() {
    sink_(member_key_, member_);  // may throw lem::Error, which ends the parse
    member_ = Json();
  }

  MemberSink sink_;
  std::vector<Json*> stack_;  // open containers, innermost last
  std::string pending_key_;
  std::string member_key_;
  Json member_;
};

// Parses `n` bytes of JSON; `what` names the document in messages ("safetensors header"). With a
// sink, the members of the root object go to it and the returned root object is empty.
Json parse_json(const std::string& path, const char* what, const uint8_t* data, uint64_t n,
                MemberSink sink = {}) {
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore whatever follows it;
  // valid JSON never holds a raw NUL (inside strings it must be escaped).
  if (const void* nul = n > 0 ? std::memchr(data, 0, n) : nullptr)
    fail(Status::BadFormat, "{}: {} is not valid JSON: NUL byte at offset {}", path, what,
         static_cast<const uint8_t*>(nul) - data);
  DomBuilder builder(std::move(sink));
  bool ok = false;
  try {
    const char* first = reinterpret_cast<const char*>(data);
    ok = Json::sax_parse(first, first + n, &builder);
  } catch (const nlohmann::json::exception& e) {
    fail(Status::BadFormat, "{}: {} is not valid JSON: {}", path, what, clip(e.what()));
  }
  if (!ok) {
    fail(Status::BadFormat, "{}: {} is not valid JSON: {}", path, what,
         builder.error.empty() ? std::string("parse stopped") : builder.error);
  }
  return std::move(builder.root);
}

uint64_t load_u64_le(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);  // x86/ARM hosts are little-endian, as the format is
  return v;
}

const Json* field(const Json& obj, const char* name) {
  auto it = obj.find(name);  // entries are small objects: the linear search is fine
  return it == obj.end() ? nullptr : &*it;
}

// Reads a JSON value that must be a non-negative integer (nlohmann stores "-0" as a signed 0
// and integers beyond 2^64 as floats; both signed >= 0 and unsigned are accepted).
bool as_u64(const Json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

bool parse_dtype(std::string_view name, StDtype& out) {
  for (StDtype d : kAllDtypes) {
    if (name == st_dtype_name(d)) {
      out = d;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* st_dtype_name(StDtype d) {
  switch (d) {
    case StDtype::BOOL: return "BOOL";
    case StDtype::U8: return "U8";
    case StDtype::I8: return "I8";
    case StDtype::U16: return "U16";
    case StDtype::I16: return "I16";
    case StDtype::U32: return "U32";
    case StDtype::I32: return "I32";
    case StDtype::U64: return "U64";
    case StDtype::I64: return "I64";
    case StDtype::F16: return "F16";
    case StDtype::BF16: return "BF16";
    case StDtype::F32: return "F32";
    case StDtype::F64: return "F64";
    case StDtype::F8_E4M3: return "F8_E4M3";
    case StDtype::F8_E5M2: return "F8_E5M2";
  }
  return "?";
}

uint32_t st_dtype_size(StDtype d) {
  switch (d) {
    case StDtype::BOOL: case StDtype::U8: case StDtype::I8:
    case StDtype::F8_E4M3: case StDtype::F8_E5M2: return 1;
    case StDtype::U16: case StDtype::I16: case StDtype::F16: case StDtype::BF16: return 2;
    case StDtype::U32: case StDtype::I32: case StDtype::F32: return 4;
    case StDtype::U64: case StDtype::I64: case StDtype::F64: return 8;
  }
  return 0;
}

uint64_t StTensorInfo::n_elements() const {
  uint64_t n = 1;  // a 0-d tensor is a scalar
  for (uint64_t d : shape) n *= d;  // overflow was ruled out when the header was read
  return n;
}

// ---- one file -------------------------------------------------------------------------------

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile(std::make_unique<MappedFile>(path)));
  f->parse();
  return f;
}

const StTensorInfo* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

namespace {

// Validates one header entry `name: {"dtype", "shape", "data_offsets"}` against a data section
// of `data_size` bytes. Unknown extra fields are ignored, as the reference reader does.
StTensorInfo parse_entry(const std::string& path, const std::string& name, const Json& e,
                         uint64_t data_size) {
  const std::string tn = clip(name);
  if (!e.is_object())
    fail(Status::BadFormat, "{}: tensor \"{}\": entry is {}, expected an object", path, tn, describe(e));

  StTensorInfo t;
  t.name = name;

  const Json* dtype = field(e, "dtype");
  if (!dtype) fail(Status::BadFormat, "{}: tensor \"{}\": missing \"dtype\"", path, tn);
  if (!dtype->is_string())
    fail(Status::BadFormat, "{}: tensor \"{}\": \"dtype\" is {}, expected a string", path, tn, describe(*dtype));
  if (!parse_dtype(dtype->get_ref<const std::string&>(), t.dtype))
    fail(Status::BadFormat,
         "{}: tensor \"{}\": unknown dtype \"{}\" (expected BOOL, U8, I8, U16, I16, U32, I32, U64, I64, "
         "F16, BF16, F32, F64, F8_E4M3 or F8_E5M2)",
         path, tn, clip(dtype->get_ref<const std::string&>()));

  const Json* shape = field(e, "shape");
  if (!shape) fail(Status::BadFormat, "{}: tensor \"{}\": missing \"shape\"", path, tn);
  if (!shape->is_array())
    fail(Status::BadFormat, "{}: tensor \"{}\": \"shape\" is {}, expected an array", path, tn, describe(*shape));
  uint64_t n_elements = 1;
  for (size_t k = 0; k < shape->size(); ++k) {
    uint64_t dim = 0;
    if (!as_u64((*shape)[k], dim))
      fail(Status::BadFormat, "{}: tensor \"{}\": shape[{}] is {}, expected a non-negative integer", path,
           tn, k, describe((*shape)[k]));
    t.shape.push_back(dim);
    const auto product = checked_mul(n_elements, dim);
    if (!product)
      fail(Status::BadFormat, "{}: tensor \"{}\": element count of shape {} overflows 64 bits", path, tn,
           clip(shape->dump()));
    n_elements = *product;
  }

  const Json* offsets = field(e, "data_offsets");
  if (!offsets) fail(Status::BadFormat, "{}: tensor \"{}\": missing \"data_offsets\"", path, tn);
  if (!offsets->is_array() || offsets->size() != 2 || !as_u64((*offsets)[0], t.begin) ||
      !as_u64((*offsets)[1], t.end))
    fail(Status::BadFormat, "{}: tensor \"{}\": \"data_offsets\" is {}, expected [begin, end] of non-negative integers",
         path, tn, offsets->is_array() ? clip(offsets->dump()) : describe(*offsets));
  if (t.end < t.begin)
    fail(Status::BadFormat, "{}: tensor \"{}\": data_offsets [{}, {}] end before begin", path, tn, t.begin, t.end);
  if (t.end > data_size)
    fail(Status::BadFormat, "{}: tensor \"{}\": data_offsets [{}, {}] run past the end of the {}-byte data section",
         path, tn, t.begin, t.end, data_size);

  const auto nbytes = checked_mul(n_elements, st_dtype_size(t.dtype));
  if (!nbytes)
    fail(Status::BadFormat, "{}: tensor \"{}\": byte size of {} {} elements overflows 64 bits", path, tn,
         n_elements, st_dtype_name(t.dtype));
  if (*nbytes != t.nbytes())
    fail(Status::BadFormat,
         "{}: tensor \"{}\": shape {} of {} needs {} bytes but data_offsets [{}, {}] span {} bytes", path, tn,
         shape_string(t.shape), st_dtype_name(t.dtype), *nbytes, t.begin, t.end, t.nbytes());
  return t;
}

}  // namespace

void SafetensorsFile::parse() {
  const std::string& p = file_->path();
  const uint64_t size = file_->size();
  if (size < 8)
    fail(Status::BadFormat, "{}: file is {} bytes, too short for the 8-byte safetensors header size", p, size);
  header_size_ = load_u64_le(file_->data());
  if (header_size_ > kMaxHeaderBytes)
    fail(Status::BadFormat, "{}: safetensors header size {} exceeds the limit of {} bytes", p, header_size_,
         kMaxHeaderBytes);
  if (header_size_ > size - 8)
    fail(Status::BadFormat, "{}: safetensors header size {} exceeds the {} bytes after the size field (truncated?)",
         p, header_size_, size - 8);

  // Entries are checked as the parser completes them (file order), so the header's DOM is
  // never held whole and a hostile header fails at its first bad entry.
  const uint64_t data_size = size - data_offset();
  const uint8_t* data = file_->data() + data_offset();
  bool have_metadata = false;
  auto take_member = [&](const std::string& name, const Json& value) {
    if (name == "__metadata__") {
      if (have_metadata) fail(Status::BadFormat, "{}: \"__metadata__\" appears twice in the header", p);
      have_metadata = true;
      if (!value.is_object())
        fail(Status::BadFormat, "{}: \"__metadata__\" is {}, expected an object of strings", p, describe(value));
      for (const auto& [key, v] : value.get_ref<const Json::object_t&>()) {
        if (!v.is_string())
          fail(Status::BadFormat, "{}: \"__metadata__\" value of \"{}\" is {}, expected a string", p, clip(key),
               describe(v));
        metadata_.emplace(key, v.get_ref<const std::string&>());
      }
      return;
    }
    if (!index_.emplace(name, tensors_.size()).second)
      fail(Status::BadFormat, "{}: tensor \"{}\" appears twice in the header", p, clip(name));
    StTensorInfo t = parse_entry(p, name, value, data_size);
    t.data = data + t.begin;
    tensors_.push_back(std::move(t));
  };
  const Json header = parse_json(p, "safetensors header", file_->data() + 8, header_size_, take_member);
  if (!header.is_object())
    fail(Status::BadFormat, "{}: safetensors header is {}, expected an object", p, describe(header));

  // Tensors may come in any order and leave gaps (mlx writes in hash order), but no byte may
  // belong to two of them. Empty tensors own no bytes.
  std::vector<const StTensorInfo*> by_offset;
  for (const StTensorInfo& t : tensors_)
    if (t.nbytes() > 0) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const StTensorInfo* a, const StTensorInfo* b) { return a->begin < b->begin; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const StTensorInfo& a = *by_offset[k - 1];
    const StTensorInfo& b = *by_offset[k];
    if (a.end > b.begin)
      fail(Status::BadFormat, "{}: tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", p, clip(a.name), a.begin,
           a.end, clip(b.name), b.begin, b.end);
  }
}

// ---- a set of shards ------------------------------------------------------------------------

namespace {

// A shard must be a plain file name next to the index: no directories, no way out of the folder.
void check_shard_name(const std::string& index_path, const std::string& tensor, const std::string& shard) {
  const bool bad = shard.empty() || shard == "." || shard.find('/') != std::string::npos ||
                   shard.find('\\') != std::string::npos || shard.find("..") != std::string::npos ||
                   shard.find('\0') != std::string::npos;
  if (bad)
    fail(Status::BadFormat,
         "{}: weight_map[\"{}\"] names shard \"{}\", expected a plain file name in the index's folder",
         index_path, clip(tensor), clip(shard));
}

}  // namespace

std::unique_ptr<SafetensorsSet> SafetensorsSet::open(const std::string& path) {
  auto set = std::unique_ptr<SafetensorsSet>(new SafetensorsSet());
  if (!path.ends_with(".index.json")) {
    set->shards_.push_back(SafetensorsFile::open(path));
  } else {
    const MappedFile index_file(path);
    if (index_file.size() > kMaxHeaderBytes)
      fail(Status::BadFormat, "{}: index is {} bytes, more than the limit of {}", path, index_file.size(),
           kMaxHeaderBytes);
    const Json index = parse_json(path, "index", index_file.data(), index_file.size());
    if (!index.is_object()) fail(Status::BadFormat, "{}: index is {}, expected an object", path, describe(index));
    if (const Json* meta = field(index, "metadata"); meta && !meta->is_object())
      fail(Status::BadFormat, "{}: \"metadata\" is {}, expected an object", path, describe(*meta));
    const Json* weight_map = field(index, "weight_map");
    if (!weight_map) fail(Status::BadFormat, "{}: missing \"weight_map\"", path);
    if (!weight_map->is_object())
      fail(Status::BadFormat, "{}: \"weight_map\" is {}, expected an object", path, describe(*weight_map));
    if (weight_map->empty()) fail(Status::BadFormat, "{}: \"weight_map\" is empty", path);

    // Distinct shard names, sorted so that model-00001-of-N comes first.
    std::map<std::string, size_t> shard_ids;
    for (const auto& [tensor, shard] : weight_map->get_ref<const Json::object_t&>()) {
      if (!shard.is_string())
        fail(Status::BadFormat, "{}: weight_map[\"{}\"] is {}, expected a shard file name", path, clip(tensor),
             describe(shard));
      check_shard_name(path, tensor, shard.get_ref<const std::string&>());
      shard_ids.emplace(shard.get_ref<const std::string&>(), 0);
    }
    const std::filesystem::path folder = std::filesystem::path(path).parent_path();
    for (auto& [name, id] : shard_ids) {
      id = set->shards_.size();
      set->shards_.push_back(SafetensorsFile::open((folder / name).string()));
    }
    for (const auto& [tensor, shard] : weight_map->get_ref<const Json::object_t&>()) {
      const std::string& shard_name = shard.get_ref<const std::string&>();
      if (!set->shards_[shard_ids.at(shard_name)]->find(tensor))
        fail(Status::BadFormat, "{}: weight_map puts tensor \"{}\" in shard \"{}\", which has no such tensor", path,
             clip(tensor), clip(shard_name));
    }
  }

  // Every tensor of every shard is reachable by name, including any the weight_map leaves out;
  // a name in two shards would be ambiguous.
  for (size_t s = 0; s < set->shards_.size(); ++s) {
    for (const StTensorInfo& t : set->shards_[s]->tensors()) {
      auto [it, inserted] = set->index_.emplace(t.name, std::make_pair(s, &t));
      if (!inserted)
        fail(Status::BadFormat, "{}: tensor \"{}\" is in both shard {} and shard {}", path, clip(t.name),
             set->shards_[it->second.first]->path(), set->shards_[s]->path());
      set->all_.push_back(&t);
    }
  }
  return set;
}

const StTensorInfo* SafetensorsSet::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : it->second.second;
}

const SafetensorsFile& SafetensorsSet::shard_of(const StTensorInfo& t) const {
  auto it = index_.find(t.name);
  if (it == index_.end() || it->second.second != &t)
    fail(Status::InvalidArg, "tensor \"{}\" does not belong to this safetensors set", clip(t.name));
  return *shards_[it->second.first];
}

}  // namespace lem::io
