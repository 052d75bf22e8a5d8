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
  std::string vcd_path;          // waveform (only if built with tracing; ignored otherwise)

  // Defaults from the config's "timing" object.
  static TsimOptions from_config(const isa::HwConfig& config);
};

struct TsimResult {
  bool done = false;             // STATUS.done seen before the cycle limit
  bool error = false;            // STATUS.error
  uint32_t error_code = 0;       // ERROR_CODE (see docs/hardware.md)
  uint32_t error_index = 0;      // instruction index of the first error
  isa::ExecutionCounters counters;
  // The core's extra counters (index 11.. of the counter block), by name, in register order.
  std::vector<std::pair<std::string, uint64_t>> extra_counters;
  uint64_t harness_cycles = 0;   // clock cycles simulated for this run (including register accesses)
};

class Tsim {
 public:
  // Throws ConfigError if `config` is not the config the RTL was built for (compared by hash).
  Tsim(const isa::HwConfig& config, sim::DeviceMemory& memory, TsimOptions options = {});
  ~Tsim();
  Tsim(const Tsim&) = delete;
  Tsim& operator=(const Tsim&) = delete;

  // The hash of the config the linked RTL model was generated from.
  static std::string built_config_hash();

  void reset();
  uint32_t read_reg(uint32_t address);
  void write_reg(uint32_t address, uint32_t value);

  // Writes INSN_ADDR/INSN_COUNT, starts, and polls STATUS until done or `max_cycles` pass.
  TsimResult run(uint64_t insn_addr, uint32_t insn_count, uint64_t max_cycles = 100'000'000);

  uint64_t cycle() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::tsim
