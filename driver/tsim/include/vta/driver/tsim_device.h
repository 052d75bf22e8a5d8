// TsimDevice: the Device interface over tsim, the Verilated RTL core (simulator/tsim). Device memory is a
// sim::DeviceMemory that the harness's AXI4 memory model serves to the core; registers are read and written
// through the core's AXI4-Lite port (the board protocol, register_map.h). Runs are synchronous: run() (or a
// start written to kControl) clocks the model until done, error, watchdog or timeout.
//
// Only built when Verilator is available (VTA_HAVE_TSIM is defined to 1 for users of vta::driver then).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vta/driver/device.h"

namespace vta::driver {

struct TsimDeviceOptions {
  // DRAM model; unset = the config's "timing" object (dram_latency_cycles, dram_bytes_per_cycle).
  std::optional<uint32_t> dram_latency_cycles;     // AR accepted -> first R beat, and last W -> B
  std::optional<uint32_t> dram_bytes_per_cycle;    // shared by reads and writes
  uint32_t max_outstanding = 16;                   // AR/AW bursts the memory accepts before stalling
  std::string trace_path;                          // FST waveform of every run; empty = none
  uint64_t watchdog_cycles = 1'000'000;            // cycles without progress that count as a hang
  uint64_t max_cycles = 0;                         // per run; 0 = no limit (the watchdog still applies)

  // Reads VTA_TSIM_DRAM_LATENCY, VTA_TSIM_DRAM_BYTES_PER_CYCLE, VTA_TSIM_MAX_OUTSTANDING, VTA_TSIM_TRACE
  // (a .fst path), VTA_TSIM_WATCHDOG_CYCLES and VTA_TSIM_MAX_CYCLES over the defaults above.
  // Throws vta::Error naming the variable on a malformed value.
  static TsimDeviceOptions from_environment();
};

// Hardware error codes of the core (ERROR_CODE register, hardware/rtl/vta_hw_pkg.sv).
namespace tsim_error {
inline constexpr uint32_t kNone = 0;
inline constexpr uint32_t kOpcode = 1;       // unassigned opcode
inline constexpr uint32_t kMemoryType = 2;   // memory type invalid for the instruction
inline constexpr uint32_t kAluOpcode = 3;    // unassigned ALU opcode
inline constexpr uint32_t kDependency = 4;   // dependency flag the module cannot have
inline constexpr uint32_t kBus = 5;          // AXI SLVERR/DECERR
inline constexpr uint32_t kDeadlock = 6;     // every module waits on a token (hardware detector)
const char* describe(uint32_t code);
}  // namespace tsim_error

class TsimDevice final : public Device {
 public:
  // Uses the linked model whose config hash equals config.hash() (one per config/*.json); throws
  // ConfigError (a vta::Error) listing the configs that have models when there is none.
  TsimDevice(std::string name, const isa::HwConfig& config, TsimDeviceOptions options = {});
  ~TsimDevice() override;
  TsimDevice(const TsimDevice&) = delete;
  TsimDevice& operator=(const TsimDevice&) = delete;

  std::string name() const override;
  const isa::HwConfig& config() const override;

  DeviceBuffer allocate(uint64_t bytes, uint64_t alignment = 64) override;
  DeviceBuffer map_at(uint64_t device_address, uint64_t bytes) override;
  void free(const DeviceBuffer& buffer) override;
  std::vector<DeviceBuffer> buffers() const override;

  void flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;
  void invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;

  // Through the core's AXI4-Lite port. Writing kControlStart runs the program the instruction registers
  // describe to completion (as run() does) before returning.
  void write_register(uint32_t offset, uint32_t value) override;
  uint32_t read_register(uint32_t offset) override;

  // Errors: the hardware's error code and instruction index (with its disassembly) in the message; a
  // hang is reported by the watchdog with the cycle and the stalled module. After a run that did not end
  // cleanly the core is reset before the next run, so the device stays usable.
  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) override;
  isa::ExecutionCounters counters() const override;

  // The core's extra counters of the last run (busy/stall cycles per module, ...), in register order.
  std::vector<std::pair<std::string, uint64_t>> extra_counters() const;
  // Clock cycles the harness simulated for the last run, register accesses included.
  uint64_t harness_cycles() const;
  const TsimDeviceOptions& options() const;

  // The default config's model hash; whether a model for `config` is linked; every linked model.
  static std::string built_config_hash();
  static bool has_model(const isa::HwConfig& config);
  static std::vector<std::string> model_configs();  // "<stem> (hash <hash>)", default first
  static bool has_trace_support();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::driver
