// The batched forward over several sequences (runtime/executor.hpp, Gemma3Model::forward_batch):
// batch invariance (a sequence's logits are bitwise the same alone and in any batch), sequence
// copy / truncate + continue equal recomputation, and a cancelled batch changes no sequence.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/kernels.hpp"
#include "runtime/executor.hpp"
#include "runtime/loaded_model.hpp"
#include "runtime/sequence.hpp"
#include "support/test_data.hpp"
#include "util/error.hpp"

using lem::test::data_path;

namespace {

const lem::Gemma3Model& fixture(const std::string& file) {
  static std::map<std::string, lem::LoadedModel> cache;
  auto it = cache.find(file);
  if (it == cache.end()) {
    const std::string model = file.substr(0, file.find('-', 5));  // "tiny-a" / "tiny-b"
    it = cache.emplace(file, lem::LoadedModel::open(data_path("tiny/" + model + "/gguf/" + file))).first;
  }
  return *it->second.net;
}

// Deterministic, distinct token ids for sequence `s`.
std::vector<int32_t> tokens_for(const lem::Gemma3Model& m, int s, size_t n, size_t offset = 0) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i)
    t[i] = static_cast<int32_t>((static_cast<int64_t>(i + offset) * 7919 + s * 104729 + 11) % m.config().n_vocab);
  return t;
}

lem::SequenceParams seq_params(lem::KvType kv, int64_t slack = 64) {
  lem::SequenceParams p;
  p.n_ctx = 256;
  p.max_chunk = 64;
  p.kv_type = kv;
  p.rewind_slack = slack;
  return p;
}

std::unique_ptr<lem::Executor> executor(const lem::Gemma3Model& m, lem::MatmulPrecision precision, lem::Isa isa) {
  auto e = std::make_unique<lem::Executor>(m, lem::ExecutorParams{256, 2, precision});
  e->set_isa(isa);
  return e;
}

std::vector<float> copy(std::span<const float> v) { return {v.begin(), v.end()}; }

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && !a.empty() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void decode_one(lem::Executor& e, lem::Sequence& s, std::span<const int32_t> tokens) {
  const lem::SequenceStep step{&s, tokens};
  e.decode({&step, 1});
}

std::vector<lem::Isa> isa_levels() {
  std::vector<lem::Isa> levels;
  for (int i = 0; i <= static_cast<int>(lem::active_isa()); ++i) levels.push_back(static_cast<lem::Isa>(i));
  return levels;
}

}  // namespace

TEST_CASE("kernel runs keep every sequence on the kernel path it takes alone", "[batch][engine]") {
  using Runs = std::vector<std::pair<int64_t, int64_t>>;
  const auto runs = [](int64_t n_tok, std::vector<int64_t> segments, int64_t wide_min) {
    Runs r;
    for (const lem::TokenRun& run : lem::kernel_runs(n_tok, segments, wide_min)) r.emplace_back(run.first, run.count);
    return r;
  };
  // Narrow sequences share calls of at most 15 tokens; wide ones (>= 16) go whole, merged.
  CHECK(runs(67, {1, 1, 1, 20, 3, 40, 1}, 16) == Runs{{0, 3}, {3, 20}, {23, 3}, {26, 40}, {66, 1}});
  CHECK(runs(60, {20, 40}, 16) == Runs{{0, 60}});
  CHECK(runs(20, std::vector<int64_t>(20, 1), 16) == Runs{{0, 15}, {15, 5}});
  CHECK(runs(24, {10, 10, 4}, 16) == Runs{{0, 15}, {15, 9}});
  // A single path, or a single sequence: one call.
  CHECK(runs(20, std::vector<int64_t>(20, 1), 0) == Runs{{0, 20}});
  CHECK(runs(7, {7}, 16) == Runs{{0, 7}});
  CHECK(runs(7, {}, 16) == Runs{{0, 7}});
  CHECK_THROWS_AS(runs(7, {3, 3}, 16), lem::Error);
  CHECK_THROWS_AS(runs(3, {3, 0}, 16), lem::Error);
}

