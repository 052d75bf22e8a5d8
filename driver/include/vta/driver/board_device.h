// BoardDevice: the Device interface of every board backend (zynq, xrt), over the BoardCore they share
// (driver/src/board_core.h: buffers in one contiguous region, the board protocol, recovery). A backend
// only sets up its register window and memory and hands the core over (set_core()).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vta/driver/device.h"

namespace vta::driver {

class BoardCore;

class BoardDevice : public Device {
 public:
  ~BoardDevice() override;

  std::string name() const override;
  const isa::HwConfig& config() const override;
  DeviceBuffer allocate(uint64_t bytes, uint64_t alignment = 64) override;
  // Inside the contiguous region only (a recorded trace replays when its addresses fall there).
  DeviceBuffer map_at(uint64_t device_address, uint64_t bytes) override;
  void free(const DeviceBuffer& buffer) override;
  std::vector<DeviceBuffer> buffers() const override;
  void flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;
  void invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;
  void write_register(uint32_t offset, uint32_t value) override;
  uint32_t read_register(uint32_t offset) override;
  // A zero timeout means the backend's default (a core that never reports done must not hang the host).
  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) override;
  isa::ExecutionCounters counters() const override;

  // The core's own counters of the last run (busy/stall cycles per module, ...), in register order.
  std::vector<std::pair<std::string, uint64_t>> extra_counters() const override;
  // Device address and size of the contiguous region.
  uint64_t memory_base() const;
  uint64_t memory_size() const;
  // Cache maintenance operations issued so far.
  uint64_t syncs_for_device() const;
  uint64_t syncs_for_cpu() const;

 protected:
  BoardDevice();
  void set_core(std::unique_ptr<BoardCore> core);
  // Backends destroy the core before what it refers to (their register window and memory).
  void reset_core();

 private:
  std::unique_ptr<BoardCore> core_;
};

}  // namespace vta::driver
