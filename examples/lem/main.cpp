// lem — command-line front end of libLEM.
//
//   lem info   FILE_OR_DIR [--json [--json-array]]   summary of a model file
//   lem tensor FILE NAME --out OUT.f32               one tensor as float32
//   lem generate | chat | logits | tokenize | bench  run a model (see usage())
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "util/error.hpp"
#include "cli.hpp"
#include "lem/lem_version.h"

namespace lem::cli {

bool Args::flag(std::string_view name) {
  for (auto it = args_.begin(); it != args_.end(); ++it) {
    if (*it == name) {
      args_.erase(it);
      return true;
    }
  }
  return false;
}

bool Args::value(std::string_view name, std::string& out) {
  for (auto it = args_.begin(); it != args_.end(); ++it) {
    if (*it == name) {
      if (it + 1 == args_.end()) fail(Status::InvalidArg, "{} needs a value", name);
      out = *(it + 1);
      args_.erase(it, it + 2);
      return true;
    }
    const std::string prefix = std::string(name) + "=";
    if (it->rfind(prefix, 0) == 0) {
      out = it->substr(prefix.size());
      args_.erase(it);
      return true;
    }
  }
  return false;
}

std::vector<std::string> Args::finish() {
  for (const auto& a : args_)
    if (a.size() > 1 && a[0] == '-' && a != "-") fail(Status::InvalidArg, "unknown option {}", a);
  return args_;
}

}  // namespace lem::cli

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "lem %s — Gemma 3 inference on CPUs\n\n"
               "usage:\n"
               "  lem info FILE_OR_DIR [--json [--json-array]]   summarise a GGUF / safetensors / MLX model\n"
               "  lem tensor FILE NAME --out OUT.f32              write one tensor as little-endian float32\n"
               "  lem synth --size 270m|1b|4b --type Q4_K_M --vocab TOKENIZER --out FILE.gguf [--seed N]\n"
               "                                                  random-weight Gemma 3 GGUF for benchmarks\n"
               "  lem generate -m MODEL -p TEXT [options]         generate text (chat-formatted; --raw for plain)\n"
               "  lem chat -m MODEL [options]                     interactive chat (/reset, /exit; Ctrl-C stops an answer)\n"
               "  lem logits -m MODEL --tokens IDS --out FILE     float32 logits of every position\n"
               "  lem tokenize -m MODEL [--no-bos] [--special] [--json] [TEXT]\n"
               "  lem bench -m MODEL [-p 512] [-n 128] [-t N] [-r 5] [--json]\n"
               "  (lem generate --help lists the model, context and sampling options)\n"
               "  lem --version\n",
               LEM_VERSION_STRING);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("lem %s\n", LEM_VERSION_STRING);
    return 0;
  }
  const std::string name = argv[1];
  lem::cli::Command command = nullptr;
  if (name == "info") command = lem::cli::cmd_info;
  if (name == "tensor") command = lem::cli::cmd_tensor;
  if (name == "synth") command = lem::cli::cmd_synth;
  if (name == "generate") command = lem::cli::cmd_generate;
  if (name == "chat") command = lem::cli::cmd_chat;
  if (name == "logits") command = lem::cli::cmd_logits;
  if (name == "tokenize") command = lem::cli::cmd_tokenize;
  if (name == "bench") command = lem::cli::cmd_bench;
  if (!command) {
    std::fprintf(stderr, "lem: unknown command '%s'\n\n", name.c_str());
    usage(stderr);
    return 2;
  }
  lem::cli::Args args(std::vector<std::string>(argv + 2, argv + argc));
  try {
    return command(args);
  } catch (const lem::Error& e) {
    std::fprintf(stderr, "lem %s: error: %s\n", name.c_str(), e.what());
    return e.status() == lem::Status::InvalidArg ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lem %s: internal error: %s\n", name.c_str(), e.what());
    return 1;
  }
}
