// Usage texts of `lem` and its subcommands.
#pragma once

#include <cstdio>
#include <string>

namespace cli {

// The overview of all commands.
void print_usage(FILE* out);
// The options of one command; false when there is no such command.
bool print_command_help(const std::string& name, FILE* out);

}  // namespace cli
