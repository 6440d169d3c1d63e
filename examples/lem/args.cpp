// Command-line access for the `lem` tool: flags, values, checked numbers.
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

#include "cli.hpp"
#include "cli_error.hpp"

namespace cli {

bool Args::flag(std::initializer_list<std::string_view> names) {
  bool found = false;
  for (size_t i = 0; i < args_.size();) {
    bool match = false;
    for (auto name : names) match = match || args_[i] == name;
    if (match) {
      args_.erase(args_.begin() + static_cast<std::ptrdiff_t>(i));
      found = true;
    } else {
      ++i;
    }
  }
  return found;
}

size_t Args::take_next(std::initializer_list<std::string_view> names, size_t from, std::string& out,
                       std::string* used) {
  for (size_t i = from; i < args_.size(); ++i) {
    for (auto name : names) {
      const std::string& a = args_[i];
      const auto at = args_.begin() + static_cast<std::ptrdiff_t>(i);
      if (a == name) {
        if (i + 1 == args_.size()) usage_error(name, " needs a value");
        out = args_[i + 1];
        if (used) *used = name;
        args_.erase(at, at + 2);
        return i;
      }
      if (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=') {
        out = a.substr(name.size() + 1);
        if (used) *used = name;
        args_.erase(at);
        return i;
      }
    }
  }
  return std::string::npos;
}

bool Args::value(std::initializer_list<std::string_view> names, std::string& out, std::string* used) {
  // The last occurrence wins: keep taking until none is left.
  bool found = false;
  std::string v, name;
  for (size_t at = 0; (at = take_next(names, at, v, &name)) != std::string::npos;) {
    out = v;
    if (used) *used = name;
    found = true;
  }
  return found;
}

std::vector<std::string> Args::values(std::string_view name) {
  std::vector<std::string> all;
  std::string v;
  for (size_t at = 0; (at = take_next({name}, at, v, nullptr)) != std::string::npos;) all.push_back(v);
  return all;
}

std::vector<std::string> Args::finish() {
  for (const auto& a : args_)
    if (a.size() > 1 && a[0] == '-' && a != "-") usage_error("unknown option ", a, " (--help lists the options)");
  return args_;
}

int64_t parse_integer(std::string_view flag, const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (r.ec == std::errc::result_out_of_range) usage_error(flag, ": ", text, " is out of range");
  if (r.ec != std::errc() || r.ptr != end || text.empty()) usage_error(flag, ": '", text, "' is not an integer");
  if (v < min || v > max) usage_error(flag, ": ", v, " is out of range (", min, " to ", max, ")");
  return v;
}

double parse_float(std::string_view flag, const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (r.ec == std::errc::result_out_of_range) usage_error(flag, ": ", text, " is out of range");
  if (r.ec != std::errc() || r.ptr != end || text.empty()) usage_error(flag, ": '", text, "' is not a number");
  return v;
}

namespace {

// How an error names a flag: the spelling used, and the long name when that was a short one
// ("-c/--ctx-size").
std::string flag_label(std::initializer_list<std::string_view> names, const std::string& used) {
  const std::string canonical(*names.begin());
  return used == canonical ? used : used + "/" + canonical;
}

}  // namespace

bool integer_flag(Args& args, std::initializer_list<std::string_view> names, int64_t& out, int64_t min, int64_t max) {
  std::string text, used;
  if (!args.value(names, text, &used)) return false;
  out = parse_integer(flag_label(names, used), text, min, max);
  return true;
}

bool int32_flag(Args& args, std::initializer_list<std::string_view> names, int32_t& out, int32_t min, int32_t max) {
  int64_t v = 0;
  if (!integer_flag(args, names, v, min, max)) return false;
  out = static_cast<int32_t>(v);
  return true;
}

bool float_flag(Args& args, std::initializer_list<std::string_view> names, float& out) {
  std::string text, used;
  if (!args.value(names, text, &used)) return false;
  const std::string label = flag_label(names, used);
  const double v = parse_float(label, text);
  // A finite double beyond float's range would turn into inf silently: say so instead.
  if (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max())
    usage_error(label, ": ", text, " is out of range for a float");
  out = static_cast<float>(v);
  return true;
}

}  // namespace cli
