// safetensors reader on the tiny fixtures: names, dtypes and shapes against the models'
// config.json, a few values against bytes decoded independently with Python, and a sharded set
// (written here) against the single file it was split from.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "util/error.hpp"
#include "io/safetensors_file.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"

using lem::io::SafetensorsFile;
using lem::io::SafetensorsSet;
using lem::io::StDtype;
using lem::io::StTensorInfo;

namespace {

namespace fs = std::filesystem;

// A temporary folder named "lem-st-unit-<pid>-<n>", removed at scope exit.
struct TempDir : lem::test::TempDir {
  TempDir() : lem::test::TempDir("lem-st-unit") {}
};

float bf16_to_float(uint16_t b) {
  const uint32_t bits = uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <class T>
T element(const StTensorInfo& t, uint64_t i) {
  REQUIRE((i + 1) * sizeof(T) <= t.nbytes());
  T v;
  std::memcpy(&v, t.data + i * sizeof(T), sizeof v);
  return v;
}

using Shape = std::vector<uint64_t>;

void check_tensor(const SafetensorsFile& f, const std::string& name, StDtype dtype, const Shape& shape) {
  INFO(name);
  const StTensorInfo* t = f.find(name);
  REQUIRE(t != nullptr);
  CHECK(t->name == name);
  CHECK(t->dtype == dtype);
  CHECK(t->shape == shape);
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  CHECK(t->n_elements() == n);
  CHECK(t->nbytes() == n * lem::io::st_dtype_size(dtype));
}

// The 13 tensors of one decoder layer of an HF Gemma 3 checkpoint, shapes [out, in].
void check_hf_layer(const SafetensorsFile& f, int layer, StDtype dt, uint64_t hidden, uint64_t heads,
                    uint64_t kv_heads, uint64_t head_dim, uint64_t ffn) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  check_tensor(f, p + "input_layernorm.weight", dt, {hidden});
  check_tensor(f, p + "post_attention_layernorm.weight", dt, {hidden});
  check_tensor(f, p + "pre_feedforward_layernorm.weight", dt, {hidden});
  check_tensor(f, p + "post_feedforward_layernorm.weight", dt, {hidden});
  check_tensor(f, p + "self_attn.q_norm.weight", dt, {head_dim});
  check_tensor(f, p + "self_attn.k_norm.weight", dt, {head_dim});
  check_tensor(f, p + "self_attn.q_proj.weight", dt, {heads * head_dim, hidden});
  check_tensor(f, p + "self_attn.k_proj.weight", dt, {kv_heads * head_dim, hidden});
  check_tensor(f, p + "self_attn.v_proj.weight", dt, {kv_heads * head_dim, hidden});
  check_tensor(f, p + "self_attn.o_proj.weight", dt, {hidden, heads * head_dim});
  check_tensor(f, p + "mlp.gate_proj.weight", dt, {ffn, hidden});
  check_tensor(f, p + "mlp.up_proj.weight", dt, {ffn, hidden});
  check_tensor(f, p + "mlp.down_proj.weight", dt, {hidden, ffn});
}

std::vector<uint8_t> u64_le(uint64_t v) {
  std::vector<uint8_t> b(8);
  for (int k = 0; k < 8; ++k) b[k] = static_cast<uint8_t>(v >> (8 * k));
  return b;
}

// Writes a safetensors file holding `tensors` (copied from a mapped file), data packed in order.
void write_shard(const std::string& path, const std::vector<const StTensorInfo*>& tensors) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const StTensorInfo* t : tensors) {
    header[t->name] = {{"dtype", lem::io::st_dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->nbytes()}}};
    offset += t->nbytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // space padding, as the reference writer does
  std::vector<uint8_t> bytes = u64_le(text.size());
  bytes.insert(bytes.end(), text.begin(), text.end());
  for (const StTensorInfo* t : tensors) bytes.insert(bytes.end(), t->data, t->data + t->nbytes());
  lem::test::write_bytes(path, bytes.data(), bytes.size());
}

}  // namespace

TEST_CASE("safetensors dtype names and sizes", "[safetensors]") {
  CHECK(std::string(lem::io::st_dtype_name(StDtype::BF16)) == "BF16");
  CHECK(std::string(lem::io::st_dtype_name(StDtype::F8_E4M3)) == "F8_E4M3");
  CHECK(std::string(lem::io::st_dtype_name(StDtype::U32)) == "U32");
  CHECK(lem::io::st_dtype_size(StDtype::BOOL) == 1);
  CHECK(lem::io::st_dtype_size(StDtype::F8_E5M2) == 1);
  CHECK(lem::io::st_dtype_size(StDtype::BF16) == 2);
  CHECK(lem::io::st_dtype_size(StDtype::F16) == 2);
  CHECK(lem::io::st_dtype_size(StDtype::U32) == 4);
  CHECK(lem::io::st_dtype_size(StDtype::F32) == 4);
  CHECK(lem::io::st_dtype_size(StDtype::I64) == 8);
  CHECK(lem::io::st_dtype_size(StDtype::F64) == 8);
}

