// Kernel benchmark: matvec (decode) and matmul (prefill) throughput per weight type and ISA at
// the real Gemma 3 1B/4B shapes, next to the machine's measured read bandwidth.
//
//   build/bin/bench_kernels [--types q4_K,q8_0,...] [--isa scalar,avx2,avx512] [--threads 1,2]
//                           [--tokens 512] [--min-time 0.3] [--quick]
//
// Weights are random valid blocks (scale fields set to small normal f16 values; speed does not
// depend on the values). Decode figures are weight bytes read per second (GB/s = 1e9 B/s) and
// the fraction of the measured streaming-read bandwidth; prefill figures are GFLOP/s (2·k·rows
// per token). Decode cycles through copies of the weights totalling 256 MiB (8x the L3), so its
// GB/s is the rate at which weights stream from RAM, as in a real model.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <immintrin.h>

#include "kernels/fp16.hpp"
#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"
#include "model/matmul.hpp"
#include "compute/thread_pool.hpp"

using namespace lem;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
  const char* name;
  int64_t k, rows;
};

// Decode shapes: Gemma3-1B gate/up (k 1152, 6912 rows), down (6912 -> 1152), LM head
// (1152 -> 262144); Gemma3-4B up (2560 -> 10240) and down (10240 -> 2560).
const Shape kShapes[] = {
    {"1B ffn_up 1152x6912", 1152, 6912},   {"1B ffn_down 6912x1152", 6912, 1152},
    {"1B lm_head 1152x262144", 1152, 262144}, {"4B ffn_up 2560x10240", 2560, 10240},
    {"4B ffn_down 10240x2560", 10240, 2560},
};

// Byte offsets of f16 scale fields inside one block, per type (formats.hpp / spec §6).
std::vector<int> f16_fields(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q5_0: case GgmlType::Q8_0: case GgmlType::IQ4_NL: return {0};
    case GgmlType::Q4_1: case GgmlType::Q5_1: case GgmlType::Q4_K: case GgmlType::Q5_K: return {0, 2};
    case GgmlType::Q2_K: return {80, 82};
    case GgmlType::Q3_K: return {108};
    case GgmlType::Q6_K: return {208};
    case GgmlType::IQ4_XS: case GgmlType::IQ2_XXS: case GgmlType::IQ2_XS: case GgmlType::IQ2_S:
    case GgmlType::IQ3_XXS: case GgmlType::IQ3_S: case GgmlType::IQ1_S: return {0};
    case GgmlType::TQ1_0: return {52};
    case GgmlType::TQ2_0: return {64};
    default: return {};
  }
}

std::vector<uint8_t> random_weights(GgmlType t, int64_t k, int64_t rows, std::mt19937& rng) {
  const auto tr = ggml_traits(t);
  const size_t row_bytes = *ggml_row_bytes(t, k);
  std::vector<uint8_t> w(row_bytes * rows);
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
  if (t == GgmlType::F32 || t == GgmlType::F16 || t == GgmlType::BF16) {
    std::normal_distribution<float> nd(0.f, 0.02f);
    for (int64_t i = 0; i < k * rows; ++i) {
      const float v = nd(rng);
      if (t == GgmlType::F32) std::memcpy(&w[i * 4], &v, 4);
      const uint16_t h = t == GgmlType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
      if (t != GgmlType::F32) std::memcpy(&w[i * 2], &h, 2);
    }
    return w;
  }
  const uint16_t scale = f32_to_f16(0.01f);
  for (size_t blk = 0; blk < w.size() / tr.type_size; ++blk)
    for (int off : f16_fields(t)) std::memcpy(&w[blk * tr.type_size + off], &scale, 2);
  return w;
}

// Streaming read bandwidth: sum a buffer much larger than the caches with 256-bit loads (the
// AVX2 code is compiled for that function only; the benchmark is x86-64 with AVX2).
__attribute__((target("avx2"))) void sum_avx2(const float* p, int64_t b, int64_t e, double* out) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = b; i + 32 <= e; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
  }
  alignas(32) float tmp[8];
  _mm256_store_ps(tmp, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  *out = tmp[0];
}

double measure_bandwidth(ThreadPool& pool, double min_time) {
  std::vector<float> buf(size_t(1) << 26);  // 256 MiB: far beyond the 32 MiB L3
  pool.run([&](int t, int nt) {  // first touch from the threads that will read it
    int64_t b, e;
    ThreadPool::split(static_cast<int64_t>(buf.size()), 4096, t, nt, b, e);
    std::fill(buf.begin() + b, buf.begin() + e, 1.0f);
  });
  std::vector<double> sums(pool.size());
  double best = 0;
  const auto end = Clock::now() + std::chrono::duration<double>(min_time * 3);
  do {
    const auto t0 = Clock::now();
    pool.run([&](int t, int nt) {
      int64_t b, e;
      ThreadPool::split(static_cast<int64_t>(buf.size()), 4096, t, nt, b, e);
      sum_avx2(buf.data(), b, e, &sums[t]);
    });
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::max(best, buf.size() * sizeof(float) / s / 1e9);
  } while (Clock::now() < end);
  return best;
}

