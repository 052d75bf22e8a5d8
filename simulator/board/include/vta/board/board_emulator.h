// A board emulator: the Verilated core (tsim) behind file-backed stand-ins for what a PYNQ-class board
// exposes to Linux user space, so the unchanged Zynq backend (driver/zynq) runs against it through real
// mmap and register polling:
//   <dir>/regs            the core's 4 KB register window (as /dev/uio0 would be);
//   <dir>/mem             the physically contiguous memory (as /dev/udmabuf0), at phys_addr;
//   <dir>/sysfs/          phys_addr, size and the sync_* files of u-dma-buf's sysfs directory.
// The emulator polls the window: a start written to CONTROL is passed to the core (STATUS shows busy,
// then CONTROL reads 0 again, as the RTL's does at once); when the run ends, STATUS, ERROR_* and the
// counters are copied into the window, STATUS last. A soft reset is passed on the same way.
//
// Faults for the tests: a core that takes starts but never reports done, memory error responses
// (tsim's fault model), and a board that vanishes in the middle of a run (the emulator stops serving).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vta/isa/hw_config.h"
#include "vta/tsim/tsim.h"

namespace vta::board {

struct BoardFaults {
  bool never_done = false;                      // starts are taken, done never comes
  std::optional<uint64_t> vanish_at_run;        // the emulator stops serving once this run (0-based) started
  tsim::TsimFaults memory;                      // error responses, stalls (see tsim.h)
};

struct BoardEmulatorOptions {
  std::filesystem::path dir;                    // created if missing; regs, mem, sysfs/ inside
  uint64_t mem_phys_addr = 0x1000;  // where the memory appears to the core: low, so recorded traces (from 0x1000) replay
  uint64_t mem_size = 64ull << 20;
  std::optional<uint32_t> dram_latency_cycles;  // unset: the config's timing
  std::optional<uint32_t> dram_bytes_per_cycle;
  BoardFaults faults;
};

class BoardEmulator {
 public:
  // Creates the files and the core (throws vta::Error when tsim has no model for the config).
  BoardEmulator(const isa::HwConfig& config, BoardEmulatorOptions options);
  ~BoardEmulator();  // stops serving
  BoardEmulator(const BoardEmulator&) = delete;
  BoardEmulator& operator=(const BoardEmulator&) = delete;

  // Serves in a background thread until stop() (or the destructor).
  void start();
  void stop();
  // Serves in the calling thread until `stop_flag` becomes true (the CLI's foreground mode).
  void serve(const std::atomic<bool>& stop_flag);

  std::filesystem::path regs_path() const;
  std::filesystem::path mem_path() const;
  std::filesystem::path sysfs_dir() const;
  const BoardEmulatorOptions& options() const;
  // Runs the core has started so far.
  uint64_t runs() const;
  // Replaces the faults (between runs).
  void set_faults(const BoardFaults& faults);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::board
