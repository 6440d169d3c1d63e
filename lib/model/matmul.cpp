#include "model/matmul.hpp"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>

#include "util/error.hpp"
#include "model/weight_reader.hpp"

namespace lem {
namespace {
// Prefill hands out bands of this many weight rows (a multiple of 16 so SIMD microkernels see
// full groups); each kernel call then takes all tokens of the batch.
constexpr int64_t kRowTile = 64;
constexpr int64_t kFallbackRowTile = 16;
// Below this many multiply-adds a matmul runs on the calling thread alone (~20 µs of work).
constexpr double kMinParallelMacs = 1 << 19;

// Branch-free so that it vectorises (a std::isfinite loop did not, and cost ~6% of prefill).
bool all_finite(const float* x, int64_t n) {
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) bad |= !(std::fabs(x[i]) <= FLT_MAX);
  return bad == 0;
}

bool stop_requested(const MatmulScratch& scratch) {
  return scratch.stop && scratch.stop->load(std::memory_order_relaxed);
}

// Types without a kernel: dequantise kFallbackRowTile rows at a time into float and run the F32
// kernel on them. Correct for every type lem::dequantize_row() knows, and for MLX affine weights.
void matmul_dequantised(const MatmulWeight& w, const float* x, size_t x_stride, int64_t n_tok, float* y,
                        size_t y_stride, ThreadPool& pool, MatmulScratch& scratch, Isa isa,
                        std::span<const int64_t> segments) {
  const WeightKernel f32 = best_weight_kernel(GgmlType::F32, isa);
  if (!w.source || !f32.gemm)
    fail(Status::Unsupported, "no matmul kernel for weight type {}", ggml_traits(w.type).name);
  const std::vector<TokenRun> runs = kernel_runs(n_tok, segments, f32.wide_min_tokens);
  const size_t tile_floats = static_cast<size_t>(kFallbackRowTile * w.k);
  scratch.tiles.resize(tile_floats * static_cast<size_t>(pool.size()));
  const double macs = static_cast<double>(w.rows) * static_cast<double>(w.k) * static_cast<double>(n_tok);
  pool.run_sized(macs, kMinParallelMacs, [&](int t, int n) {
    int64_t rb, re;
    ThreadPool::split(w.rows, kFallbackRowTile, t, n, rb, re);
    float* tile = scratch.tiles.data() + tile_floats * static_cast<size_t>(t);
    for (int64_t r0 = rb; r0 < re; r0 += kFallbackRowTile) {
      if (stop_requested(scratch)) return;
      const int64_t nr = std::min(kFallbackRowTile, re - r0);
      read_weight_rows(*w.source, static_cast<uint64_t>(r0), static_cast<uint64_t>(nr), tile);
      for (const TokenRun& run : runs)
        f32.gemm(w.k, tile, static_cast<size_t>(w.k) * sizeof(float), nr, x + run.first * x_stride,
                 x_stride * sizeof(float), run.count, y + run.first * y_stride + r0, y_stride);
    }
  });
}

}  // namespace

std::vector<TokenRun> kernel_runs(int64_t n_tok, std::span<const int64_t> segments, int64_t wide_min_tokens) {
  int64_t total = 0;
  for (const int64_t n : segments) {
    if (n <= 0) fail(Status::InvalidArg, "a matmul segment must hold at least one row, got {}", n);
    total += n;
  }
  if (!segments.empty() && total != n_tok)
    fail(Status::InvalidArg, "matmul segments hold {} rows, the activations {}", total, n_tok);
  if (wide_min_tokens <= 0 || segments.size() <= 1) return {TokenRun{0, n_tok}};
  std::vector<TokenRun> runs;
  bool last_wide = false;
  int64_t first = 0;
  for (const int64_t n : segments) {
    const bool wide = n >= wide_min_tokens;
    if (wide) {
      // Whole wide sequences, merged with a wide neighbour: every call holds >= wide_min_tokens.
      if (!runs.empty() && last_wide) runs.back().count += n;
      else runs.push_back({first, n});
    } else {
      // Narrow tokens fill runs of up to wide_min_tokens - 1; splitting a sequence is harmless
      // since the narrow path computes each token alike in any call.
      for (int64_t t = first; t < first + n;) {
        if (runs.empty() || last_wide || runs.back().count == wide_min_tokens - 1) runs.push_back({t, 0});
        const int64_t take = std::min(first + n - t, wide_min_tokens - 1 - runs.back().count);
        runs.back().count += take;
        t += take;
        last_wide = false;
      }
    }
    last_wide = wide;
    first += n;
  }
  return runs;
}

