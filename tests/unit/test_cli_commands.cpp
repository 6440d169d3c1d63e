// The user-facing `lem` commands driven as a user would: help, the llama.cpp / mlx-lm habits
// (-f, -sys, --max-tokens, -ngl, last flag wins, -s -1), write errors, hostile option values and
// the BOS rules of --raw. The commands are clients of lem.h; these tests see only the binary.
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "support/run_command.hpp"
#include "support/temp_dir.hpp"
#include "support/test_data.hpp"

using lem::test::data_path;
using lem::test::lem_cli;
using lem::test::run_command;
using lem::test::shell_quote;

namespace {

std::string tiny_model() { return shell_quote(data_path("tiny/tiny-a/gguf/tiny-a-Q8_0.gguf")); }

lem::test::CommandResult run_lem(const std::string& args) { return run_command(lem_cli() + " " + args); }

// Greedy generation on the tiny model: deterministic ids whatever the seed.
std::string greedy(const std::string& extra) {
  return "generate -m " + tiny_model() + " -t 2 --temp 0 --ignore-eos --print-ids " + extra;
}

std::vector<long> ids_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<long> ids;
  long id;
  while (in >> id) ids.push_back(id);
  return ids;
}

// The ids of "lem: prompt ids (N): 2 105 ..." that --verbose-prompt writes to stderr.
std::vector<long> prompt_ids(const std::string& err) {
  const std::string key = "prompt ids (";
  const size_t at = err.find(key);
  if (at == std::string::npos) return {};
  const size_t colon = err.find("): ", at);
  const size_t eol = err.find('\n', colon);
  return ids_of(err.substr(colon + 3, eol - colon - 3));
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& name, const std::string& content = "")
      : path((std::filesystem::temp_directory_path() / ("lem-cli-" + std::to_string(::getpid()) + "-" + name)).string()) {
    lem::test::write_bytes(path, content.data(), content.size());
  }
  ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("every lem command answers --help and lem help", "[cli]") {
  for (const std::string cmd : {"generate", "chat", "logits", "tokenize", "bench", "info", "tensor", "synth"}) {
    INFO(cmd);
    for (const std::string flag : {"--help", "-h"}) {
      const auto r = run_lem(cmd + " " + flag);
      CHECK(r.exit_code == 0);
      CHECK_THAT(r.out, Catch::Contains("usage: lem " + cmd));
    }
    const auto h = run_lem("help " + cmd);
    CHECK(h.exit_code == 0);
    CHECK_THAT(h.out, Catch::Contains("usage: lem " + cmd));
  }
  // --help wins over everything else on the line, even a missing model.
  CHECK(run_lem("generate -p hi --help").exit_code == 0);
  const auto all = run_lem("help");
  CHECK(all.exit_code == 0);
  for (const char* cmd : {"generate", "chat", "logits", "tokenize", "bench", "info", "tensor", "synth"})
    CHECK_THAT(all.out, Catch::Contains(std::string("lem ") + cmd));
  CHECK(run_lem("--help").exit_code == 0);
  const auto unknown = run_lem("help frobnicate");
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("frobnicate"));
  const auto bad_option = run_lem("tokenize -m " + tiny_model() + " --frobnicate x");
  CHECK(bad_option.exit_code == 2);
  CHECK_THAT(bad_option.err, Catch::Contains("unknown option --frobnicate"));
}

TEST_CASE("lem generate takes the prompt from -p, -f FILE or a pipe", "[cli]") {
  const auto by_arg = run_lem(greedy("-n 3 --verbose-prompt -p 'Hello there'"));
  INFO(by_arg.err);
  REQUIRE(by_arg.exit_code == 0);
  REQUIRE(ids_of(by_arg.out).size() == 3);
  const std::vector<long> prompt = prompt_ids(by_arg.err);
  REQUIRE(prompt.size() > 4);
  CHECK(prompt[0] == 2);  // the chat template's <bos>

  SECTION("-f FILE") {
    TempFile file("prompt.txt", "Hello there");
    const auto r = run_lem(greedy("-n 3 --verbose-prompt -f " + shell_quote(file.path)));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(prompt_ids(r.err) == prompt);
    CHECK(r.out == by_arg.out);
    const auto missing = run_lem(greedy("-n 3 -f /nonexistent/prompt.txt"));
    CHECK(missing.exit_code == 1);
    CHECK_THAT(missing.err, Catch::Contains("/nonexistent/prompt.txt"));
    CHECK(run_lem(greedy("-n 3 -p x -f " + shell_quote(file.path))).exit_code == 2);
  }
  SECTION("stdin as a pipe: no question asked, same prompt") {
    const auto r = run_command("printf 'Hello there' | " + lem_cli() + " " + greedy("-n 3 --verbose-prompt"));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(prompt_ids(r.err) == prompt);
    CHECK(r.out == by_arg.out);
    CHECK_THAT(r.err, !Catch::Contains("reading the prompt"));
  }
  SECTION("-sys / --system adds a system prompt") {
    const auto r = run_lem(greedy("-n 1 --verbose-prompt -p 'Hello there' -sys 'Be brief.'"));
    CHECK(r.exit_code == 0);
    CHECK(prompt_ids(r.err).size() > prompt.size());
    const auto l = run_lem(greedy("-n 1 --verbose-prompt -p 'Hello there' --system 'Be brief.'"));
    CHECK(prompt_ids(l.err) == prompt_ids(r.err));
  }
}

