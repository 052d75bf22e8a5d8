// replay() and TraceRecorder: a program built with InstructionCodec is recorded on one device and
// replayed on every fsim backend; tampered expectations are reported as mismatches.
#include <algorithm>
#include <chrono>
#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::TempDir;

// Records the small program run on `target` into `dir`; returns the program's expectations.
test::SmallProgram record_small_program(const std::filesystem::path& dir, const char* target = "fsim") {
  auto device = open_device(target, isa::HwConfig::default_config());
  auto program = test::build_small_program(*device, 42, 3);
  TraceRecorder recorder(dir);
  recorder.before_run(*device, program.insns.device_address, program.insn_count);
  const RunResult result = device->run(program.insns.device_address, program.insn_count, 10s);
  EXPECT_TRUE(result.ok()) << result.message;
  recorder.after_run(*device, result);
  device->invalidate(program.out, 0, program.out.size);
  EXPECT_EQ(std::vector<uint8_t>(program.out.host, program.out.host + program.out.size), program.expected_out);
  return program;
}

TEST(TraceRecorder, WritesAReplayableTrace) {
  TempDir dir;
  const auto program = record_small_program(dir.path());
  const ProgramTrace trace = ProgramTrace::load(dir.path());
  EXPECT_EQ(trace.insn_address, program.insns.device_address);
  EXPECT_EQ(trace.insn_count, program.insn_count);
  ASSERT_EQ(trace.regions.size(), 5u);  // uops, inp, wgt, out, instructions
  size_t instruction_regions = 0;
  for (const auto& region : trace.regions) {
    EXPECT_TRUE(region.expected_file.has_value()) << region.name;
    if (region.name == "instructions") {
      ++instruction_regions;
      EXPECT_EQ(region.address, program.insns.device_address);
      EXPECT_FALSE(region.dump);
    } else {
      EXPECT_TRUE(region.dump) << region.name;
    }
    if (region.address == program.out.device_address) {
      // Before the run the output held the 0xee fill; afterwards the result.
      const auto before = test::read_file(dir / region.file);
      EXPECT_EQ(before, std::vector<uint8_t>(program.out.size, 0xee));
      EXPECT_EQ(test::read_file(dir / *region.expected_file), program.expected_out);
    }
  }
  EXPECT_EQ(instruction_regions, 1u);
  ASSERT_TRUE(trace.expected_counters.has_value());
  EXPECT_EQ(*trace.expected_counters, program.expected_counters);
  // Cycles are backend timing, not a property of the program: not recorded as an expectation.
  EXPECT_EQ(std::find(trace.expected_counter_names.begin(), trace.expected_counter_names.end(), "cycle_count"),
            trace.expected_counter_names.end());
  EXPECT_NE(std::find(trace.expected_counter_names.begin(), trace.expected_counter_names.end(), "gemm_counter"),
            trace.expected_counter_names.end());
}

TEST(TraceRecorder, RoundTripReplaysOnEveryFsimBackend) {
  TempDir dir;
  const auto program = record_small_program(dir.path());
  const ProgramTrace trace = ProgramTrace::load(dir.path());
  for (const char* target : {"fsim", "fsim-ref", "fsim-serial", "fsim-strict"}) {
    SCOPED_TRACE(target);
    auto device = open_device(target, trace.config);
    TempDir dump;
    const ReplayResult result = replay(trace, dir.path(), *device, dump.path());
    ASSERT_TRUE(result.run.ok()) << result.run.message;
    EXPECT_TRUE(result.mismatches.empty());
    EXPECT_FALSE(result.counter_mismatch.has_value()) << *result.counter_mismatch;
    EXPECT_EQ(result.run.counters, program.expected_counters);
    EXPECT_TRUE(device->buffers().empty()) << "replay must free what it mapped";

    // Dumps: every dump region as <name>.bin, plus stats.json.
    for (const auto& region : trace.regions) {
      const auto path = dump / (region.name + ".bin");
      EXPECT_EQ(std::filesystem::exists(path), region.dump) << region.name;
      if (region.dump) {
        EXPECT_EQ(test::read_file(path), test::read_file(dir / *region.expected_file));
      }
    }
    const json stats = json::parse(test::read_text(dump / "stats.json"));
    EXPECT_EQ(stats["status"], "ok");
    EXPECT_EQ(stats["message"], "");
    EXPECT_EQ(stats["counters"]["gemm_counter"], 1);
    EXPECT_EQ(stats["counters"]["out_store_nbytes"], 16);
    EXPECT_TRUE(stats["wall_seconds"].is_number());
  }
}

