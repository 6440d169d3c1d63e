// `lem synth --size 270m|1b|4b --type Q4_K_M --vocab TOKENIZER --out FILE.gguf [--seed N]
//            [--threads N] [--n-vocab N]`
//
// Writes a random-weight Gemma 3 GGUF with the real shapes and gemma3.* metadata of a released
// size (shared spec §1 and §5), the tokenizer metadata of TOKENIZER (a GGUF with tokenizer.ggml.*
// keys, or a tokenizer.json), norms F32 around 1.0 and weights ~N(0, 0.02²) quantised by this
// library's quantiser with llama-quantize's per-tensor type mix (lib/model/quant_mix.hpp). For
// timing: speed does not depend on weight values. The same seed gives the same file whatever the
// thread count.
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "dev_tools.hpp"
#include "io/gguf_writer.hpp"
#include "kernels/quant/quantize_weights.hpp"
#include "model/quant_mix.hpp"
#include "compute/thread_pool.hpp"
#include "synth_vocab.hpp"

namespace lem::cli {
namespace {

constexpr const char* kUsage =
    "usage: lem synth --size 270m|1b|4b --type Q4_K_M|Q8_0|Q4_0|F16|BF16|... --vocab TOKENIZER --out FILE.gguf "
    "[--seed N] [--threads N] [--n-vocab N]";

// Shared spec §1 table (text decoder of each released size).
struct SynthSize {
  const char* name;
  uint32_t d, layers, heads, heads_kv, head_dim, ffn, window, context;
  float rope_linear_factor;  // 0: no scaling
  uint64_t vocab;            // embedding rows = token count of the released GGUFs
};
constexpr SynthSize kSizes[] = {
    {"270m", 640, 18, 4, 1, 256, 2048, 512, 32768, 0.0f, 262144},
    {"1b", 1152, 26, 4, 1, 256, 6912, 512, 32768, 0.0f, 262144},
    {"4b", 2560, 34, 8, 4, 256, 10240, 1024, 131072, 8.0f, 262208},
};

struct SynthTensor {
  std::string name;
  std::vector<uint64_t> ne;  // fastest first
  int layer = -1;
  bool norm = false;
};

// Spec §5 tensor table, in the order llama.cpp's converter writes a Gemma 3 checkpoint (HF names
// sorted within each layer).
std::vector<SynthTensor> gemma3_tensors(const SynthSize& s, uint64_t n_vocab) {
  const uint64_t d = s.d, q = uint64_t{s.heads} * s.head_dim, kv = uint64_t{s.heads_kv} * s.head_dim, f = s.ffn;
  std::vector<SynthTensor> t;
  t.push_back({"token_embd.weight", {d, n_vocab}});
  for (int l = 0; l < static_cast<int>(s.layers); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    t.push_back({p + "attn_norm.weight", {d}, l, true});
    t.push_back({p + "ffn_down.weight", {f, d}, l});
    t.push_back({p + "ffn_gate.weight", {d, f}, l});
    t.push_back({p + "ffn_up.weight", {d, f}, l});
    t.push_back({p + "post_attention_norm.weight", {d}, l, true});
    t.push_back({p + "post_ffw_norm.weight", {d}, l, true});
    t.push_back({p + "ffn_norm.weight", {d}, l, true});
    t.push_back({p + "attn_k_norm.weight", {s.head_dim}, l, true});
    t.push_back({p + "attn_k.weight", {d, kv}, l});
    t.push_back({p + "attn_output.weight", {q, d}, l});
    t.push_back({p + "attn_q_norm.weight", {s.head_dim}, l, true});
    t.push_back({p + "attn_q.weight", {d, q}, l});
    t.push_back({p + "attn_v.weight", {d, kv}, l});
  }
  t.push_back({"output_norm.weight", {d}, -1, true});
  return t;
}

void add_model_metadata(io::GgufWriter& w, const SynthSize& s, LlamaFtype ftype) {
  w.add_string("general.architecture", "gemma3");
  w.add_string("general.type", "model");
  w.add_string("general.name", fmt::format("synthetic Gemma 3 {} {}", s.name, llama_ftype_name(ftype)));
  w.add_u32("gemma3.block_count", s.layers);
  w.add_u32("gemma3.context_length", s.context);
  w.add_u32("gemma3.embedding_length", s.d);
  w.add_u32("gemma3.feed_forward_length", s.ffn);
  w.add_u32("gemma3.attention.head_count", s.heads);
  w.add_u32("gemma3.attention.head_count_kv", s.heads_kv);
  if (s.rope_linear_factor > 0) {
    w.add_string("gemma3.rope.scaling.type", "linear");
    w.add_f32("gemma3.rope.scaling.factor", s.rope_linear_factor);
  }
  w.add_f32("gemma3.rope.freq_base", 1e6f);
  w.add_f32("gemma3.rope.freq_base_swa", 1e4f);
  w.add_f32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.add_u32("gemma3.attention.key_length", s.head_dim);
  w.add_u32("gemma3.attention.value_length", s.head_dim);
  w.add_u32("gemma3.attention.sliding_window", s.window);
}

// --- random values ------------------------------------------------------------------------------

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Approximately N(0, 1) from one 64-bit draw: the sum of four 16-bit uniforms (Irwin-Hall),
// centred and scaled to unit variance. Tails stop at ±3.46σ, which weights for timing never miss;
// it is several times cheaper than Box-Muller, and 4B has 4e9 weights.
float approx_normal(uint64_t r) {
  const uint32_t sum = static_cast<uint32_t>((r & 0xFFFF) + ((r >> 16) & 0xFFFF) + ((r >> 32) & 0xFFFF) + (r >> 48));
  constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(3): four U(0,1) sum to variance 1/3
  return (static_cast<float>(sum) + 2.0f - 131072.0f) * kScale;
}

// One row's values: a stream seeded by (seed, tensor, row), so rows can be made in any order.
void fill_row(float* out, uint64_t n, uint64_t seed, uint64_t tensor, uint64_t row, bool norm) {
  uint64_t state = seed ^ (tensor * 0xD1B54A32D192ED03ull);
  state ^= splitmix64(state) + row * 0x8CB92BA72F3D8DD7ull;
  for (uint64_t i = 0; i < n; ++i) {
    const float z = approx_normal(splitmix64(state));
    out[i] = norm ? 1.0f + 0.05f * z : 0.02f * z;
  }
}

uint64_t parse_u64(const std::string& flag, const std::string& text) {
  size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-')
    fail(Status::InvalidArg, "{} expects a non-negative integer, got '{}'", flag, text);
  return v;
}

// Reports on stderr each time another tenth of the tensor bytes has been produced.
class Progress {
 public:
  explicit Progress(uint64_t total_bytes) : total_(total_bytes) {}
  void add(uint64_t bytes) {
    done_ += bytes;
    const uint64_t tenths = total_ ? done_ * 10 / total_ : 10;
    if (tenths > reported_ && tenths < 10) std::fprintf(stderr, "lem synth: %d%%\n", static_cast<int>(tenths * 10));
    reported_ = tenths;
  }