TEST_CASE("a sequence's logits are bitwise the same alone and batched with others", "[batch][engine]") {
  // Q4_K/Q6_K (K-quant kernels: narrow and repacked paths), Q8_0 (legacy: direct and repacked),
  // F16 (float kernels), tiny-b for GQA and a window of 8.
  const std::string file = GENERATE("tiny-a-Q4_K_M.gguf", "tiny-a-Q8_0.gguf", "tiny-a-F16.gguf", "tiny-b-Q4_K_M.gguf");
  const auto precision = GENERATE(lem::MatmulPrecision::Fast, lem::MatmulPrecision::Exact);
  const auto kv = GENERATE(lem::KvType::F32, lem::KvType::F16);
  const int n_seq = GENERATE(3, 8);
  const lem::Gemma3Model& m = fixture(file);
  // Prompt chunks of both kernel paths (1-15 tokens narrow, 16+ wide for K-quants; 8+ for Q8_0).
  const size_t prompt_len[8] = {5, 40, 16, 23, 2, 9, 31, 12};
  const size_t late_len = 40;  // a prompt chunk that joins while the others decode
  constexpr int kSteps = 4;

  for (const lem::Isa isa : isa_levels()) {
    INFO(file << " " << (precision == lem::MatmulPrecision::Fast ? "fast" : "exact") << " kv "
              << lem::kv_type_name(kv) << " " << n_seq << " sequences at " << lem::isa_name(isa));
    // Alone: each sequence on its own executor call, step by step. want[s][step] = logits.
    std::vector<std::vector<std::vector<float>>> want(static_cast<size_t>(n_seq) + 1);
    {
      auto e = executor(m, precision, isa);
      for (int s = 0; s <= n_seq; ++s) {
        lem::Sequence q(m.config(), seq_params(kv));
        const bool late = s == n_seq;
        decode_one(*e, q, tokens_for(m, s, late ? late_len : prompt_len[s]));
        want[s].push_back(copy(q.logits()));
        for (int step = 1; step < kSteps && !late; ++step) {
          decode_one(*e, q, tokens_for(m, s, 1, 1000 + step));
          want[s].push_back(copy(q.logits()));
        }
      }
    }
    // Batched: all prompts in one pass, then one token per sequence per pass; at step 2 the late
    // sequence's 40-token prompt shares the pass with the decoding ones.
    auto e = executor(m, precision, isa);
    std::vector<std::unique_ptr<lem::Sequence>> seqs;
    for (int s = 0; s <= n_seq; ++s) seqs.push_back(std::make_unique<lem::Sequence>(m.config(), seq_params(kv)));
    for (int step = 0; step < kSteps; ++step) {
      std::vector<std::vector<int32_t>> toks;
      std::vector<lem::SequenceStep> steps;
      for (int s = 0; s < n_seq; ++s)
        toks.push_back(step == 0 ? tokens_for(m, s, prompt_len[s]) : tokens_for(m, s, 1, 1000 + step));
      if (step == 2) toks.push_back(tokens_for(m, n_seq, late_len));
      for (size_t s = 0; s < toks.size(); ++s) steps.push_back({seqs[s].get(), toks[s]});
      e->decode(steps);
      for (int s = 0; s < n_seq; ++s) {
        INFO("sequence " << s << " step " << step);
        CHECK(same_bits(seqs[static_cast<size_t>(s)]->logits(), want[static_cast<size_t>(s)][static_cast<size_t>(step)]));
      }
      if (step == 2) CHECK(same_bits(seqs[static_cast<size_t>(n_seq)]->logits(), want[static_cast<size_t>(n_seq)][0]));
    }
  }
}

