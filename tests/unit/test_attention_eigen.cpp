// Attention (lib/model/attention.cpp) against an independent reference written with Eigen in
// double precision: softmax(Q·Kᵀ + causal/sliding mask) · V per head, grouped-query heads
// sharing their KV head. Both schedules of attend() are covered (one token: by rows; 48 tokens:
// blocked), on a global layer and on a sliding layer whose ring has wrapped, with F32 and F16 caches.
#include <catch2/catch.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <random>
#include <vector>

#include "compute/thread_pool.hpp"
#include "kernels/fp16.hpp"
#include "model/attention.hpp"
#include "model/gemma3_config.hpp"
#include "model/kv_cache.hpp"

namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Case {
  int64_t window;   // 0: global layer
  int64_t n_before; // positions already cached
  int64_t n;        // new tokens attending
  lem::KvType kv;
};

// Reference output [n, H*dh] for queries at positions n_before .. n_before + n - 1 over keys and
// values of positions 0 .. n_before + n - 1 (all_k/all_v: [positions, Hkv*dh], as cached: for F16
// caches the values the cache really holds, rounded to f16).
Matrix reference(const lem::AttentionShape& s, const Matrix& q, const Matrix& all_k, const Matrix& all_v,
                 int64_t n_before) {
  const int64_t n = q.rows(), dh = s.head_dim, group = s.n_head / s.n_head_kv;
  const int64_t n_pos = all_k.rows();
  Matrix out = Matrix::Zero(n, s.n_head * dh);
  for (int64_t h = 0; h < s.n_head; ++h) {
    const int64_t g = h / group;
    const Matrix qh = q.middleCols(h * dh, dh);
    const Matrix kg = all_k.middleCols(g * dh, dh);
    const Matrix vg = all_v.middleCols(g * dh, dh);
    Matrix scores = qh * kg.transpose();  // [n, n_pos]
    for (int64_t t = 0; t < n; ++t) {
      const int64_t pos = n_before + t;
      for (int64_t j = 0; j < n_pos; ++j) {
        const bool visible = j <= pos && (s.window == 0 || j > pos - s.window);
        if (!visible) scores(t, j) = -INFINITY;
      }
      const double max = scores.row(t).maxCoeff();
      scores.row(t) = (scores.row(t).array() - max).exp().matrix();
      scores.row(t) /= scores.row(t).sum();
    }
    out.middleCols(h * dh, dh) = scores * vg;
  }
  return out;
}

}  // namespace

TEST_CASE("attention equals an Eigen double-precision reference (both schedules, global and sliding, F32/F16 KV)",
          "[attention][eigen]") {
  lem::Gemma3Config c;
  c.n_layer = 2;
  c.n_head = 4;
  c.n_head_kv = 2;
  c.head_dim = 32;
  c.sliding_window = 24;
  c.layer_is_sliding = {false, true};
  const int64_t n_ctx = 256, max_batch = 48, slack = 0;
  lem::ThreadPool pool(2);
  std::mt19937 rng(7);
  std::normal_distribution<double> dist(0.0, 1.0);

  const Case cases[] = {
      {0, 0, 48, lem::KvType::F32},  {0, 70, 1, lem::KvType::F32},   {0, 100, 48, lem::KvType::F16},
      {24, 0, 48, lem::KvType::F32}, {24, 150, 1, lem::KvType::F32}, {24, 130, 48, lem::KvType::F32},
      {24, 130, 48, lem::KvType::F16}, {24, 201, 1, lem::KvType::F16},
  };
  for (const Case& k : cases) {
    INFO("window " << k.window << ", " << k.n_before << " cached, " << k.n << " new, kv "
                   << lem::kv_type_name(k.kv));
    const int64_t layer = k.window > 0 ? 1 : 0;
    lem::AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim, k.window, 0.0f};
    lem::KvCache cache(c, n_ctx, max_batch, k.kv, slack);
    const int64_t n_pos = k.n_before + k.n, row = c.n_head_kv * c.head_dim;

    // Write every position in order, as the forward pass does (a sliding ring wraps).
    Matrix all_k(n_pos, row), all_v(n_pos, row);
    for (int64_t p = 0; p < n_pos; ++p) {
      for (int64_t i = 0; i < row; ++i) {
        double kv[2] = {dist(rng), dist(rng)};
        if (k.kv == lem::KvType::F16) {
          cache.k_f16(layer, p)[i] = lem::f32_to_f16(static_cast<float>(kv[0]));
          cache.v_f16(layer, p)[i] = lem::f32_to_f16(static_cast<float>(kv[1]));
          kv[0] = lem::f16_to_f32(cache.k_f16(layer, p)[i]);
          kv[1] = lem::f16_to_f32(cache.v_f16(layer, p)[i]);
        } else {
          cache.k_f32(layer, p)[i] = static_cast<float>(kv[0]);
          cache.v_f32(layer, p)[i] = static_cast<float>(kv[1]);
          kv[0] = cache.k_f32(layer, p)[i];
          kv[1] = cache.v_f32(layer, p)[i];
        }
        all_k(p, i) = kv[0];
        all_v(p, i) = kv[1];
      }
      cache.advance(p + 1);
    }

    std::vector<float> q(static_cast<size_t>(k.n * c.n_head * c.head_dim));
    Matrix qd(k.n, c.n_head * c.head_dim);
    for (int64_t t = 0; t < k.n; ++t)
      for (int64_t i = 0; i < c.n_head * c.head_dim; ++i) {
        q[static_cast<size_t>(t * c.n_head * c.head_dim + i)] = static_cast<float>(dist(rng) * 0.2);
        qd(t, i) = q[static_cast<size_t>(t * c.n_head * c.head_dim + i)];
      }
    std::vector<float> out(q.size());
    lem::AttentionScratch scratch;
    lem::attend(shape, q.data(), k.n, k.n_before, cache, layer, out.data(), pool, scratch);

    const Matrix want = reference(shape, qd, all_k, all_v, k.n_before);
    double worst = 0;
    for (int64_t t = 0; t < k.n; ++t)
      for (int64_t i = 0; i < c.n_head * c.head_dim; ++i)
        worst = std::max(worst, std::abs(want(t, i) - out[static_cast<size_t>(t * c.n_head * c.head_dim + i)]));
    CHECK(worst < 2e-5);
  }
}
