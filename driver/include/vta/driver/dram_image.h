// A set of device-memory regions with their bytes: Apache VTA's "VTADRAM1" container, and the image
// form of a trace. Used to load memory before a run and to compare it after.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace vta::driver {

struct DramRegion {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

struct DramImage {
  std::vector<DramRegion> regions;  // sorted by address, non-overlapping

  // "VTADRAM1" container: 8-byte magic, u32 count, u32 0, then per region u64 address, u64 size, bytes.
  // Throws vta::Error with the file name on a malformed file.
  static DramImage read_vtadram(const std::filesystem::path& path);
  void write_vtadram(const std::filesystem::path& path) const;
};

}  // namespace vta::driver
