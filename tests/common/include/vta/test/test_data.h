// Paths to the data the tests read from the repository (tests/data). A missing file means a broken
// checkout, so the accessors throw with the missing path instead of letting a test skip.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace vta::test {

// Throws when `path` does not exist; returns it otherwise.
inline std::filesystem::path require_test_data(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    throw std::runtime_error("test data missing: " + path.string() +
                             " (tests/data is part of the repository; is the checkout complete?)");
  }
  return path;
}

// tests/data itself.
inline std::filesystem::path test_data_dir() { return require_test_data(std::filesystem::path(VTA_TEST_DATA_DIR)); }

// The Apache VTA recordings (tests/data/conformance/tvm-vta-fsim), or one of them by name.
inline std::filesystem::path conformance_root() {
  return require_test_data(std::filesystem::path(VTA_CONFORMANCE_DIR) / "tvm-vta-fsim");
}
inline std::filesystem::path conformance_recording(const std::string& name) {
  const std::filesystem::path dir = conformance_root() / name;
  require_test_data(dir / "run000.insn.bin");
  return dir;
}

}  // namespace vta::test