 private:
  uint64_t total_, done_ = 0, reported_ = 0;
};

// The rows of tensor number `index`: random values (fill_row), quantised to `type`, each chunk's
// rows split over the pool.
io::GgufWriter::RowProducer random_rows(ThreadPool& pool, Progress& progress, GgmlType type, uint64_t cols,
                                        uint64_t seed, uint64_t index, bool norm) {
  const uint64_t row_bytes = *ggml_row_bytes(type, cols);
  return [&pool, &progress, type, cols, row_bytes, seed, index, norm](uint64_t first, uint64_t n, uint8_t* dst) {
    pool.run([&](int thread, int n_threads) {
      int64_t begin, end;
      ThreadPool::split(static_cast<int64_t>(n), 1, thread, n_threads, begin, end);
      std::vector<float> row(cols);
      for (int64_t r = begin; r < end; ++r) {
        fill_row(row.data(), cols, seed, index, first + static_cast<uint64_t>(r), norm);
        quantize_row(type, row.data(), dst + static_cast<uint64_t>(r) * row_bytes, static_cast<int64_t>(cols));
      }
    });
    progress.add(n * row_bytes);
  };
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int synth_main(Args& args) {
  std::string size_name, type_name, vocab, out, seed_text = "1", threads_text = "0", n_vocab_text;
  if (!args.value("--size", size_name) || !args.value("--type", type_name) || !args.value("--vocab", vocab) ||
      !args.value("--out", out))
    fail(Status::InvalidArg, "{}", kUsage);
  args.value("--seed", seed_text);
  args.value("--threads", threads_text);
  args.value("--n-vocab", n_vocab_text);
  if (!args.finish().empty()) fail(Status::InvalidArg, "{}", kUsage);

  const SynthSize* size = nullptr;
  for (const auto& s : kSizes)
    if (size_name == s.name) size = &s;
  if (!size) fail(Status::InvalidArg, "--size '{}': expected 270m, 1b or 4b", size_name);
  const auto ftype = llama_ftype_from_name(upper(type_name));
  if (!ftype)
    fail(Status::InvalidArg,
         "--type '{}': expected one of F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S "
         "Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL IQ4_XS TQ1_0 TQ2_0",
         type_name);
  const uint64_t seed = parse_u64("--seed", seed_text);
  const uint64_t threads = parse_u64("--threads", threads_text);
  if (threads > 1024) fail(Status::InvalidArg, "--threads {}: expected at most 1024 (0 = all hardware threads)", threads);
  const uint64_t n_vocab = n_vocab_text.empty() ? size->vocab : parse_u64("--n-vocab", n_vocab_text);

  const auto start = std::chrono::steady_clock::now();
  io::GgufWriter w;
  add_model_metadata(w, *size, *ftype);
  add_synth_vocab(w, vocab, n_vocab);
  w.add_u32("general.quantization_version", 2);
  w.add_u32("general.file_type", static_cast<uint32_t>(*ftype));

  ThreadPool pool(static_cast<int>(threads));
  const auto tensors = gemma3_tensors(*size, n_vocab);
  std::vector<GgmlType> types;
  std::map<std::string, uint64_t> bytes_per_type;
  uint64_t total_bytes = 0;
  for (const SynthTensor& t : tensors) {
    const GgmlType type = t.norm ? GgmlType::F32
                                 : llama_quantize_type(*ftype, t.name, t.layer, static_cast<int>(size->layers), t.ne[0],
                                                       static_cast<int>(size->heads), static_cast<int>(size->heads_kv));
    if (!quantize_supported(type))
      fail(Status::Internal, "{}: the mix chose {}, which the quantiser cannot write", t.name, ggml_traits(type).name);
    const uint64_t bytes = *ggml_row_bytes(type, t.ne[0]) * (t.ne.size() > 1 ? t.ne[1] : 1);
    bytes_per_type[std::string(ggml_traits(type).name)] += bytes;
    total_bytes += bytes;
    types.push_back(type);
  }
  Progress progress(total_bytes);
  for (size_t k = 0; k < tensors.size(); ++k)
    w.add_tensor(tensors[k].name, types[k], tensors[k].ne,
                 random_rows(pool, progress, types[k], tensors[k].ne[0], seed, k, tensors[k].norm));
  std::fprintf(stderr, "lem synth: writing %s (%zu tensors, %d threads)\n", out.c_str(), tensors.size(), pool.size());
  w.write(out);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s: Gemma 3 %s %s, %zu tensors, %llu tokens, %.1f MiB of tensor data in %.1f s\n", out.c_str(),
              size->name, std::string(llama_ftype_name(*ftype)).c_str(), tensors.size(),
              static_cast<unsigned long long>(n_vocab), static_cast<double>(total_bytes) / (1 << 20), seconds);
  for (const auto& [name, bytes] : bytes_per_type)
    std::printf("  %-8s %10.1f MiB\n", name.c_str(), static_cast<double>(bytes) / (1 << 20));
  return 0;
}

}  // namespace lem::cli

int cli::cmd_synth(Args& args) {
  return run_dev_tool([&] { return lem::cli::synth_main(args); });
}
