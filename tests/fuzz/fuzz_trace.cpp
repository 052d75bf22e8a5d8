// Harness trace: program trace directories (ProgramTrace::load, then replay on fsim as `vta exec` does).
// Input: the text of manifest.json, then any number of files, each introduced by a line
// "--file NAME" and running to the next such line (fuzz_common.h, write_files). An accepted trace is
// replayed when its program and its config's buffers are small (replay_small_trace); the replay must end
// with a result or a vta::Error.
#include "fuzz_common.h"

namespace vta::fuzz {

void trace(Bytes data) {
  const auto dir = scratch_dir("trace");
  write_files(dir, data, "manifest.json");
  replay_small_trace(dir);
}

}  // namespace vta::fuzz
