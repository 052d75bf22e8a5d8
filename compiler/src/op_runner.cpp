#include "op_runner.h"

#include <chrono>

namespace vta::compiler::detail {

std::vector<int8_t> run_op_program(runtime::Session& session, const runtime::Program& program,
                                   runtime::BufferId input, const std::vector<int8_t>& input_bytes,
                                   runtime::BufferId output, OpRun& run) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::unique_ptr<runtime::LoadedProgram> loaded = session.load(program);
  loaded->write(input, input_bytes.data(), input_bytes.size());
  const runtime::RunStats stats = loaded->run();
  std::vector<int8_t> out(program.buffers.at(output).bytes);
  loaded->read(output, out.data(), out.size());
  run.counters = stats.counters;
  run.instructions = program.instructions.size();
  run.kernel_cache_hits = program.kernel_cache_hits;
  run.kernel_cache_misses = program.kernel_cache_misses;
  run.run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace vta::compiler::detail
