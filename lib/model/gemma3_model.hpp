// The Gemma 3 text decoder: weights bound from a ModelSource and the forward pass (spec §2).
//
// The model is immutable after loading and can be shared by several sessions: everything that
// changes while running (KV cache, scratch buffers) lives in the caller's ForwardState and
// KvCache. Weights stay in their file type, used in place from the memory map.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/attention.hpp"
#include "model/gemma3_config.hpp"
#include "model/model_source.hpp"
#include "model/kv_cache.hpp"
#include "model/matmul.hpp"
#include "compute/thread_pool.hpp"

namespace lem {

// Scratch buffers of one forward pass, sized for up to max_batch tokens (of all the sequences of
// a batch together); reused across calls.
struct ForwardState {
  explicit ForwardState(const Gemma3Config& c, int64_t max_batch);
  int64_t max_batch;
  std::vector<float> x;         // [T, D]   residual stream
  std::vector<float> h;         // [T, D]   normed input of a block
  std::vector<float> q;         // [T, H*dh]
  std::vector<float> k;         // [T, Hkv*dh]
  std::vector<float> v;         // [T, Hkv*dh]
  std::vector<float> attn;      // [T, H*dh] attention output, heads concatenated
  std::vector<float> o;         // [T, D]   projection output before its post-norm
  std::vector<float> gate;      // [T, F]
  std::vector<float> up;        // [T, F]
  std::vector<float> rope_cos;  // [T, dh/2] per layer kind (local, global)
  std::vector<float> rope_sin;
  AttentionScratch attention;   // per-thread scores and gathered queries
  MatmulScratch mm;
  std::vector<float> logits;    // [rows, V] logit rows of several sequences, grown on demand
  MatmulPrecision precision = MatmulPrecision::Fast;
  Isa isa = active_isa();       // kernel level of the matmuls and attention
};

enum class LogitsMode { None, Last, All };

// One sequence's share of a batched forward pass: `tokens` go at positions
// [cache->n_pos(), + n) of its own cache; logits of its last token (Last) or of every token (All)
// go to `logits` ([rows, n_vocab]).
struct SequenceInput {
  std::span<const int32_t> tokens;
  KvCache* cache = nullptr;
  LogitsMode mode = LogitsMode::None;
  float* logits = nullptr;
};

// How a caller stops a running forward pass. `flag` may be set from any thread: it is polled
// before each layer and, inside prompt-sized matmuls, between row tiles. `poll` runs on the
// calling thread before each layer; it returns true to stop.
struct ForwardInterrupt {
  const std::atomic<bool>* flag = nullptr;
  const std::function<bool()>* poll = nullptr;

  bool flag_set() const { return flag && flag->load(std::memory_order_acquire); }
  bool requested() const { return flag_set() || (poll && *poll && (*poll)()); }
};

class Gemma3Model {
 public:
  // Called after each layer's weights are bound with the fraction done (0 < f < 1); returns
  // true to stop the load.
  using LoadProgress = std::function<bool(float fraction)>;

  // Opens and validates a model file or folder (any format ModelSource reads). Throws
  // lem::Error(Cancelled) when `progress` asks to stop.
  static std::unique_ptr<Gemma3Model> open(const std::string& path, const LoadProgress& progress = {});

  const Gemma3Config& config() const { return config_; }
  const ModelSource& source() const { return *source_; }

  // Runs `tokens` at positions [cache.n_pos(), + n) through the model, appending their keys and
  // values to `cache`. n must be <= state.max_batch. Writes logits for the last token (Last) or
  // every token (All) to `logits` ([rows, n_vocab]).
  // All or nothing: on any error the cache keeps its n_pos() (the slots the pass overwrote are
  // recorded with note_written) and `logits` may hold partial results. Throws lem::Error:
  // InvalidArg for token ids outside the embedding, ContextFull when the cache has no room,
  // Cancelled when `interrupt` fires, Numeric when a logit comes out NaN or infinite.
  void forward(std::span<const int32_t> tokens, KvCache& cache, ForwardState& state, ThreadPool& pool,
               LogitsMode mode, float* logits, const ForwardInterrupt& interrupt = {}) const;

  // The same for several sequences in one pass: every matmul takes the rows of all of them (one
  // read of each weight per pass); embedding, RoPE positions, the sliding-window mask and
  // attention stay per sequence. A sequence's logits are bitwise the same as when it runs alone
  // (see kernel_runs in model/matmul.hpp). Each sequence needs its own cache, at least one token
  // and at most cache->max_chunk(); all tokens together at most state.max_batch.
  // All or nothing for the whole batch: on any error no cache advances (each records the slots
  // the pass may have overwritten with note_written). Throws as forward().
  void forward_batch(std::span<const SequenceInput> batch, ForwardState& state, ThreadPool& pool,
                     const ForwardInterrupt& interrupt = {}) const;

  // Throws lem::Error(InvalidArg) for an id outside the embeddings. forward_batch checks its
  // input with it before touching any cache; callers that cut a prompt into several passes check
  // the whole prompt first, so that a bad id late in it changes nothing.
  void check_token_ids(std::span<const int32_t> tokens) const;

 private:
  struct Layer {
    MatmulWeight q, k, v, o, gate, up, down;
    std::vector<float> attn_norm, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffw_norm;
    bool sliding = false;
  };
  Gemma3Model() = default;
  MatmulWeight bind(const std::string& name) const;
  std::vector<float> norm_gain(const std::string& name) const;
  void embed(std::span<const int32_t> tokens, float* x) const;

  std::unique_ptr<ModelSource> source_;
  Gemma3Config config_;
  std::vector<Layer> layers_;
  std::vector<float> output_norm_;
  MatmulWeight lm_head_;
  const Weight* embeddings_ = nullptr;
};

}  // namespace lem
