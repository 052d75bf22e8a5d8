#include "vta/sim/device_memory.h"

#include <cstring>
#include <sstream>

#include "vta/isa/error.h"

namespace vta::sim {
namespace {

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

std::string range_text(uint64_t address, uint64_t bytes) {
  return "[" + hex(address) + ", +" + std::to_string(bytes) + " bytes)";
}

// End of [address, address + bytes), or nullopt-like false if it wraps around 2^64.
bool end_of(uint64_t address, uint64_t bytes, uint64_t* end) {
  *end = address + bytes;
  return *end >= address;
}

}  // namespace

DeviceMemory::DeviceMemory(uint64_t base) : next_address_(base == 0 ? 0x1000 : base) {}

uint64_t DeviceMemory::allocate(uint64_t bytes, uint64_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw MemoryError("allocation alignment " + std::to_string(alignment) + " is not a power of two");
  // Every region occupies at least one address so that two allocations never share a base.
  const uint64_t footprint = bytes == 0 ? 1 : bytes;
  uint64_t candidate = (next_address_ + alignment - 1) & ~(alignment - 1);
  for (;;) {
    if (candidate < next_address_) throw MemoryError("device address space exhausted");
    uint64_t end = 0;
    if (!end_of(candidate, footprint, &end)) throw MemoryError("device address space exhausted");
    // First region starting at or after the candidate, and the one before it.
    auto it = regions_.lower_bound(candidate);
    uint64_t conflict_end = 0;
    bool conflict = false;
    if (it != regions_.begin()) {
      auto prev = std::prev(it);
      const uint64_t prev_end = prev->first + (prev->second.size == 0 ? 1 : prev->second.size);
      if (prev_end > candidate) {
        conflict = true;
        conflict_end = prev_end;
      }
    }
    if (!conflict && it != regions_.end() && it->first < end) {
      conflict = true;
      conflict_end = it->first + (it->second.size == 0 ? 1 : it->second.size);
    }
    if (!conflict) break;
    const uint64_t next = (conflict_end + alignment - 1) & ~(alignment - 1);
    if (next <= candidate) throw MemoryError("device address space exhausted");
    candidate = next;
  }
  auto owned = std::make_unique<uint8_t[]>(footprint);  // value-initialized: zeroed
  uint8_t* data = owned.get();
  regions_.emplace(candidate, Region{bytes, std::move(owned), data});
  next_address_ = candidate + footprint;
  return candidate;
}

void DeviceMemory::check_free(uint64_t address, uint64_t bytes) const {
  const uint64_t footprint = bytes == 0 ? 1 : bytes;
  uint64_t end = 0;
  if (!end_of(address, footprint, &end))
    throw MemoryError("cannot map " + range_text(address, bytes) + ": wraps around the address space");
  auto it = regions_.lower_bound(address);
  if (it != regions_.end() && it->first < end)
    throw MemoryError("cannot map " + range_text(address, bytes) + ": overlaps the region at " + hex(it->first));
  if (it != regions_.begin()) {
    auto prev = std::prev(it);
    const uint64_t prev_end = prev->first + (prev->second.size == 0 ? 1 : prev->second.size);
    if (prev_end > address)
      throw MemoryError("cannot map " + range_text(address, bytes) + ": overlaps the region at " +
                        hex(prev->first));
  }
}

void DeviceMemory::map(uint64_t address, uint64_t bytes) {
  check_free(address, bytes);
  auto owned = std::make_unique<uint8_t[]>(bytes == 0 ? 1 : bytes);
  uint8_t* data = owned.get();
  regions_.emplace(address, Region{bytes, std::move(owned), data});
}

void DeviceMemory::map_external(uint64_t address, uint8_t* data, uint64_t bytes) {
  if (data == nullptr || bytes == 0) throw MemoryError("external region at " + hex(address) + " has no memory");
  check_free(address, bytes);
  regions_.emplace(address, Region{bytes, nullptr, data});
}

void DeviceMemory::free(uint64_t address) {
  auto it = regions_.find(address);
  if (it == regions_.end()) throw MemoryError("free of " + hex(address) + ": no region starts there");
  if (last_region_ == &it->second) {
    last_base_ = 0;
    last_region_ = nullptr;
  }
  regions_.erase(it);
}

const DeviceMemory::Region* DeviceMemory::find(uint64_t address, uint64_t bytes, uint64_t* region_base) const {
  uint64_t end = 0;
  if (!end_of(address, bytes, &end)) return nullptr;
  // Fast path: the region of the previous lookup.
  if (last_region_ != nullptr && address >= last_base_ && end - last_base_ <= last_region_->size) {
    *region_base = last_base_;
    return last_region_;
  }
  auto it = regions_.upper_bound(address);
  if (it == regions_.begin()) return nullptr;
  --it;
  const uint64_t base = it->first;
  if (end - base > it->second.size) return nullptr;
  last_base_ = base;
  last_region_ = &it->second;
  *region_base = base;
  return &it->second;
}

const uint8_t* DeviceMemory::at(uint64_t address, uint64_t bytes) const {
  uint64_t base = 0;
  const Region* r = find(address, bytes, &base);
  if (r == nullptr) {
    std::string msg = "device memory access " + range_text(address, bytes);
    auto it = regions_.upper_bound(address);
    if (it != regions_.begin()) {
      --it;
      if (address < it->first + it->second.size) {
        msg += " runs past the end of the region " + range_text(it->first, it->second.size);
        throw MemoryError(msg);
      }
    }
    throw MemoryError(msg + " is outside every allocated region");
  }
  return r->data + (address - base);
}

uint8_t* DeviceMemory::at(uint64_t address, uint64_t bytes) {
  return const_cast<uint8_t*>(static_cast<const DeviceMemory*>(this)->at(address, bytes));
}

bool DeviceMemory::contains(uint64_t address, uint64_t bytes) const {
  uint64_t base = 0;
  return find(address, bytes, &base) != nullptr;
}

void DeviceMemory::read(uint64_t address, void* dst, uint64_t bytes) const {
  if (bytes == 0) return;
  std::memcpy(dst, at(address, bytes), bytes);
}

void DeviceMemory::write(uint64_t address, const void* src, uint64_t bytes) {
  if (bytes == 0) return;
  std::memcpy(at(address, bytes), src, bytes);
}

std::vector<MemoryRegionInfo> DeviceMemory::regions() const {
  std::vector<MemoryRegionInfo> out;
  out.reserve(regions_.size());
  for (const auto& [address, region] : regions_) out.push_back({address, region.size});
  return out;
}

}  // namespace vta::sim
