#include "util/memory.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "util/error.hpp"

namespace lem {

uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
}

std::string_view format_bytes(uint64_t bytes, char (&buf)[32]) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 6) v /= 1024, ++u;
  const auto r = u ? fmt::format_to_n(buf, sizeof buf - 1, "{:.2f} {}", v, units[u])
                   : fmt::format_to_n(buf, sizeof buf - 1, "{} B", bytes);
  return {buf, r.size < sizeof buf ? r.size : sizeof buf - 1};
}

void require_memory(std::optional<uint64_t> bytes, std::string_view what, std::string_view hint) {
  if (!bytes) fail(Status::OutOfMemory, "{} would need more than 2^64 bytes; {}", what, hint);
  const uint64_t have = physical_memory_bytes();
  if (have == 0 || *bytes <= have) return;
  char need_text[32], have_text[32];
  fail(Status::OutOfMemory, "{} needs {} ({} bytes), more than the {} of memory of this machine; {}", what,
       format_bytes(*bytes, need_text), *bytes, format_bytes(have, have_text), hint);
}

}  // namespace lem
