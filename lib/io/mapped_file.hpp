// Read-only memory map of a whole file (RAII). Model weights are used in place from the map:
// nothing is copied, and the OS pages in only what is touched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace lem::io {

class MappedFile {
 public:
  // Throws lem::Error(Status::Io) naming the path and the OS error when it cannot be opened or mapped.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const noexcept { return data_; }
  uint64_t size() const noexcept { return size_; }
  std::span<const uint8_t> bytes() const noexcept { return {data_, static_cast<size_t>(size_)}; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  void* mapping_ = nullptr;  // nullptr for an empty file (mmap cannot map 0 bytes)
};

}  // namespace lem::io