MatmulWeight matmul_weight(const Weight& w) {
  MatmulWeight m;
  m.type = w.affine ? GgmlType::F32 : w.type;
  m.data = w.data;
  m.k = static_cast<int64_t>(w.row_length());
  m.rows = static_cast<int64_t>(w.n_rows());
  m.row_stride = w.affine ? 0 : static_cast<size_t>(weight_row_bytes(w));
  m.source = &w;
  return m;
}

void matmul(const MatmulWeight& w, const float* x, size_t x_stride, int64_t n_tok, float* y, size_t y_stride,
            ThreadPool& pool, MatmulScratch& scratch, MatmulPrecision precision, Isa isa,
            std::span<const int64_t> segments) {
  const bool affine = w.source && w.source->affine;
  const bool dequantise = affine || (precision == MatmulPrecision::Exact && w.type != GgmlType::F32);
  const WeightKernel kernel = dequantise ? WeightKernel{} : best_weight_kernel(w.type, isa);
  if (!kernel.gemm) return matmul_dequantised(w, x, x_stride, n_tok, y, y_stride, pool, scratch, isa, segments);
  const std::vector<TokenRun> runs = kernel_runs(n_tok, segments, kernel.wide_min_tokens);
  if (w.k % act_block_size(kernel.act) != 0)
    fail(Status::InvalidArg, "row length {} is not a multiple of the {} block size", w.k, act_type_name(kernel.act));

  const size_t a_stride = act_row_bytes(kernel.act, w.k);
  if (scratch.act.size() < a_stride * static_cast<size_t>(n_tok)) scratch.act.resize(a_stride * static_cast<size_t>(n_tok));
  uint8_t* act = scratch.act.data();

  const double macs = static_cast<double>(w.rows) * static_cast<double>(w.k) * static_cast<double>(n_tok);
  const bool rounds_to_integers =
      kernel.act == ActType::Q8_0 || kernel.act == ActType::Q8_1 || kernel.act == ActType::Q8_K;
  pool.run_sized(static_cast<double>(n_tok) * static_cast<double>(w.k) * 64, kMinParallelMacs, [&](int t, int n) {
    int64_t b, e;
    ThreadPool::split(n_tok, 1, t, n, b, e);
    for (int64_t i = b; i < e; ++i) {
      // Rounding to 8 bits would turn a NaN or infinity (broken weights upstream) into finite
      // garbage that no later check could tell from an answer: refuse it here.
      if (rounds_to_integers && !all_finite(x + i * x_stride, w.k))
        fail(Status::Numeric, "a non-finite activation reached a {} x {} matmul (token {} of {}): the model's "
             "weights or configuration are broken", w.rows, w.k, i, n_tok);
      quantize_activation_row(kernel.act, x + i * x_stride, act + i * a_stride, w.k);
    }
  });

  // Prefill: tiles of rows are handed out from a shared counter rather than split once per
  // thread: on shared machines one core often runs slower than the other, and a static split
  // would make every matmul wait for the slow one.
  if (n_tok == 1) {
    // Decode: one contiguous half of the rows per thread. Handing out chunks from a shared
    // counter instead was measured slower (1B Q4_K_M: ~44 vs ~50 t/s): a single long stream per
    // core keeps the prefetchers ahead.
    pool.run_sized(macs, kMinParallelMacs, [&](int t, int n) {
      int64_t rb, re;
      ThreadPool::split(w.rows, 16, t, n, rb, re);
      if (re > rb)
        kernel.gemm(w.k, static_cast<const uint8_t*>(w.data) + rb * w.row_stride, w.row_stride, re - rb, act, a_stride,
                    1, y + rb, y_stride);
    });
    return;
  }
  const int64_t chunk_rows = kRowTile;
  std::atomic<int64_t> next_row{0};
  pool.run_sized(macs, kMinParallelMacs, [&](int, int) {
    for (;;) {
      const int64_t r0 = next_row.fetch_add(chunk_rows, std::memory_order_relaxed);
      if (r0 >= w.rows || stop_requested(scratch)) return;
      const int64_t nr = std::min(chunk_rows, w.rows - r0);
      const uint8_t* rows = static_cast<const uint8_t*>(w.data) + r0 * w.row_stride;
      // All tokens of a run in one call: the kernels tile tokens themselves and repack a band of
      // weight rows once per call, so splitting tokens further would repeat the repacking.
      for (const TokenRun& run : runs)
        kernel.gemm(w.k, rows, w.row_stride, nr, act + run.first * a_stride, a_stride, run.count,
                    y + run.first * y_stride + r0, y_stride);
    }
  });
}

}  // namespace lem
