// The step-wise generator: events, their text and log-probabilities, stops, cancellation, hidden
// control tokens, and generate() as a loop over it.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "runtime/generate.hpp"
#include "runtime/loaded_model.hpp"
#include "support/test_data.hpp"
#include "util/error.hpp"

using lem::test::data_path;

namespace {

std::vector<int32_t> chat_prompt() {
  std::ifstream in(data_path("tiny/tiny-a/goldens/prompts.json"));
  const auto j = nlohmann::json::parse(in);
  for (const auto& p : j.at("prompts"))
    if (p.at("name") == "chat") return p.at("ids").get<std::vector<int32_t>>();
  FAIL("no prompt chat");
  return {};
}

lem::SessionParams session_params() {
  lem::SessionParams p;
  p.n_ctx = 256;
  p.n_batch = 64;
  p.n_threads = 2;
  return p;
}

lem::GenerateParams greedy(int32_t max_tokens) {
  lem::GenerateParams g;
  g.max_tokens = max_tokens;
  g.ignore_eos = true;
  g.sampling.temperature = 0.0f;
  return g;
}

struct Collected {
  std::vector<lem::GenerateEvent> events;
  std::string text;
  std::vector<int32_t> tokens;
};

Collected run(lem::Generator& gen, size_t max_events = 1000) {
  Collected c;
  for (size_t i = 0; i < max_events; ++i) {
    const lem::GenerateEvent& ev = gen.next();
    c.events.push_back(ev);
    c.text += ev.text;
    if (ev.type == lem::GenerateEvent::Type::Done) break;
    c.tokens.push_back(ev.token);
  }
  return c;
}

}  // namespace

TEST_CASE("the generator yields token events, then one DONE event, again and again", "[generate]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const lem::Tokenizer& tok = m.require_tokenizer();
  const auto prompt = chat_prompt();
  lem::Session s(*m.net, session_params());
  lem::GenerateParams g = greedy(10);
  g.n_top_logprobs = 3;
  lem::Generator gen(s, tok, prompt, g);
  const Collected c = run(gen);
  REQUIRE(c.events.size() == 11);
  for (size_t i = 0; i < 10; ++i) {
    const lem::GenerateEvent& ev = c.events[i];
    INFO("event " << i);
    CHECK(ev.type == lem::GenerateEvent::Type::Token);
    CHECK(ev.reason == lem::StopReason::None);
    CHECK(ev.n_generated == static_cast<int64_t>(i + 1));
    CHECK(ev.n_prompt == static_cast<int64_t>(prompt.size()));
    REQUIRE(ev.top.size() == 3);
    // Greedy picks the most likely token: it is the first alternative, with the same logprob.
    CHECK(ev.top[0].token == ev.token);
    CHECK(ev.logprob == ev.top[0].logprob);
    CHECK(ev.logprob <= 0.0f);
    CHECK(ev.top[0].logprob >= ev.top[1].logprob);
    CHECK(ev.top[1].logprob >= ev.top[2].logprob);
  }
  const lem::GenerateEvent done = c.events.back();
  CHECK(done.type == lem::GenerateEvent::Type::Done);
  CHECK(done.reason == lem::StopReason::Length);
  CHECK(done.token == -1);
  CHECK(done.top.empty());
  CHECK(done.n_generated == 10);
  CHECK(gen.done());
  // Later calls return the same DONE event and compute nothing.
  const lem::GenerateEvent& again = gen.next();
  CHECK(again.type == lem::GenerateEvent::Type::Done);
  CHECK(again.reason == lem::StopReason::Length);
  CHECK(again.text == done.text);
  CHECK(again.gen_seconds == done.gen_seconds);
  // The session holds the prompt and the generated tokens.
  std::vector<int32_t> held = prompt;
  held.insert(held.end(), c.tokens.begin(), c.tokens.end());
  CHECK(s.tokens() == held);

  // generate() is the same loop: same ids, same text.
  const lem::GenerateResult r = lem::generate(s, tok, prompt, greedy(10));
  CHECK(r.tokens == c.tokens);
  CHECK(r.text == c.text);
  CHECK(r.reason == lem::StopReason::Length);
  CHECK(r.n_reused == static_cast<int64_t>(prompt.size()) - 1);
}