// tiny-a/config.json: hidden 256, 6 layers, 4 heads x 64, 1 kv head, vocab 1024, intermediate 256.
TEST_CASE("safetensors tiny-a BF16", "[safetensors]") {
  auto f = SafetensorsFile::open(lem::test::data_path("tiny/tiny-a/model.safetensors"));
  // 1 embedding + final norm + 6 layers x 13 tensors.
  CHECK(f->tensors().size() == 2 + 6 * 13);
  CHECK(f->header_size() == 8616);  // u64 at the start of the file (Python struct.unpack('<Q'))
  CHECK(f->data_offset() == 8624);
  CHECK(f->metadata() == std::map<std::string, std::string>{{"format", "pt"}});
  CHECK(f->tensors().front().name == "model.embed_tokens.weight");  // file order kept

  check_tensor(*f, "model.embed_tokens.weight", StDtype::BF16, {1024, 256});
  check_tensor(*f, "model.norm.weight", StDtype::BF16, {256});
  for (int layer = 0; layer < 6; ++layer) check_hf_layer(*f, layer, StDtype::BF16, 256, 4, 1, 64, 256);
  CHECK(f->find("model.layers.6.input_layernorm.weight") == nullptr);
  CHECK(f->find("lm_head.weight") == nullptr);  // tied embeddings

  // Values read with Python: struct.unpack_from('<H', file, 8 + N + begin + 2*i), then bf16 bits
  // << 16 reinterpreted as float32.
  const StTensorInfo& emb = *f->find("model.embed_tokens.weight");
  CHECK(element<uint16_t>(emb, 0) == 15916);
  CHECK(bf16_to_float(element<uint16_t>(emb, 0)) == 0.16796875f);
  CHECK(bf16_to_float(element<uint16_t>(emb, 1)) == -0.0242919921875f);
  CHECK(bf16_to_float(element<uint16_t>(emb, 1024 * 256 - 1)) == -0.13671875f);
  const StTensorInfo& k5 = *f->find("model.layers.5.self_attn.k_proj.weight");
  CHECK(bf16_to_float(element<uint16_t>(k5, 0)) == -0.11865234375f);
  CHECK(bf16_to_float(element<uint16_t>(k5, 64 * 256 - 1)) == 0.010009765625f);
}

// tiny-b/config.json: hidden 256, 4 layers, 8 heads x 48 (H*dh 384 != D), 2 kv heads, ffn 256.
TEST_CASE("safetensors tiny-b BF16 and F32", "[safetensors]") {
  auto bf = SafetensorsFile::open(lem::test::data_path("tiny/tiny-b/model.safetensors"));
  auto f32 = SafetensorsFile::open(lem::test::data_path("tiny/tiny-b/model-f32.safetensors"));
  CHECK(bf->tensors().size() == 2 + 4 * 13);
  CHECK(f32->tensors().size() == 2 + 4 * 13);
  check_tensor(*bf, "model.embed_tokens.weight", StDtype::BF16, {1024, 256});
  check_tensor(*f32, "model.embed_tokens.weight", StDtype::F32, {1024, 256});
  for (int layer = 0; layer < 4; ++layer) {
    check_hf_layer(*bf, layer, StDtype::BF16, 256, 8, 2, 48, 256);
    check_hf_layer(*f32, layer, StDtype::F32, 256, 8, 2, 48, 256);
  }

  // Python: bf16 u16 at index i of model.layers.3.mlp.down_proj.weight, and the f32 file's float
  // at the same index (bits 0xbd540000 and 0xbc970000: the F32 file holds the same values).
  const StTensorInfo& d_bf = *bf->find("model.layers.3.mlp.down_proj.weight");
  const StTensorInfo& d_32 = *f32->find("model.layers.3.mlp.down_proj.weight");
  CHECK(bf16_to_float(element<uint16_t>(d_bf, 0)) == -0.0517578125f);
  CHECK(bf16_to_float(element<uint16_t>(d_bf, 12345)) == -0.0184326171875f);
  CHECK(element<uint32_t>(d_32, 0) == 0xbd540000u);
  CHECK(element<float>(d_32, 12345) == -0.0184326171875f);
  // Every value of the F32 file is the BF16 file's value widened.
  for (const StTensorInfo& t : bf->tensors()) {
    const StTensorInfo* w = f32->find(t.name);
    REQUIRE(w != nullptr);
    REQUIRE(w->n_elements() == t.n_elements());
    for (uint64_t i = 0; i < t.n_elements(); i += 97)
      REQUIRE(element<float>(*w, i) == bf16_to_float(element<uint16_t>(t, i)));
  }
}

