// The Gemma 3 forward pass, top to bottom (spec §2). Shapes: T tokens in the batch, D hidden,
// H/Hkv query/KV heads of dh values, F FFN width, V vocabulary rows.
#include "model/gemma3_model.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "util/checked_math.hpp"
#include "util/error.hpp"
#include "util/memory.hpp"
#include "kernels/fp16.hpp"
#include "kernels/ops.hpp"
#include "model/attention.hpp"
#include "model/weight_reader.hpp"

namespace lem {

ForwardState::ForwardState(const Gemma3Config& c, int64_t max_batch_) : max_batch(max_batch_) {
  if (max_batch_ <= 0) fail(Status::InvalidArg, "the batch size must be positive, got {}", max_batch_);
  // Floats per token over the buffers below; the batch size comes from the caller: check first.
  const auto per_token = static_cast<uint64_t>(3 * c.n_embd + 2 * c.n_head * c.head_dim +
                                               2 * c.n_head_kv * c.head_dim + 2 * c.n_ff + 2 * c.head_dim);
  const auto floats = checked_mul(per_token, static_cast<uint64_t>(max_batch_));
  require_memory(floats ? checked_mul(*floats, sizeof(float)) : std::nullopt,
                 fmt::format("the scratch buffers for a batch of {} tokens", max_batch_), "use a smaller n_batch");
  const auto T = static_cast<size_t>(max_batch_);
  x.resize(T * c.n_embd);
  h.resize(T * c.n_embd);
  q.resize(T * c.n_head * c.head_dim);
  k.resize(T * c.n_head_kv * c.head_dim);
  v.resize(T * c.n_head_kv * c.head_dim);
  attn.resize(T * c.n_head * c.head_dim);
  o.resize(T * c.n_embd);
  gate.resize(T * c.n_ff);
  up.resize(T * c.n_ff);
  rope_cos.resize(2 * T * c.head_dim / 2);
  rope_sin.resize(2 * T * c.head_dim / 2);
}

std::unique_ptr<Gemma3Model> Gemma3Model::open(const std::string& path, const LoadProgress& progress) {
  std::unique_ptr<Gemma3Model> m(new Gemma3Model());
  m->source_ = ModelSource::open(path);
  m->config_ = load_gemma3_config(*m->source_);
  const Gemma3Config& c = m->config_;
  m->layers_.resize(static_cast<size_t>(c.n_layer));
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    Layer& L = m->layers_[l];
    L.q = m->bind(p + "attn_q.weight");
    L.k = m->bind(p + "attn_k.weight");
    L.v = m->bind(p + "attn_v.weight");
    L.o = m->bind(p + "attn_output.weight");
    L.gate = m->bind(p + "ffn_gate.weight");
    L.up = m->bind(p + "ffn_up.weight");
    L.down = m->bind(p + "ffn_down.weight");
    L.attn_norm = m->norm_gain(p + "attn_norm.weight");
    L.q_norm = m->norm_gain(p + "attn_q_norm.weight");
    L.k_norm = m->norm_gain(p + "attn_k_norm.weight");
    L.post_attn_norm = m->norm_gain(p + "post_attention_norm.weight");
    L.ffn_norm = m->norm_gain(p + "ffn_norm.weight");
    L.post_ffw_norm = m->norm_gain(p + "post_ffw_norm.weight");
    L.sliding = c.layer_is_sliding[l] && c.sliding_window > 0;
    if (progress && progress(static_cast<float>(l + 1) / static_cast<float>(c.n_layer + 1)))
      fail(Status::Cancelled, "{}: loading cancelled by the progress callback after {} of {} layers", path, l + 1,
           c.n_layer);
  }
  m->output_norm_ = m->norm_gain("output_norm.weight");
  m->embeddings_ = &m->source_->require("token_embd.weight");
  // Tied LM head (spec §2 item 3) unless the file carries its own output.weight.
  const Weight* head = m->source_->find("output.weight");
  m->lm_head_ = matmul_weight(head ? *head : *m->embeddings_);
  return m;
}

MatmulWeight Gemma3Model::bind(const std::string& name) const { return matmul_weight(source_->require(name)); }

// Norm gains as float; HF/MLX store zero-centred w and the gain is 1 + w (added in fp32).
std::vector<float> Gemma3Model::norm_gain(const std::string& name) const {
  const Weight& w = source_->require(name);
  std::vector<float> g(w.n_elements());
  read_weight_rows(w, 0, w.n_rows(), g.data());
  // A NaN gain would reach the next quantised matmul, whose 8-bit activation rounding turns it
  // into finite garbage that no later check can tell from an answer.
  for (size_t i = 0; i < g.size(); ++i)
    if (!std::isfinite(g[i]))
      fail(Status::BadFormat, "{}: tensor '{}' holds a non-finite value ({} at index {})", source_->path(),
           w.file_name, g[i], i);
  if (config_.norm_add_one)
    for (float& v : g) v += 1.0f;
  return g;
}

