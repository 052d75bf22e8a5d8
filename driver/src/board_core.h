// BoardCore: what every board backend does once it has a register window and a physically contiguous
// memory region, whatever gave it those (UIO + u-dma-buf on Zynq, xrt::ip + one xrt::bo on Alveo, or a
// board emulator's files): the identity check, buffers carved out of the region (first fit, aligned in
// physical addresses, checked against the core port's address width), cache maintenance through the
// backend's hook, and runs through the shared board protocol with timeouts and soft-reset recovery.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "vta/driver/board_protocol.h"
#include "vta/driver/device.h"

namespace vta::driver {

class BoardCore {
 public:
  struct Memory {
    uint64_t phys = 0;       // device (physical) address of the region
    uint8_t* host = nullptr;  // its mapping in this process
    uint64_t size = 0;
  };
  // Cache maintenance of [offset, offset + bytes) of the region; empty = coherent, nothing to do.
  using Sync = std::function<void(uint64_t offset, uint64_t bytes, bool for_device)>;

  // Checks the region against `address_bits` and the core's identity against `config` (throws vta::Error
  // naming `where`).
  BoardCore(std::string name, const isa::HwConfig& config, RegisterPort& port, Memory memory, Sync sync,
            uint32_t address_bits, std::chrono::milliseconds default_timeout, const std::string& where);

  const std::string& name() const { return name_; }
  const isa::HwConfig& config() const { return config_; }
  const Memory& memory() const { return memory_; }

  DeviceBuffer allocate(uint64_t bytes, uint64_t alignment);
  DeviceBuffer map_at(uint64_t device_address, uint64_t bytes);
  void free(const DeviceBuffer& buffer);
  std::vector<DeviceBuffer> buffers() const;
  void flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) { sync(buffer, offset, bytes, true, "flush"); }
  void invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
    sync(buffer, offset, bytes, false, "invalidate");
  }

  void write_register(uint32_t offset, uint32_t value) { port_.write(offset, value); }
  uint32_t read_register(uint32_t offset) { return port_.read(offset); }

  // `timeout` 0 = the default timeout: a core that never reports done must not hang the host.
  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout);
  const CoreOutcome& last() const { return last_; }
  uint64_t syncs_for_device() const { return syncs_for_device_; }
  uint64_t syncs_for_cpu() const { return syncs_for_cpu_; }

 private:
  uint64_t offset_of(const DeviceBuffer& b) const;
  bool range_free(uint64_t offset, uint64_t footprint) const;
  void sync(const DeviceBuffer& b, uint64_t offset, uint64_t bytes, bool for_device, const char* what);
  std::string recover();

  std::string name_;
  isa::HwConfig config_;
  RegisterPort& port_;
  Memory memory_;
  Sync sync_;
  std::chrono::milliseconds default_timeout_;
  std::string where_;
  std::map<uint64_t, uint64_t> used_;  // offset in the region -> bytes (at least 1)
  CoreOutcome last_;
  uint64_t syncs_for_device_ = 0, syncs_for_cpu_ = 0;
};

}  // namespace vta::driver
