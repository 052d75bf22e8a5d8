// The buffer bookkeeping every simulated backend shares (fsim, tlm, tsim): buffers are regions of a
// sim::DeviceMemory, whose host pointers point straight into it; allocation, fixed-address mapping, free
// and the range check of flush/invalidate, with the same errors on every backend.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vta/driver/device.h"
#include "vta/sim/device_memory.h"

namespace vta::driver {

class SimBuffers {
 public:
  // `name` prefixes every error (the device's name).
  SimBuffers(sim::DeviceMemory& memory, std::string name) : memory_(memory), name_(std::move(name)) {}

  DeviceBuffer allocate(uint64_t bytes, uint64_t alignment);
  DeviceBuffer map_at(uint64_t device_address, uint64_t bytes);
  void free(const DeviceBuffer& buffer);
  std::vector<DeviceBuffer> buffers() const;
  // Throws MemoryError unless `buffer` is live and [offset, offset + bytes) lies inside it.
  void check_range(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes, const char* what) const;

 private:
  DeviceBuffer add(uint64_t address, uint64_t bytes);

  sim::DeviceMemory& memory_;
  std::string name_;
  std::map<uint64_t, DeviceBuffer> buffers_;  // by device address
};

}  // namespace vta::driver
