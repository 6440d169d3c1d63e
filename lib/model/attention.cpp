#include "model/attention.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "kernels/kernels.hpp"
#include "kernels/ops.hpp"

namespace lem {
namespace {

constexpr int64_t kMinBlockedTokens = 8;       // smaller batches (decode) go row by row
constexpr int64_t kMaxBlockTokens = 64;        // tokens per blocked job
constexpr int64_t kScoreBudget = int64_t{1} << 22;  // floats of scores per thread (16 MiB)

std::vector<float>& thread_buffer(AttentionScratch& scratch, int thread, size_t floats) {
  std::vector<float>& b = scratch.per_thread[static_cast<size_t>(thread)];
  if (b.size() < floats) b.resize(floats);
  return b;
}

// First key position visible from `pos`.
int64_t first_visible(const AttentionShape& s, int64_t pos) {
  return s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
}

void softcap(const AttentionShape& s, float* scores, int64_t n) {
  if (s.logit_softcap <= 0) return;
  for (int64_t j = 0; j < n; ++j) scores[j] = s.logit_softcap * std::tanh(scores[j] / s.logit_softcap);
}

void attend_by_rows(const AttentionShape& s, const float* q, int64_t n, int64_t pos0, const KvCache& cache,
                    int64_t layer, float* out, ThreadPool& pool, AttentionScratch& scratch) {
  const int64_t H = s.n_head, dh = s.head_dim, group = s.n_head / s.n_head_kv;
  const bool f16 = cache.type() == KvType::F16;
  const size_t rb = cache.row_bytes();
  const size_t elem = f16 ? 2 : 4;
  const uint8_t* k_rows = cache.k_rows(layer);
  const uint8_t* v_rows = cache.v_rows(layer);
  const int64_t max_keys = pos0 + n;
  const double work = static_cast<double>(n) * static_cast<double>(H) * static_cast<double>(max_keys) * dh * 2;
  std::atomic<int64_t> next_job{0};
  pool.run_sized(work, 1 << 19, [&](int thread, int) {
    float* scores = thread_buffer(scratch, thread, static_cast<size_t>(max_keys)).data();
    for (;;) {
      const int64_t job = next_job.fetch_add(1, std::memory_order_relaxed);
      if (job >= n * H) return;
      const int64_t t = job / H, head = job % H, kv_head = head / group;
      const int64_t pos = pos0 + t;
      const int64_t first = first_visible(s, pos);
      const float* qh = q + (t * H + head) * dh;
      for (int64_t j = first; j <= pos; ++j) {
        const uint8_t* k = k_rows + static_cast<size_t>(cache.slot(layer, j)) * rb + kv_head * dh * elem;
        scores[j - first] = f16 ? dot_f32_f16(qh, reinterpret_cast<const uint16_t*>(k), dh)
                                : dot_f32(qh, reinterpret_cast<const float*>(k), dh);
      }
      const int64_t n_keys = pos - first + 1;
      softcap(s, scores, n_keys);
      softmax_inplace(scores, n_keys);
      float* o = out + (t * H + head) * dh;
      std::fill(o, o + dh, 0.0f);
      for (int64_t j = first; j <= pos; ++j) {
        const uint8_t* v = v_rows + static_cast<size_t>(cache.slot(layer, j)) * rb + kv_head * dh * elem;
        if (f16) axpy_f16(scores[j - first], reinterpret_cast<const uint16_t*>(v), o, dh);
        else axpy_f32(scores[j - first], reinterpret_cast<const float*>(v), o, dh);
      }
    }
  });
}

// Calls fn(first_position, slot, run) for the runs of consecutive ring slots that hold
// positions [first, last].
template <class F>
void for_each_slot_run(const KvCache& cache, int64_t layer, int64_t first, int64_t last, F&& fn) {
  const int64_t capacity = cache.capacity(layer);
  for (int64_t p = first; p <= last;) {
    const int64_t slot = cache.slot(layer, p);
    const int64_t run = std::min(last - p + 1, capacity - slot);
    fn(p, slot, run);
    p += run;
  }
}

void attend_blocked(const AttentionShape& s, const WeightKernel& qk, const float* q, int64_t n, int64_t pos0,
                    const KvCache& cache, int64_t layer, float* out, ThreadPool& pool, AttentionScratch& scratch) {
  const int64_t H = s.n_head, Hkv = s.n_head_kv, dh = s.head_dim, G = s.n_head / s.n_head_kv;
  const bool f16 = cache.type() == KvType::F16;
  const size_t rb = cache.row_bytes();
  const size_t elem = f16 ? 2 : 4;
  const uint8_t* k_rows = cache.k_rows(layer);
  const uint8_t* v_rows = cache.v_rows(layer);

  // Keys a block of `tokens` tokens can see, and the largest block whose scores fit the budget.
  auto keys_for = [&](int64_t tokens) {
    return s.window > 0 ? std::min(pos0 + n, s.window - 1 + tokens) : pos0 + n;
  };
  int64_t block = std::min(kMaxBlockTokens, n);
  while (block > 1 && block * G * keys_for(block) > kScoreBudget) block /= 2;
  const int64_t max_keys = keys_for(block);
  const int64_t n_blocks = (n + block - 1) / block;
  const size_t q_floats = static_cast<size_t>(block * G * dh);
  const size_t s_floats = static_cast<size_t>(block * G * max_keys);

  std::atomic<int64_t> next_job{0};
  pool.run([&](int thread, int) {
    float* buf = thread_buffer(scratch, thread, 2 * q_floats + s_floats).data();
    float* qb = buf;               // [rows, dh] the block's queries, gathered
    float* ob = buf + q_floats;    // [rows, dh] their outputs
    float* sc = ob + q_floats;     // [rows, n_keys] scores, then probabilities
    for (;;) {
      const int64_t job = next_job.fetch_add(1, std::memory_order_relaxed);
      if (job >= n_blocks * Hkv) return;
      const int64_t b = n_blocks - 1 - job / Hkv;  // longest first
      const int64_t kv = job % Hkv;
      const int64_t t0 = b * block, t1 = std::min(n, t0 + block), rows = (t1 - t0) * G;
      const int64_t first = first_visible(s, pos0 + t0), last = pos0 + t1 - 1, n_keys = last - first + 1;

      for (int64_t t = t0; t < t1; ++t)
        std::copy_n(q + (t * H + kv * G) * dh, G * dh, qb + (t - t0) * G * dh);
      for_each_slot_run(cache, layer, first, last, [&](int64_t p, int64_t slot, int64_t run) {
        qk.gemm(dh, k_rows + static_cast<size_t>(slot) * rb + kv * dh * elem, rb, run, qb, dh * sizeof(float), rows,
                sc + (p - first), static_cast<size_t>(n_keys));
      });
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = pos0 + t0 + r / G;
        float* row = sc + r * n_keys;
        const int64_t lo = first_visible(s, pos) - first, hi = pos - first;  // visible: [lo, hi]
        std::fill(row, row + lo, 0.0f);
        std::fill(row + hi + 1, row + n_keys, 0.0f);
        softcap(s, row + lo, hi - lo + 1);
        softmax_inplace(row + lo, hi - lo + 1);
      }
      std::fill(ob, ob + rows * dh, 0.0f);
      for_each_slot_run(cache, layer, first, last, [&](int64_t p, int64_t slot, int64_t run) {
        attention_pv(f16, sc + (p - first), n_keys, rows, v_rows + static_cast<size_t>(slot) * rb + kv * dh * elem, rb,
                     run, dh, ob, dh);
      });
      for (int64_t t = t0; t < t1; ++t)
        std::copy_n(ob + (t - t0) * G * dh, G * dh, out + (t * H + kv * G) * dh);
    }
  });
}

}  // namespace

void attend(const AttentionShape& shape, const float* q, int64_t n, int64_t pos0, const KvCache& cache, int64_t layer,
            float* out, ThreadPool& pool, AttentionScratch& scratch, Isa isa) {
  if (scratch.per_thread.size() < static_cast<size_t>(pool.size()))
    scratch.per_thread.resize(static_cast<size_t>(pool.size()));
  // Scores by the float "weight" kernel: cached key rows play the weights, queries the activations.
  const WeightKernel qk =
      best_weight_kernel(cache.type() == KvType::F16 ? GgmlType::F16 : GgmlType::F32, isa);
  if (n >= kMinBlockedTokens && qk.gemm && qk.act == ActType::F32)
    attend_blocked(shape, qk, q, n, pos0, cache, layer, out, pool, scratch);
  else
    attend_by_rows(shape, q, n, pos0, cache, layer, out, pool, scratch);
}

}  // namespace lem