TEST_CASE("lem generate: --max-tokens, last flag wins, -s -1, -ngl", "[cli]") {
  SECTION("--max-tokens is -n") {
    const auto a = run_lem(greedy("-p Hi --max-tokens 4"));
    const auto b = run_lem(greedy("-p Hi -n 4"));
    REQUIRE(a.exit_code == 0);
    CHECK(ids_of(a.out).size() == 4);
    CHECK(a.out == b.out);
  }
  SECTION("a repeated flag takes its last value, across spellings") {
    CHECK(ids_of(run_lem(greedy("-p Hi -n 2 -n 5")).out).size() == 5);
    CHECK(ids_of(run_lem(greedy("-p Hi --max-tokens 6 -n 3")).out).size() == 3);
    CHECK(ids_of(run_lem(greedy("-p Hi -n 3 --n-predict=1")).out).size() == 1);
    // The prompt too: the last -p is the one used.
    const auto twice = run_lem(greedy("-n 1 --verbose-prompt -p first -p 'Hello there'"));
    const auto once = run_lem(greedy("-n 1 --verbose-prompt -p 'Hello there'"));
    CHECK(prompt_ids(twice.err) == prompt_ids(once.err));
  }
  SECTION("-s -1 is a random seed; other negative seeds are an error") {
    const auto r = run_lem("generate -m " + tiny_model() + " -t 2 -p Hi -n 2 -s -1 --print-ids");
    CHECK(r.exit_code == 0);
    CHECK(ids_of(r.out).size() <= 2);
    const auto bad = run_lem("generate -m " + tiny_model() + " -t 2 -p Hi -n 2 -s -5");
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("--seed"));
  }
  SECTION("-ngl is accepted with one line saying there is no GPU offload") {
    const auto r = run_lem(greedy("-p Hi -n 1 -ngl 99"));
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("GPU offload is not available"));
    CHECK(run_lem(greedy("-p Hi -n 1 --n-gpu-layers 10")).exit_code == 0);
    CHECK(run_lem(greedy("-p Hi -n 1 -ngl lots")).exit_code == 2);
  }
}

TEST_CASE("lem generate --raw: a prompt starting with <bos> gets one BOS", "[cli]") {
  const auto r = run_lem(greedy("-n 1 --verbose-prompt --raw -p '<bos>Hello'"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto ids = prompt_ids(r.err);
  REQUIRE(ids.size() >= 2);
  CHECK(ids[0] == 2);
  CHECK(ids[1] != 2);
  // Without the <bos> in the text, --raw adds it: the same ids.
  CHECK(prompt_ids(run_lem(greedy("-n 1 --verbose-prompt --raw -p Hello")).err) == ids);
  // lem tokenize agrees.
  const auto t = run_lem("tokenize -m " + tiny_model() + " --special '<bos>Hello'");
  REQUIRE(t.exit_code == 0);
  CHECK(ids_of(t.out) == ids);
}

TEST_CASE("lem rejects hostile option values with the library's message", "[cli]") {
  struct Case {
    const char* args;
    const char* message;
  };
  for (const Case c : {Case{"-t 100000", "100000"}, Case{"--temp nan", "temperature"}, Case{"--min-p nan", "min_p"},
                       Case{"--logit-bias 5=inf", "logit bias"}, Case{"--logit-bias 99999999=1", "99999999"},
                       Case{"--logit-bias -3=1", "-3"}, Case{"--temp 1e39", "out of range"},
                       Case{"--top-k many", "--top-k"}, Case{"-c -5", "--ctx-size"}}) {
    INFO(c.args);
    const auto r = run_lem(greedy(std::string("-p Hi -n 2 ") + c.args));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
    CHECK(r.out.empty());
  }
  // -inf bans a token: allowed.
  CHECK(run_lem(greedy("-p Hi -n 2 --logit-bias 5=-inf")).exit_code == 0);
}

TEST_CASE("lem bench parses its numbers with the checked parser", "[cli]") {
  for (const std::string args : {"-p abc", "-n 12x", "-r 0", "-p -1", "-t two", "-c nope"}) {
    INFO(args);
    const auto r = run_lem("bench -m " + tiny_model() + " " + args);
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
  }
  const auto r = run_lem("bench -m " + tiny_model() + " -t 2 -p 8 -n 4 -r 1 --json");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* key : {"\"n_prompt\":8", "\"n_gen\":4", "\"threads\":2", "\"pp_tokens_per_s\"", "\"tg_tokens_per_s\""})
    CHECK_THAT(r.out, Catch::Contains(key));
  const auto table = run_lem("bench -m " + tiny_model() + " -t 2 -p 8 -n 4 -r 1 -c 0");
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("| pp8 |"));
  CHECK_THAT(table.out, Catch::Contains("| tg4 |"));
  const auto short_ctx = run_lem("bench -m " + tiny_model() + " -t 2 -p 64 -n 4 -r 1 -c 16");
  CHECK(short_ctx.exit_code == 2);
  CHECK_THAT(short_ctx.err, Catch::Contains("too short"));
}

