// The one interface every backend implements: fsim, tlm, tsim and the boards.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {

// A physically contiguous buffer in device memory, visible to the host through `host`.
struct DeviceBuffer {
  uint64_t device_address = 0;
  uint8_t* host = nullptr;
  uint64_t size = 0;
  explicit operator bool() const { return host != nullptr; }
};

enum class RunStatus { kOk, kTimeout, kError };

struct RunResult {
  RunStatus status = RunStatus::kOk;
  std::string message;  // why, when status != kOk
  std::vector<std::string> warnings;  // non-fatal findings, e.g. dependency tokens left at the end
  isa::ExecutionCounters counters;
  double wall_seconds = 0.0;
  bool ok() const { return status == RunStatus::kOk; }
};

class Device {
 public:
  virtual ~Device() = default;

  virtual std::string name() const = 0;
  virtual const isa::HwConfig& config() const = 0;

  // Buffers. Throws MemoryError when memory is exhausted or the address is taken.
  virtual DeviceBuffer allocate(uint64_t bytes, uint64_t alignment = 64) = 0;
  // A buffer at a fixed device address (for replaying recorded programs); boards may refuse.
  virtual DeviceBuffer map_at(uint64_t device_address, uint64_t bytes) = 0;
  virtual void free(const DeviceBuffer& buffer) = 0;
  // Every live buffer, in address order (used to record traces).
  virtual std::vector<DeviceBuffer> buffers() const = 0;

  // Cache maintenance: host writes -> device (flush), device writes -> host (invalidate).
  virtual void flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) = 0;
  virtual void invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) = 0;

  // The control/status register file (see register_map.h).
  virtual void write_register(uint32_t offset, uint32_t value) = 0;
  virtual uint32_t read_register(uint32_t offset) = 0;

  // Runs `insn_count` instructions stored at `insn_address`; never throws for a bad program: the
  // result carries status and message. Blocks until done, error or timeout.
  virtual RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) = 0;

  // Counters of the last run.
  virtual isa::ExecutionCounters counters() const = 0;
  // The core's own counters of the last run (busy and stall cycles per module, ..., isa::reg::kCounters
  // from index 11, by name) where the backend models them (tsim, tlm, the boards); empty elsewhere.
  virtual std::vector<std::pair<std::string, uint64_t>> extra_counters() const { return {}; }
};

// Opens a backend by name: "fsim" (fast kernels), "fsim-ref" (reference interpreter), "fsim-serial"
// (program order, tokens ignored). Throws vta::Error naming the known targets for an unknown one.
std::unique_ptr<Device> open_device(std::string_view target, const isa::HwConfig& config);
std::vector<std::string> known_targets();

}  // namespace vta::driver