// tiny-b/mlx-4bit: 4-bit affine, group 64: weight U32 [rows, cols/8], scales/biases BF16
// [rows, cols/64]; norms stay BF16. Header unpadded, data in hash order.
TEST_CASE("safetensors tiny-b MLX 4-bit", "[safetensors]") {
  const std::string dir = lem::test::data_path("tiny/tiny-b/mlx-4bit/");
  auto f = SafetensorsFile::open(dir + "model.safetensors");
  // embed (3) + final norm + 4 layers x (7 quantised linears x 3 + 6 norms).
  CHECK(f->tensors().size() == 4 + 4 * 27);
  CHECK(f->header_size() == 11620);
  CHECK(f->metadata() == std::map<std::string, std::string>{{"format", "mlx"}});
  CHECK(f->tensors().front().name == "model.embed_tokens.biases");

  auto quantised = [&](const std::string& name, uint64_t rows, uint64_t cols) {
    check_tensor(*f, name + ".weight", StDtype::U32, {rows, cols / 8});
    check_tensor(*f, name + ".scales", StDtype::BF16, {rows, cols / 64});
    check_tensor(*f, name + ".biases", StDtype::BF16, {rows, cols / 64});
  };
  quantised("model.embed_tokens", 1024, 256);
  check_tensor(*f, "model.norm.weight", StDtype::BF16, {256});
  for (int layer = 0; layer < 4; ++layer) {
    const std::string p = "model.layers." + std::to_string(layer) + ".";
    quantised(p + "self_attn.q_proj", 384, 256);
    quantised(p + "self_attn.k_proj", 96, 256);
    quantised(p + "self_attn.v_proj", 96, 256);
    quantised(p + "self_attn.o_proj", 256, 384);
    quantised(p + "mlp.gate_proj", 256, 256);
    quantised(p + "mlp.up_proj", 256, 256);
    quantised(p + "mlp.down_proj", 256, 256);
    check_tensor(*f, p + "self_attn.q_norm.weight", StDtype::BF16, {48});
    check_tensor(*f, p + "input_layernorm.weight", StDtype::BF16, {256});
  }

  // Python: struct.unpack_from('<I'/'<H', ...) at the tensor's begin + element offset.
  const StTensorInfo& q = *f->find("model.layers.0.self_attn.q_proj.weight");
  CHECK(q.begin != 0);  // stored out of order: offsets must be honoured
  CHECK(element<uint32_t>(q, 0) == 0xfaa948abu);
  CHECK(element<uint32_t>(q, 1) == 0x7e25ec5eu);
  CHECK(element<uint32_t>(q, 384 * 32 - 1) == 0x9dba7365u);
  const StTensorInfo& s = *f->find("model.layers.0.self_attn.q_proj.scales");
  CHECK(bf16_to_float(element<uint16_t>(s, 0)) == 0.013916015625f);
  CHECK(bf16_to_float(element<uint16_t>(s, 1)) == -0.0274658203125f);  // negative scales are normal

  SECTION("through its index.json") {
    auto set = SafetensorsSet::open(dir + "model.safetensors.index.json");
    REQUIRE(set->shards().size() == 1);
    CHECK(set->tensors().size() == f->tensors().size());
    const StTensorInfo* qs = set->find("model.layers.0.self_attn.q_proj.weight");
    REQUIRE(qs != nullptr);
    CHECK(qs->shape == q.shape);
    CHECK(std::memcmp(qs->data, q.data, q.nbytes()) == 0);
    CHECK(set->shard_of(*qs).path() == set->shards()[0]->path());
    CHECK(set->find("nope") == nullptr);
  }
}

TEST_CASE("safetensors set of one file", "[safetensors]") {
  auto set = SafetensorsSet::open(lem::test::data_path("tiny/tiny-a/model.safetensors"));
  REQUIRE(set->shards().size() == 1);
  CHECK(set->tensors().size() == 80);
  CHECK(set->tensors().front()->name == "model.embed_tokens.weight");
  const StTensorInfo* t = set->find("model.norm.weight");
  REQUIRE(t != nullptr);
  CHECK(&set->shard_of(*t) == set->shards()[0].get());

  StTensorInfo stranger = *t;  // a copy is not one of the set's tensors
  CHECK_THROWS_AS(set->shard_of(stranger), lem::Error);
}