TEST_CASE("lem info -c: 0 is the model's maximum, negatives are an error", "[cli]") {
  const auto zero = run_lem("info -c 0 " + tiny_model());
  CHECK(zero.exit_code == 0);
  CHECK_THAT(zero.out, Catch::Contains("n_ctx    4096"));  // tiny-a's maximum (also the default)
  CHECK_THAT(zero.out, !Catch::Contains("(--ctx-size)"));
  CHECK(run_lem("info -c -1 " + tiny_model()).exit_code == 2);
}

TEST_CASE("write errors on stdout end lem with an error", "[cli]") {
  if (!std::filesystem::exists("/dev/full")) {
    WARN("no /dev/full here: skipped");
    return;
  }
  for (const std::string& args : std::vector<std::string>{greedy("-p Hi -n 2"), "generate -m " + tiny_model() + " -t 2 -p Hi -n 2 --temp 0",
                                 "tokenize -m " + tiny_model() + " Hello", "info --json " + tiny_model(),
                                 "info " + tiny_model(), "help", "bench -m " + tiny_model() + " -t 2 -p 4 -n 2 -r 1",
                                 "tensor " + tiny_model() + " token_embd.weight --out -"}) {
    INFO(args);
    const auto r = run_command(lem_cli() + " " + args + " > /dev/full");
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("fail"));
  }
}

TEST_CASE("lem tensor --out - writes the tensor to stdout", "[cli]") {
  TempFile file("tensor.f32");
  const auto to_file = run_lem("tensor " + tiny_model() + " blk.0.attn_q.weight --out " + shell_quote(file.path));
  REQUIRE(to_file.exit_code == 0);
  const auto to_stdout = run_lem("tensor " + tiny_model() + " blk.0.attn_q.weight --out -");
  REQUIRE(to_stdout.exit_code == 0);
  const auto bytes = lem::test::read_bytes(file.path);
  REQUIRE(!bytes.empty());
  CHECK(std::string(bytes.begin(), bytes.end()) == to_stdout.out);
}

TEST_CASE("lem tokenize reads vocab-only inputs and tells --special apart", "[cli]") {
  const auto plain = run_lem("tokenize -m " + tiny_model() + " --no-bos '<start_of_turn>'");
  const auto special = run_lem("tokenize -m " + tiny_model() + " --no-bos --special '<start_of_turn>'");
  REQUIRE(plain.exit_code == 0);
  REQUIRE(special.exit_code == 0);
  CHECK(ids_of(special.out) == std::vector<long>{105});
  CHECK(ids_of(plain.out).size() > 1);
  const auto json = run_lem("tokenize -m " + tiny_model() + " --json --special '<start_of_turn>'");
  CHECK(json.out == "[2, 105]\n");
  // A folder with only tokenizer.json: no weights needed.
  const auto folder = run_lem("tokenize -m " + shell_quote(data_path("tokenizer")) + " Hello");
  INFO(folder.err);
  CHECK(folder.exit_code == 0);
  CHECK(ids_of(folder.out).size() >= 2);
  CHECK(ids_of(folder.out).front() == 2);  // Gemma's tokenizer_config.json: add_bos_token true
}

TEST_CASE("lem tokenize adds <bos> only when the vocabulary asks for it", "[cli]") {
  // A copy of the tokenizer folder whose tokenizer_config.json says add_bos_token: false.
  lem::test::TempDir dir("lem-no-bos-vocab");
  std::filesystem::copy_file(data_path("tokenizer/tokenizer.json"), dir.path / "tokenizer.json");
  std::ifstream in(data_path("tokenizer/tokenizer_config.json"));
  auto config = nlohmann::json::parse(in);
  REQUIRE(config.at("add_bos_token") == true);
  config["add_bos_token"] = false;
  std::ofstream(dir.path / "tokenizer_config.json") << config.dump();
  const auto r = run_lem("tokenize -m " + shell_quote(dir.path.string()) + " Hello");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(!ids_of(r.out).empty());
  CHECK(ids_of(r.out).front() != 2);
}
