// FsimDevice: the Device interface over the functional simulator. Device memory is a sim::DeviceMemory;
// the control/status registers of register_map.h are emulated, and writing kControlStart runs the
// simulator synchronously, so the board protocol is exercised without hardware.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "vta/driver/device.h"
#include "vta/fsim/functional_simulator.h"
#include "src/sim_buffers.h"
#include "vta/sim/device_memory.h"

namespace vta::driver {

// Values of reg::kErrorCode after a failed run on fsim.
namespace fsim_error {
inline constexpr uint32_t kNone = 0;
inline constexpr uint32_t kProgram = 1;  // vta::ProgramError: bad instruction, deadlock, ...
inline constexpr uint32_t kMemory = 2;   // vta::MemoryError: access outside every buffer
inline constexpr uint32_t kOther = 3;    // any other vta::Error
inline constexpr uint32_t kTimeout = 4;  // vta::TimeoutError: past the run's timeout or work limit
}  // namespace fsim_error

class FsimDevice final : public Device {
 public:
  FsimDevice(std::string name, const isa::HwConfig& config, fsim::Options options);
  ~FsimDevice() override;
  FsimDevice(const FsimDevice&) = delete;
  FsimDevice& operator=(const FsimDevice&) = delete;

  std::string name() const override { return name_; }
  const isa::HwConfig& config() const override { return config_; }

  DeviceBuffer allocate(uint64_t bytes, uint64_t alignment = 64) override;
  DeviceBuffer map_at(uint64_t device_address, uint64_t bytes) override;
  void free(const DeviceBuffer& buffer) override;
  std::vector<DeviceBuffer> buffers() const override;

  void flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;
  void invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;

  void write_register(uint32_t offset, uint32_t value) override;
  uint32_t read_register(uint32_t offset) override;

  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) override;
  isa::ExecutionCounters counters() const override { return counters_; }

 private:
  // Runs the program the instruction registers describe and updates status, error and counters.
  void launch();

  std::string name_;
  isa::HwConfig config_;
  sim::DeviceMemory memory_;
  fsim::FunctionalSimulator simulator_;
  SimBuffers buffers_;

  // Register file.
  uint32_t insn_addr_lo_ = 0;
  uint32_t insn_addr_hi_ = 0;
  uint32_t insn_count_ = 0;
  uint32_t status_ = 0;
  uint32_t error_code_ = fsim_error::kNone;
  std::string error_message_;  // of the last launch
  double last_wall_seconds_ = 0.0;
  // Deadline of the next launch: set by run() from its timeout; a launch through the registers alone
  // has none (only the work limit bounds it).
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  isa::ExecutionCounters counters_;
  std::vector<uint64_t> counter_values_;  // counters_.items() values, latched for register reads
};

}  // namespace vta::driver
