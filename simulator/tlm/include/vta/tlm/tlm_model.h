// tlm: an approximately-timed SystemC TLM-2.0 model of the VTA core (docs/tlm.md).
//
// Fetch, load, compute and store are SystemC threads joined by the core's command queues (32 deep) and
// dependency-token queues (255 tokens); every DRAM access is a TLM-2.0 transaction to one DRAM /
// interconnect target (read latency, bytes per cycle shared by reads and writes, a limit on outstanding
// bursts), with the RTL's burst rules (256 beats, 4 KiB). Each module walks the RTL's state sequence per
// instruction, and the compute module times GEMM/ALU micro-ops through the RTL's 4-stage pipeline with
// its read-after-write stalls. Results come from fsim's kernels, run when the timing model executes each
// instruction, so memory after a run equals fsim's bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/sim/device_memory.h"

namespace vta::tlm {

struct Options {
  uint32_t dram_latency_cycles = 64;   // AR -> first R beat, last W beat -> B
  uint32_t dram_bytes_per_cycle = 8;   // shared by reads and writes (the bus carries 8 bytes per beat)
  uint32_t max_outstanding = 16;       // read (and write) bursts the memory accepts before stalling
  // Tokens left in a queue after the last instruction are a warning (as on a board), not an error.
  bool allow_leftover_tokens = true;
  // The config's "timing" object (latency, bytes per cycle); max_outstanding as tsim's default.
  static Options from_config(const isa::HwConfig& config);
};

// Runs instruction streams against a DeviceMemory with timing. On-chip buffers persist across runs.
// Not thread-safe across instances: SystemC has one simulation context per process, so runs of all
// instances are serialized by a process-wide lock.
class TlmSimulator {
 public:
  TlmSimulator(const isa::HwConfig& config, sim::DeviceMemory& memory, Options options = {});
  ~TlmSimulator();
  TlmSimulator(const TlmSimulator&) = delete;
  TlmSimulator& operator=(const TlmSimulator&) = delete;

  // Executes `insn_count` instructions at `insn_address`. Throws ProgramError (bad instruction, deadlock)
  // or MemoryError as fsim does; the counters then hold what completed before the error.
  void run(uint64_t insn_address, uint32_t insn_count);

  const isa::ExecutionCounters& counters() const;
  // The core's busy/stall counters of the last run, under tsim's names (isa::reg::kCounters from
  // index 11: load_busy_cycles, ..., gemm_hazard_cycles).
  const std::vector<std::pair<std::string, uint64_t>>& extra_counters() const;
  const std::vector<std::string>& warnings() const;
  void clear_buffers();

  const isa::HwConfig& config() const;
  const Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::tlm
