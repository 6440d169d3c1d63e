#include "model/kv_cache.hpp"

#include <algorithm>
#include <cstring>

#include "util/checked_math.hpp"
#include "util/error.hpp"
#include "util/memory.hpp"

namespace lem {

const char* kv_type_name(KvType t) { return t == KvType::F32 ? "f32" : "f16"; }

int64_t KvCache::layer_capacity(const Gemma3Config& c, int64_t layer, int64_t n_ctx, int64_t max_batch,
                                int64_t rewind_slack) {
  const bool sliding = c.layer_is_sliding[static_cast<size_t>(layer)] && c.sliding_window > 0;
  return sliding ? std::min(n_ctx, c.sliding_window - 1 + max_batch + rewind_slack) : n_ctx;
}

std::optional<uint64_t> KvCache::checked_bytes_for(const Gemma3Config& c, int64_t n_ctx, int64_t max_batch,
                                                   KvType type, int64_t rewind_slack) {
  if (n_ctx < 0 || max_batch < 0 || rewind_slack < 0) return std::nullopt;
  std::optional<uint64_t> positions = 0;
  for (int64_t l = 0; l < c.n_layer && positions; ++l)
    positions = checked_add(
        *positions, static_cast<uint64_t>(layer_capacity(c, l, n_ctx, std::min(max_batch, n_ctx), rewind_slack)));
  if (!positions) return std::nullopt;
  const auto values = checked_mul(*positions, static_cast<uint64_t>(c.n_head_kv) * static_cast<uint64_t>(c.head_dim));
  if (!values) return std::nullopt;
  return checked_mul(*values, 2 * (type == KvType::F32 ? 4 : 2));  // keys and values
}

size_t KvCache::bytes_for(const Gemma3Config& c, int64_t n_ctx, int64_t max_batch, KvType type,
                          int64_t rewind_slack) {
  const auto bytes = checked_bytes_for(c, n_ctx, max_batch, type, rewind_slack);
  return bytes && *bytes <= SIZE_MAX ? static_cast<size_t>(*bytes) : SIZE_MAX;
}

KvCache::KvCache(const Gemma3Config& c, int64_t n_ctx, int64_t max_batch, KvType type, int64_t rewind_slack)
    : n_ctx_(n_ctx),
      window_(c.sliding_window),
      row_size_(c.n_head_kv * c.head_dim),
      elem_bytes_(type == KvType::F32 ? 4 : 2),
      type_(type) {
  if (n_ctx <= 0 || max_batch <= 0) fail(Status::InvalidArg, "KV cache: n_ctx and batch size must be positive");
  // Sized from n_ctx, which may be a model's (hostile) maximum: check before allocating.
  require_memory(checked_bytes_for(c, n_ctx, max_batch, type, rewind_slack),
                 fmt::format("a {} KV cache for n_ctx {}", kv_type_name(type), n_ctx),
                 "ask for a smaller context (n_ctx) or an f16 KV cache");
  layers_.resize(static_cast<size_t>(c.n_layer));
  max_chunk_ = n_ctx;
  for (int64_t l = 0; l < c.n_layer; ++l) {
    Layer& L = layers_[l];
    L.sliding = c.layer_is_sliding[l] && window_ > 0;
    L.capacity = layer_capacity(c, l, n_ctx, max_batch, rewind_slack);
    if (L.sliding && L.capacity < n_ctx) max_chunk_ = std::min(max_chunk_, L.capacity - (window_ - 1));
    const size_t bytes = static_cast<size_t>(L.capacity * row_size_) * elem_bytes_;
    L.k.resize(bytes);
    L.v.resize(bytes);
  }
}

size_t KvCache::bytes() const {
  size_t total = 0;
  for (const auto& L : layers_) total += L.k.size() + L.v.size();
  return total;
}

void KvCache::advance(int64_t end) {
  n_pos_ = end;
  written_end_ = std::max(written_end_, end);
}

void KvCache::note_written(int64_t end) { written_end_ = std::max(written_end_, end); }

bool KvCache::can_truncate(int64_t n) const {
  if (n < 0 || n > n_pos_) return false;
  if (n == 0) return true;
  for (const auto& L : layers_) {
    if (!L.sliding || L.capacity >= written_end_) continue;
    // The oldest position still in the ring, and the oldest one position n will look at.
    const int64_t oldest_kept = written_end_ - L.capacity;
    const int64_t oldest_needed = std::max<int64_t>(0, n - (window_ - 1));
    if (oldest_needed < oldest_kept) return false;
  }
  return true;
}

void KvCache::truncate(int64_t n) {
  if (!can_truncate(n)) fail(Status::Internal, "KV cache: cannot truncate {} positions to {}", n_pos_, n);
  n_pos_ = n;
  if (n == 0) written_end_ = 0;
  // Slots of positions >= n are stale but harmless: they are overwritten before being read.
  // written_end_ stays: ring slots of positions in [n, written_end_) were overwritten, so older
  // positions than written_end_ - capacity are gone even after the cut.
}

int64_t KvCache::shortest_truncation() const {
  int64_t shortest = 1;
  for (const auto& L : layers_)
    if (L.sliding && L.capacity < written_end_) shortest = std::max(shortest, written_end_ - L.capacity + window_ - 1);
  return std::min(shortest, n_pos_);
}

void KvCache::copy_prefix(const KvCache& src, int64_t n) {
  if (&src == this) return truncate(n);
  bool same = src.n_ctx_ == n_ctx_ && src.type_ == type_ && src.row_size_ == row_size_ && src.window_ == window_ &&
              src.layers_.size() == layers_.size();
  for (size_t l = 0; same && l < layers_.size(); ++l) same = src.layers_[l].capacity == layers_[l].capacity;
  if (!same)
    fail(Status::InvalidArg, "KV cache copy: the caches differ in shape (n_ctx {} vs {}, {} vs {} values)", src.n_ctx_,
         n_ctx_, kv_type_name(src.type_), kv_type_name(type_));
  if (!src.can_truncate(n))
    fail(Status::InvalidArg, "KV cache copy: cannot copy {} of {} positions: the sliding-window rings hold lengths "
         "{} to {} (or 0)", n, src.n_pos_, src.shortest_truncation(), src.n_pos_);
  const size_t rb = row_bytes();
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& S = src.layers_[l];
    Layer& L = layers_[l];
    // Every position below n that the source still holds, slot for slot (same capacity).
    const int64_t first = std::max<int64_t>(0, src.written_end_ - S.capacity);
    for (int64_t p = first; p < n; ++p) {
      const size_t off = static_cast<size_t>(p % S.capacity) * rb;
      std::memcpy(L.k.data() + off, S.k.data() + off, rb);
      std::memcpy(L.v.data() + off, S.v.data() + off, rb);
    }
  }
  n_pos_ = n;
  // The rings now hold what the source's do; slots of positions >= n are stale but overwritten
  // before being read.
  written_end_ = n == 0 ? 0 : src.written_end_;
}

}  // namespace lem
