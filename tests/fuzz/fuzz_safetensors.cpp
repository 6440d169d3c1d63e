// libFuzzer target for the safetensors reader: every input must open or throw lem::Error.
//
// The reader's real entry point maps a file, so each input is written to an in-memory file
// (memfd) and opened through /proc/self/fd: the same path as production, no disk traffic.
// Build (see tests/fuzz/run_fuzz_smoke.sh):
//   clang++ -std=c++20 -I. -Ilib -Iinclude -I<build>/include lib/io/*.cpp lib/util/error.cpp \
//     kernels/ggml_types.cpp tests/fuzz/fuzz_safetensors.cpp -fsanitize=fuzzer,address,undefined
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "util/error.hpp"
#include "io/safetensors_file.hpp"

namespace {

// One memfd for the whole run, rewritten for each input.
int input_fd() {
  static const int fd = [] {
    const int f = ::memfd_create("fuzz_safetensors", MFD_CLOEXEC);
    if (f < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    return f;
  }();
  return fd;
}

void write_all(int fd, const uint8_t* data, size_t size) {
  if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) std::abort();
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n <= 0) std::abort();
    data += n;
    size -= static_cast<size_t>(n);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const int fd = input_fd();
  write_all(fd, data, size);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  try {
    auto file = lem::io::SafetensorsFile::open(path);
    // Touch every tensor's first and last byte: the views must lie inside the mapping.
    uint8_t sum = 0;
    for (const auto& t : file->tensors()) {
      if (t.nbytes() == 0) continue;
      sum ^= t.data[0] ^ t.data[t.nbytes() - 1];
      if (file->find(t.name) != &t) std::abort();
    }
    volatile uint8_t sink = sum;
    (void)sink;
  } catch (const lem::Error&) {
    // Rejected cleanly: the expected outcome for most inputs.
  }
  return 0;
}