TEST_CASE("safetensors sharded set equals the single file", "[safetensors]") {
  auto single = SafetensorsFile::open(lem::test::data_path("tiny/tiny-a/model.safetensors"));
  TempDir dir;
  const auto& all = single->tensors();
  const size_t half = all.size() / 2;
  std::vector<const StTensorInfo*> first, second;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (size_t k = 0; k < all.size(); ++k) {
    // The second shard lists its tensors in reverse, so that set order follows the shards.
    (k < half ? first : second).push_back(&all[k]);
    weight_map[all[k].name] = k < half ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  std::reverse(second.begin(), second.end());
  write_shard(dir.file("model-00001-of-00002.safetensors"), first);
  write_shard(dir.file("model-00002-of-00002.safetensors"), second);
  const nlohmann::ordered_json index = {{"metadata", {{"total_size", 4864000}}}, {"weight_map", weight_map}};
  const std::string text = index.dump(2);
  lem::test::write_bytes(dir.file("model.safetensors.index.json"), text.data(), text.size());

  auto set = SafetensorsSet::open(dir.file("model.safetensors.index.json"));
  REQUIRE(set->shards().size() == 2);
  CHECK(set->shards()[0]->tensors().size() == half);
  CHECK(set->shards()[1]->tensors().size() == all.size() - half);
  CHECK(set->shards()[0]->header_size() % 8 == 0);
  REQUIRE(set->tensors().size() == all.size());
  CHECK(set->tensors()[half]->name == second.front()->name);

  std::set<std::string> names;
  for (const StTensorInfo* t : set->tensors()) names.insert(t->name);
  CHECK(names.size() == all.size());
  for (const StTensorInfo& want : all) {
    INFO(want.name);
    const StTensorInfo* got = set->find(want.name);
    REQUIRE(got != nullptr);
    CHECK(got->dtype == want.dtype);
    CHECK(got->shape == want.shape);
    REQUIRE(got->nbytes() == want.nbytes());
    CHECK(std::memcmp(got->data, want.data, want.nbytes()) == 0);
    const size_t shard = (&want - all.data()) < static_cast<std::ptrdiff_t>(half) ? 0 : 1;
    CHECK(&set->shard_of(*got) == set->shards()[shard].get());
  }
}

// Valid corner cases of the format, written by hand.
TEST_CASE("safetensors valid corner cases", "[safetensors]") {
  TempDir dir;
  auto write = [&](const std::string& name, const std::string& header, size_t data_bytes) {
    std::vector<uint8_t> bytes = u64_le(header.size());
    bytes.insert(bytes.end(), header.begin(), header.end());
    for (size_t k = 0; k < data_bytes; ++k) bytes.push_back(static_cast<uint8_t>(k + 1));
    lem::test::write_bytes(dir.file(name), bytes.data(), bytes.size());
    return dir.file(name);
  };

  SECTION("empty header, no data") {
    auto f = SafetensorsFile::open(write("empty.safetensors", "{}", 0));
    CHECK(f->tensors().empty());
    CHECK(f->metadata().empty());
  }
  SECTION("0-d scalar, empty tensor, gap, padding, out-of-order offsets") {
    auto f = SafetensorsFile::open(write("corners.safetensors",
        R"({"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]},)"
        R"("empty":{"dtype":"BF16","shape":[0,5],"data_offsets":[9,9]},)"
        R"("a":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4],"extra":"ignored"},)"
        R"("__metadata__":{"k":"v"}}     )",
        12));
    REQUIRE(f->tensors().size() == 3);
    CHECK(f->tensors()[0].name == "b");
    CHECK(f->tensors()[0].shape.empty());
    CHECK(f->tensors()[0].n_elements() == 1);
    CHECK(f->tensors()[0].data[0] == 9);  // data byte k holds k + 1
    CHECK(f->tensors()[1].n_elements() == 0);
    CHECK(f->find("a")->dtype == StDtype::U8);
    CHECK(f->find("a")->data[3] == 4);
    CHECK(f->metadata().at("k") == "v");
  }
  SECTION("every dtype") {
    auto f = SafetensorsFile::open(write("dtypes.safetensors",
        R"({"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]},)"
        R"("b":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[1,2]},)"
        R"("c":{"dtype":"F8_E5M2","shape":[1],"data_offsets":[2,3]},)"
        R"("d":{"dtype":"I8","shape":[1],"data_offsets":[3,4]},)"
        R"("e":{"dtype":"U16","shape":[1],"data_offsets":[4,6]},)"
        R"("f":{"dtype":"I16","shape":[1],"data_offsets":[6,8]},)"
        R"("g":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},)"
        R"("h":{"dtype":"I32","shape":[1],"data_offsets":[10,14]},)"
        R"("i":{"dtype":"U64","shape":[1],"data_offsets":[14,22]},)"
        R"("j":{"dtype":"I64","shape":[1],"data_offsets":[22,30]},)"
        R"("k":{"dtype":"F64","shape":[1],"data_offsets":[30,38]}})",
        38));
    CHECK(f->tensors().size() == 11);
    CHECK(f->find("b")->dtype == StDtype::F8_E4M3);
    CHECK(f->find("k")->dtype == StDtype::F64);
  }
}