void Gemma3Model::check_token_ids(std::span<const int32_t> tokens) const {
  for (size_t t = 0; t < tokens.size(); ++t)
    if (tokens[t] < 0 || tokens[t] >= config_.n_vocab)
      fail(Status::InvalidArg, "token id {} (at index {}) is outside the model's {} embeddings", tokens[t], t,
           config_.n_vocab);
}

// x[t] = E[token t] * embed_scale (spec §2 item 1); ids checked by forward_batch.
void Gemma3Model::embed(std::span<const int32_t> tokens, float* x) const {
  const int64_t D = config_.n_embd;
  for (size_t t = 0; t < tokens.size(); ++t) {
    float* row = x + t * D;
    read_weight_rows(*embeddings_, static_cast<uint64_t>(tokens[t]), 1, row);
    for (int64_t i = 0; i < D; ++i) row[i] *= config_.embed_scale;
  }
}

void Gemma3Model::forward(std::span<const int32_t> tokens, KvCache& cache, ForwardState& st, ThreadPool& pool,
                          LogitsMode mode, float* logits, const ForwardInterrupt& interrupt) const {
  if (tokens.empty()) return;
  const SequenceInput one{tokens, &cache, mode, logits};
  forward_batch({&one, 1}, st, pool, interrupt);
}

