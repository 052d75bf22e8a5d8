// fsim: the bit-exact functional simulator of the VTA core.
//
// The load, compute and store modules are modelled as three instruction queues joined by the four
// dependency-token queues (pop before execute, push after). A program whose tokens can never arrive is
// reported as a deadlock naming the stalled instruction; tokens left at the end are reported too.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/sim/device_memory.h"

namespace vta::fsim {

enum class Kernel {
  kFast,       // optimized data path (typed SRAMs, vectorizable GEMM)
  kReference,  // plain interpreter, written separately; the oracle for differential tests
};

enum class Schedule {
  kConcurrent,  // three modules joined by token queues (deadlocks detected)
  kSerial,      // program order, tokens ignored: a debug mode to bisect token bugs
};

struct Options {
  Kernel kernel = Kernel::kFast;
  Schedule schedule = Schedule::kConcurrent;
  // Tokens left in a queue after the last instruction are a ProgramError unless this is set. Programs
  // compiled by upstream TVM for untuned schedules leave one store->compute token (see docs/fsim.md).
  bool allow_leftover_tokens = false;
};

// Runs instruction streams against a DeviceMemory. On-chip buffers persist across runs, like hardware.
class FunctionalSimulator {
 public:
  FunctionalSimulator(const isa::HwConfig& config, sim::DeviceMemory& memory, Options options = {});
  ~FunctionalSimulator();

  // Executes `insn_count` instructions stored at device address `insn_address`. Throws ProgramError
  // (with the instruction index where one is to blame) or MemoryError on a bad program; the counters
  // then hold what ran before the error.
  void run(uint64_t insn_address, uint32_t insn_count);

  // Counters of the last run.
  const isa::ExecutionCounters& counters() const;
  // Non-fatal findings of the last run (e.g. tokens left in a queue when allow_leftover_tokens is set).
  const std::vector<std::string>& warnings() const;
  // Zeroes every on-chip buffer.
  void clear_buffers();

  const isa::HwConfig& config() const;
  const Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::fsim
