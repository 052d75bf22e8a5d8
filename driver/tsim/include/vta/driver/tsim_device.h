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
#include "vta/isa/register_map.h"

namespace vta::driver {

// Faults the tsim memory model injects (the driver's copy of tsim::TsimFaults, see docs/hardware.md):
// cycle and beat numbers count from the start of a run; one-shot faults disarm when they fire.
struct TsimFaultOptions {
  uint64_t error_addr_lo = 0;  // beats in [lo, hi) get an error response (reads and writes); empty = off
  uint64_t error_addr_hi = 0;
  std::optional<uint64_t> read_error_after_beats;  // one-shot: the read beat after N beats errs
  uint32_t error_resp = 2;                         // 2 SLVERR, 3 DECERR
  std::optional<uint64_t> stall_at_cycle;          // one-shot: the memory stops answering (until hard reset)
  std::optional<uint64_t> interrupt_at_cycle;      // one-shot: the run is stopped there, as cancel() does
};

struct TsimDeviceOptions {
  // DRAM model; unset = the config's "timing" object (dram_latency_cycles, dram_bytes_per_cycle).
  std::optional<uint32_t> dram_latency_cycles;     // AR accepted -> first R beat, and last W -> B
  std::optional<uint32_t> dram_bytes_per_cycle;    // shared by reads and writes
  uint32_t max_outstanding = 16;                   // AR/AW bursts the memory accepts before stalling
  std::string trace_path;                          // FST waveform of every run; empty = none
  uint64_t watchdog_cycles = 1'000'000;            // cycles without progress that count as a hang
  uint64_t max_cycles = 0;                         // per run; 0 = no limit (the watchdog still applies)
  uint64_t soft_reset_cycles = 100'000;            // how long recovery waits for a soft reset to drain
  TsimFaultOptions faults;                         // none by default

  // Reads VTA_TSIM_DRAM_LATENCY, VTA_TSIM_DRAM_BYTES_PER_CYCLE, VTA_TSIM_MAX_OUTSTANDING, VTA_TSIM_TRACE
  // (a .fst path), VTA_TSIM_WATCHDOG_CYCLES and VTA_TSIM_MAX_CYCLES over the defaults above.
  // Throws vta::Error naming the variable on a malformed value.
  static TsimDeviceOptions from_environment();
};

// Hardware error codes of the core (ERROR_CODE register; defined in vta/isa/register_map.h, which the
// RTL's generated package shares).
namespace tsim_error {
inline constexpr uint32_t kNone = isa::reg::kErrNone;
inline constexpr uint32_t kOpcode = isa::reg::kErrOpcode;         // unassigned opcode
inline constexpr uint32_t kMemoryType = isa::reg::kErrMemType;    // memory type invalid for the instruction
inline constexpr uint32_t kAluOpcode = isa::reg::kErrAluOp;       // unassigned ALU opcode
inline constexpr uint32_t kDependency = isa::reg::kErrDepFlags;   // dependency flag the module cannot have
inline constexpr uint32_t kBus = isa::reg::kErrAxi;               // AXI SLVERR/DECERR
inline constexpr uint32_t kDeadlock = isa::reg::kErrDeadlock;     // every module waits on a token
inline constexpr uint32_t kIndex = isa::reg::kErrIndex;           // on-chip buffer index out of range
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

  // Errors: the hardware's error code and instruction index (with its disassembly) in the message, and
  // for an out-of-range index the buffer, the index and the depth, worded as fsim words it; a hang is
  // reported by the watchdog with the cycle and the stalled module. After a run that did not end cleanly
  // the core is soft-reset (CONTROL.soft_reset) before run() returns, or hard-reset when the soft reset
  // cannot drain the bus (a memory that does not answer), so the device stays usable and nothing of the
  // failed run reaches memory afterwards; read_register() still returns the failed run's STATUS and
  // ERROR_* registers (read before the reset) until the next run or CONTROL write.
  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) override;
  isa::ExecutionCounters counters() const override;

  // The core's extra counters of the last run (busy/stall cycles per module, ...), in register order.
  std::vector<std::pair<std::string, uint64_t>> extra_counters() const override;
  // Clock cycles the harness simulated for the last run, register accesses included.
  uint64_t harness_cycles() const;
  const TsimDeviceOptions& options() const;

  // Replaces the injected faults (re-arms the one-shot ones).
  void set_faults(const TsimFaultOptions& faults);
  // Thread-safe: asks the run in progress to stop; it returns kError ("run cancelled at cycle N").
  void cancel();
  // Recoveries done before runs so far, and how the last one went ("soft reset", "hard reset: ...").
  uint64_t soft_resets() const;
  uint64_t hard_resets() const;
  std::string last_recovery() const;
  // Memory bursts the memory model still owes an answer (0 once a soft reset has drained the bus).
  uint64_t memory_outstanding() const;

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
