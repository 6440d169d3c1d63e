// Log-probabilities (log-softmax of raw logits, top-n) and the sampler's parameter checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "runtime/logprobs.hpp"
#include "runtime/sampler.hpp"
#include "util/error.hpp"

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// log softmax in long double, straight from the definition.
long double reference_logprob(const std::vector<float>& logits, size_t n, size_t i) {
  long double z = 0;
  for (size_t k = 0; k < n; ++k) z += std::exp(static_cast<long double>(logits[k]));
  return std::log(std::exp(static_cast<long double>(logits[i])) / z);
}

lem::Status status_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const lem::Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return lem::Status::Ok;
}

}  // namespace

TEST_CASE("logprobs: log-softmax of the raw logits and the most likely ids", "[logprobs]") {
  const std::vector<float> logits{1.0f, 3.0f, 2.0f, 3.0f, -kInf, 0.5f, 99.0f /* padding row */};
  const int32_t n_vocab = 6;
  std::vector<lem::TokenLogprob> top(4);
  const float lp = lem::token_logprobs(logits, n_vocab, 2, top);
  CHECK(lp == Approx(static_cast<double>(reference_logprob(logits, 6, 2))).margin(1e-6));
  // Most likely first; the tie between ids 1 and 3 goes to the lower id.
  CHECK(top[0].token == 1);
  CHECK(top[1].token == 3);
  CHECK(top[2].token == 2);
  CHECK(top[3].token == 0);
  for (const auto& t : top) {
    INFO("token " << t.token);
    CHECK(t.logprob == Approx(static_cast<double>(reference_logprob(logits, 6, static_cast<size_t>(t.token)))).margin(1e-6));
  }
  CHECK(top[0].logprob == top[1].logprob);
  // A banned (-inf) token has probability 0.
  CHECK(lem::token_logprobs(logits, n_vocab, 4, {}) == -kInf);
  // No alternatives asked: only the token's value.
  CHECK(lem::token_logprobs(logits, n_vocab, 1, {}) == top[0].logprob);
}

TEST_CASE("logprobs stay exact for large logits and large vocabularies", "[logprobs]") {
  std::vector<float> big{1000.0f, 1000.0f};
  CHECK(lem::token_logprobs(big, 2, 0, {}) == Approx(std::log(0.5)).margin(1e-7));
  // 262144 equal logits: each has log(1/262144); float accumulation would drift.
  std::vector<float> flat(262144, 7.25f);
  std::vector<lem::TokenLogprob> top(20);
  CHECK(lem::token_logprobs(flat, 262144, 5000, top) == Approx(-std::log(262144.0)).margin(1e-6));
  for (int i = 0; i < 20; ++i) CHECK(top[static_cast<size_t>(i)].token == i);  // all tied: lowest ids
}

TEST_CASE("logprobs refuse what has no distribution", "[logprobs]") {
  const std::vector<float> ok{0.0f, 1.0f, 2.0f};
  std::string msg;
  CHECK(status_of([&] { lem::token_logprobs(ok, 3, 3, {}); }, &msg) == lem::Status::InvalidArg);
  CHECK_THAT(msg, Catch::Matchers::Contains("token id 3"));
  CHECK(status_of([&] { lem::token_logprobs(ok, 3, -1, {}); }) == lem::Status::InvalidArg);
  CHECK(status_of([&] { lem::token_logprobs(ok, 4, 0, {}); }) == lem::Status::InvalidArg);  // row too short
  std::vector<lem::TokenLogprob> too_many(21);
  CHECK(status_of([&] { lem::token_logprobs(ok, 3, 0, too_many); }) == lem::Status::InvalidArg);
  const std::vector<float> with_nan{0.0f, std::nanf(""), 2.0f};
  CHECK(status_of([&] { lem::token_logprobs(with_nan, 3, 0, {}); }, &msg) == lem::Status::InvalidArg);
  CHECK_THAT(msg, Catch::Matchers::Contains("token id 1"));
  const std::vector<float> with_inf{0.0f, kInf, 2.0f};
  CHECK(status_of([&] { lem::token_logprobs(with_inf, 3, 0, {}); }) == lem::Status::InvalidArg);
  const std::vector<float> all_banned{-kInf, -kInf};
  CHECK(status_of([&] { lem::token_logprobs(all_banned, 2, 0, {}); }) == lem::Status::InvalidArg);
}

