// lem — command-line front end of libLEM.
//
// The user-facing commands (generate, chat, logits, tokenize, bench, info) are clients of
// include/lem/lem.h only; tensor and synth are developer tools that use the library's internals,
// in files of their own (cmd_tensor.cpp, cmd_synth.cpp).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "cli.hpp"
#include "cli_error.hpp"
#include "help.hpp"
#include "lem/lem.h"

namespace {

struct NamedCommand {
  const char* name;
  cli::Command run;
};

constexpr NamedCommand kCommands[] = {
    {"generate", cli::cmd_generate}, {"chat", cli::cmd_chat},   {"logits", cli::cmd_logits},
    {"tokenize", cli::cmd_tokenize}, {"bench", cli::cmd_bench}, {"info", cli::cmd_info},
    {"tensor", cli::cmd_tensor},     {"synth", cli::cmd_synth},
};

cli::Command find_command(const std::string& name) {
  for (const auto& c : kCommands)
    if (name == c.name) return c.run;
  return nullptr;
}

// What was written to stdout must have arrived: a full disk or a closed pipe is an error, not a
// silent exit 0 (`lem info --json > /dev/full`).
int check_stdout(const std::string& name, int exit_code) {
  errno = 0;
  const bool flush_failed = std::fflush(stdout) != 0;
  // A command that failed has said why already (a failed write included).
  if (exit_code != 0 || (!flush_failed && !std::ferror(stdout))) return exit_code;
  std::fprintf(stderr, "lem %s: error: writing to standard output failed%s%s\n", name.c_str(),
               flush_failed ? ": " : "", flush_failed ? std::strerror(errno) : "");
  return cli::kExitFailure;
}

int help_command(const std::vector<std::string>& rest) {
  if (rest.empty()) {
    cli::print_usage(stdout);
    return 0;
  }
  if (!cli::print_command_help(rest[0], stdout)) {
    std::fprintf(stderr, "lem help: unknown command '%s'\n\n", rest[0].c_str());
    cli::print_usage(stderr);
    return cli::kExitUsage;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    cli::print_usage(stderr);
    return cli::kExitUsage;
  }
  const std::string name = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  if (name == "-h" || name == "--help") return check_stdout("help", help_command({}));
  if (name == "help") return check_stdout(name, help_command(rest));
  if (name == "--version") {
    std::printf("lem %s\n", lem_version_string());
    return check_stdout(name, 0);
  }
  const cli::Command command = find_command(name);
  if (!command) {
    std::fprintf(stderr, "lem: unknown command '%s'\n\n", name.c_str());
    cli::print_usage(stderr);
    return cli::kExitUsage;
  }
  for (const auto& a : rest)
    if (a == "-h" || a == "--help") {
      cli::print_command_help(name, stdout);
      return check_stdout(name, 0);
    }

  cli::Args args(rest);
  int exit_code = 0;
  try {
    exit_code = command(args);
  } catch (const cli::CliError& e) {
    std::fprintf(stderr, "lem %s: error: %s\n", name.c_str(), e.what());
    exit_code = e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lem %s: internal error: %s\n", name.c_str(), e.what());
    exit_code = cli::kExitFailure;
  }
  return check_stdout(name, exit_code);
}
