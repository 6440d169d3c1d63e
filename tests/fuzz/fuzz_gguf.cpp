// libFuzzer target for the GGUF reader (built and run by run_fuzz_smoke.sh).
//
// The reader memory-maps a path, so each input is written to one per-process scratch file (in
// place, with pwrite + ftruncate: truncating to zero and rewriting makes ext4 flush the file on
// close, which costs milliseconds per input). An
// input either opens, and then every view it hands out is read (ASan flags any view outside the
// mapping), or fails with lem::Error; anything else (crash, other exception, sanitizer report,
// huge allocation) is a finding.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "util/error.hpp"
#include "io/gguf_file.hpp"

namespace {

using lem::io::GgufFile;
using lem::io::GgufValue;
using lem::io::GgufValueType;

// The scratch file, kept open for writing; removed when the fuzzer exits normally.
class ScratchFile {
 public:
  ScratchFile() : path_("/tmp/lem-fuzz-gguf-" + std::to_string(::getpid()) + ".gguf") {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) std::abort();  // /tmp is broken: not an input problem
  }
  ~ScratchFile() {
    ::close(fd_);
    std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void write(const uint8_t* data, size_t size) {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) std::abort();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

uint64_t touch_value(const GgufValue& v) {
  uint64_t sum = v.u + static_cast<uint64_t>(v.i) + v.b;
  for (char c : v.str) sum += static_cast<uint8_t>(c);
  if (v.type != GgufValueType::ARRAY) return sum;
  for (auto s : v.strings)
    for (char c : s) sum += static_cast<uint8_t>(c);
  for (const auto& a : v.arrays) sum += touch_value(a);
  if (v.packed)
    for (uint64_t k = 0; k < v.count; ++k) sum += static_cast<uint64_t>(v.int_at(k)) + (v.float_at(k) > 0);
  return sum;
}

uint64_t touch_all_views(const GgufFile& f) {
  uint64_t sum = f.alignment() + f.data_offset() + f.file_size();
  for (const auto& [key, v] : f.metadata()) {
    sum += touch_value(v);
    if (f.find(key) == nullptr) std::abort();  // every key must be found again
    // The typed getters throw on a type mismatch; they must never do anything worse.
    try { sum += f.get_uint(key).value_or(0); } catch (const lem::Error&) {}
    try { sum += f.get_float(key).value_or(0) > 0; } catch (const lem::Error&) {}
    try { sum += f.get_string(key).value_or("").size(); } catch (const lem::Error&) {}
    try { sum += f.get_bool(key).value_or(false); } catch (const lem::Error&) {}
  }
  for (const auto& t : f.tensors()) {
    if (f.find_tensor(t.name) != &t) std::abort();
    sum += t.n_elements() + static_cast<uint64_t>(t.type);
    if (t.nbytes) sum += t.data[0] + t.data[t.nbytes - 1];
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile scratch;
  scratch.write(data, size);
  try {
    const auto f = GgufFile::open(scratch.path());
    volatile uint64_t sink = touch_all_views(*f);
    (void)sink;
  } catch (const lem::Error&) {
    // Rejected cleanly.
  }
  return 0;
}
