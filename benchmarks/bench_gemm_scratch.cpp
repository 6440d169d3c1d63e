// Quick single-kernel timing of the weight x activation GEMMs (kernels/kernels.hpp), per ISA level.
//
//   bench_gemm_scratch [type...]              types by llama.cpp name (default: q8_0 q5_0 q4_0)
//   environment: SHAPE=rows,k (default 6912,1152), TOKS=1,64,512, THREADS=1
//
// n_tok = 1 reports weight bytes per second over a working set larger than the L3 cache (many
// copies of the matrix, one per call), i.e. decode from DRAM. More tokens report GMAC/s on one
// hot matrix. Each figure is the best of repeated calls: on a shared machine it is an upper
// estimate of what an undisturbed core does. Weights are random bytes with sane f16 scales. The
// scalar level is timed for one token only.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/fp16.hpp"
#include "kernels/ggml_types.hpp"
#include "kernels/kernels.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<int64_t> int_list(const char* text, std::vector<int64_t> fallback) {
  if (!text) return fallback;
  std::vector<int64_t> out;
  for (const char* p = text; *p;) {
    out.push_back(std::strtoll(p, nullptr, 10));
    p = std::strchr(p, ',');
    if (!p) break;
    ++p;
  }
  return out;
}

// Random quant bytes; every f16 scale/min field (block sizes 1 and 32) set to a sane value.
void fill_weights(lem::GgmlType type, uint8_t* p, size_t bytes, std::mt19937_64& rng) {
  const lem::GgmlTypeTraits traits = lem::ggml_traits(type);
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(rng());
  const uint16_t scale = lem::f32_to_f16(0.01f);
  if (type == lem::GgmlType::F32) {
    for (size_t i = 0; i + 4 <= bytes; i += 4) {
      const float v = 0.01f * static_cast<float>(static_cast<int>(rng() % 201) - 100);
      std::memcpy(p + i, &v, 4);
    }
  } else if (type == lem::GgmlType::F16 || type == lem::GgmlType::BF16) {
    for (size_t i = 0; i + 2 <= bytes; i += 2) {
      const float v = 0.01f * static_cast<float>(static_cast<int>(rng() % 201) - 100);
      const uint16_t h = type == lem::GgmlType::F16 ? lem::f32_to_f16(v) : lem::f32_to_bf16(v);
      std::memcpy(p + i, &h, 2);
    }
  } else if (traits.block_size == 32) {  // d first; the _1 formats have m right after it
    const bool has_min = type == lem::GgmlType::Q4_1 || type == lem::GgmlType::Q5_1;
    for (size_t b = 0; b + traits.type_size <= bytes; b += traits.type_size) {
      std::memcpy(p + b, &scale, 2);
      if (has_min) std::memcpy(p + b + 2, &scale, 2);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> types = {"q8_0", "q5_0", "q4_0"};
  if (argc > 1) types.assign(argv + 1, argv + argc);
  const std::vector<int64_t> shape = int_list(std::getenv("SHAPE"), {6912, 1152});
  const std::vector<int64_t> token_counts = int_list(std::getenv("TOKS"), {1, 64, 512});
  const int threads = std::getenv("THREADS") ? std::atoi(std::getenv("THREADS")) : 1;
  if (shape.size() != 2 || threads < 1) {
    std::fprintf(stderr, "SHAPE must be rows,k and THREADS >= 1\n");
    return 2;
  }
  const int64_t n_rows = shape[0], k = shape[1];
  std::mt19937_64 rng(1);

  for (const std::string& name : types) {
    const auto type = lem::ggml_type_from_name(name);
    const auto row_bytes = type ? lem::ggml_row_bytes(*type, static_cast<uint64_t>(k)) : std::nullopt;
    if (!type || !row_bytes) {
      std::fprintf(stderr, "skipping %s: unknown type or k %lld not a multiple of its block\n", name.c_str(),
                   static_cast<long long>(k));
      continue;
    }
    const size_t matrix = *row_bytes * static_cast<size_t>(n_rows);
    const size_t copies = std::max<size_t>(1, (size_t{320} << 20) / matrix);  // > L3 for decode
    std::vector<uint8_t> weights(matrix * copies);
    fill_weights(*type, weights.data(), weights.size(), rng);

    for (int level = 0; level <= static_cast<int>(lem::detected_isa()); ++level) {
      const auto isa = static_cast<lem::Isa>(level);
      const lem::WeightKernel kernel = lem::weight_kernel(*type, isa);
      if (!kernel.gemm) continue;
      for (const int64_t n_tok : token_counts) {
        if (isa == lem::Isa::Scalar && n_tok > 1) continue;  // seconds per call, and not the point
        std::vector<float> x(static_cast<size_t>(k * n_tok));
        for (float& v : x) v = std::normal_distribution<float>()(rng);
        const size_t a_stride = lem::act_row_bytes(kernel.act, k);
        std::vector<uint8_t> act(a_stride * static_cast<size_t>(n_tok));
        for (int64_t t = 0; t < n_tok; ++t)
          lem::quantize_activation_row(kernel.act, x.data() + t * k, act.data() + t * a_stride, k);
        std::vector<float> y(static_cast<size_t>(n_rows * n_tok));
        const size_t n_copies = n_tok == 1 ? copies : 1;

        // One timed batch: every thread runs `batch` calls back to back on its share of the rows
        // (a new copy of the matrix per call for decode), so thread start-up is amortised.
        const size_t batch = n_tok == 1 ? 16 : 1;
        size_t next_copy = 0;
        auto run_batch = [&] {
          const size_t first = next_copy;
          next_copy += batch;
          auto work = [&](int64_t r0, int64_t r1) {
            for (size_t c = first; c < first + batch; ++c)
              kernel.gemm(k, weights.data() + (c % n_copies) * matrix + r0 * *row_bytes, *row_bytes, r1 - r0, act.data(),
                          a_stride, n_tok, y.data() + r0, static_cast<size_t>(n_rows));
          };
          if (threads == 1) return work(0, n_rows);
          std::vector<std::thread> pool;
          for (int i = 0; i < threads; ++i) pool.emplace_back(work, n_rows * i / threads, n_rows * (i + 1) / threads);
          for (std::thread& t : pool) t.join();
        };
        run_batch();
        double best = 1e30;
        const auto start = Clock::now();
        for (int i = 0; i < 3 || std::chrono::duration<double>(Clock::now() - start).count() < 0.5; ++i) {
          const auto t0 = Clock::now();
          run_batch();
          best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / static_cast<double>(batch));
        }
        const double macs = static_cast<double>(n_rows) * static_cast<double>(k) * static_cast<double>(n_tok);
        std::printf("%-7s %-7s rows %-6lld k %-6lld tokens %-4lld threads %d  %9.3f ms  %6.1f GB/s  %7.1f GMAC/s\n",
                    name.c_str(), lem::isa_name(isa), static_cast<long long>(n_rows), static_cast<long long>(k),
                    static_cast<long long>(n_tok), threads, best * 1e3, static_cast<double>(matrix) / best / 1e9,
                    macs / best / 1e9);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
