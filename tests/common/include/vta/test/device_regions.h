// Putting a generated program's memory regions on a Device and comparing two devices' copies of them:
// what the fsim<->tsim differential and stress tests do around every program.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "vta/driver/device.h"
#include "vta/test/random_program.h"

namespace vta::test {

// Maps every region of `g` at its address on `dev` (after freeing what a previous program left) and
// fills it.
inline void load_regions(driver::Device& dev, const GeneratedProgram& g) {
  for (const auto& b : dev.buffers()) dev.free(b);
  for (const auto& r : g.regions) {
    const driver::DeviceBuffer buf = dev.map_at(r.address, r.bytes.size());
    std::memcpy(buf.host, r.bytes.data(), r.bytes.size());
    dev.flush(buf, 0, buf.size);
  }
}

// The first byte of `g`'s regions where the two devices differ, as a sentence naming both values, or "".
inline std::string compare_regions(const GeneratedProgram& g, driver::Device& a, driver::Device& b) {
  const auto find = [](driver::Device& d, uint64_t address) {
    for (const auto& buf : d.buffers())
      if (buf.device_address == address) return buf;
    return driver::DeviceBuffer{};
  };
  for (const auto& r : g.regions) {
    const driver::DeviceBuffer x = find(a, r.address), y = find(b, r.address);
    if (!x || !y) return "region at " + std::to_string(r.address) + " not mapped";
    a.invalidate(x, 0, x.size);
    b.invalidate(y, 0, y.size);
    if (std::memcmp(x.host, y.host, x.size) == 0) continue;
    for (uint64_t i = 0; i < x.size; ++i)
      if (x.host[i] != y.host[i]) {
        char buf[240];
        std::snprintf(buf, sizeof buf, "byte at %#llx (region %#llx + %llu) differs: %s %u, %s %u",
                      static_cast<unsigned long long>(r.address + i), static_cast<unsigned long long>(r.address),
                      static_cast<unsigned long long>(i), a.name().c_str(), x.host[i], b.name().c_str(), y.host[i]);
        return buf;
      }
  }
  return "";
}

}  // namespace vta::test