TEST(TraceRecorder, FailedRunIsRecordedWithoutExpectations) {
  TempDir dir;
  auto device = open_device("fsim", isa::HwConfig::default_config());
  isa::GemmInsn gemm;
  gemm.dep.pop_prev = true;  // deadlock
  gemm.loop = {true, 0, 1, 1, 1, 0, 0, 0, 0};
  const auto insns = test::upload_program(*device, {gemm, isa::FinishInsn{}});
  TraceRecorder recorder(dir.path());
  recorder.before_run(*device, insns.device_address, 2);
  const RunResult result = device->run(insns.device_address, 2, 10s);
  ASSERT_EQ(result.status, RunStatus::kError);
  recorder.after_run(*device, result);
  const ProgramTrace trace = ProgramTrace::load(dir.path());
  EXPECT_FALSE(trace.expected_counters.has_value());
  for (const auto& region : trace.regions) EXPECT_FALSE(region.expected_file.has_value());
  // Replaying reproduces the failure as a result, not an exception.
  auto other = open_device("fsim-ref", trace.config);
  TempDir dump;
  const ReplayResult replayed = replay(trace, dir.path(), *other, dump.path());
  EXPECT_EQ(replayed.run.status, RunStatus::kError);
  EXPECT_FALSE(replayed.run.message.empty());
  const json stats = json::parse(test::read_text(dump / "stats.json"));
  EXPECT_EQ(stats["status"], "error");
  EXPECT_EQ(stats["message"], replayed.run.message);
}

TEST(TraceRecorder, InstructionsMustLieInABuffer) {
  TempDir dir;
  auto device = open_device("fsim", isa::HwConfig::default_config());
  device->allocate(64);
  TraceRecorder recorder(dir.path());
  EXPECT_THROW(recorder.before_run(*device, 0x7000000, 4), Error);
}

TEST(Replay, ReportsMemoryMismatches) {
  TempDir dir;
  const auto program = record_small_program(dir.path());
  ProgramTrace trace = ProgramTrace::load(dir.path());
  const TraceRegion* out = nullptr;
  for (const auto& region : trace.regions) {
    if (region.address == program.out.device_address) out = &region;
  }
  ASSERT_NE(out, nullptr);
  auto expected = test::read_file(dir / *out->expected_file);
  expected[3] ^= 0x01;
  expected[9] ^= 0x80;
  expected[10] ^= 0xff;
  test::write_file(dir / *out->expected_file, expected);

  auto device = open_device("fsim", trace.config);
  const ReplayResult result = replay(trace, dir.path(), *device, std::nullopt);
  ASSERT_TRUE(result.run.ok());
  ASSERT_EQ(result.mismatches.size(), 1u);
  EXPECT_EQ(result.mismatches[0].region, out->name);
  EXPECT_EQ(result.mismatches[0].first_offset, 3u);
  EXPECT_EQ(result.mismatches[0].differing_bytes, 3u);
  EXPECT_FALSE(result.counter_mismatch.has_value());
}

TEST(Replay, ReportsCounterMismatchesOfStatedCountersOnly) {
  TempDir dir;
  record_small_program(dir.path());
  ProgramTrace trace = ProgramTrace::load(dir.path());
  trace.expected_counters->gemm_counter = 99;
  trace.expected_counters->cycle_count = 12345;  // not among the stated counters: ignored
  auto device = open_device("fsim", trace.config);
  const ReplayResult result = replay(trace, dir.path(), *device, std::nullopt);
  ASSERT_TRUE(result.run.ok());
  EXPECT_TRUE(result.mismatches.empty());
  ASSERT_TRUE(result.counter_mismatch.has_value());
  EXPECT_NE(result.counter_mismatch->find("gemm_counter expected 99, got 1"), std::string::npos)
      << *result.counter_mismatch;
  EXPECT_EQ(result.counter_mismatch->find("cycle_count"), std::string::npos) << *result.counter_mismatch;

  // With only gemm_counter stated, nothing else is compared.
  trace.expected_counter_names = {"gemm_counter"};
  trace.expected_counters = isa::ExecutionCounters{};
  trace.expected_counters->gemm_counter = 1;
  auto device2 = open_device("fsim", trace.config);
  EXPECT_FALSE(replay(trace, dir.path(), *device2, std::nullopt).counter_mismatch.has_value());
}

TEST(Replay, RejectsADeviceWithAnotherConfig) {
  TempDir dir;
  record_small_program(dir.path());
  const ProgramTrace trace = ProgramTrace::load(dir.path());
  auto device = open_device("fsim", isa::HwConfig::from_file(std::filesystem::path(VTA_CONFIG_DIR) / "block8.json"));
  try {
    replay(trace, dir.path(), *device, std::nullopt);
    FAIL() << "config mismatch accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config"), std::string::npos) << e.what();
  }
}

TEST(Replay, FreesBuffersWhenMappingFails) {
  TempDir dir;
  record_small_program(dir.path());
  const ProgramTrace trace = ProgramTrace::load(dir.path());
  auto device = open_device("fsim", trace.config);
  // Occupy the address of the last region so that mapping it fails after the others were mapped.
  const auto& last = trace.regions.back();
  const auto blocker = device->map_at(last.address, last.size);
  EXPECT_THROW(replay(trace, dir.path(), *device, std::nullopt), MemoryError);
  const auto live = device->buffers();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].device_address, blocker.device_address);
}

}  // namespace
}  // namespace vta::driver
