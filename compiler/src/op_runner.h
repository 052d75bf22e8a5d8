// Internal: runs one operator's Program on a Session: writes the packed input, runs, reads the packed
// output, and fills the counters and timings of the OpRun.
#pragma once

#include <cstdint>
#include <vector>

#include "vta/compiler/conv2d.h"
#include "vta/runtime/program.h"
#include "vta/runtime/session.h"

namespace vta::compiler::detail {

// Returns the bytes of `output` after one run of `program` with `input` filled from `input_bytes`.
std::vector<int8_t> run_op_program(runtime::Session& session, const runtime::Program& program,
                                   runtime::BufferId input, const std::vector<int8_t>& input_bytes,
                                   runtime::BufferId output, OpRun& run);

}  // namespace vta::compiler::detail
