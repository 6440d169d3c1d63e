// Cancellation of the forward pass: a cut prompt chunk leaves the session exactly as before it
// (continuing, or rewinding past what the cut chunk overwrote, gives the logits of a fresh
// evaluation), a pending request stops the next call, and a cancel from another thread stops a
// 4B-shaped 512-token prefill within 100 ms. Non-finite logits are an error.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "io/gguf_file.hpp"
#include "io/gguf_writer.hpp"
#include "model/quant_mix.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/session.hpp"
#include "support/temp_dir.hpp"
#include "support/goldens.hpp"
#include "support/test_data.hpp"
#include "util/error.hpp"

using lem::test::data_path;
using lem::test::max_abs_diff;
using lem::test::prompt_ids;

namespace {

// Batches of 32 and no rewind slack: tiny-a's sliding layers (window 16) keep a ring of
// 16 - 1 + 32 = 47 positions, so a cut 32-token chunk overwrites ring slots still needed by a
// rewind of a few positions.
lem::SessionParams small_ring() {
  lem::SessionParams p;
  p.n_ctx = 512;
  p.n_batch = 32;
  p.n_threads = 2;
  p.rewind_slack = 0;
  p.precision = lem::MatmulPrecision::Exact;
  return p;
}

lem::Status status_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const lem::Error& e) {
    return e.status();
  }
  return lem::Status::Ok;
}

std::span<const int32_t> slice(const std::vector<int32_t>& v, size_t begin, size_t end) {
  return std::span<const int32_t>(v).subspan(begin, end - begin);
}

}  // namespace

TEST_CASE("a cancel mid-prefill leaves the session as before the cut chunk", "[session][cancel]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const auto ids = lem::test::prompt_ids("tiny-a", "p200");
  const int64_t n_layer = m.net->config().n_layer;  // 6: five sliding layers, then a global one
  REQUIRE(n_layer == 6);

  lem::Session s(*m.net, small_ring());
  s.append(slice(ids, 0, 40));  // chunks of 32 + 8
  // The abort check runs before every layer: the 16th check is layer 3 of the third chunk of
  // the next call (chunks [40, 72), [72, 104) complete; [104, 136) cut after layers 0-2 wrote
  // its keys and values).
  int checks = 0;
  const lem::AbortFn abort = [&] { return ++checks == 2 * n_layer + 4; };
  CHECK(status_of([&] { s.append(slice(ids, 40, 200), abort); }) == lem::Status::Cancelled);
  CHECK(checks == 2 * n_layer + 4);
  CHECK(s.tokens().size() == 104);
  CHECK(s.cache().n_pos() == 104);
  CHECK(std::equal(s.tokens().begin(), s.tokens().end(), ids.begin()));
  CHECK(s.logits().empty());  // the last complete chunk computed no logits

  SECTION("continuing gives the logits of a fresh computation") {
    s.append(slice(ids, 104, 200));
    lem::Session fresh(*m.net, small_ring());
    fresh.append(slice(ids, 0, 40));  // the same chunk boundaries
    fresh.append(slice(ids, 40, 104));
    fresh.append(slice(ids, 104, 200));
    CHECK(max_abs_diff(s.logits(), fresh.logits()) < 1e-6);
  }
  SECTION("a rewind into positions the cut chunk overwrote re-evaluates instead of reusing them") {
    // Position 95 looks back to 80; the cut chunk's positions 104..135 overwrote the ring slots
    // of positions 57..88 in layers 0-2.
    CHECK(s.set_tokens(slice(ids, 0, 96)) == 0);
    lem::Session fresh(*m.net, small_ring());
    fresh.append(slice(ids, 0, 96));
    CHECK(max_abs_diff(s.logits(), fresh.logits()) < 1e-6);
  }
  SECTION("a new sequence that extends the held tokens reuses them all") {
    std::vector<int32_t> other(ids.begin(), ids.begin() + 104);
    other.insert(other.end(), {300, 301, 302});
    CHECK(s.set_tokens(other) == 104);
    lem::Session fresh(*m.net, small_ring());
    fresh.append(slice(other, 0, 40));
    fresh.append(slice(other, 40, 104));
    fresh.append(slice(other, 104, 107));
    CHECK(max_abs_diff(s.logits(), fresh.logits()) < 1e-6);
  }
}

