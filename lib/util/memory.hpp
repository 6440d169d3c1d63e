// Sane bounds for big allocations whose size comes from outside (a model's context length, a
// caller's batch size): refuse them with a message that names the size, before allocating,
// instead of a std::bad_alloc (or the OOM killer) later.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace lem {

// Physical memory of this machine in bytes (0 when the OS does not say).
uint64_t physical_memory_bytes();

// Throws lem::Error(OutOfMemory) naming `what` and the size when `bytes` is nullopt (the size
// overflowed) or more than the machine's physical memory; `hint` says what to change.
void require_memory(std::optional<uint64_t> bytes, std::string_view what, std::string_view hint);

// "1.50 GiB"-style text for messages.
std::string_view format_bytes(uint64_t bytes, char (&buf)[32]);

}  // namespace lem
