// tsim: the Verilated RTL core (hardware/rtl, vta_top) under a C++ harness. The harness plays the host
// through the AXI4-Lite register map (driver/include/vta/driver/register_map.h) and the DRAM through an
// AXI4 memory model backed by a sim::DeviceMemory, with configurable latency and bandwidth.
// Cycle counts come from the hardware's own counters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/sim/device_memory.h"

namespace vta::tsim {

struct TsimOptions {
  uint32_t read_latency = 64;    // cycles from AR accepted to first R beat
  uint32_t write_latency = 64;   // cycles from last W beat to B
  uint32_t bytes_per_cycle = 8;  // DRAM bandwidth shared by reads and writes
  uint32_t max_outstanding = 16; // AR/AW requests the memory accepts before stalling
  std::string trace_path;        // FST waveform file; empty = no waveform (needs a model built with
                                 // VTA_TSIM_TRACE=ON, see has_trace_support())
  uint64_t watchdog_cycles = 1'000'000;  // cycles without progress (counters, memory beats) = a hang

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
  uint64_t bus_error_address = 0;  // for a bus error (code 5): the last address the memory model refused
  isa::ExecutionCounters counters;
  // The core's extra counters (index 11.. of the counter block), by name, in register order.
  std::vector<std::pair<std::string, uint64_t>> extra_counters;
  uint64_t harness_cycles = 0;   // clock cycles simulated for this run (including register accesses)
  // The harness's own limits (the hardware's deadlock detector reports error 6 instead):
  bool hung = false;             // the watchdog saw no progress for watchdog_cycles
  bool cycle_limit = false;      // max_cycles passed without done
  bool wall_timeout = false;     // the wall-clock limit passed without done
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

  void reset();
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