TEST_CASE("a cancel in the last chunk keeps the logits the session had", "[session][cancel]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const auto ids = lem::test::prompt_ids("tiny-a", "p200");
  lem::Session s(*m.net, small_ring());
  s.append(slice(ids, 0, 20));
  const std::vector<float> before(s.logits().begin(), s.logits().end());
  int checks = 0;
  CHECK(status_of([&] { s.append(slice(ids, 20, 30), [&] { return ++checks == 5; }); }) == lem::Status::Cancelled);
  CHECK(s.tokens().size() == 20);
  REQUIRE(s.logits().size() == before.size());
  CHECK(max_abs_diff(s.logits(), before) == 0);
}

TEST_CASE("a pending cancel request stops the next call and is consumed by it", "[session][cancel]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const auto ids = lem::test::prompt_ids("tiny-a", "p200");
  lem::Session s(*m.net, small_ring());
  s.request_cancel();
  CHECK(status_of([&] { s.append(slice(ids, 0, 10)); }) == lem::Status::Cancelled);
  CHECK(s.tokens().empty());
  CHECK(status_of([&] { s.append(slice(ids, 0, 10)); }) == lem::Status::Ok);
  // Also when the call would compute nothing: set_tokens of the tokens already held.
  s.request_cancel();
  CHECK(status_of([&] { s.set_tokens(slice(ids, 0, 10)); }) == lem::Status::Cancelled);
  CHECK(s.set_tokens(slice(ids, 0, 10)) == 10);
  CHECK_FALSE(s.take_cancel_request());
}

TEST_CASE("a bad token id anywhere in a call leaves the session untouched", "[session]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  auto ids = lem::test::prompt_ids("tiny-a", "p200");
  lem::Session s(*m.net, small_ring());
  s.append(slice(ids, 0, 5));
  ids[150] = static_cast<int32_t>(m.net->config().n_vocab);
  try {
    s.append(slice(ids, 5, 200));
    FAIL("expected InvalidArg");
  } catch (const lem::Error& e) {
    CHECK(e.status() == lem::Status::InvalidArg);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("index 145"));
  }
  CHECK(s.tokens().size() == 5);
  CHECK(s.logits().size() == static_cast<size_t>(m.net->config().n_vocab));
  // set_tokens checks before it drops anything it holds.
  CHECK(status_of([&] { s.set_tokens(slice(ids, 1, 200)); }) == lem::Status::InvalidArg);
  const std::vector<int32_t> too_many(513, 10);  // n_ctx is 512
  CHECK(status_of([&] { s.set_tokens(too_many); }) == lem::Status::ContextFull);
  CHECK(s.tokens().size() == 5);
  CHECK(s.logits().size() == static_cast<size_t>(m.net->config().n_vocab));
}

TEST_CASE("logits_all keeps every row of the last append", "[session]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const auto ids = lem::test::prompt_ids("tiny-a", "p200");
  lem::SessionParams p = small_ring();
  p.logits_all = true;
  lem::Session s(*m.net, p);
  s.append(slice(ids, 0, 50));
  const std::vector<float> all = lem::Session(*m.net, small_ring()).evaluate_all_logits(slice(ids, 0, 50));
  const auto V = static_cast<size_t>(m.net->config().n_vocab);
  for (int64_t row : {0, 31, 32, 49}) {
    INFO("row " << row);
    REQUIRE(s.logits_row(row).size() == V);
    CHECK(max_abs_diff(s.logits_row(row), std::span(all).subspan(static_cast<size_t>(row) * V, V)) == 0);
  }
  CHECK(s.logits_row(50).empty());
  CHECK(s.logits_row(-1).empty());
  CHECK(max_abs_diff(s.logits(), s.logits_row(49)) == 0);
  s.append(slice(ids, 50, 52));  // rows now belong to this call
  CHECK(s.logits_row(1).size() == V);
  CHECK(s.logits_row(2).empty());
  s.reset();
  CHECK(s.logits_row(0).empty());
  CHECK(s.logits().empty());
}

