// Simulated device DRAM: a sparse set of allocated regions in a 64-bit device address space.
// Every simulator reads and writes through it, so an access outside every region is caught.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace vta::sim {

struct MemoryRegionInfo {
  uint64_t address = 0;
  uint64_t size = 0;
};

class DeviceMemory {
 public:
  // Allocations start at `base` (never 0, so 0 can mean "no buffer").
  explicit DeviceMemory(uint64_t base = 0x1000);
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  // Allocates a zeroed region; returns its device address (aligned to `alignment`, a power of two).
  uint64_t allocate(uint64_t bytes, uint64_t alignment = 64);
  // Maps a zeroed region at a fixed address (for replaying recorded programs). Throws MemoryError if it
  // overlaps an existing region.
  void map(uint64_t address, uint64_t bytes);
  // Maps [address, address + bytes) onto memory the caller owns (a board emulator's mmap of the file
  // that stands in for the board's contiguous memory); it must outlive the region. Same overlap rules.
  void map_external(uint64_t address, uint8_t* data, uint64_t bytes);
  // Frees the region starting at `address`; throws MemoryError if there is none.
  void free(uint64_t address);

  // Host pointer to [address, address + bytes), which must lie inside one region; throws MemoryError
  // naming the address otherwise. Pointers stay valid until the region is freed.
  uint8_t* at(uint64_t address, uint64_t bytes);
  const uint8_t* at(uint64_t address, uint64_t bytes) const;
  bool contains(uint64_t address, uint64_t bytes) const;

  void read(uint64_t address, void* dst, uint64_t bytes) const;
  void write(uint64_t address, const void* src, uint64_t bytes);

  std::vector<MemoryRegionInfo> regions() const;

 private:
  struct Region {
    uint64_t size;
    std::unique_ptr<uint8_t[]> owned;  // null for an external region
    uint8_t* data;
  };
  void check_free(uint64_t address, uint64_t bytes) const;
  const Region* find(uint64_t address, uint64_t bytes, uint64_t* region_base) const;

  std::map<uint64_t, Region> regions_;
  uint64_t next_address_;
  mutable uint64_t last_base_ = 0;  // one-entry lookup cache; 0 = empty
  mutable const Region* last_region_ = nullptr;  // the region cached at last_base_
};

}  // namespace vta::sim