TEST_CASE("the sampler refuses non-finite and out-of-range parameters, naming them", "[sampling]") {
  const float nan = std::nanf("");
  struct Case {
    const char* field;
    std::function<void(lem::SamplerParams&)> set;
  };
  const std::vector<Case> cases{
      {"temperature", [&](auto& p) { p.temperature = nan; }},
      {"temperature", [&](auto& p) { p.temperature = kInf; }},
      {"top_p", [&](auto& p) { p.top_p = nan; }},
      {"top_p", [&](auto& p) { p.top_p = kInf; }},
      {"top_p", [&](auto& p) { p.top_p = 0.0f; }},
      {"min_p", [&](auto& p) { p.min_p = nan; }},
      {"min_p", [&](auto& p) { p.min_p = -kInf; }},
      {"min_p", [&](auto& p) { p.min_p = 1.0f; }},
      {"repeat_penalty", [&](auto& p) { p.repeat_penalty = nan; }},
      {"repeat_penalty", [&](auto& p) { p.repeat_penalty = 0.0f; }},
      {"presence_penalty", [&](auto& p) { p.presence_penalty = kInf; }},
      {"frequency_penalty", [&](auto& p) { p.frequency_penalty = nan; }},
      {"repeat_last_n", [&](auto& p) { p.repeat_last_n = -2; }},
      {"token id 100", [&](auto& p) { p.logit_bias[100] = 1.0f; }},
      {"token id -1", [&](auto& p) { p.logit_bias[-1] = 1.0f; }},
      {"logit bias nan", [&](auto& p) { p.logit_bias[5] = nan; }},
      {"logit bias inf", [&](auto& p) { p.logit_bias[5] = kInf; }},
  };
  for (const Case& c : cases) {
    lem::SamplerParams p;
    c.set(p);
    std::string msg;
    INFO(c.field);
    CHECK(status_of([&] { lem::Sampler(p, 100); }, &msg) == lem::Status::InvalidArg);
    CHECK_THAT(msg, Catch::Matchers::Contains(c.field));
  }
  lem::SamplerParams p;
  p.logit_bias[5] = -kInf;  // a ban is fine
  p.temperature = -1.0f;    // <= 0: greedy
  CHECK(status_of([&] { lem::Sampler(p, 100); }) == lem::Status::Ok);
}

TEST_CASE("greedy sampling is the argmax; bans and bad logits are handled", "[sampling]") {
  lem::SamplerParams p;
  p.temperature = 0.0f;
  std::vector<float> logits{0.5f, 2.0f, 7.0f, 7.0f, -1.0f};
  lem::Sampler greedy(p, 5);
  CHECK(greedy.sample(logits, {}) == 2);  // tie: the lower id
  p.logit_bias[2] = -kInf;
  lem::Sampler banned(p, 5);
  CHECK(banned.sample(logits, {}) == 3);
  logits[1] = std::nanf("");
  std::string msg;
  CHECK(status_of([&] { greedy.sample(logits, {}); }, &msg) == lem::Status::InvalidArg);
  CHECK_THAT(msg, Catch::Matchers::Contains("token id 1"));
  const std::vector<float> all_banned(5, -kInf);
  CHECK(status_of([&] { greedy.sample(all_banned, {}); }) == lem::Status::InvalidArg);
  lem::SamplerParams hot;
  hot.temperature = 1.0f;
  CHECK(status_of([&] { lem::Sampler(hot, 5).sample(all_banned, {}); }) == lem::Status::InvalidArg);
}