TEST_CASE("the generator stops on request: stop(), a session cancel, an abort callback", "[generate][cancel]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const lem::Tokenizer& tok = m.require_tokenizer();
  const auto prompt = chat_prompt();
  lem::Session s(*m.net, session_params());

  SECTION("stop() after three tokens") {
    lem::Generator gen(s, tok, prompt, greedy(10));
    for (int i = 0; i < 3; ++i) REQUIRE(gen.next().type == lem::GenerateEvent::Type::Token);
    gen.stop();
    const lem::GenerateEvent& done = gen.next();
    CHECK(done.type == lem::GenerateEvent::Type::Done);
    CHECK(done.reason == lem::StopReason::Cancelled);
    CHECK(done.n_generated == 3);
    // The third token was sampled but not evaluated.
    CHECK(s.tokens().size() == prompt.size() + 2);
  }
  SECTION("Session::request_cancel between two events") {
    lem::Generator gen(s, tok, prompt, greedy(10));
    REQUIRE(gen.next().type == lem::GenerateEvent::Type::Token);
    s.request_cancel();
    const lem::GenerateEvent& done = gen.next();
    CHECK(done.reason == lem::StopReason::Cancelled);
    CHECK(done.n_generated == 1);
    CHECK_FALSE(s.take_cancel_request());  // consumed
  }
  SECTION("an abort callback during the prompt") {
    lem::Generator gen(s, tok, prompt, greedy(10));
    int checks = 0;
    const lem::GenerateEvent& done = gen.next([&] { return ++checks == 3; });
    CHECK(done.type == lem::GenerateEvent::Type::Done);
    CHECK(done.reason == lem::StopReason::Cancelled);
    CHECK(done.n_generated == 0);
    CHECK(s.tokens().empty());
  }
  SECTION("generate() with a callback that says stop") {
    int token_events = 0, done_events = 0;
    const lem::GenerateResult r = lem::generate(s, tok, prompt, greedy(10), [&](const lem::GenerateEvent& ev) {
      if (ev.type == lem::GenerateEvent::Type::Done) {
        ++done_events;
        CHECK(ev.reason == lem::StopReason::Cancelled);
        return true;  // ignored
      }
      return ++token_events == 4;
    });
    CHECK(token_events == 4);
    CHECK(done_events == 1);
    CHECK(r.reason == lem::StopReason::Cancelled);
    CHECK(r.tokens.size() == 4);
  }
}

TEST_CASE("control tokens are left out of generated text unless show_control", "[generate]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const lem::Tokenizer& tok = m.require_tokenizer();
  const int32_t start_of_turn = tok.find_piece("<start_of_turn>");
  REQUIRE(start_of_turn >= 0);
  REQUIRE(tok.is_control(start_of_turn));
  lem::Session s(*m.net, session_params());
  lem::GenerateParams g = greedy(3);
  g.sampling.logit_bias[start_of_turn] = 1000.0f;  // greedy then always picks it
  const auto prompt = chat_prompt();
  const lem::GenerateResult hidden = lem::generate(s, tok, prompt, g);
  CHECK(hidden.tokens == std::vector<int32_t>(3, start_of_turn));
  CHECK(hidden.text.empty());
  g.show_control = true;
  const lem::GenerateResult shown = lem::generate(s, tok, prompt, g);
  CHECK(shown.text == "<start_of_turn><start_of_turn><start_of_turn>");
}

TEST_CASE("a stop string ends generation with the text before it; nothing after it is shown", "[generate]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const lem::Tokenizer& tok = m.require_tokenizer();
  const auto prompt = chat_prompt();
  lem::Session s(*m.net, session_params());
  const lem::GenerateResult free_run = lem::generate(s, tok, prompt, greedy(24));
  REQUIRE(free_run.text.size() > 10);
  lem::GenerateParams g = greedy(24);
  g.stop = {free_run.text.substr(6, 3)};
  lem::Generator gen(s, tok, prompt, g);
  const Collected c = run(gen);
  const lem::GenerateEvent& done = c.events.back();
  CHECK(done.reason == lem::StopReason::StopString);
  CHECK(c.text == free_run.text.substr(0, free_run.text.find(g.stop[0])));
  for (const auto& ev : c.events) CHECK(ev.text.find(g.stop[0]) == std::string::npos);
}

TEST_CASE("generator errors: bad parameters up front, a failed step is final", "[generate]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const lem::Tokenizer& tok = m.require_tokenizer();
  const auto prompt = chat_prompt();
  lem::Session s(*m.net, session_params());
  const auto status_of = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const lem::Error& e) {
      return e.status();
    }
    return lem::Status::Ok;
  };
  lem::GenerateParams g = greedy(4);
  g.n_top_logprobs = 21;
  CHECK(status_of([&] { lem::Generator(s, tok, prompt, g); }) == lem::Status::InvalidArg);
  g = greedy(4);
  g.stop = {""};
  CHECK(status_of([&] { lem::Generator(s, tok, prompt, g); }) == lem::Status::InvalidArg);
  g = greedy(4);
  g.sampling.temperature = std::nanf("");
  CHECK(status_of([&] { lem::Generator(s, tok, prompt, g); }) == lem::Status::InvalidArg);
  CHECK(status_of([&] { lem::Generator(s, tok, {}, greedy(4)); }) == lem::Status::InvalidArg);

  const std::vector<int32_t> too_long(300, 10);  // n_ctx is 256
  lem::Generator gen(s, tok, too_long, greedy(4));
  CHECK(status_of([&] { gen.next(); }) == lem::Status::ContextFull);
  CHECK(status_of([&] { gen.next(); }) == lem::Status::ContextFull);
}

TEST_CASE("generation stops when the context is full", "[generate]") {
  const auto m = lem::LoadedModel::open(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf"));
  const lem::Tokenizer& tok = m.require_tokenizer();
  const auto prompt = chat_prompt();  // 40 tokens
  lem::SessionParams p = session_params();
  p.n_ctx = 48;
  lem::Session s(*m.net, p);
  const lem::GenerateResult r = lem::generate(s, tok, prompt, greedy(-1));
  CHECK(r.reason == lem::StopReason::ContextFull);
  CHECK(r.tokens.size() == 9);  // 8 evaluated to fill the context, and the one that no longer fits
  CHECK(s.tokens().size() == 48);
}
