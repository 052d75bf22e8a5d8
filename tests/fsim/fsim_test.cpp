// Unit tests of fsim: every instruction kind, padding, counters, bad programs, deadlocks, leftover
// tokens and the serial schedule. Each test runs on both kernels. The instruction-semantics tests are in
// fsim_instruction_tests.h (shared with tsim); the fsim-specific ones (errors, messages, schedules) are here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fsim_test_util.h"
#include "instruction_test_base.h"
#include "vta/isa/error.h"
#include "vta/test/queue_depth_programs.h"

namespace vta::fsim::test {
namespace {

using ::testing::HasSubstr;

std::string kernel_name(const ::testing::TestParamInfo<Kernel>& info) {
  return info.param == Kernel::kFast ? "Fast" : "Reference";
}

}  // namespace

// Outside the anonymous namespace: the shared tests (fsim_instruction_tests.h) derive from it.
class FsimTest : public InstructionTestBase, public ::testing::WithParamInterface<Kernel> {
 protected:
  FsimExecutor& executor(Schedule schedule = Schedule::kConcurrent) {
    auto& slot = schedule == Schedule::kSerial ? serial_ : concurrent_;
    if (!slot) slot = std::make_unique<FsimExecutor>(cfg_, mem_, Options{GetParam(), schedule});
    return *slot;
  }
  ProgramExecutor& exec() override { return executor(); }
  FunctionalSimulator& sim(Schedule schedule = Schedule::kConcurrent) { return executor(schedule).simulator(); }

  using InstructionTestBase::run;
  using InstructionTestBase::run_raw;
  // Runs a program as given (flags untouched) with the given schedule.
  void run_raw(const std::vector<Instruction>& prog, Schedule schedule) {
    const uint64_t addr = place_program(mem_, codec_, prog);
    sim(schedule).run(addr, static_cast<uint32_t>(prog.size()));
  }

