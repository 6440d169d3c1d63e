// Paths to test data. Large fixtures are unpacked into the build tree (LEM_TEST_DATA_DIR);
// small raw files live in the source tree (LEM_TEST_SRC_DATA_DIR).
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace lem::test {

inline std::string data_path(const std::string& rel) { return std::string(LEM_TEST_DATA_DIR) + "/" + rel; }
inline std::string src_data_path(const std::string& rel) { return std::string(LEM_TEST_SRC_DATA_DIR) + "/" + rel; }

inline std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

}  // namespace lem::test