// Median seconds per call of fn over repetitions lasting at least min_time.
template <class F>
double time_it(F&& fn, double min_time) {
  fn();  // warm-up (page faults, caches)
  std::vector<double> times;
  const auto end = Clock::now() + std::chrono::duration<double>(min_time);
  do {
    const auto t0 = Clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  } while (Clock::now() < end || times.size() < 3);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> types = {"q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "iq4_nl", "q2_K", "q3_K", "q4_K",
                                    "q5_K", "q6_K", "iq4_xs", "bf16", "f16", "f32"};
  std::vector<std::string> isas = {"scalar", "avx2", "avx512"};
  std::vector<int> threads = {1, 2};
  int64_t tokens = 512;
  double min_time = 0.3;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--types") types = split_list(next());
    else if (a == "--isa") isas = split_list(next());
    else if (a == "--threads") { threads.clear(); for (auto& t : split_list(next())) threads.push_back(std::stoi(t)); }
    else if (a == "--tokens") tokens = std::stoll(next());
    else if (a == "--min-time") min_time = std::stod(next());
    else if (a == "--quick") quick = true;
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (quick) min_time = 0.1;

  std::printf("detected ISA: %s\n", isa_name(detected_isa()));
  std::vector<double> bandwidth(threads.size());
  for (size_t i = 0; i < threads.size(); ++i) {
    ThreadPool pool(threads[i]);
    bandwidth[i] = measure_bandwidth(pool, min_time);
    std::printf("streaming read bandwidth, %d thread(s): %.1f GB/s\n", threads[i], bandwidth[i]);
  }
  std::printf("\n%-8s %-7s %-3s %-26s %9s %9s %7s %12s\n", "type", "isa", "thr", "decode shape (k x rows)", "GB/s",
              "GFLOP/s", "%bw", "pp GFLOP/s");

  std::mt19937 rng(1234);
  for (const auto& tname : types) {
    const auto type = ggml_type_from_name(tname);
    if (!type) { std::fprintf(stderr, "unknown type %s\n", tname.c_str()); return 2; }
    for (const Shape& shape : kShapes) {
      if (!ggml_row_bytes(*type, shape.k)) continue;  // row length not a multiple of the block
      if (quick && shape.rows == 262144) continue;
      const auto w = random_weights(*type, shape.k, shape.rows, rng);
      const size_t row_bytes = *ggml_row_bytes(*type, shape.k);
      MatmulWeight mw{*type, w.data(), row_bytes, shape.rows, shape.k};
      // Decode reads the weights from RAM in a real model (1B: ~0.8 GB per token): cycle through
      // enough copies (>= 256 MiB in all, 8x the 32 MiB L3) that no call finds them in cache.
      const size_t n_copies = std::max<size_t>(1, ((size_t(256) << 20) + w.size() - 1) / w.size());
      std::vector<std::vector<uint8_t>> copies(n_copies, w);
      size_t next_copy = 0;
      std::vector<float> x(static_cast<size_t>(shape.k * tokens));
      std::normal_distribution<float> nd(0.f, 1.f);
      for (auto& v : x) v = nd(rng);
      std::vector<float> y(static_cast<size_t>(shape.rows * tokens));
      for (const auto& iname : isas) {
        Isa isa = iname == "scalar" ? Isa::Scalar : iname == "avx2" ? Isa::Avx2 : Isa::Avx512;
        if (isa > detected_isa() || !weight_kernel(*type, isa).gemm) continue;
        for (size_t ti = 0; ti < threads.size(); ++ti) {
          ThreadPool pool(threads[ti]);
          MatmulScratch scratch;
          const double s1 = time_it(
              [&] {
                MatmulWeight cold = mw;
                cold.data = copies[next_copy++ % n_copies].data();
                matmul(cold, x.data(), shape.k, 1, y.data(), shape.rows, pool, scratch, MatmulPrecision::Fast, isa);
              },
              min_time);
          const double gbs = w.size() / s1 / 1e9;
          const double flops1 = 2.0 * shape.k * shape.rows / s1 / 1e9;
          // Prefill only on the layer shapes (the LM head runs for the last token only).
          std::string pp = "-";
          if (shape.rows != 262144 && !(isa == Isa::Scalar && quick)) {
            const double sp = time_it(
                [&] { matmul(mw, x.data(), shape.k, tokens, y.data(), shape.rows, pool, scratch, MatmulPrecision::Fast, isa); }, min_time);
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f", 2.0 * shape.k * shape.rows * tokens / sp / 1e9);
            pp = buf;
          }
          std::printf("%-8s %-7s %-3d %-26s %9.1f %9.1f %6.0f%% %12s\n", tname.c_str(), iname.c_str(), threads[ti],
                      shape.name, gbs, flops1, 100.0 * gbs / bandwidth[ti], pp.c_str());
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
