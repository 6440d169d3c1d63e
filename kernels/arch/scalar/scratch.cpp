// Thread-local scratch buffers for the kernels (kernels/arch/scratch.hpp).
#include "kernels/arch/scratch.hpp"

#include <cstdlib>
#include <new>

namespace lem {
namespace {

struct ScratchBuffers {
  uint8_t* data[kScratchSlots] = {};
  size_t size[kScratchSlots] = {};

  ScratchBuffers() = default;
  ScratchBuffers(const ScratchBuffers&) = delete;
  ScratchBuffers& operator=(const ScratchBuffers&) = delete;
  ~ScratchBuffers() {
    for (uint8_t* p : data) std::free(p);
  }
};

thread_local ScratchBuffers t_scratch;

}  // namespace

uint8_t* kernel_scratch(ScratchSlot slot, size_t bytes) {
  const int i = static_cast<int>(slot);
  if (bytes > t_scratch.size[i]) {
    // Grow geometrically so that a sequence of slightly larger requests does not reallocate each time.
    size_t want = bytes + bytes / 2;
    want = (want + 63) / 64 * 64;
    void* p = std::aligned_alloc(64, want);
    if (p == nullptr) throw std::bad_alloc();
    std::free(t_scratch.data[i]);
    t_scratch.data[i] = static_cast<uint8_t*>(p);
    t_scratch.size[i] = want;
  }
  return t_scratch.data[i];
}

}  // namespace lem