TEST_CASE("a sequence that asks for no logits leaves the others' rows intact", "[batch][engine]") {
  const lem::Gemma3Model& m = fixture("tiny-a-Q4_K_M.gguf");
  auto e = executor(m, lem::MatmulPrecision::Fast, lem::active_isa());
  lem::Sequence a(m.config(), seq_params(lem::KvType::F32)), b(m.config(), seq_params(lem::KvType::F32)),
      alone(m.config(), seq_params(lem::KvType::F32));
  const auto ta = tokens_for(m, 0, 7), tb = tokens_for(m, 1, 20);
  decode_one(*e, alone, tb);
  const std::vector<lem::SequenceStep> steps = {{&a, ta, lem::LogitsMode::None}, {&b, tb, lem::LogitsMode::Last}};
  e->decode(steps);
  CHECK(a.logits().empty());
  CHECK(a.tokens().size() == 7);
  CHECK(same_bits(b.logits(), alone.logits()));
  // Every row's logits (the head's multi-row path): the same alone and next to another sequence
  // that asks for its last row only.
  const size_t V = static_cast<size_t>(m.config().n_vocab);
  std::vector<float> all_alone(20 * V), all_batched(20 * V);
  lem::Sequence c(m.config(), seq_params(lem::KvType::F32)), d(m.config(), seq_params(lem::KvType::F32)),
      f(m.config(), seq_params(lem::KvType::F32));
  const std::vector<lem::SequenceStep> alone_steps = {{&c, tb, lem::LogitsMode::All, all_alone.data()}};
  e->decode(alone_steps);
  const std::vector<lem::SequenceStep> batched_steps = {{&f, ta, lem::LogitsMode::Last},
                                                        {&d, tb, lem::LogitsMode::All, all_batched.data()}};
  e->decode(batched_steps);
  CHECK(same_bits(all_alone, all_batched));
  CHECK(f.logits().size() == V);
  CHECK(same_bits(d.logits(), std::span<const float>(all_batched).last(V)));
  CHECK(same_bits(c.logits(), d.logits()));
}

TEST_CASE("copying a prefix and continuing equals recomputing it", "[batch][engine]") {
  const std::string file = GENERATE("tiny-a-Q4_K_M.gguf", "tiny-b-Q4_K_M.gguf");
  const auto kv = GENERATE(lem::KvType::F32, lem::KvType::F16);
  const lem::Gemma3Model& m = fixture(file);
  auto e = executor(m, lem::MatmulPrecision::Fast, lem::active_isa());
  const auto prompt = tokens_for(m, 0, 60), more = tokens_for(m, 1, 5);
  // Rings of 8/16 - 1 + 64 + 4 positions: after 60 + 40 tokens the start of the prompt is gone.
  lem::Sequence src(m.config(), seq_params(kv, 4));
  decode_one(*e, src, prompt);
  for (const int64_t n : {int64_t{20}, int64_t{60}}) {
    INFO(file << " kv " << lem::kv_type_name(kv) << " prefix " << n);
    lem::Sequence dst(m.config(), seq_params(kv, 4));
    decode_one(*e, dst, tokens_for(m, 5, 30));  // something to overwrite
    dst.copy_prefix_from(src, n);
    CHECK(dst.tokens() == std::vector<int32_t>(prompt.begin(), prompt.begin() + n));
    CHECK(dst.cache().n_pos() == n);
    CHECK(dst.logits().empty() == (n != 60));
    decode_one(*e, dst, more);

    lem::Sequence fresh(m.config(), seq_params(kv, 4));
    decode_one(*e, fresh, std::span(prompt).first(static_cast<size_t>(n)));
    decode_one(*e, fresh, more);
    CHECK(same_bits(dst.logits(), fresh.logits()));
  }
  SECTION("a prefix the rings no longer hold is refused and nothing changes") {
    decode_one(*e, src, tokens_for(m, 2, 40));
    lem::Sequence dst(m.config(), seq_params(kv, 4));
    decode_one(*e, dst, more);
    const auto before = copy(dst.logits());
    CHECK_THROWS_MATCHES(dst.copy_prefix_from(src, 10), lem::Error,
                         Catch::Matchers::Predicate<lem::Error>([](const lem::Error& x) {
                           return x.status() == lem::Status::InvalidArg &&
                                  std::string(x.what()).find("cannot copy 10 of 100 positions") != std::string::npos;
                         }));
    CHECK(dst.tokens() == more);
    CHECK(same_bits(dst.logits(), before));
  }
  SECTION("caches of another shape are refused") {
    lem::SequenceParams other = seq_params(kv, 4);
    other.n_ctx = 128;
    lem::Sequence dst(m.config(), other);
    CHECK_THROWS_AS(dst.copy_prefix_from(src, 20), lem::Error);
    CHECK(dst.tokens().empty());
  }
}

