// Program traces: a directory with manifest.json and raw little-endian .bin files holding everything
// needed to replay one run on any backend (see docs/trace-format.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {

struct TraceRegion {
  std::string name;
  uint64_t address = 0;
  uint64_t size = 0;
  std::string file;           // relative to the trace directory
  bool dump = false;          // write this region out after the run
  std::optional<std::string> expected_file;  // bytes the region must hold after the run, if recorded
};

struct ProgramTrace {
  isa::HwConfig config = isa::HwConfig::default_config();
  std::vector<TraceRegion> regions;
  uint64_t insn_address = 0;  // must lie in one of the regions
  uint32_t insn_count = 0;
  std::optional<isa::ExecutionCounters> expected_counters;
  // The counters (names from isa::ExecutionCounters::items()) that expected_counters states; replay
  // compares only these. Empty means every counter. load() fills it with the keys of the manifest's
  // "expected_counters" object, so a trace that omits e.g. cycle_count does not compare it.
  std::vector<std::string> expected_counter_names;

  // Reads and validates manifest.json (and that every file exists with the stated size). Throws
  // vta::Error with a clear message otherwise.
  static ProgramTrace load(const std::filesystem::path& dir);
  // Writes manifest.json; region files are written by the caller (or by record()).
  void save_manifest(const std::filesystem::path& dir) const;
};

struct ReplayResult {
  RunResult run;
  // Regions whose bytes differ from expected_file: (name, first differing byte offset, count).
  struct Mismatch { std::string region; uint64_t first_offset; uint64_t differing_bytes; };
  std::vector<Mismatch> mismatches;
  std::optional<std::string> counter_mismatch;  // description, if expected counters differ
};

// Maps every region at its address on `device`, fills it from its file, runs, writes the dumped regions
// into `dump_dir` (if given) as <name>.bin plus stats.json, and compares with expectations.
ReplayResult replay(const ProgramTrace& trace, const std::filesystem::path& trace_dir, Device& device,
                    const std::optional<std::filesystem::path>& dump_dir);

// Imports a recording in Apache VTA's conformance format (run000.insn.bin, run000.meta.txt,
// run000.dram_pre.bin, run000.dram_post.bin, optional meta.json with "stats") into a trace directory.
void import_vta_recording(const std::filesystem::path& vta_dir, const std::filesystem::path& trace_dir);

// Records one run of `device` as a trace: before the run, every live buffer is written; after it, the
// buffers' final bytes become the expected files and the counters the expected counters.
class TraceRecorder {
 public:
  explicit TraceRecorder(std::filesystem::path dir);
  void before_run(Device& device, uint64_t insn_address, uint32_t insn_count);
  void after_run(Device& device, const RunResult& result);

 private:
  std::filesystem::path dir_;
  ProgramTrace trace_;
};

}  // namespace vta::driver