TEST_CASE("NaN or infinite logits are an error, and the session stays as before", "[session]") {
  // tiny-b F32 with one NaN weight in the first layer's FFN: every later activation is NaN.
  const std::string src = data_path("tiny/tiny-b/gguf/tiny-b-F32.gguf");
  lem::test::TempDir dir("lem-nan-weights");
  const std::string path = dir.file("nan.gguf");
  {
    auto bytes = lem::test::read_bytes(src);
    const auto g = lem::io::GgufFile::open(src);
    const auto* t = g->find_tensor("blk.0.ffn_down.weight");
    REQUIRE(t != nullptr);
    REQUIRE(t->type == lem::GgmlType::F32);
    const auto offset = static_cast<size_t>(g->data_offset() + t->offset);
    const float nan = std::nanf("");
    std::memcpy(bytes.data() + offset, &nan, sizeof nan);
    lem::test::write_bytes(path, bytes.data(), bytes.size());
  }
  const auto net = lem::Gemma3Model::open(path);
  lem::SessionParams p;
  p.n_ctx = 64;
  p.n_threads = 2;
  lem::Session s(*net, p);
  const std::vector<int32_t> ids{2, 10, 20, 30};
  try {
    s.append(ids);
    FAIL("expected Numeric");
  } catch (const lem::Error& e) {
    CHECK(e.status() == lem::Status::Numeric);
    CHECK_THAT(e.what(), Catch::Matchers::Contains("non-finite logit"));
  }
  CHECK(s.tokens().empty());
  CHECK(s.cache().n_pos() == 0);
  CHECK(s.logits().empty());
}

