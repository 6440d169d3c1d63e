// Shared pieces of the `lem` command-line tool: argument access, checked number parsing and the
// subcommand signature.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

// Arguments after the subcommand name. Flags are consumed as they are read; what remains are
// positionals. A flag given more than once takes its last value (as in llama.cpp), except the
// repeatable ones read with values(). Unknown flags are reported by finish().
class Args {
 public:
  explicit Args(std::vector<std::string> args) : args_(std::move(args)) {}

  // --name (any of the spellings); consumes every occurrence.
  bool flag(std::initializer_list<std::string_view> names);
  bool flag(std::string_view name) { return flag({name}); }
  // --name VALUE or --name=VALUE (any of the spellings); the last occurrence wins, all are consumed.
  // `used` (may be NULL) receives the spelling of the occurrence that won.
  bool value(std::initializer_list<std::string_view> names, std::string& out, std::string* used = nullptr);
  bool value(std::string_view name, std::string& out) { return value({name}, out); }
  // Every value of a repeatable flag, in command-line order.
  std::vector<std::string> values(std::string_view name);
  // The positionals; a leftover flag is a usage error.
  std::vector<std::string> finish();

 private:
  // Finds the next occurrence of one of `names` at or after `from`; returns its index and stores
  // the value (erasing flag and value), or returns npos.
  size_t take_next(std::initializer_list<std::string_view> names, size_t from, std::string& out, std::string* used);

  std::vector<std::string> args_;
};

// Checked numbers: the whole text must be the number, within [min, max]; otherwise a usage error
// naming `flag` and the text.
int64_t parse_integer(std::string_view flag, const std::string& text, int64_t min = INT64_MIN,
                      int64_t max = INT64_MAX);
// Any float the text spells, "nan" and "inf" included: the library judges the value.
double parse_float(std::string_view flag, const std::string& text);

// Integer / float flags: reads the last value of any spelling into `out`; false when absent. The
// first spelling is the canonical (long) one that error messages name.
bool integer_flag(Args& args, std::initializer_list<std::string_view> names, int64_t& out, int64_t min = INT64_MIN,
                  int64_t max = INT64_MAX);
bool int32_flag(Args& args, std::initializer_list<std::string_view> names, int32_t& out,
                int32_t min = INT32_MIN, int32_t max = INT32_MAX);
bool float_flag(Args& args, std::initializer_list<std::string_view> names, float& out);

using Command = int (*)(Args& args);

int cmd_info(Args& args);
int cmd_generate(Args& args);
int cmd_chat(Args& args);
int cmd_logits(Args& args);
int cmd_tokenize(Args& args);
int cmd_bench(Args& args);
// Developer tools (cmd_tensor.cpp, cmd_synth.cpp): they use the library's internals.
int cmd_tensor(Args& args);
int cmd_synth(Args& args);

}  // namespace cli
