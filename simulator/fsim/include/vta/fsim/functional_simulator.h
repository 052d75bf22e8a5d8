// fsim: the bit-exact functional simulator of the VTA core.
//
// The load, compute and store modules are modelled as three instruction queues joined by the four
// dependency-token queues (pop before execute, push after). A program whose tokens can never arrive (or,
// with the hardware's queue depths, can never fit) is reported as a deadlock naming the stalled
// instruction; tokens left at the end are reported too.
#pragma once

#include <chrono>
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

// The highest instruction set the fast kernel may use for int8 x int8 -> int32 configs (the others
// always take the portable path). kAuto: the environment variable VTA_FSIM_SIMD (auto, generic, sse2,
// avx2, avx512) if set, else the best the CPU has. Naming a set the host lacks is an error. Every level
// gives the same results bit for bit; generic is the portable C++ path other hosts run. kAvx512 needs
// AVX-512 F/BW/VL and VNNI.
enum class Simd { kAuto, kGeneric, kSse2, kAvx2, kAvx512 };

struct Options {
  Kernel kernel = Kernel::kFast;
  Schedule schedule = Schedule::kConcurrent;
  // Tokens left in a queue after the last instruction are a ProgramError unless this is set. Programs
  // compiled by upstream TVM for untuned schedules leave one store->compute token (see docs/fsim.md).
  bool allow_leftover_tokens = false;
  // The core's finite queues (isa::CoreQueueDepths), for the concurrent schedule; 0 = unbounded, as in
  // Apache VTA's simulator. With token_queue_depth, a push on a full dependency queue waits like the RTL's;
  // with command_queue_depth, instructions reach the modules in program order through command queues of
  // that depth. A program that then cannot finish is a deadlock naming the full queue and the instruction
  // (docs/fsim.md, "Scheduling"). fsim-strict sets both to the hardware's depths.
  uint32_t token_queue_depth = 0;
  uint32_t command_queue_depth = 0;
  Simd simd = Simd::kAuto;  // fast kernel only
  // Work budget of one run, in lane operations (a GEMM micro-op is BATCH x BLOCK_IN x BLOCK_OUT of them,
  // an ALU micro-op BATCH x BLOCK_OUT): a legal GEMM can ask for ~2^43 micro-ops, hours of simulation.
  // A GEMM/ALU that would take the run past the budget is not started; the run ends in a TimeoutError.
  // 0 = unlimited. The default, 2^40, is ~600 ResNet-18 inferences, about 30 s at fsim's speed.
  uint64_t work_limit = kDefaultWorkLimit;
  static constexpr uint64_t kDefaultWorkLimit = uint64_t{1} << 40;
};

// The data path the fast kernel takes for `config` on this host ("generic", "sse2", "avx2" or "avx512").
std::string fast_kernel_path(const isa::HwConfig& config, Simd simd = Simd::kAuto);

// Runs instruction streams against a DeviceMemory. On-chip buffers persist across runs, like hardware.
class FunctionalSimulator {
 public:
  FunctionalSimulator(const isa::HwConfig& config, sim::DeviceMemory& memory, Options options = {});
  ~FunctionalSimulator();

  // Executes `insn_count` instructions stored at device address `insn_address`. Throws ProgramError
  // (with the instruction index where one is to blame) or MemoryError on a bad program, and TimeoutError
  // when the run passes `deadline` (checked between instructions) or Options::work_limit; the counters
  // then hold what ran before the error.
  void run(uint64_t insn_address, uint32_t insn_count,
           std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

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
