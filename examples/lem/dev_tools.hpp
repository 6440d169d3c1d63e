// Shared by the developer tools of `lem` (tensor, synth): they use the library's internals, so
// they live in files of their own (tools/check_layers.py lists them) and turn the internal
// lem::Error into the tool's CliError, with the same exit codes (usage errors 2, others 1).
#pragma once

#include "cli.hpp"
#include "cli_error.hpp"
#include "util/error.hpp"

namespace lem::cli {
using ::cli::Args;
}  // namespace lem::cli

namespace cli {

template <class Body>
int run_dev_tool(Body&& body) {
  try {
    return body();
  } catch (const lem::Error& e) {
    throw CliError(e.status() == lem::Status::InvalidArg ? kExitUsage : kExitFailure, e.what());
  }
}

}  // namespace cli