  sim::DeviceMemory mem_;
  std::unique_ptr<FsimExecutor> concurrent_, serial_;
};

// The instruction-semantics tests, shared with tsim (tests/hardware/tsim_instruction_test.cpp).
#define VTA_INSTRUCTION_TEST_SUITE FsimTest
}  // namespace vta::fsim::test
#include "fsim_instruction_tests.h"  // NOLINT(build/include)
namespace vta::fsim::test {
namespace {

// ---------------------------------------------------------------------------------------------------
// Buffers (fsim-only: clear_buffers)

TEST_P(FsimTest, BuffersPersistAcrossRunsUntilCleared) {
  std::vector<int32_t> acc = random_values<int32_t>(kLanes, -100, 100);
  const uint32_t aa = put(MemoryType::kAcc, acc);
  run({load(MemoryType::kAcc, 9, aa, 1, 1, 1)});
  EXPECT_EQ(sim().counters().acc_load_nbytes, 64u);
  const uint32_t out = out_area(1);
  run({store(9, out, 1, 1, 1)});
  EXPECT_EQ(sim().counters().acc_load_nbytes, 0u) << "counters are per run";
  const std::vector<int8_t> got = read_out(out, 1);
  for (uint32_t l = 0; l < kLanes; ++l) EXPECT_EQ(got[l], static_cast<int8_t>(acc[l]));
  sim().clear_buffers();
  run({store(9, out, 1, 1, 1)});
  for (int8_t v : read_out(out, 1)) EXPECT_EQ(v, 0);
}

// ---------------------------------------------------------------------------------------------------
// Bad programs

template <typename E, typename F>
E expect_throw(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unexpected exception: " << e.what();
    throw;
  }
  ADD_FAILURE() << "no exception";
  throw std::runtime_error("no exception");
}

TEST_P(FsimTest, UnknownOpcodeNamesInstruction) {
  std::vector<isa::RawInstruction> raw = {codec_.encode(load(MemoryType::kUop, 0, 0, 0, 0, 0)),
                                          isa::RawInstruction{5, 0}, codec_.encode(FinishInsn{})};
  const uint64_t addr = place_raw(mem_, raw);
  const auto e = expect_throw<ProgramError>([&] { sim().run(addr, 3); });
  EXPECT_EQ(e.instruction_index(), 1u);
  EXPECT_THAT(e.what(), HasSubstr("opcode"));
}

TEST_P(FsimTest, UnknownMemoryTypeNamesInstruction) {
  isa::RawInstruction bad = codec_.encode(load(MemoryType::kInp, 0, 0, 1, 1, 1));
  uint32_t offset = 0;
  for (const auto& f : codec_.layout(Opcode::kLoad))
    if (f.name == "memory_type") offset = f.offset;
  ASSERT_GT(offset, 0u);
  bad.lo = (bad.lo & ~(uint64_t{7} << offset)) | (uint64_t{6} << offset);
  const uint64_t addr = place_raw(mem_, {codec_.encode(FinishInsn{}), bad, codec_.encode(FinishInsn{})});
  const auto e = expect_throw<ProgramError>([&] { sim().run(addr, 3); });
  EXPECT_EQ(e.instruction_index(), 1u);
  EXPECT_THAT(e.what(), HasSubstr("memory type"));
}

TEST_P(FsimTest, LoadTileOutOfSramRangeIncludingPadding) {
  const uint32_t depth = cfg_.inp().depth;
  std::vector<int8_t> inp(8 * kLanes, 1);
  const uint32_t ai = put(MemoryType::kInp, inp);
  // 2 x 4 data elements fit exactly at depth - 8; one column of padding does not.
  run({load(MemoryType::kInp, depth - 8, ai, 2, 4, 4)});
  const auto e = expect_throw<ProgramError>(
      [&] { run({load(MemoryType::kInp, depth - 8, ai, 2, 4, 4, Pad{0, 0, 0, 1})}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  EXPECT_THAT(e.what(), HasSubstr("INP"));
  EXPECT_THAT(e.what(), HasSubstr("out of range"));
}

TEST_P(FsimTest, GemmComputedIndexOutOfRange) {
  const uint32_t depth = cfg_.acc().depth;
  const uint32_t au = put_uops({MicroOp{depth - 10, 0, 0}});
  // dst = depth - 10 + j for j < 10 is in range; j < 11 is not.
  run({load(MemoryType::kUop, 0, au, 1, 1, 1), gemm(Loop{0, 1, 1, 10, 0, 1}, true)});
  const auto prog = serialize_tokens({load(MemoryType::kUop, 0, au, 1, 1, 1), gemm(Loop{0, 1, 1, 11, 0, 1}, true)});
  const auto e = expect_throw<ProgramError>([&] { run_raw(prog); });
  EXPECT_EQ(e.instruction_index(), 1u);
  EXPECT_THAT(e.what(), HasSubstr("ACC index " + std::to_string(depth)));
}

TEST_P(FsimTest, GemmInputAndWeightIndicesChecked) {
  const uint32_t au = put_uops({MicroOp{0, 0, cfg_.wgt().depth - 1}});
  auto e = expect_throw<ProgramError>(
      [&] { run({load(MemoryType::kUop, 0, au, 1, 1, 1), gemm(Loop{0, 1, 1, 2, 0, 0, 0, 0, 0, 1})}); });
  EXPECT_THAT(e.what(), HasSubstr("WGT index"));
  const uint32_t au2 = put_uops({MicroOp{0, cfg_.inp().depth - 1, 0}});
  e = expect_throw<ProgramError>(
      [&] { run({load(MemoryType::kUop, 0, au2, 1, 1, 1), gemm(Loop{0, 1, 2, 1, 0, 0, 1, 0, 0, 0})}); });
  EXPECT_THAT(e.what(), HasSubstr("INP index"));
}

TEST_P(FsimTest, AluSourceIndexChecked) {
  const uint32_t depth = cfg_.acc().depth;
  const uint32_t au = put_uops({MicroOp{0, depth - 1, 0}});
  const auto e = expect_throw<ProgramError>(
      [&] { run({load(MemoryType::kUop, 0, au, 1, 1, 1), alu(AluOpcode::kAdd, Loop{0, 1, 1, 2, 0, 0, 0, 1})}); });
  EXPECT_EQ(e.instruction_index(), 1u);
  EXPECT_THAT(e.what(), HasSubstr("ACC"));
  // With an immediate the source is not touched, so the same micro-op is fine.
  run({load(MemoryType::kUop, 0, au, 1, 1, 1), alu(AluOpcode::kAdd, Loop{0, 1, 1, 2, 0, 0, 0, 1}, true, 1)});
}

TEST_P(FsimTest, DramAccessOutsideMemory) {
  std::vector<int8_t> inp(4 * kLanes, 1);
  const uint32_t ai = put(MemoryType::kInp, inp);
  // Rows 0 and 1 of 2 elements with stride 2 fit the 4-element region; stride 3 puts row 1 past the end.
  run({load(MemoryType::kInp, 0, ai, 2, 2, 2)});
  auto e = expect_throw<MemoryError>([&] { run({load(MemoryType::kInp, 0, ai, 2, 2, 3)}); });
  EXPECT_THAT(e.what(), HasSubstr("instruction 0"));
  EXPECT_THAT(e.what(), HasSubstr("0x"));
  // STORE to nowhere.
  e = expect_throw<MemoryError>([&] { run({store(0, 0x10, 1, 1, 1)}); });
  EXPECT_THAT(e.what(), HasSubstr("instruction 0"));
}

TEST_P(FsimTest, MicroOpRangePastBufferOrReversed) {
  const uint32_t depth = cfg_.uop().depth;
  auto e = expect_throw<ProgramError>([&] { run({gemm(Loop{depth - 1, depth + 1})}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  EXPECT_THAT(e.what(), HasSubstr("UOP"));
  e = expect_throw<ProgramError>([&] { run({alu(AluOpcode::kAdd, Loop{0, depth + 1}, true, 1)}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  e = expect_throw<ProgramError>([&] { run({gemm(Loop{5, 4})}); });
  EXPECT_THAT(e.what(), HasSubstr("uop_bgn > uop_end"));
  // An empty range is fine and counts nothing.
  run({gemm(Loop{4, 4, 3, 3})});
  EXPECT_EQ(sim().counters().gemm_counter, 0u);
}

TEST_P(FsimTest, AluOpcodeFiveIsAnError) {
  for (uint8_t op = 5; op < 8; ++op) {
    const auto e = expect_throw<ProgramError>(
        [&] { run({alu(static_cast<AluOpcode>(op), Loop{0, 1}, true, 1)}); });
    EXPECT_EQ(e.instruction_index(), 0u);
    EXPECT_THAT(e.what(), HasSubstr("ALU opcode " + std::to_string(op)));
  }
}

TEST_P(FsimTest, WrongMemoryTypeForOpcode) {
  auto e = expect_throw<ProgramError>([&] { run({load(MemoryType::kOut, 0, 0, 1, 1, 1)}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  EXPECT_THAT(e.what(), HasSubstr("OUT"));
  for (MemoryType t : {MemoryType::kUop, MemoryType::kInp, MemoryType::kWgt, MemoryType::kAcc}) {
    e = expect_throw<ProgramError>([&] { run({store(0, 0, 1, 1, 1, t)}); });
    EXPECT_EQ(e.instruction_index(), 0u);
    EXPECT_THAT(e.what(), HasSubstr("STORE"));
  }
}

TEST_P(FsimTest, FinishMustBeLastAndPresent) {
  auto e = expect_throw<ProgramError>([&] { run_raw({load(MemoryType::kUop, 0, 0, 0, 0, 0)}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  EXPECT_THAT(e.what(), HasSubstr("FINISH"));
  e = expect_throw<ProgramError>([&] { run_raw({FinishInsn{}, load(MemoryType::kUop, 0, 0, 0, 0, 0), FinishInsn{}}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  e = expect_throw<ProgramError>([&] { sim().run(mem_.allocate(16), 0); });
  EXPECT_THAT(e.what(), HasSubstr("FINISH"));
}

TEST_P(FsimTest, InstructionStreamOutsideMemory) {
  const auto e = expect_throw<MemoryError>([&] { sim().run(0xdead0000, 4); });
  EXPECT_THAT(e.what(), HasSubstr("0xdead0000"));
}

TEST_P(FsimTest, IllegalDependencyFlags) {
  MemInsn l = load(MemoryType::kInp, 0, 0, 0, 0, 0);
  l.dep.pop_prev = true;
  auto e = expect_throw<ProgramError>([&] { run_raw({l, FinishInsn{}}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  EXPECT_THAT(e.what(), HasSubstr("pop_prev"));
  MemInsn s = store(0, 0, 0, 0, 0);
  s.dep.push_next = true;
  e = expect_throw<ProgramError>([&] { run_raw({load(MemoryType::kUop, 0, 0, 0, 0, 0), s, FinishInsn{}}); });
  EXPECT_EQ(e.instruction_index(), 1u);
  EXPECT_THAT(e.what(), HasSubstr("push_next"));
  // The serial schedule ignores flags.
  run_raw({l, s, FinishInsn{}}, Schedule::kSerial);
}

TEST_P(FsimTest, ErrorLeavesCountersOfWhatRan) {
  std::vector<int32_t> acc(kLanes, 3);
  const uint32_t aa = put(MemoryType::kAcc, acc);
  expect_throw<ProgramError>([&] { run({load(MemoryType::kAcc, 0, aa, 1, 1, 1), store(0, 0, 1, 1, 1, MemoryType::kAcc)}); });
  EXPECT_EQ(sim().counters().acc_load_nbytes, 64u);
  EXPECT_EQ(sim().counters().compute_insn_count, 1u);
  EXPECT_EQ(sim().counters().store_insn_count, 0u);
}

// ---------------------------------------------------------------------------------------------------
// Budgets: a legal program may ask for hours of work; fsim ends it with a TimeoutError instead.

TEST_P(FsimTest, WorkLimitRefusesAHugeGemmBeforeItStarts) {
  // 16383 x 16383 x 100 micro-ops (~7e12 lane operations at 16x16) is past the default limit of 2^40.
  const auto prog = serialize_tokens(
      {load(MemoryType::kUop, 0, put_uops({MicroOp{0, 0, 0}}), 1, 1, 1), gemm(Loop{0, 100, 16383, 16383})});
  const auto start = std::chrono::steady_clock::now();
  const auto e = expect_throw<TimeoutError>([&] { run_raw(prog); });
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_THAT(e.what(), HasSubstr("instruction 1 (GEMM"));
  EXPECT_THAT(e.what(), HasSubstr("work limit of " + std::to_string(Options::kDefaultWorkLimit)));
  EXPECT_EQ(sim().counters().gemm_counter, 0u);  // it never ran
  EXPECT_EQ(sim().counters().uop_load_nbytes, 4u);
}

TEST_P(FsimTest, WorkLimitCountsLaneOperationsOfTheWholeRun) {
  const uint64_t gemm_lanes = uint64_t{cfg_.batch()} * cfg_.block_in() * cfg_.block_out();
  const uint64_t alu_lanes = uint64_t{cfg_.batch()} * cfg_.block_out();
  Options options{GetParam()};
  options.work_limit = 10 * gemm_lanes + 4 * alu_lanes;  // exactly two GEMMs of 5 and one ALU of 4
  FunctionalSimulator limited(cfg_, mem_, options);
  const uint32_t au = put_uops({MicroOp{0, 0, 0}});
  const auto prog = [&](uint32_t last_iters) {
    return place_program(mem_, codec_,
                         serialize_tokens({load(MemoryType::kUop, 0, au, 1, 1, 1), gemm(Loop{0, 1, 5, 1}, true),
                                           gemm(Loop{0, 1, 1, 5}), alu(AluOpcode::kAdd, Loop{0, 1, 2, 2}, true, 1),
                                           alu(AluOpcode::kAdd, Loop{0, 1, 1, last_iters}, true, 1)}));
  };
  limited.run(prog(0), 6);  // the budget, to the lane
  EXPECT_EQ(limited.counters().gemm_counter, 5u);
  const auto e = expect_throw<TimeoutError>([&] { limited.run(prog(1), 6); });  // one ALU micro-op more
  EXPECT_THAT(e.what(), HasSubstr("instruction 4 (ALU"));
  EXPECT_EQ(limited.counters().alu_counter, 4u);  // what ran before it
  options.work_limit = 0;                         // unlimited
  FunctionalSimulator unlimited(cfg_, mem_, options);
  unlimited.run(prog(1), 6);
  EXPECT_EQ(unlimited.counters().alu_counter, 5u);
}

TEST_P(FsimTest, DeadlineStopsARunBetweenInstructions) {
  const uint32_t au = put_uops({MicroOp{0, 0, 0}});
  const uint64_t addr = place_program(
      mem_, codec_, serialize_tokens({load(MemoryType::kUop, 0, au, 1, 1, 1), gemm(Loop{0, 1, 1, 1}, true)}));
  const auto e = expect_throw<TimeoutError>(
      [&] { sim().run(addr, 3, std::chrono::steady_clock::now() - std::chrono::milliseconds(1)); });
  EXPECT_THAT(e.what(), HasSubstr("timeout, before instruction 0"));
  sim().run(addr, 3, std::chrono::steady_clock::now() + std::chrono::hours(1));
  EXPECT_EQ(sim().counters().compute_insn_count, 3u);
}

// ---------------------------------------------------------------------------------------------------
// Scheduling

TEST_P(FsimTest, DeadlockNamesStalledInstruction) {
  GemmInsn g = gemm(Loop{0, 0}, true);
  g.dep.pop_prev = true;  // waits on load->compute, which nobody fills
  const auto e = expect_throw<ProgramError>([&] { run_raw({g, FinishInsn{}}); });
  EXPECT_EQ(e.instruction_index(), 0u);
  const std::string msg = e.what();
  EXPECT_THAT(msg, HasSubstr("deadlock"));
  EXPECT_THAT(msg, HasSubstr("compute module stalled at instruction 0"));
  EXPECT_THAT(msg, HasSubstr("GEMM"));
  EXPECT_THAT(msg, HasSubstr("load->compute"));
  EXPECT_THAT(msg, HasSubstr("load module finished"));
}

TEST_P(FsimTest, CyclicDeadlockNamesEveryStalledModule) {
  MemInsn l = load(MemoryType::kInp, 0, 0, 0, 0, 0);
  l.dep.pop_next = true;  // waits on compute->load
  l.dep.push_next = true;
  MemInsn c = load(MemoryType::kUop, 0, 0, 0, 0, 0);
  c.dep.pop_prev = true;  // waits on load->compute
  c.dep.push_prev = true;
  MemInsn s = store(0, 0, 0, 0, 0);
  s.dep.pop_prev = true;  // waits on compute->store
  const auto e = expect_throw<ProgramError>([&] { run_raw({c, l, s, FinishInsn{}}); });
  const std::string msg = e.what();
  EXPECT_EQ(e.instruction_index(), 0u);
  EXPECT_THAT(msg, HasSubstr("load module stalled at instruction 1"));
  EXPECT_THAT(msg, HasSubstr("compute->load"));
  EXPECT_THAT(msg, HasSubstr("compute module stalled at instruction 0"));
  EXPECT_THAT(msg, HasSubstr("store module stalled at instruction 2"));
  EXPECT_THAT(msg, HasSubstr("compute->store"));
}

TEST_P(FsimTest, LeftoverTokensAreReported) {
  MemInsn l = load(MemoryType::kInp, 0, 0, 0, 0, 0);
  l.dep.push_next = true;
  MemInsn l2 = l;
  FinishInsn f;
  f.dep.push_next = true;
  const auto e = expect_throw<ProgramError>([&] { run_raw({l, l2, f}); });
  const std::string msg = e.what();
  EXPECT_THAT(msg, HasSubstr("2 tokens in the load->compute queue"));
  EXPECT_THAT(msg, HasSubstr("1 token in the compute->store queue"));
  // The instructions all ran.
  EXPECT_EQ(sim().counters().load_insn_count, 2u);
  EXPECT_EQ(sim().counters().compute_insn_count, 1u);
}

TEST_P(FsimTest, SerialScheduleIgnoresTokens) {
  GemmInsn g = gemm(Loop{0, 0}, true);
  g.dep.pop_prev = true;
  run_raw({g, FinishInsn{}}, Schedule::kSerial);  // would deadlock concurrently
  MemInsn l = load(MemoryType::kInp, 0, 0, 0, 0, 0);
  l.dep.push_next = true;
  run_raw({l, FinishInsn{}}, Schedule::kSerial);  // would leave a token concurrently
  EXPECT_EQ(sim(Schedule::kSerial).counters().load_insn_count, 1u);
  EXPECT_EQ(sim(Schedule::kSerial).options().schedule, Schedule::kSerial);
}

TEST_P(FsimTest, SerialScheduleRunsProgramOrder) {
  // Without tokens, every instruction sees exactly the ones before it in program order. The modules'
  // instructions interleave (load, compute, store, back to compute and load), so running them module by
  // module, in any module order, or the concurrent schedule's greedy order gives different results:
  //   OUT0 = ACC[0] before the LOAD ACC (zeros), OUT1 = a, OUT2 = b, OUT3 = b + 7,
  //   ACC[1] = x.w + y.w (GEMM on INP x, then on INP y loaded into the same entry), OUT4 = low byte.
  sim(Schedule::kSerial).clear_buffers();
  const std::vector<int32_t> a = random_values<int32_t>(kLanes, -100, 100), b = random_values<int32_t>(kLanes, -100, 100);
  const std::vector<int8_t> x = random_values<int8_t>(kLanes, -5, 5), y = random_values<int8_t>(kLanes, -5, 5);
  const std::vector<int8_t> w = random_values<int8_t>(kLanes * kLanes, -5, 5);
  const uint32_t aa = put(MemoryType::kAcc, a), ab = put(MemoryType::kAcc, b);
  const uint32_t ax = put(MemoryType::kInp, x), ay = put(MemoryType::kInp, y), aw = put(MemoryType::kWgt, w);
  const uint32_t uops = put_uops({MicroOp{0, 0, 0}, MicroOp{1, 0, 0}});
  const uint32_t out = out_area(5);
  const std::vector<Instruction> prog = {
      store(0, out + 0, 1, 1, 1),                       // store: ACC[0] is still zero
      load(MemoryType::kAcc, 0, aa, 1, 1, 1),           // compute
      store(0, out + 1, 1, 1, 1),                       // store: a
      load(MemoryType::kAcc, 0, ab, 1, 1, 1),           // compute
      store(0, out + 2, 1, 1, 1),                       // store: b
      load(MemoryType::kUop, 0, uops, 1, 2, 2),         // compute
      alu(AluOpcode::kAdd, Loop{0, 1}, true, 7),        // compute: ACC[0] = b + 7
      store(0, out + 3, 1, 1, 1),                       // store: b + 7
      load(MemoryType::kInp, 0, ax, 1, 1, 1),           // load: INP[0] = x
      load(MemoryType::kWgt, 0, aw, 1, 1, 1),           // load
      gemm(Loop{1, 2}, true),                           // compute: ACC[1] = 0
      gemm(Loop{1, 2}),                                 // compute: ACC[1] += x.w
      load(MemoryType::kInp, 0, ay, 1, 1, 1),           // load: INP[0] = y
      gemm(Loop{1, 2}),                                 // compute: ACC[1] += y.w
      store(1, out + 4, 1, 1, 1),                       // store
      FinishInsn{}};
  run_raw(prog, Schedule::kSerial);
  const std::vector<int8_t> got = read_out(out, 5);
  for (uint32_t l = 0; l < kLanes; ++l) {
    SCOPED_TRACE("lane " + std::to_string(l));
    EXPECT_EQ(got[0 * kLanes + l], 0);
    EXPECT_EQ(got[1 * kLanes + l], static_cast<int8_t>(a[l]));
    EXPECT_EQ(got[2 * kLanes + l], static_cast<int8_t>(b[l]));
    EXPECT_EQ(got[3 * kLanes + l], static_cast<int8_t>(b[l] + 7));
    int32_t dot = 0;
    for (uint32_t k = 0; k < kLanes; ++k) dot += (int32_t{x[k]} + y[k]) * w[l * kLanes + k];
    EXPECT_EQ(got[4 * kLanes + l], static_cast<int8_t>(dot));
  }
}

// The hardware's finite queues (isa::CoreQueueDepths), as fsim-strict models them: programs that just fit
// run; one more token in flight, or one more instruction queued for a stalled module, deadlocks and the
// message names the full queue and the instruction. Without limits they all run. The same programs run
// on tsim in tests/hardware/tsim_differential_test.cpp (TsimDirected.QueueDepthsMatchFsimStrict).
TEST_P(FsimTest, HardwareQueueDepthsOverflowAsDeadlocks) {
  Options strict{GetParam(), Schedule::kConcurrent};
  strict.token_queue_depth = isa::CoreQueueDepths::kToken;
  strict.command_queue_depth = isa::CoreQueueDepths::kCommand;
  FunctionalSimulator bounded(cfg_, mem_, strict);
  for (const vta::test::QueueDepthProgram& p : vta::test::queue_depth_programs()) {
    SCOPED_TRACE(p.name);
    const uint64_t addr = place_program(mem_, codec_, p.program);
    const auto count = static_cast<uint32_t>(p.program.size());
    sim().run(addr, count);  // unbounded queues
    if (!p.deadlock_index) {
      bounded.run(addr, count);
      EXPECT_EQ(bounded.counters().load_insn_count + bounded.counters().compute_insn_count +
                    bounded.counters().store_insn_count,
                count);
      continue;
    }
    const auto e = expect_throw<ProgramError>([&] { bounded.run(addr, count); });
    EXPECT_EQ(e.instruction_index(), p.deadlock_index);
    const std::string msg = e.what();
    if (GetParam() == Kernel::kFast) std::printf("[   INFO   ] %s: %s\n", p.name.c_str(), msg.c_str());
    EXPECT_THAT(msg, HasSubstr("deadlock"));
    for (const std::string& part : p.message) EXPECT_THAT(msg, HasSubstr(part));
  }
}

// Only the token limit: a producer far ahead of its consumer waits for room instead of failing.
TEST_P(FsimTest, FullTokenQueueWaitsForTheConsumer) {
  Options opts{GetParam(), Schedule::kConcurrent};
  opts.token_queue_depth = 3;
  FunctionalSimulator bounded(cfg_, mem_, opts);
  std::vector<Instruction> prog;
  for (int k = 0; k < 10; ++k) {
    MemInsn l = load(MemoryType::kInp, 0, 0, 0, 0, 0);
    l.dep.push_next = true;
    prog.push_back(l);
  }
  for (int k = 0; k < 10; ++k) {
    MemInsn c = load(MemoryType::kUop, 0, 0, 0, 0, 0);
    c.dep.pop_prev = true;
    prog.push_back(c);
  }
  prog.push_back(FinishInsn{});
  bounded.run(place_program(mem_, codec_, prog), static_cast<uint32_t>(prog.size()));
  EXPECT_EQ(bounded.counters().load_insn_count, 10u);
  EXPECT_EQ(bounded.counters().compute_insn_count, 11u);
}

INSTANTIATE_TEST_SUITE_P(Kernels, FsimTest, ::testing::Values(Kernel::kFast, Kernel::kReference), kernel_name);

TEST(FsimConfig, AcceptsEveryConfigFile) {
  for (const char* name : {"default", "batch2", "block8", "block32", "in16_out32"}) {
    const isa::HwConfig cfg = load_config(name);
    sim::DeviceMemory mem;
    for (Kernel k : {Kernel::kFast, Kernel::kReference}) {
      FunctionalSimulator s(cfg, mem, Options{k, Schedule::kConcurrent});
      EXPECT_EQ(s.config().name(), cfg.name());
      EXPECT_EQ(s.options().kernel, k);
    }
  }
}

}  // namespace
}  // namespace vta::fsim::test