namespace {

// A Gemma 3 GGUF with the 4B text decoder's layer shapes (shared spec §1: width 2560, 8 query /
// 4 KV heads of 256, FFN 10240, window 1024) and llama-quantize's Q4_K_M type mix, but only
// `n_layer` layers, a 1024-token embedding and all-zero weights (norms 1): the speed of a
// matmul does not depend on the values, and zeros keep every activation finite.
void write_4b_shaped(const std::string& path, uint32_t n_layer) {
  constexpr uint64_t d = 2560, heads = 8, heads_kv = 4, head_dim = 256, ffn = 10240, n_vocab = 1024;
  lem::io::GgufWriter w;
  w.add_string("general.architecture", "gemma3");
  w.add_u32("gemma3.block_count", n_layer);
  w.add_u32("gemma3.context_length", 131072);
  w.add_u32("gemma3.embedding_length", d);
  w.add_u32("gemma3.feed_forward_length", ffn);
  w.add_u32("gemma3.attention.head_count", heads);
  w.add_u32("gemma3.attention.head_count_kv", heads_kv);
  w.add_string("gemma3.rope.scaling.type", "linear");
  w.add_f32("gemma3.rope.scaling.factor", 8.0f);
  w.add_f32("gemma3.rope.freq_base", 1e6f);
  w.add_f32("gemma3.rope.freq_base_swa", 1e4f);
  w.add_f32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.add_u32("gemma3.attention.key_length", head_dim);
  w.add_u32("gemma3.attention.value_length", head_dim);
  w.add_u32("gemma3.attention.sliding_window", 1024);
  const auto add = [&](const std::string& name, std::vector<uint64_t> ne, int layer) {
    const bool norm = ne.size() == 1;
    const lem::GgmlType type =
        norm ? lem::GgmlType::F32
             : lem::llama_quantize_type(lem::LlamaFtype::Q4_K_M, name, layer, static_cast<int>(n_layer), ne[0],
                                        static_cast<int>(heads), static_cast<int>(heads_kv));
    const uint64_t row_bytes = *lem::ggml_row_bytes(type, ne[0]);
    w.add_tensor(name, type, ne, [norm, row_bytes](uint64_t, uint64_t n, uint8_t* out) {
      if (!norm) return std::memset(out, 0, n * row_bytes), void();
      for (uint64_t i = 0; i < n * row_bytes / sizeof(float); ++i) {
        const float one = 1.0f;
        std::memcpy(out + i * sizeof(float), &one, sizeof one);
      }
    });
  };
  add("token_embd.weight", {d, n_vocab}, -1);
  for (uint32_t l = 0; l < n_layer; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    const int li = static_cast<int>(l);
    add(p + "attn_norm.weight", {d}, li);
    add(p + "ffn_down.weight", {ffn, d}, li);
    add(p + "ffn_gate.weight", {d, ffn}, li);
    add(p + "ffn_up.weight", {d, ffn}, li);
    add(p + "post_attention_norm.weight", {d}, li);
    add(p + "post_ffw_norm.weight", {d}, li);
    add(p + "ffn_norm.weight", {d}, li);
    add(p + "attn_k_norm.weight", {head_dim}, li);
    add(p + "attn_k.weight", {d, heads_kv * head_dim}, li);
    add(p + "attn_output.weight", {heads * head_dim, d}, li);
    add(p + "attn_q_norm.weight", {head_dim}, li);
    add(p + "attn_q.weight", {d, heads * head_dim}, li);
    add(p + "attn_v.weight", {d, heads_kv * head_dim}, li);
  }
  add("output_norm.weight", {d}, -1);
  w.write(path);
}

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

TEST_CASE("a cancel from another thread stops a 4B-shaped 512-token prefill within 100 ms", "[session][cancel]") {
  // One 4B layer: polling only between layers would take the whole layer (about a second on
  // two cores) to react; the matmuls' polling between row tiles is what is measured.
  lem::test::TempDir dir("lem-cancel-latency");
  const std::string path = dir.file("4b-shaped-1-layer.gguf");
  write_4b_shaped(path, 1);
  const auto net = lem::Gemma3Model::open(path);
  lem::SessionParams p;
  p.n_ctx = 512;
  p.n_batch = 512;
  p.n_threads = 0;  // all hardware threads, as a user would run it
  lem::Session s(*net, p);
  std::vector<int32_t> ids(512);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i % 1024);

  // The whole prefill, uncancelled, to place the cancels inside it on any machine.
  const auto t0 = Clock::now();
  s.append(ids);
  const double full_ms = ms_between(t0, Clock::now());

  // Cancels early in the prefill, so that a machine that got slower since the timing run (CTest
  // runs tests side by side) still has work left to cancel; a run whose prefill finished before
  // the cancel arrived says nothing about the latency and is repeated (a few times at most).
  double worst = 0;
  int measured = 0;
  for (int attempt = 0; attempt < 9 && measured < 3; ++attempt) {
    const double at = 0.1 + 0.15 * (attempt % 3);
    s.reset();
    (void)s.take_cancel_request();
    Clock::time_point cancelled_at;
    const auto start = Clock::now();
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(at * full_ms));
      cancelled_at = Clock::now();
      s.request_cancel();
    });
    const lem::Status status = status_of([&] { s.append(ids); });
    const auto returned_at = Clock::now();
    canceller.join();
    INFO("cancel at " << at * 100 << "% of a " << full_ms << " ms prefill");
    if (status == lem::Status::Ok) continue;  // finished before the cancel: inconclusive
    REQUIRE(status == lem::Status::Cancelled);
    ++measured;
    const double latency = ms_between(cancelled_at, returned_at);
    std::printf("cancel latency (4B-shaped layer, 512-token prefill of %.0f ms, %d threads): cancel at %.0f ms, "
                "returned %.1f ms later\n",
                full_ms, s.pool().size(), ms_between(start, cancelled_at), latency);
    worst = std::max(worst, latency);
    CHECK(s.tokens().empty());
  }
  REQUIRE(measured == 3);
  CHECK(worst <= 100.0);
  CHECK_FALSE(s.take_cancel_request());  // each request was consumed by the call it stopped
}
