// A Session binds device-independent Programs to one Device and runs them. Loading allocates every
// buffer of the program, copies its constants and micro-ops once, and writes the relocated instruction
// stream; a loaded program then runs any number of times with new inputs (a model over a data set).
// The header names no driver type beyond a forward declaration, so callers above the runtime (the
// compiler, tools) never touch device memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/runtime/program.h"

namespace vta::driver {
class Device;
}

namespace vta::runtime {

struct SessionOptions {
  std::chrono::milliseconds timeout{60000};
  // When set, every run is recorded as a trace directory under this path (run000, run001, ...),
  // replayable with `vta exec`.
  std::optional<std::filesystem::path> trace_dir;
};

struct RunStats {
  isa::ExecutionCounters counters;
  uint64_t instructions = 0;
  double wall_seconds = 0;  // the device run alone
  std::vector<std::string> warnings;
};

class LoadedProgram {
 public:
  ~LoadedProgram();
  LoadedProgram(const LoadedProgram&) = delete;
  LoadedProgram& operator=(const LoadedProgram&) = delete;

  const Program& program() const;
  // Host access to a buffer (input before a run, output after); ranges are checked.
  void write(BufferId id, const void* data, uint64_t bytes, uint64_t offset = 0);
  void read(BufferId id, void* out, uint64_t bytes, uint64_t offset = 0);
  std::vector<uint8_t> read(BufferId id);
  // Runs once; throws vta::Error with the device's message when the run fails or times out.
  RunStats run();

  // Makes buffer `id` share the device memory of buffer `other_id` of `other` (a producer's output
  // feeding this program's input, so consecutive core operators pass data without the host). The
  // buffer's own allocation is freed and the instruction stream relocated. `other` must be loaded on
  // the same session and outlive this program; the sizes must agree (vta::Error otherwise).
  void alias(BufferId id, LoadedProgram& other, BufferId other_id);

 private:
  friend class Session;
  struct Impl;
  explicit LoadedProgram(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Session {
 public:
  // Opens a device by target name ("fsim", "fsim-ref", "tsim", ...) for `config`.
  Session(std::string_view target, const isa::HwConfig& config, SessionOptions options = {});
  // Uses a device the caller owns (it must outlive the session).
  explicit Session(driver::Device& device, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const isa::HwConfig& config() const;
  std::string device_name() const;
  driver::Device& device();

  // Checks that the program was built for this session's config (vta::Error naming both otherwise).
  std::unique_ptr<LoadedProgram> load(const Program& program);

 private:
  friend class LoadedProgram;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::runtime