void Gemma3Model::forward_batch(std::span<const SequenceInput> batch, ForwardState& st, ThreadPool& pool,
                                const ForwardInterrupt& interrupt) const {
  const Gemma3Config& c = config_;
  if (batch.empty()) return;
  const int64_t D = c.n_embd, H = c.n_head, Hkv = c.n_head_kv, dh = c.head_dim, F = c.n_ff, V = c.n_vocab;
  const int64_t half = dh / 2;

  // Everything that can be refused is refused before any cache is touched.
  const auto S = batch.size();
  std::vector<int64_t> seg(S), pos0(S), row0(S);  // tokens, first position, first batch row per sequence
  int64_t n = 0, logit_rows = 0, logit_seqs = 0;
  for (size_t i = 0; i < S; ++i) {
    const SequenceInput& in = batch[i];
    if (!in.cache) fail(Status::InvalidArg, "sequence {} of the batch has no KV cache", i);
    seg[i] = static_cast<int64_t>(in.tokens.size());
    if (seg[i] == 0) fail(Status::InvalidArg, "sequence {} of the batch has no tokens", i);
    check_token_ids(in.tokens);
    if (in.mode != LogitsMode::None && !in.logits)
      fail(Status::InvalidArg, "sequence {} of the batch asks for logits without a buffer", i);
    for (size_t j = 0; j < i; ++j)
      if (batch[j].cache == in.cache) fail(Status::InvalidArg, "sequences {} and {} of the batch share a KV cache", j, i);
    pos0[i] = in.cache->n_pos();
    if (pos0[i] + seg[i] > in.cache->n_ctx())
      fail(Status::ContextFull, "context full: {} cached + {} new tokens exceed n_ctx {}", pos0[i], seg[i],
           in.cache->n_ctx());
    if (seg[i] > in.cache->max_chunk())
      fail(Status::InvalidArg, "{} tokens in one pass exceed the {} the KV cache's sliding rings allow", seg[i],
           in.cache->max_chunk());
    row0[i] = n;
    n += seg[i];
    const int64_t rows = in.mode == LogitsMode::All ? seg[i] : in.mode == LogitsMode::Last ? 1 : 0;
    logit_rows += rows;
    logit_seqs += rows > 0;
  }
  if (n > st.max_batch) fail(Status::InvalidArg, "batch of {} tokens exceeds the maximum of {}", n, st.max_batch);

  // RoPE tables for every row at its own sequence's position: local layers (base_local, no
  // scaling) and global layers (base_global, positions scaled by 1/factor).
  float* cos_local = st.rope_cos.data();
  float* sin_local = st.rope_sin.data();
  float* cos_global = cos_local + n * half;
  float* sin_global = sin_local + n * half;
  for (size_t i = 0; i < S; ++i)
    for (int64_t t = row0[i]; t < row0[i] + seg[i]; ++t) {
      const int64_t pos = pos0[i] + t - row0[i];
      rope_angles(pos, c.rope_base_local, 1.0f, dh, cos_local + t * half, sin_local + t * half);
      rope_angles(pos, c.rope_base_global, c.rope_scale_global, dh, cos_global + t * half, sin_global + t * half);
    }

  float* x = st.x.data();
  for (size_t i = 0; i < S; ++i) embed(batch[i].tokens, x + row0[i] * D);  // x: [n, D]

  // All or nothing: until the pass completes, a throw leaves every n_pos as it was but records
  // the ring slots that some layers may already have overwritten. The matmuls see the stop flag
  // only during this pass.
  struct Unfinished {
    std::span<const SequenceInput> batch;
    MatmulScratch& mm;
    bool done = false;
    ~Unfinished() {
      mm.stop = nullptr;
      if (!done)
        for (const SequenceInput& in : batch)
          in.cache->note_written(in.cache->n_pos() + static_cast<int64_t>(in.tokens.size()));
    }
  } unfinished{batch, st.mm};
  st.mm.stop = interrupt.flag;
  const auto cancelled = [&](const char* where, int64_t layer) {
    fail(Status::Cancelled, "cancelled {} {} of {} ({} tokens of {} sequences discarded)", where, layer, c.n_layer, n,
         S);
  };
  // One read of each weight for all rows; each sequence's rows on the kernel path it takes alone.
  const auto mm = [&](const MatmulWeight& w, const float* in, int64_t k, int64_t rows, float* out, int64_t m,
                      std::span<const int64_t> segments) {
    matmul(w, in, static_cast<size_t>(k), rows, out, static_cast<size_t>(m), pool, st.mm, st.precision, st.isa,
           segments);
  };

  for (int64_t l = 0; l < c.n_layer; ++l) {
    if (interrupt.requested()) cancelled("before layer", l);
    const Layer& L = layers_[l];
    const float* rc = L.sliding ? cos_local : cos_global;
    const float* rs = L.sliding ? sin_local : sin_global;

    // --- attention block: x += post_attn_norm(Wo · attn(attn_norm(x))) ---
    for (int64_t t = 0; t < n; ++t) rms_norm(x + t * D, L.attn_norm.data(), st.h.data() + t * D, D, c.rms_eps);
    mm(L.q, st.h.data(), D, n, st.q.data(), H * dh, seg);      // q: [n, H*dh]
    mm(L.k, st.h.data(), D, n, st.k.data(), Hkv * dh, seg);    // k: [n, Hkv*dh]
    mm(L.v, st.h.data(), D, n, st.v.data(), Hkv * dh, seg);    // v: [n, Hkv*dh]
    for (size_t i = 0; i < S; ++i) {
      KvCache& cache = *batch[i].cache;
      for (int64_t t = row0[i]; t < row0[i] + seg[i]; ++t) {
        // QK-norm per head, then RoPE (spec §2: norm before RoPE; V is not normalised).
        for (int64_t hd = 0; hd < H; ++hd) {
          float* q = st.q.data() + (t * H + hd) * dh;
          rms_norm(q, L.q_norm.data(), q, dh, c.rms_eps);
          rope_apply(q, rc + t * half, rs + t * half, dh);
          for (int64_t j = 0; j < dh; ++j) q[j] *= c.attn_scale;
        }
        for (int64_t hd = 0; hd < Hkv; ++hd) {
          float* k = st.k.data() + (t * Hkv + hd) * dh;
          rms_norm(k, L.k_norm.data(), k, dh, c.rms_eps);
          rope_apply(k, rc + t * half, rs + t * half, dh);
        }
        // Append this token's keys and values to its sequence's cache.
        const int64_t pos = pos0[i] + t - row0[i];
        const float* k = st.k.data() + t * Hkv * dh;
        const float* v = st.v.data() + t * Hkv * dh;
        if (cache.type() == KvType::F32) {
          std::copy(k, k + Hkv * dh, cache.k_f32(l, pos));
          std::copy(v, v + Hkv * dh, cache.v_f32(l, pos));
        } else {
          uint16_t* kc = cache.k_f16(l, pos);
          uint16_t* vc = cache.v_f16(l, pos);
          for (int64_t j = 0; j < Hkv * dh; ++j) {
            kc[j] = f32_to_f16(k[j]);
            vc[j] = f32_to_f16(v[j]);
          }
        }
      }
    }
    const AttentionShape shape{H, Hkv, dh, L.sliding ? c.sliding_window : 0, c.attn_logit_softcap};
    for (size_t i = 0; i < S; ++i)  // attn: [n, H*dh], each sequence over its own cache
      attend(shape, st.q.data() + row0[i] * H * dh, seg[i], pos0[i], *batch[i].cache, l,
             st.attn.data() + row0[i] * H * dh, pool, st.attention, st.isa);
    mm(L.o, st.attn.data(), H * dh, n, st.o.data(), D, seg);    // o: [n, D]
    for (int64_t t = 0; t < n; ++t) {
      float* o = st.o.data() + t * D;
      rms_norm(o, L.post_attn_norm.data(), o, D, c.rms_eps);
      add_inplace(x + t * D, o, D);
    }

    // --- feed-forward block: x += post_ffw_norm(Wdown · (gelu(Wgate·h) ⊙ Wup·h)), h = ffn_norm(x) ---
    for (int64_t t = 0; t < n; ++t) rms_norm(x + t * D, L.ffn_norm.data(), st.h.data() + t * D, D, c.rms_eps);
    mm(L.gate, st.h.data(), D, n, st.gate.data(), F, seg);     // gate: [n, F]
    mm(L.up, st.h.data(), D, n, st.up.data(), F, seg);         // up: [n, F]
    pool.run_sized(static_cast<double>(n * F) * 16, 1 << 19, [&](int t, int nt) {
      int64_t b, e;
      ThreadPool::split(n * F, 64, t, nt, b, e);
      if (e > b) geglu_inplace(st.gate.data() + b, st.up.data() + b, e - b);
    });
    mm(L.down, st.gate.data(), F, n, st.o.data(), D, seg);     // o: [n, D]
    for (int64_t t = 0; t < n; ++t) {
      float* o = st.o.data() + t * D;
      rms_norm(o, L.post_ffw_norm.data(), o, D, c.rms_eps);
      add_inplace(x + t * D, o, D);
    }
  }
  // A stop flagged during the last layer left rows of its matmuls uncomputed.
  if (interrupt.flag_set()) cancelled("in layer", c.n_layer - 1);

  if (logit_rows > 0) {
    // logits = output_norm(x) · Eᵀ for the requested rows (spec §2 item 3), gathered into h.
    std::vector<int64_t> head_seg;  // logit rows per asking sequence
    int64_t r = 0;
    for (size_t i = 0; i < S; ++i) {
      const LogitsMode mode = batch[i].mode;
      if (mode == LogitsMode::None) continue;
      const int64_t first = mode == LogitsMode::All ? row0[i] : row0[i] + seg[i] - 1;
      for (int64_t t = first; t < row0[i] + seg[i]; ++t, ++r)
        rms_norm(x + t * D, output_norm_.data(), st.h.data() + r * D, D, c.rms_eps);
      head_seg.push_back(row0[i] + seg[i] - first);
    }
    // One sequence asking (the single-sequence case) gets its rows written in place; several
    // share one matmul into scratch, then each gets its rows.
    float* out = nullptr;
    if (logit_seqs == 1) {
      for (const SequenceInput& in : batch)
        if (in.mode != LogitsMode::None) out = in.logits;
    } else {
      if (st.logits.size() < static_cast<size_t>(logit_rows * V)) st.logits.resize(static_cast<size_t>(logit_rows * V));
      out = st.logits.data();
    }
    mm(lm_head_, st.h.data(), D, logit_rows, out, V, head_seg);
    // A stop during the head's matmul left rows of it uncomputed.
    if (interrupt.flag_set()) cancelled("in the output layer after layer", c.n_layer - 1);
    if (c.final_logit_softcap > 0) {
      const float cap = c.final_logit_softcap;
      for (int64_t j = 0; j < logit_rows * V; ++j) out[j] = cap * std::tanh(out[j] / cap);
    }
    // Broken weights (NaN, huge values) show up here; sampling from such logits would emit
    // garbage that looks like a normal answer.
    int non_finite = 0;  // a branch-free pass (vectorised), then the culprit's position if needed
    for (int64_t j = 0; j < logit_rows * V; ++j) non_finite |= !(std::fabs(out[j]) <= FLT_MAX);
    for (int64_t j = 0; non_finite && j < logit_rows * V; ++j)
      if (!std::isfinite(out[j]))
        fail(Status::Numeric, "the model produced a non-finite logit ({} for token id {} in logit row {} of the "
             "batch): its weights or configuration are broken", out[j], j % V, j / V);
    if (logit_seqs > 1) {
      const float* from = out;
      size_t k = 0;
      for (const SequenceInput& in : batch) {
        if (in.mode == LogitsMode::None) continue;
        std::copy(from, from + head_seg[k] * V, in.logits);
        from += head_seg[k++] * V;
      }
    }
  }
  unfinished.done = true;
  for (size_t i = 0; i < S; ++i) batch[i].cache->advance(pos0[i] + seg[i]);
}

}  // namespace lem
