// tsim: the Verilated RTL core (hardware/rtl, vta_top) under a C++ harness. The harness plays the host
// through the AXI4-Lite register map (driver/include/vta/driver/register_map.h) and the DRAM through an
// AXI4 memory model backed by a sim::DeviceMemory, with configurable latency and bandwidth.
// Cycle counts come from the hardware's own counters.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/sim/device_memory.h"

namespace vta::tsim {

// Faults the memory model injects, to test how the core and the software above it fail and recover
// (tests/hardware/tsim_fault_test.cpp, docs/hardware.md). Cycle and beat numbers count from the start of
// a run. One-shot faults disarm when they fire; the address range stays until the faults are replaced.
struct TsimFaults {
  // Memory beats whose address lies in [error_addr_lo, error_addr_hi) are answered with an error response
  // (reads: RRESP; writes: BRESP of the burst): a hole in the address map. Empty range = off.
  uint64_t error_addr_lo = 0;
  uint64_t error_addr_hi = 0;
  // One-shot: the read beat after this many read beats of the run is answered with an error response.
  std::optional<uint64_t> read_error_after_beats;
  uint32_t error_resp = 2;  // the response of an injected error: 2 SLVERR, 3 DECERR
  // One-shot: from this cycle of the run on the memory accepts no request and answers nothing (ARREADY,
  // AWREADY, WREADY low, no R beat, no B) until a hard reset (Tsim::reset()): the core cannot drain it,
  // so the run ends by the watchdog or the cycle limit and a soft reset cannot complete.
  std::optional<uint64_t> stall_at_cycle;
  // One-shot: the harness stops the run at this cycle, as Tsim::cancel() would (the core keeps running).
  std::optional<uint64_t> interrupt_at_cycle;
  bool any() const {
    return error_addr_hi > error_addr_lo || read_error_after_beats || stall_at_cycle || interrupt_at_cycle;
  }
};

struct TsimOptions {
  uint32_t read_latency = 64;    // cycles from AR accepted to first R beat
  uint32_t write_latency = 64;   // cycles from last W beat to B
  uint32_t bytes_per_cycle = 8;  // DRAM bandwidth shared by reads and writes
  uint32_t max_outstanding = 16; // AR/AW requests the memory accepts before stalling
  std::string trace_path;        // FST waveform file; empty = no waveform (needs a model built with
                                 // VTA_TSIM_TRACE=ON, see has_trace_support())
  uint64_t watchdog_cycles = 1'000'000;  // cycles without progress (counters, memory beats) = a hang
  TsimFaults faults;                     // none by default

  // Defaults from the config's "timing" object.
  static TsimOptions from_config(const isa::HwConfig& config);
};

// A Verilated model linked into this build (one per config, see docs/hardware.md).
struct TsimModelInfo {
  std::string config_stem;  // config/<stem>.json
  std::string config_hash;  // HwConfig::hash()
  bool traced = false;      // a --trace-fst model is linked too (waveforms possible)
};

struct TsimResult {
  bool done = false;             // STATUS.done seen before the cycle limit
  bool error = false;            // STATUS.error
  uint32_t error_code = 0;       // ERROR_CODE (see docs/hardware.md)
  uint32_t error_index = 0;      // instruction index of the first error
  uint32_t error_info = 0;       // ERROR_INFO: buffer operand (index error) or requester/response (bus error)
  uint32_t error_addr = 0;       // ERROR_ADDR: the out-of-range buffer index
  uint64_t bus_error_address = 0;  // for a bus error (code 5): the last address the memory model refused
  isa::ExecutionCounters counters;
  // The core's extra counters (index 11.. of the counter block), by name, in register order.
  std::vector<std::pair<std::string, uint64_t>> extra_counters;
  uint64_t harness_cycles = 0;   // clock cycles simulated for this run (including register accesses)
  // The harness's own limits (the hardware's deadlock detector reports error 6 instead):
  bool hung = false;             // the watchdog saw no progress for watchdog_cycles
  bool cycle_limit = false;      // max_cycles passed without done
  bool wall_timeout = false;     // the wall-clock limit passed without done
  bool interrupted = false;      // stopped by cancel() or the interrupt_at_cycle fault
  bool memory_stalled = false;   // the stall_at_cycle fault fired during the run
  std::string report;            // for hung/cycle_limit/wall_timeout: cycle and per-module state
};

class Tsim {
 public:
  // Picks the linked model whose config hash equals config.hash(); throws ConfigError (a vta::Error)
  // listing the built models when there is none.
  Tsim(const isa::HwConfig& config, sim::DeviceMemory& memory, TsimOptions options = {});
  ~Tsim();
  Tsim(const Tsim&) = delete;
  Tsim& operator=(const Tsim&) = delete;

  // Every linked model (default first); whether one exists for `config` (compared by hash).
  static std::vector<TsimModelInfo> models();
  static bool has_model(const isa::HwConfig& config);
  // The hash of the first linked model's config (the default config).
  static std::string built_config_hash();

  // Hard reset: rst_ni for a few cycles, and the memory model forgets every transaction in flight (as a
  // system reset would reset the interconnect).
  void reset();
  // Soft reset through the register file (CONTROL.soft_reset): waits until STATUS.resetting falls, at
  // most `max_cycles`. Returns false when it did not (a memory that does not answer): reset() then.
  bool soft_reset(uint64_t max_cycles = 100'000);
  // Replaces the injected faults (one-shot faults are re-armed).
  void set_faults(const TsimFaults& faults);
  // Asks a run in progress (in another thread) to stop at its next check, every few thousand cycles;
  // the run returns with `interrupted`. Cleared when the next run starts.
  void cancel();
  // Memory bursts the memory model still has to answer (reads and writes); 0 after a drained soft reset.
  uint64_t memory_outstanding() const;
  uint32_t read_reg(uint32_t address);
  void write_reg(uint32_t address, uint32_t value);

  // Writes INSN_ADDR/INSN_COUNT, starts, and polls STATUS until done, `max_cycles` pass, the watchdog
  // fires, or `wall_seconds` (> 0) of host time pass. Without done the core is left running: reset() it.
  TsimResult run(uint64_t insn_addr, uint32_t insn_count, uint64_t max_cycles = 100'000'000,
                 double wall_seconds = 0.0);

  // True when a traced model (FST waveform support) is linked, for at least the default config.
  static bool has_trace_support();

  uint64_t cycle() const;

  struct Impl;  // the harness, one per model class (implementation detail)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::tsim
