#include "device_run.h"

#include <fmt/format.h>

#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"

namespace vta::runtime::detail {

driver::RunResult run_on_device(driver::Device& device, uint64_t insn_address, uint32_t insn_count,
                                std::chrono::milliseconds timeout, const std::optional<std::filesystem::path>& trace) {
  std::optional<driver::TraceRecorder> recorder;
  if (trace) {
    recorder.emplace(*trace);
    recorder->before_run(device, insn_address, insn_count);
  }
  driver::RunResult result = device.run(insn_address, insn_count, timeout);
  if (recorder) recorder->after_run(device, result);
  if (!result.ok()) {
    const char* status = result.status == driver::RunStatus::kTimeout ? "timed out" : "failed";
    throw Error(fmt::format("VTA run on device '{}' {} ({} instructions): {}", device.name(), status, insn_count,
                            result.message.empty() ? "(no message)" : result.message));
  }
  return result;
}

}  // namespace vta::runtime::detail