TEST_CASE("truncating and continuing equals recomputing; too far back is refused", "[batch][engine]") {
  const std::string file = GENERATE("tiny-a-Q4_K_M.gguf", "tiny-b-Q4_K_M.gguf");
  const lem::Gemma3Model& m = fixture(file);
  auto e = executor(m, lem::MatmulPrecision::Fast, lem::active_isa());
  const auto prompt = tokens_for(m, 0, 60), more = tokens_for(m, 1, 5);
  lem::Sequence s(m.config(), seq_params(lem::KvType::F32, 4));
  decode_one(*e, s, prompt);
  s.truncate(25);
  CHECK(s.tokens().size() == 25);
  CHECK(s.logits().empty());
  decode_one(*e, s, more);
  lem::Sequence fresh(m.config(), seq_params(lem::KvType::F32, 4));
  decode_one(*e, fresh, std::span(prompt).first(25));
  decode_one(*e, fresh, more);
  CHECK(same_bits(s.logits(), fresh.logits()));

  // 30 + 64 + 30 more positions wrap the rings: early lengths are gone, later ones still work.
  decode_one(*e, s, tokens_for(m, 2, 64));
  decode_one(*e, s, tokens_for(m, 3, 30));
  const auto size = static_cast<int64_t>(s.tokens().size());
  const int64_t shortest = s.cache().shortest_truncation();
  REQUIRE(shortest > 1);
  REQUIRE(shortest < size);
  const auto before = copy(s.logits());
  try {
    s.truncate(shortest - 1);
    FAIL("truncate below the rings' reach succeeded");
  } catch (const lem::Error& x) {
    CHECK(x.status() == lem::Status::InvalidArg);
    CHECK_THAT(x.what(), Catch::Matchers::Contains(std::to_string(shortest)));
  }
  CHECK(static_cast<int64_t>(s.tokens().size()) == size);
  CHECK(s.cache().n_pos() == size);
  CHECK(same_bits(s.logits(), before));
  CHECK_THROWS_AS(s.truncate(size + 1), lem::Error);
  CHECK_THROWS_AS(s.truncate(-1), lem::Error);
  s.truncate(shortest);
  CHECK(static_cast<int64_t>(s.tokens().size()) == shortest);
  s.truncate(0);
  CHECK(s.tokens().empty());
}

TEST_CASE("a cancelled batch leaves every sequence as it was, and the next pass works", "[batch][engine]") {
  const lem::Gemma3Model& m = fixture("tiny-a-Q4_K_M.gguf");
  const int64_t n_layer = m.config().n_layer;
  auto e = executor(m, lem::MatmulPrecision::Fast, lem::active_isa());
  std::vector<std::unique_ptr<lem::Sequence>> seqs, ref;
  for (int s = 0; s < 4; ++s) {
    seqs.push_back(std::make_unique<lem::Sequence>(m.config(), seq_params(lem::KvType::F32)));
    ref.push_back(std::make_unique<lem::Sequence>(m.config(), seq_params(lem::KvType::F32)));
    decode_one(*e, *seqs.back(), tokens_for(m, s, 10 + 7 * static_cast<size_t>(s)));
    decode_one(*e, *ref.back(), tokens_for(m, s, 10 + 7 * static_cast<size_t>(s)));
  }
  // A prompt chunk for sequence 0 and one token for the others, stopped before layer `stop_at`.
  std::vector<std::vector<int32_t>> toks = {tokens_for(m, 0, 40, 50)};
  for (int s = 1; s < 4; ++s) toks.push_back(tokens_for(m, s, 1, 50));
  std::vector<lem::SequenceStep> steps;
  for (size_t s = 0; s < 4; ++s) steps.push_back({seqs[s].get(), toks[s]});
  for (const int64_t stop_at : {int64_t{1}, n_layer - 1}) {
    INFO("stopped before layer " << stop_at);
    int64_t polls = 0;
    const std::function<bool()> poll = [&] { return polls++ == stop_at; };
    try {
      e->decode(steps, lem::ForwardInterrupt{nullptr, &poll});
      FAIL("the pass was not cancelled");
    } catch (const lem::Error& x) {
      CHECK(x.status() == lem::Status::Cancelled);
    }
    for (size_t s = 0; s < 4; ++s) {
      CHECK(seqs[s]->tokens() == ref[s]->tokens());
      CHECK(seqs[s]->cache().n_pos() == ref[s]->cache().n_pos());
      CHECK(same_bits(seqs[s]->logits(), ref[s]->logits()));
    }
  }
  // The next pass runs, with the same result as if nothing had been cancelled.
  e->decode(steps);
  for (size_t s = 0; s < 4; ++s) {
    decode_one(*e, *ref[s], toks[s]);
    CHECK(same_bits(seqs[s]->logits(), ref[s]->logits()));
  }
}

