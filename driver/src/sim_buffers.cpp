#include "src/sim_buffers.h"

#include <fmt/format.h>

#include "vta/isa/error.h"

namespace vta::driver {

DeviceBuffer SimBuffers::add(uint64_t address, uint64_t bytes) {
  const DeviceBuffer buffer{address, memory_.at(address, bytes), bytes};
  buffers_[address] = buffer;
  return buffer;
}

DeviceBuffer SimBuffers::allocate(uint64_t bytes, uint64_t alignment) {
  if (bytes == 0) throw MemoryError(fmt::format("{}: cannot allocate a buffer of 0 bytes", name_));
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw MemoryError(fmt::format("{}: alignment {} is not a power of two", name_, alignment));
  return add(memory_.allocate(bytes, alignment), bytes);
}

DeviceBuffer SimBuffers::map_at(uint64_t device_address, uint64_t bytes) {
  if (bytes == 0) throw MemoryError(fmt::format("{}: cannot map a buffer of 0 bytes at {:#x}", name_, device_address));
  if (device_address + bytes < device_address)
    throw MemoryError(fmt::format("{}: buffer of {} bytes at {:#x} wraps around the address space", name_, bytes,
                                  device_address));
  memory_.map(device_address, bytes);
  return add(device_address, bytes);
}

void SimBuffers::free(const DeviceBuffer& buffer) {
  const auto it = buffers_.find(buffer.device_address);
  if (it == buffers_.end() || it->second.host != buffer.host || it->second.size != buffer.size)
    throw MemoryError(fmt::format("{}: free of a buffer that is not allocated (device address {:#x}, {} bytes)", name_,
                                  buffer.device_address, buffer.size));
  memory_.free(buffer.device_address);
  buffers_.erase(it);
}

std::vector<DeviceBuffer> SimBuffers::buffers() const {
  std::vector<DeviceBuffer> out;
  out.reserve(buffers_.size());
  for (const auto& entry : buffers_) out.push_back(entry.second);
  return out;
}

void SimBuffers::check_range(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes, const char* what) const {
  const auto it = buffers_.find(buffer.device_address);
  if (it == buffers_.end() || it->second.host != buffer.host || it->second.size != buffer.size)
    throw MemoryError(fmt::format("{}: {} of a buffer that is not allocated (device address {:#x})", name_, what,
                                  buffer.device_address));
  if (offset > buffer.size || bytes > buffer.size - offset)
    throw MemoryError(fmt::format("{}: {} of bytes [{}, {}) outside the {}-byte buffer at {:#x}", name_, what, offset,
                                  offset + bytes, buffer.size, buffer.device_address));
}

}  // namespace vta::driver
