// Per-layer key/value cache. Global layers keep every position up to n_ctx; sliding-window layers
// keep a ring of the last positions only (spec §2 "KV cache"): W keys are visible to a query, an
// n-token batch needs W - 1 + n, and `rewind_slack` more positions let a session rewind that far
// without recomputation. Rows are [n_head_kv * head_dim] values, F32 or F16.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "model/gemma3_config.hpp"

namespace lem {

enum class KvType { F32, F16 };
const char* kv_type_name(KvType t);

class KvCache {
 public:
  KvCache(const Gemma3Config& config, int64_t n_ctx, int64_t max_batch, KvType type, int64_t rewind_slack);

  // What a cache with these settings allocates, without allocating it (for `lem info`);
  // nullopt when the size does not fit in 64 bits. The constructor refuses (OutOfMemory) a cache
  // larger than the machine's memory before allocating anything.
  static std::optional<uint64_t> checked_bytes_for(const Gemma3Config& config, int64_t n_ctx, int64_t max_batch,
                                                   KvType type, int64_t rewind_slack);
  // The same, SIZE_MAX when it overflows.
  static size_t bytes_for(const Gemma3Config& config, int64_t n_ctx, int64_t max_batch, KvType type,
                          int64_t rewind_slack);
  // Positions a layer keeps: n_ctx for global layers, the ring for sliding ones.
  static int64_t layer_capacity(const Gemma3Config& config, int64_t layer, int64_t n_ctx, int64_t max_batch,
                                int64_t rewind_slack);

  int64_t n_ctx() const { return n_ctx_; }
  KvType type() const { return type_; }
  int64_t row_size() const { return row_size_; }   // values per position: n_head_kv * head_dim
  int64_t capacity(int64_t layer) const { return layers_[layer].capacity; }
  size_t bytes() const;
  // The most tokens one forward pass may append: a sliding ring must still hold the W - 1 keys
  // before the chunk's first token after writing its last.
  int64_t max_chunk() const { return max_chunk_; }

  // Storage of position `pos` in `layer` (a ring slot for sliding layers). F32 caches return
  // float*, F16 caches uint16_t* (use the matching accessor).
  float* k_f32(int64_t layer, int64_t pos) { return reinterpret_cast<float*>(row(layers_[layer].k, layer, pos)); }
  float* v_f32(int64_t layer, int64_t pos) { return reinterpret_cast<float*>(row(layers_[layer].v, layer, pos)); }
  uint16_t* k_f16(int64_t layer, int64_t pos) { return reinterpret_cast<uint16_t*>(row(layers_[layer].k, layer, pos)); }
  uint16_t* v_f16(int64_t layer, int64_t pos) { return reinterpret_cast<uint16_t*>(row(layers_[layer].v, layer, pos)); }

  // Raw rows for batched attention: position p of `layer` lives in row slot(layer, p) of
  // k_rows/v_rows (rows of row_bytes(); ring slots wrap at capacity(layer) on sliding layers).
  int64_t slot(int64_t layer, int64_t pos) const { return pos % layers_[layer].capacity; }
  size_t row_bytes() const { return static_cast<size_t>(row_size_) * elem_bytes_; }
  const uint8_t* k_rows(int64_t layer) const { return layers_[layer].k.data(); }
  const uint8_t* v_rows(int64_t layer) const { return layers_[layer].v.data(); }

  // Positions [0, n_pos) are the cached sequence. Writing position p (in order) extends it.
  int64_t n_pos() const { return n_pos_; }
  // Records that positions up to `end` (exclusive) have been written.
  void advance(int64_t end);
  // Records that ring slots of positions up to `end` may have been overwritten while the sequence
  // stays at n_pos(): a forward pass that stopped midway (cancelled, or an error) wrote some
  // layers' keys and values. can_truncate() then stays conservative about what the rings hold.
  void note_written(int64_t end);
  // True when the cache can be cut back to `n` positions and extended from there: every layer
  // still holds the keys position n needs. Global layers always can; sliding layers only if the
  // last W - 1 positions before n are still in their ring.
  bool can_truncate(int64_t n) const;
  // Cuts the sequence to n positions (requires can_truncate(n)); 0 always works.
  void truncate(int64_t n);
  // The shortest length above 0 that can_truncate() allows (n_pos() when nothing shorter is).
  int64_t shortest_truncation() const;
  // Makes this cache hold the first n positions of `src` (same config, n_ctx, rings and type):
  // what truncating a copy of `src` to n would hold. Throws InvalidArg for another shape or when
  // src.can_truncate(n) is false; this cache is then unchanged.
  void copy_prefix(const KvCache& src, int64_t n);

 private:
  struct Layer {
    int64_t capacity = 0;
    bool sliding = false;
    std::vector<uint8_t> k, v;
  };
  uint8_t* row(std::vector<uint8_t>& buf, int64_t layer, int64_t pos) {
    const int64_t slot = pos % layers_[layer].capacity;
    return buf.data() + static_cast<size_t>(slot * row_size_) * elem_bytes_;
  }

  int64_t n_ctx_;
  int64_t window_;
  int64_t row_size_;
  size_t elem_bytes_;
  KvType type_;
  std::vector<Layer> layers_;
  int64_t max_chunk_ = 0;
  int64_t n_pos_ = 0;
  int64_t written_end_ = 0;   // highest position written + 1 (before any truncation)
};

}  // namespace lem