TEST_CASE("bad batches are refused before anything changes", "[batch][engine]") {
  const lem::Gemma3Model& m = fixture("tiny-a-Q4_K_M.gguf");
  auto e = executor(m, lem::MatmulPrecision::Fast, lem::active_isa());
  lem::Sequence a(m.config(), seq_params(lem::KvType::F32));
  const auto t = tokens_for(m, 0, 3);
  const auto status = [&](const std::vector<lem::SequenceStep>& steps) {
    try {
      e->decode(steps);
    } catch (const lem::Error& x) {
      return x.status();
    }
    return lem::Status::Ok;
  };
  CHECK(status({{&a, t}, {&a, t}}) == lem::Status::InvalidArg);              // one cache twice
  CHECK(status({{&a, {}}}) == lem::Status::InvalidArg);                      // no tokens
  const std::vector<int32_t> bad = {1, static_cast<int32_t>(m.config().n_vocab)};
  CHECK(status({{&a, bad}}) == lem::Status::InvalidArg);                     // id out of range
  // Without rewind slack the rings hold 64 positions past the window: no more per pass.
  lem::Sequence tight(m.config(), seq_params(lem::KvType::F32, 0));
  CHECK(tight.cache().max_chunk() == 64);
  const auto long_chunk = tokens_for(m, 0, 65);
  CHECK(status({{&tight, long_chunk}}) == lem::Status::InvalidArg);
  CHECK(status({{&a, t}, {&tight, long_chunk}}) == lem::Status::InvalidArg);
  CHECK(a.tokens().empty());
  CHECK(a.cache().n_pos() == 0);
  CHECK(tight.cache().n_pos() == 0);
  CHECK(status({{&a, t}, {&tight, std::span(long_chunk).first(64)}}) == lem::Status::Ok);
  CHECK(tight.tokens().size() == 64);
}

// Aggregate decode throughput of the batched forward (not a timed test: run by hand with
// LEM_BENCH_MODEL=<file.gguf> lem_unit_tests "[.bench]").
TEST_CASE("batched decode throughput", "[.bench]") {
  const char* path = std::getenv("LEM_BENCH_MODEL");
  if (!path) {
    WARN("set LEM_BENCH_MODEL to a model file");
    return;
  }
  const auto loaded = lem::LoadedModel::open(path);
  const lem::Gemma3Model& m = *loaded.net;
  const int threads = std::getenv("LEM_BENCH_THREADS") ? std::atoi(std::getenv("LEM_BENCH_THREADS")) : 2;
  lem::Executor e(m, lem::ExecutorParams{512, threads, lem::MatmulPrecision::Fast});
  for (const int k : {1, 4, 8, 16}) {
    std::vector<std::unique_ptr<lem::Sequence>> seqs;
    lem::SequenceParams p = seq_params(lem::KvType::F32, 0);
    p.n_ctx = 512;
    for (int s = 0; s < k; ++s) {
      seqs.push_back(std::make_unique<lem::Sequence>(m.config(), p));
      decode_one(e, *seqs.back(), tokens_for(m, s, 32));
    }
    constexpr int kSteps = 24, kWarmup = 2;
    std::chrono::steady_clock::time_point start;
    for (int step = 0; step < kWarmup + kSteps; ++step) {
      if (step == kWarmup) start = std::chrono::steady_clock::now();
      std::vector<std::vector<int32_t>> toks;
      std::vector<lem::SequenceStep> steps;
      for (int s = 0; s < k; ++s) toks.push_back(tokens_for(m, s, 1, 100 + static_cast<size_t>(step)));
      for (int s = 0; s < k; ++s) steps.push_back({seqs[static_cast<size_t>(s)].get(), toks[static_cast<size_t>(s)]});
      e.decode(steps);
    }
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN(k << " sequences: " << (k * kSteps) / sec << " tokens/s aggregate (" << kSteps / sec << " steps/s)");
  }
}
