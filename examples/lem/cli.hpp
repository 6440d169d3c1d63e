// Shared pieces of the `lem` command-line tool: argument access and the subcommand signature.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lem::cli {

// Arguments after the subcommand name. Flags are consumed as they are read; what remains
// are positionals. Unknown flags are reported by finish().
class Args {
 public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}
  bool flag(std::string_view name);                         // --name
  bool value(std::string_view name, std::string& out);      // --name VALUE or --name=VALUE
  std::vector<std::string> finish();                        // positionals; throws on leftover --flags

 private:
  std::vector<std::string> args_;
};

using Command = int (*)(Args& args);

int cmd_info(Args& args);
int cmd_tensor(Args& args);
int cmd_synth(Args& args);
int cmd_generate(Args& args);
int cmd_chat(Args& args);
int cmd_logits(Args& args);
int cmd_tokenize(Args& args);
int cmd_bench(Args& args);

}  // namespace lem::cli
