// TraceRecorder: writes one run of a Device as a replayable trace directory.
#include <algorithm>

#include <fmt/format.h>

#include "src/file_util.h"
#include "src/trace_internal.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"

namespace vta::driver {

TraceRecorder::TraceRecorder(std::filesystem::path dir) : dir_(std::move(dir)) {}

void TraceRecorder::before_run(Device& device, uint64_t insn_address, uint32_t insn_count) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw Error(fmt::format("cannot create trace directory {}: {}", dir_.string(), ec.message()));

  trace_ = ProgramTrace{};
  trace_.config = device.config();
  trace_.insn_address = insn_address;
  trace_.insn_count = insn_count;
  const uint64_t insn_end = insn_address + uint64_t{insn_count} * 16;
  bool insn_found = false;
  for (const DeviceBuffer& buffer : device.buffers()) {
    TraceRegion region;
    const bool holds_insns = insn_address >= buffer.device_address && insn_end >= insn_address &&
                             insn_end <= buffer.device_address + buffer.size;
    region.name = holds_insns && !insn_found ? std::string("instructions")
                                             : fmt::format("buffer_{:08x}", buffer.device_address);
    insn_found = insn_found || holds_insns;
    region.address = buffer.device_address;
    region.size = buffer.size;
    region.file = region.name + ".bin";
    region.dump = !holds_insns;
    detail::write_binary_file(dir_ / region.file, std::span<const uint8_t>(buffer.host, buffer.size));
    trace_.regions.push_back(std::move(region));
  }
  if (!insn_found) {
    throw Error(fmt::format("cannot record a trace in {}: the {} instructions at {:#x} are not inside one buffer of "
                            "device {}",
                            dir_.string(), insn_count, insn_address, device.name()));
  }
  trace_.save_manifest(dir_);
}

void TraceRecorder::after_run(Device& device, const RunResult& result) {
  if (trace_.regions.empty()) {
    throw Error(fmt::format("TraceRecorder for {}: after_run() without before_run()", dir_.string()));
  }
  // A failed run is recorded without expectations: replaying the trace reproduces the failure.
  if (!result.ok()) {
    trace_.save_manifest(dir_);
    return;
  }
  const auto buffers = device.buffers();
  for (auto& region : trace_.regions) {
    const auto it = std::find_if(buffers.begin(), buffers.end(), [&](const DeviceBuffer& b) {
      return b.device_address == region.address && b.size == region.size;
    });
    if (it == buffers.end()) {
      throw Error(fmt::format("TraceRecorder for {}: buffer \"{}\" at {:#x} was freed during the run",
                              dir_.string(), region.name, region.address));
    }
    device.invalidate(*it, 0, it->size);
    region.expected_file = region.name + ".expected.bin";
    detail::write_binary_file(dir_ / *region.expected_file, std::span<const uint8_t>(it->host, it->size));
  }
  // Cycle counts depend on the backend's timing model; every other counter is a property of the program.
  trace_.expected_counters = result.counters;
  trace_.expected_counter_names.clear();
  for (const auto& name : detail::counter_names()) {
    if (name != "cycle_count") trace_.expected_counter_names.push_back(name);
  }
  trace_.save_manifest(dir_);
}

}  // namespace vta::driver
