// Harness vta_recording: Apache VTA recordings as `vta import` and `vta exec` read them
// (driver::import_vta_recording). Input: the text of run000.meta.txt, then the other files of the
// recording, each introduced by a line "--file NAME" (run000.insn.bin, run000.dram_pre.bin,
// run000.dram_post.bin, meta.json; fuzz_common.h, write_files). Properties: the import either rejects the
// recording with a vta::Error or writes a trace directory that ProgramTrace::load accepts; that trace is
// replayed on fsim when it is small (replay_small_trace) and must end with a result or a vta::Error.
#include "fuzz_common.h"
#include "vta/driver/program_trace.h"

namespace vta::fuzz {

void vta_recording(Bytes data) {
  const auto recording = scratch_dir("vta_recording");
  write_files(recording, data, "run000.meta.txt");
  const auto trace_dir = scratch_dir("vta_recording_trace");
  if (!accepts([&] { driver::import_vta_recording(recording, trace_dir); })) return;
  try {
    (void)driver::ProgramTrace::load(trace_dir);
  } catch (const Error& e) {
    property_failed(__FILE__, __LINE__, std::string("the import wrote a trace its own loader rejects: ") + e.what());
  }
  replay_small_trace(trace_dir);
}

}  // namespace vta::fuzz
