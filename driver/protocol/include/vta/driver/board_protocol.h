// The host side of the core's register protocol, one piece of code for every backend that talks to the
// RTL through its register window: tsim's harness (AXI4-Lite in simulation), the Zynq backend (mmap of
// UIO or /dev/mem) and the XRT backend (xrt::ip). Offsets and bits come from isa/register_map.h.
//
// A run: identify the core (CONFIG_HASH, BUS_WIDTH) once; start() checks the core is idle and writes
// INSN_ADDR, INSN_COUNT and CONTROL.start; wait_done() polls until the start is taken (CONTROL reads back
// without it: at once on the RTL, later behind a board emulator's file-backed window) and STATUS.done;
// collect() reads STATUS, ERROR_* and the counters; describe_failure() words an error the same way on
// every backend. After an error the core is soft-reset (request_soft_reset(), wait_reset()).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"

namespace vta::driver {

// 32-bit register reads and writes at byte offsets of the core's register window.
class RegisterPort {
 public:
  virtual ~RegisterPort() = default;
  virtual uint32_t read(uint32_t offset) = 0;
  virtual void write(uint32_t offset, uint32_t value) = 0;
};

// A register window mapped into this process (an mmap of UIO, /dev/mem or a board emulator's file):
// 32-bit volatile accesses, fenced so that the other side (the core, or the emulator serving it) sees
// them in program order, a start after the buffers it refers to. Offsets outside the window or not
// word-aligned are a vta::Error.
class MappedRegisterPort final : public RegisterPort {
 public:
  MappedRegisterPort(uint8_t* base, uint64_t size) : base_(base), size_(size) {}
  uint32_t read(uint32_t offset) override;
  void write(uint32_t offset, uint32_t value) override;

 private:
  void check(uint32_t offset) const;
  uint8_t* base_;
  uint64_t size_;
};

// What the core says it is.
struct CoreIdentity {
  uint64_t config_hash = 0;  // CONFIG_HASH_HI:LO, the first 16 hex digits of HwConfig::hash()
  uint32_t bus_width = 0;    // BUS_WIDTH, bits
};

// What a run left in the registers.
struct CoreOutcome {
  uint32_t status = 0;
  bool done = false;
  bool error = false;
  uint32_t error_code = 0;
  uint32_t error_index = 0;
  uint32_t error_info = 0;
  uint32_t error_addr = 0;
  isa::ExecutionCounters counters;
  std::vector<std::pair<std::string, uint64_t>> extra_counters;  // the core's own, in register order
};

enum class WaitResult { kDone, kTimeout };

class BoardProtocol {
 public:
  explicit BoardProtocol(RegisterPort& port) : port_(port) {}

  CoreIdentity identify();
  // The hash HwConfig::hash() puts in CONFIG_HASH (its first 16 hex digits as a number).
  static uint64_t register_hash(const isa::HwConfig& config);
  // Throws vta::Error when the core in the window was generated for another config (or is no VTA core:
  // a window of zeros or ones), naming both: `where` says which device (a path, a BDF).
  void check_identity(const isa::HwConfig& config, const std::string& where);

  // Throws vta::Error when the core is busy or in a soft reset (the start would be ignored).
  void start(uint64_t insn_address, uint32_t insn_count);
  // Polls until STATUS.done, or until `deadline`; `between_polls` runs after every poll that did not
  // see done (a simulator clocks its model there; a board may yield). No sleeping in here: a run that
  // ends is seen at the next poll.
  WaitResult wait_done(std::chrono::steady_clock::time_point deadline, const std::function<void()>& between_polls);
  CoreOutcome collect();

  void request_soft_reset();
  // Polls STATUS.resetting until it falls (true) or `deadline` passes (false).
  bool wait_reset(std::chrono::steady_clock::time_point deadline, const std::function<void()>& between_polls);

  uint32_t status();
  uint64_t counter(uint32_t index);

  // An error outcome in words: the hardware error, its instruction (the 16 bytes `instruction_at` reads
  // from device memory, nullopt when they are not there; disassembled, or shown raw when they do not
  // decode) and the detail of index and bus errors, e.g. "hardware error 7 (on-chip buffer index out of
  // range) at instruction 3: INP index 2050 out of range (buffer depth 2048); LOAD ...". `bus_address` is
  // the refused address where the backend knows it.
  using InstructionSource = std::function<std::optional<isa::RawInstruction>(uint32_t index)>;
  static std::string describe_failure(const CoreOutcome& outcome, const isa::HwConfig& config,
                                      const InstructionSource& instruction_at, std::optional<uint64_t> bus_address);

 private:
  // Polls until `control_bit` of CONTROL reads 0 (the command is taken) and then `status_bit` of STATUS
  // is `status_set`; false when `deadline` passes first.
  bool poll_until(uint32_t control_bit, uint32_t status_bit, bool status_set,
                  std::chrono::steady_clock::time_point deadline, const std::function<void()>& between_polls);
  RegisterPort& port_;
};

}  // namespace vta::driver
