// Checks every board backend's tests run the same way (tests/hardware/{zynq,xrt}_board_test.cpp): random
// programs against fsim on a device, and the Apache VTA recordings replayed on devices a factory opens.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"
#include "vta/test/test_data.h"

namespace vta::test {

// `count` random programs (seed `seed`) on `device` and on fsim: memory and every counter but cycles
// must match, and the device must report cycles.
inline void expect_random_programs_match_fsim(driver::Device& device, const isa::HwConfig& config, uint64_t seed,
                                              int count) {
  using namespace std::chrono_literals;
  const auto fsim = driver::open_device("fsim", config);
  RandomProgramGenerator gen(config, seed);
  for (int p = 0; p < count; ++p) {
    const GeneratedProgram g = gen.next();
    load_regions(*fsim, g);
    load_regions(device, g);
    const driver::RunResult rf = fsim->run(g.insn_address, g.insn_count, 0ms);
    const driver::RunResult rd = device.run(g.insn_address, g.insn_count, 0ms);
    ASSERT_TRUE(rf.ok()) << rf.message;
    ASSERT_TRUE(rd.ok()) << "program " << p << ": " << rd.message;
    ASSERT_EQ(compare_regions(g, *fsim, device), "") << "program " << p << "\n" << g.listing();
    isa::ExecutionCounters cf = rf.counters, cd = rd.counters;
    cf.cycle_count = cd.cycle_count = 0;
    ASSERT_EQ(cf, cd) << "program " << p;
    EXPECT_GT(rd.counters.cycle_count, 0u);
  }
}

// Imports every recording under conformance_root() into `work`/<name>, opens a device for its config with
// `open(trace, name)`, replays it and expects memory and counters to match; `after(trace)` runs after
// each replay (while the device is open). Returns how many recordings replayed.
inline int expect_recordings_replay(
    const std::filesystem::path& work,
    const std::function<driver::Device&(const driver::ProgramTrace&, const std::string& name)>& open,
    const std::function<void(const driver::ProgramTrace&)>& after = {}) {
  int replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(conformance_root())) {
    if (!entry.is_directory()) continue;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    const std::filesystem::path trace_dir = work / ("recording_" + name);
    std::filesystem::remove_all(trace_dir);
    driver::import_vta_recording(entry.path(), trace_dir);
    const driver::ProgramTrace trace = driver::ProgramTrace::load(trace_dir);
    driver::Device& device = open(trace, name);
    const driver::ReplayResult r = driver::replay(trace, trace_dir, device, std::nullopt);
    EXPECT_TRUE(r.run.ok()) << r.run.message;
    EXPECT_TRUE(r.mismatches.empty()) << r.mismatches.size() << " regions differ";
    EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
    if (after) after(trace);
    ++replayed;
  }
  return replayed;
}

}  // namespace vta::test
