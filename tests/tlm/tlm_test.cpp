// The SystemC timing model (Device target "tlm") against fsim and tsim:
//   - random legal programs (tests/common random_program.h) at every shipped config and two memory
//     systems: DRAM after the run bit-identical to fsim's, every counter but cycle_count equal;
//   - bad programs (deadlock, illegal flags) are errors naming the instruction, and the device runs the
//     next program correctly;
//   - the busy/stall counters carry tsim's names and add up;
//   - (label rtl, needs tsim) cycle counts of random programs within a stated bound of tsim's.
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include <optional>

#include <filesystem>

#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/driver/tlm_device.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/isa/register_map.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"
#include "vta/test/test_data.h"
#if VTA_HAVE_TSIM && VTA_TLM_TEST_RTL
#include "vta/driver/tsim_device.h"
#endif

namespace vta::test {
namespace {

using namespace std::chrono_literals;

isa::HwConfig shipped_config(const std::string& stem) {
  return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/" + stem + ".json");
}

[[maybe_unused]] isa::ExecutionCounters without_cycles(isa::ExecutionCounters c) {
  c.cycle_count = 0;
  return c;
}

#if !VTA_TLM_TEST_RTL  // the unit tests (tlm_test); tlm_tsim_test holds only the tsim comparison
// ---- functional equality with fsim at every shipped config, two memory systems ----
class TlmConfigs : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(TlmConfigs, RandomProgramsMatchFsim) {
  const auto& [stem, memory] = GetParam();
  const isa::HwConfig config = shipped_config(stem);
  const auto fsim = driver::open_device("fsim", config);
  driver::TlmDeviceOptions options;
  if (memory == 1) {  // slow, narrow memory with one outstanding burst: modules interleave differently
    options.dram_latency_cycles = 150;
    options.dram_bytes_per_cycle = 3;
    options.max_outstanding = 1;
  }
  driver::TlmDevice tlm("tlm", config, options);
  RandomProgramGenerator gen(config, 0x71a00000u + std::hash<std::string>{}(stem) % 4096 * 16 + memory);
  constexpr int kPrograms = 100;
  for (int p = 0; p < kPrograms; ++p) {
    const GeneratedProgram g = gen.next();
    load_regions(*fsim, g);
    load_regions(tlm, g);
    const driver::RunResult rf = fsim->run(g.insn_address, g.insn_count, 0ms);
    const driver::RunResult rt = tlm.run(g.insn_address, g.insn_count, 0ms);
    ASSERT_TRUE(rf.ok()) << rf.message;
    ASSERT_TRUE(rt.ok()) << "program " << p << ": " << rt.message << "\n" << g.listing();
    ASSERT_EQ(compare_regions(g, *fsim, tlm), "") << "program " << p << "\n" << g.listing();
    ASSERT_EQ(without_cycles(rt.counters), without_cycles(rf.counters)) << "program " << p;
    ASSERT_GT(rt.counters.cycle_count, 0u);
  }
}

std::string config_name(const ::testing::TestParamInfo<std::tuple<std::string, int>>& param) {
  return std::get<0>(param.param) + (std::get<1>(param.param) == 0 ? "_config_timing" : "_slow_memory");
}

INSTANTIATE_TEST_SUITE_P(Shipped, TlmConfigs,
                         ::testing::Combine(::testing::Values("default", "batch2", "block8", "block32",
                                                              "in16_out32"),
                                            ::testing::Values(0, 1)),
                         config_name);

// ---- the Apache VTA recordings replay exactly (memory and counters) ----
TEST(TlmConformance, ApacheVtaRecordingsReplayExactly) {
  namespace fs = std::filesystem;
  int replayed = 0;
  for (const auto& entry : fs::directory_iterator(conformance_root())) {
    if (!entry.is_directory()) continue;
    SCOPED_TRACE(entry.path().string());
    const fs::path dir = fs::temp_directory_path() / ("vta_tlm_recording_" + entry.path().filename().string());
    fs::remove_all(dir);
    driver::import_vta_recording(entry.path(), dir);
    const driver::ProgramTrace trace = driver::ProgramTrace::load(dir);
    const auto dev = driver::open_device("tlm", trace.config);
    const driver::ReplayResult r = driver::replay(trace, dir, *dev, std::nullopt);
    EXPECT_TRUE(r.run.ok()) << r.run.message;
    EXPECT_TRUE(r.mismatches.empty()) << r.mismatches.size() << " regions differ";
    EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
    EXPECT_GT(r.run.counters.cycle_count, 0u);
    fs::remove_all(dir);
    ++replayed;
  }
  EXPECT_EQ(replayed, 3);
}

// ---- VTA_TLM_TIMELINE: every instruction once on its module, the GEMM engine's intervals in order ----
TEST(TlmTimeline, ListsEveryInstructionAndTheEnginesIntervals) {
  namespace fs = std::filesystem;
  const fs::path rec = conformance_root() / "small.T2";
  const fs::path dir = fs::temp_directory_path() / "vta_tlm_timeline_trace";
  const fs::path csv = fs::temp_directory_path() / "vta_tlm_timeline.csv";
  fs::remove_all(dir);
  fs::remove(csv);
  driver::import_vta_recording(rec, dir);
  const driver::ProgramTrace trace = driver::ProgramTrace::load(dir);
  ::setenv("VTA_TLM_TIMELINE", csv.c_str(), 1);
  const auto dev = driver::open_device("tlm", trace.config);
  const driver::ReplayResult r = driver::replay(trace, dir, *dev, std::nullopt);
  ::unsetenv("VTA_TLM_TIMELINE");
  ASSERT_TRUE(r.run.ok()) << r.run.message;
  std::ifstream in(csv);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(line.rfind("# run: " + std::to_string(trace.insn_count) + " instructions", 0), 0u) << line;
  std::vector<int> on_module(trace.insn_count, 0);
  uint64_t gemm_end = 0, gemms = 0, last = 0;
  while (std::getline(in, line)) {
    ASSERT_NE(line[0], '#') << "one run, one header";
    std::stringstream ss(line);
    std::string unit, field;
    std::getline(ss, unit, ',');
    std::getline(ss, field, ',');
    const auto index = std::stoul(field);
    std::getline(ss, field, ',');
    const uint64_t from = std::stoull(field);
    std::getline(ss, field, ',');
    const uint64_t to = std::stoull(field);
    ASSERT_LT(index, trace.insn_count);
    EXPECT_LE(from, to) << line;
    last = std::max(last, to);
    if (unit == "load" || unit == "store" || unit == "compute") ++on_module[index];
    if (unit == "gemm") {
      EXPECT_GE(from, gemm_end) << "GEMMs overlap: " << line;
      gemm_end = to;
      ++gemms;
    }
  }
  for (uint32_t i = 0; i < trace.insn_count; ++i) EXPECT_EQ(on_module[i], 1) << "instruction " << i;
  EXPECT_GT(gemms, 0u);
  EXPECT_LE(last, r.run.counters.cycle_count);
  fs::remove_all(dir);
  fs::remove(csv);
}

// ---- errors ----
// Maps a one-region instruction stream and runs it.
driver::RunResult run_stream(driver::Device& dev, const std::vector<isa::Instruction>& insns) {
  const isa::InstructionCodec codec(dev.config());
  std::vector<isa::RawInstruction> raw;
  for (const auto& i : insns) raw.push_back(codec.encode(i));
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  for (const auto& b : dev.buffers()) dev.free(b);
  const driver::DeviceBuffer buf = dev.allocate(bytes.size(), 4096);
  std::memcpy(buf.host, bytes.data(), bytes.size());
  dev.flush(buf, 0, buf.size);
  return dev.run(buf.device_address, static_cast<uint32_t>(insns.size()), 0ms);
}

TEST(TlmErrors, DeadlockNamesTheStalledInstructionAndTheDeviceRecovers) {
  const isa::HwConfig config = shipped_config("default");
  const auto dev = driver::open_device("tlm", config);
  isa::GemmInsn gemm;
  gemm.dep.pop_prev = true;  // nobody ever pushes load->compute
  const driver::RunResult r = run_stream(*dev, {gemm, isa::FinishInsn{}});
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_NE(r.message.find("instruction 0: deadlock"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("load->compute"), std::string::npos) << r.message;
  // the next run is clean
  const driver::RunResult ok = run_stream(*dev, {isa::FinishInsn{}});
  EXPECT_TRUE(ok.ok()) << ok.message;
  EXPECT_EQ(ok.counters.compute_insn_count, 1u);
  EXPECT_GT(ok.counters.cycle_count, 0u);
}

TEST(TlmErrors, IllegalFlagsAndMissingFinishAreErrors) {
  const isa::HwConfig config = shipped_config("default");
  const auto dev = driver::open_device("tlm", config);
  isa::MemInsn load = isa::make_mem(isa::Opcode::kLoad, isa::MemoryType::kInp, 0, 0, 0, 0, 0);
  load.dep.pop_prev = true;  // the load module has no previous module
  driver::RunResult r = run_stream(*dev, {load, isa::FinishInsn{}});
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_NE(r.message.find("instruction 0:"), std::string::npos) << r.message;
  r = run_stream(*dev, {isa::GemmInsn{}});
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_NE(r.message.find("FINISH"), std::string::npos) << r.message;
}

// ---- counters ----
TEST(TlmCounters, BusyAndStallCountersUseTsimNamesAndAddUp) {
  const isa::HwConfig config = shipped_config("default");
  driver::TlmDevice tlm("tlm", config);
  RandomProgramGenerator gen(config, 0x7c0u);
  const GeneratedProgram g = gen.next();
  load_regions(tlm, g);
  const driver::RunResult r = tlm.run(g.insn_address, g.insn_count, 0ms);
  ASSERT_TRUE(r.ok()) << r.message;
  const auto extra = tlm.extra_counters();
  ASSERT_EQ(extra.size(), 8u);
  EXPECT_EQ(extra[0].first, "load_busy_cycles");
  EXPECT_EQ(extra[7].first, "gemm_hazard_cycles");
  for (int m = 0; m < 3; ++m) {
    EXPECT_LE(extra[2 * m + 1].second, extra[2 * m].second) << extra[2 * m].first;  // stall is part of busy
    EXPECT_LE(extra[2 * m].second, r.counters.cycle_count) << extra[2 * m].first;
  }
  EXPECT_GT(extra[2].second, 0u);  // compute ran something
  // the register file shows the same values (counter 11 = load_busy_cycles)
  EXPECT_EQ(tlm.read_register(isa::reg::counter_lo(11)), static_cast<uint32_t>(extra[0].second));
  EXPECT_EQ(tlm.read_register(isa::reg::counter_lo(10)), static_cast<uint32_t>(r.counters.cycle_count));
}

#endif

#if VTA_HAVE_TSIM && VTA_TLM_TEST_RTL
// ---- cycle counts against tsim (label rtl) ----
// The bound: the mean absolute error over the programs, and the worst single program.
constexpr double kMeanErrorBound = VTA_TLM_MEAN_ERROR_BOUND;
constexpr double kMaxErrorBound = VTA_TLM_MAX_ERROR_BOUND;

TEST(TlmCycles, RandomProgramsWithinBoundOfTsim) {
  const isa::HwConfig config = shipped_config("default");
  struct Memory {
    uint32_t latency, bytes;
  };
  for (const Memory mem : {Memory{64, 8}, Memory{300, 2}}) {
    driver::TsimDeviceOptions to;
    to.dram_latency_cycles = mem.latency;
    to.dram_bytes_per_cycle = mem.bytes;
    driver::TsimDevice tsim("tsim", config, to);
    driver::TlmDeviceOptions lo;
    lo.dram_latency_cycles = mem.latency;
    lo.dram_bytes_per_cycle = mem.bytes;
    driver::TlmDevice tlm("tlm", config, lo);
    RandomProgramGenerator gen(config, 0xc7c1e000u + mem.latency);
    double sum = 0, worst = 0;
    constexpr int kPrograms = 60;
    for (int p = 0; p < kPrograms; ++p) {
      const GeneratedProgram g = gen.next();
      load_regions(tsim, g);
      load_regions(tlm, g);
      const driver::RunResult rs = tsim.run(g.insn_address, g.insn_count, 0ms);
      const driver::RunResult rt = tlm.run(g.insn_address, g.insn_count, 0ms);
      ASSERT_TRUE(rs.ok() && rt.ok()) << rs.message << rt.message;
      const double err = std::abs(static_cast<double>(rt.counters.cycle_count) -
                                  static_cast<double>(rs.counters.cycle_count)) /
                         static_cast<double>(rs.counters.cycle_count);
      sum += err;
      worst = std::max(worst, err);
    }
    const double mean = sum / kPrograms;
    RecordProperty("mean_error_latency_" + std::to_string(mem.latency), std::to_string(mean));
    EXPECT_LE(mean, kMeanErrorBound) << "latency " << mem.latency << ", " << mem.bytes << " B/cycle";
    EXPECT_LE(worst, kMaxErrorBound) << "latency " << mem.latency << ", " << mem.bytes << " B/cycle";
    std::printf("latency %u, %u B/cycle: mean |error| %.2f %%, worst %.2f %% over %d programs\n", mem.latency,
                mem.bytes, 100 * mean, 100 * worst, kPrograms);
  }
}

TEST(TlmCycles, ApacheVtaRecordingsWithinBoundOfTsim) {
  namespace fs = std::filesystem;
  for (const auto& entry : fs::directory_iterator(conformance_root())) {
    if (!entry.is_directory()) continue;
    const fs::path dir = fs::temp_directory_path() / ("vta_tlm_rtl_recording_" + entry.path().filename().string());
    fs::remove_all(dir);
    driver::import_vta_recording(entry.path(), dir);
    const driver::ProgramTrace trace = driver::ProgramTrace::load(dir);
    const auto tsim = driver::open_device("tsim", trace.config);
    const auto tlm = driver::open_device("tlm", trace.config);
    const driver::ReplayResult rs = driver::replay(trace, dir, *tsim, std::nullopt);
    const driver::ReplayResult rt = driver::replay(trace, dir, *tlm, std::nullopt);
    fs::remove_all(dir);
    ASSERT_TRUE(rs.run.ok() && rt.run.ok()) << rs.run.message << rt.run.message;
    const double a = static_cast<double>(rs.run.counters.cycle_count), b = static_cast<double>(rt.run.counters.cycle_count);
    std::printf("%-20s tsim %8.0f tlm %8.0f  %+.2f %%\n", entry.path().filename().string().c_str(), a, b,
                100 * (b - a) / a);
    EXPECT_LE(std::abs(b - a) / a, kMaxErrorBound) << entry.path();
  }
}

// Small directed programs: one kind of instruction each, so a timing difference points at one walker.
struct Directed {
  const char* name;
  std::vector<isa::Instruction> insns;
  std::vector<isa::MicroOp> uops = {};  // at the start of the data region (what uop_load reads); else zeros
};

std::vector<Directed> directed_programs(const isa::HwConfig& config) {
  using isa::MemoryType;
  using isa::Opcode;
  const isa::InstructionCodec codec(config);
  std::vector<Directed> out;
  const auto uop_load = [](uint32_t n) {
    return isa::make_mem(Opcode::kLoad, MemoryType::kUop, 0, 0, 1, n, n);
  };
  const auto gemm = [](uint32_t uops, uint32_t iters, bool reset, uint32_t dst_fi) {
    isa::GemmInsn g;
    g.loop.reset = reset;
    g.loop.uop_bgn = 0;
    g.loop.uop_end = uops;
    g.loop.iter_out = 1;
    g.loop.iter_in = iters;
    g.loop.dst_factor_in = dst_fi;
    return g;
  };
  out.push_back({"load uop 64", {uop_load(64), isa::FinishInsn{}}});
  out.push_back({"load acc 32", {isa::make_mem(Opcode::kLoad, MemoryType::kAcc, 0, 0, 2, 16, 16), isa::FinishInsn{}}});
  out.push_back({"load inp 8x16 pad", {isa::make_mem(Opcode::kLoad, MemoryType::kInp, 0, 0, 8, 16, 16, 1, 1, 1, 1),
                                       isa::FinishInsn{}}});
  out.push_back({"load wgt 16", {isa::make_mem(Opcode::kLoad, MemoryType::kWgt, 0, 0, 1, 16, 16), isa::FinishInsn{}}});
  // many small loads: instruction fetch bursts compete with the load module's bursts
  std::vector<isa::Instruction> small_loads;
  for (uint32_t i = 0; i < 120; ++i) small_loads.push_back(isa::make_mem(Opcode::kLoad, MemoryType::kInp, i, 2 * i, 1, 1, 1));
  small_loads.push_back(isa::FinishInsn{});
  out.push_back({"120 small loads", small_loads});
  // LOADs back to back (vta_load overlaps two): both buffers, a pad walker that outlasts its data, strided
  // rows, single elements
  out.push_back({"loads back to back",
                 {isa::make_mem(Opcode::kLoad, MemoryType::kInp, 0, 0, 2, 3, 3, 15, 15, 15, 15),
                  isa::make_mem(Opcode::kLoad, MemoryType::kWgt, 0, 7, 1, 40, 40),
                  isa::make_mem(Opcode::kLoad, MemoryType::kInp, 30, 100, 3, 20, 64, 1, 0, 2, 0),
                  isa::make_mem(Opcode::kLoad, MemoryType::kWgt, 20, 100, 2, 8, 9, 0, 1, 1, 1),
                  isa::make_mem(Opcode::kLoad, MemoryType::kInp, 5, 900, 1, 2, 2),
                  isa::make_mem(Opcode::kLoad, MemoryType::kInp, 6, 950, 1, 1, 1),
                  isa::make_mem(Opcode::kLoad, MemoryType::kWgt, 0, 200, 1, 3, 3, 0, 0, 1, 0), isa::FinishInsn{}}});
  // a store while the load module reads rows of one element and compute loads micro-ops
  out.push_back({"store during small rows", {isa::make_mem(Opcode::kStore, MemoryType::kOut, 0, 4096, 14, 16, 16),
                                             isa::make_mem(Opcode::kLoad, MemoryType::kInp, 0, 0, 96, 1, 2),
                                             uop_load(40), isa::FinishInsn{}}});
  // the same without the store: with one burst outstanding the two modules' requests take turns at the
  // read arbiter (round robin in the core, first come in the model; the same cycles on this program)
  out.push_back({"small rows and uops", {isa::make_mem(Opcode::kLoad, MemoryType::kInp, 0, 0, 96, 1, 2),
                                         uop_load(40), isa::FinishInsn{}}});
  // a 1x1 stride-2 conv's input: rows of one element, every other one
  out.push_back({"load inp 96 rows of 1", {isa::make_mem(Opcode::kLoad, MemoryType::kInp, 0, 0, 96, 1, 2),
                                           isa::FinishInsn{}}});
  out.push_back({"gemm 16x64", {uop_load(16), gemm(16, 64, false, 0), isa::FinishInsn{}}});
  out.push_back({"gemm hazard", {uop_load(1), gemm(1, 200, false, 0), isa::FinishInsn{}}});
  out.push_back({"gemm reset", {uop_load(16), gemm(16, 8, true, 16), isa::FinishInsn{}}});
  isa::AluInsn alu;
  alu.loop = gemm(16, 8, false, 16).loop;
  alu.alu_opcode = isa::AluOpcode::kAdd;
  alu.use_imm = true;
  alu.imm = 3;
  out.push_back({"alu imm", {uop_load(16), alu, isa::FinishInsn{}}});
  alu.use_imm = false;
  out.push_back({"alu vector", {uop_load(16), alu, isa::FinishInsn{}}});
  // MUL takes two more stages (the DSP48s' M and P registers) and reads ACC four stages before it writes:
  // no hazard, a hazard on every micro-op, and kernels of three rows that meet the run before it
  alu.alu_opcode = isa::AluOpcode::kMul;
  out.push_back({"alu mul", {uop_load(16), alu, isa::FinishInsn{}}});
  isa::AluInsn mul_chain = alu;
  mul_chain.loop = gemm(1, 50, false, 0).loop;
  out.push_back({"alu mul hazard", {uop_load(1), mul_chain, isa::FinishInsn{}}});
  mul_chain.loop = gemm(3, 20, false, 0).loop;
  mul_chain.use_imm = true;
  mul_chain.imm = 3;
  out.push_back({"alu mul 3 rows", {uop_load(3), mul_chain, isa::FinishInsn{}}, {{0, 5, 0}, {1, 5, 0}, {2, 5, 0}}});
  // one-micro-op kernels stepping the destination by one row: pairs of rows, both alignments
  isa::AluInsn pairs;
  pairs.loop = gemm(1, 37, false, 1).loop;
  pairs.loop.iter_out = 3;
  pairs.loop.dst_factor_out = 51;
  pairs.loop.src_factor_out = 1;
  pairs.alu_opcode = isa::AluOpcode::kMax;
  pairs.use_imm = true;
  pairs.imm = -7;
  out.push_back({"alu imm pairs", {uop_load(1), pairs, isa::FinishInsn{}}});
  pairs.use_imm = false;
  out.push_back({"alu vector pairs", {uop_load(1), pairs, isa::FinishInsn{}}});
  isa::GemmInsn reset_pairs = gemm(1, 101, true, 1);
  reset_pairs.loop.iter_out = 2;
  reset_pairs.loop.dst_factor_out = 101;
  out.push_back({"reset pairs", {uop_load(1), reset_pairs, isa::FinishInsn{}}});
  // runs over the same rows (outer factor 0): pairs meet the previous run's writes
  isa::AluInsn rerun = pairs;
  rerun.loop.dst_factor_out = 0;
  rerun.loop.src_factor_out = 0;
  out.push_back({"alu vector pair reruns", {uop_load(1), rerun, isa::FinishInsn{}}});
  isa::MemInsn st = isa::make_mem(Opcode::kStore, MemoryType::kOut, 0, 0, 4, 16, 16);
  out.push_back({"store 4x16", {st, isa::FinishInsn{}}});
  std::vector<isa::Instruction> many;
  for (int i = 0; i < 40; ++i) many.push_back(gemm(16, 4, false, 16));
  many.insert(many.begin(), uop_load(16));
  many.push_back(isa::FinishInsn{});
  out.push_back({"40 gemms", many});
  // a long STORE while the load module streams INP: write beats take the reads' bandwidth
  out.push_back({"store during load", {isa::make_mem(Opcode::kLoad, MemoryType::kInp, 0, 0, 16, 128, 128),
                                       isa::make_mem(Opcode::kStore, MemoryType::kOut, 0, 4096, 16, 128, 128),
                                       isa::FinishInsn{}}});
  out.push_back({"store during gemm+uop", {isa::make_mem(Opcode::kStore, MemoryType::kOut, 0, 4096, 16, 128, 128),
                                           uop_load(512), gemm(16, 64, false, 0), uop_load(512),
                                           isa::FinishInsn{}}});
  // The GEMM and ALU engines (vta_compute): requantization-like ALU passes beside GEMMs into the other
  // ACC bank, a GEMM waiting for an older ALU pass in its bank, a full ALU queue.
  const uint32_t half = config.acc().depth / 2;
  const std::vector<isa::MicroOp> banks = {{0, 0, 0}, {half, 0, 0}};
  const auto into = [&](isa::LoopNest l, uint32_t bank) {
    l.uop_bgn = bank;
    l.uop_end = bank + 1;
    return l;
  };
  isa::GemmInsn g0 = gemm(1, 64, false, 1), g1 = gemm(1, 64, false, 1);
  g0.loop = into(g0.loop, 0);
  g1.loop = into(g1.loop, 1);
  g1.loop.iter_out = 8;
  isa::AluInsn a0;
  a0.alu_opcode = isa::AluOpcode::kShr;
  a0.use_imm = true;
  a0.imm = 2;
  a0.loop = into(gemm(1, 16, false, 1).loop, 0);
  a0.loop.iter_out = 4;
  a0.loop.dst_factor_out = 16;
  isa::AluInsn a1 = a0;
  a1.loop = into(a1.loop, 1);
  out.push_back({"alu beside gemm", {uop_load(2), g0, a0, g1, a1, g0, a0, isa::FinishInsn{}}, banks});
  isa::AluInsn long_a0 = a0;
  long_a0.use_imm = false;  // a vector operand: one row a cycle
  long_a0.loop.iter_out = 16;
  long_a0.loop.dst_factor_out = 0;
  out.push_back({"gemm waits for alu", {uop_load(2), g0, long_a0, g0, g1, isa::FinishInsn{}}, banks});
  std::vector<isa::Instruction> queue = {uop_load(2), g1};
  for (int i = 0; i < 7; ++i) queue.push_back(i % 2 ? a0 : long_a0);
  queue.push_back(g1);
  queue.push_back(isa::FinishInsn{});
  out.push_back({"alu queue full", queue, banks});
  // a GEMM's push to the load module waits for the GEMM engine only: the LOAD it lets go runs beside the
  // older ALU pass (in the other bank); then both engines push to the load module
  isa::GemmInsn g1_push = g1;
  g1_push.dep.push_prev = true;
  isa::MemInsn wgt_after = isa::make_mem(Opcode::kLoad, MemoryType::kWgt, 0, 0, 1, 64, 64);
  wgt_after.dep.pop_next = true;
  isa::AluInsn a0_push = long_a0;
  a0_push.dep.push_prev = true;
  isa::MemInsn wgt_after2 = wgt_after;
  wgt_after2.sram_base = 64;
  out.push_back({"load beside alu", {uop_load(2), long_a0, g1_push, wgt_after, isa::FinishInsn{}}, banks});
  out.push_back({"alu and gemm push to load",
                 {uop_load(2), a0_push, g0, g1_push, wgt_after, wgt_after2, isa::FinishInsn{}}, banks});
  // the GEMM engine gives a GEMM's push to the load module and ALU passes queue behind a running GEMM,
  // so the front end reaches the next GEMM before the engine is idle
  out.push_back({"gemm pushes past queued alu",
                 {uop_load(2), g1_push, a0, a0, a0, g1_push, wgt_after, wgt_after2, isa::FinishInsn{}}, banks});
  (void)codec;
  return out;
}

// Runs `insns` with a 1 MiB zeroed data region at address 0 (every LOAD/STORE above reads/writes there).
driver::RunResult run_directed(driver::Device& dev, const std::vector<isa::Instruction>& insns,
                               const std::vector<isa::MicroOp>& uops = {}) {
  const isa::InstructionCodec codec(dev.config());
  std::vector<isa::RawInstruction> raw;
  for (const auto& i : insns) raw.push_back(codec.encode(i));
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  for (const auto& b : dev.buffers()) dev.free(b);
  const driver::DeviceBuffer data = dev.map_at(0, 1u << 20);
  std::memset(data.host, 0, data.size);
  for (size_t i = 0; i < uops.size(); ++i) {
    const uint32_t w = codec.encode_uop(uops[i]);
    std::memcpy(static_cast<uint8_t*>(data.host) + 4 * i, &w, 4);
  }
  dev.flush(data, 0, data.size);
  const driver::DeviceBuffer buf = dev.map_at(1u << 21, bytes.size());
  std::memcpy(buf.host, bytes.data(), bytes.size());
  dev.flush(buf, 0, buf.size);
  return dev.run(buf.device_address, static_cast<uint32_t>(insns.size()), 0ms);
}

// At the config's memory timing, a narrow memory (17 cycles, 5 B/cycle, one burst outstanding) and a slow
// one (300 cycles, 2 B/cycle).
TEST(TlmCycles, DirectedProgramsWithinBoundOfTsim) {
  const isa::HwConfig config = shipped_config("default");
  struct Memory {
    const char* name;
    std::optional<uint32_t> latency, bytes, outstanding;
  };
  for (const Memory& m : {Memory{"config", {}, {}, {}}, Memory{"narrow", 17, 5, 1}, Memory{"slow", 300, 2, 16}}) {
    driver::TsimDeviceOptions so;
    driver::TlmDeviceOptions to;
    if (m.latency) so.dram_latency_cycles = to.dram_latency_cycles = *m.latency;
    if (m.bytes) so.dram_bytes_per_cycle = to.dram_bytes_per_cycle = *m.bytes;
    if (m.outstanding) so.max_outstanding = to.max_outstanding = *m.outstanding;
    driver::TsimDevice tsim("tsim", config, so);
    driver::TlmDevice tlm("tlm", config, to);
    for (const Directed& d : directed_programs(config)) {
      const driver::RunResult rs = run_directed(tsim, d.insns, d.uops);
      const driver::RunResult rt = run_directed(tlm, d.insns, d.uops);
      ASSERT_TRUE(rs.ok() && rt.ok()) << d.name << ": " << rs.message << rt.message;
      const double err = (static_cast<double>(rt.counters.cycle_count) - static_cast<double>(rs.counters.cycle_count)) /
                         static_cast<double>(rs.counters.cycle_count);
      std::printf("%-7s %-22s tsim %8llu tlm %8llu  %+.2f %%\n", m.name, d.name,
                  static_cast<unsigned long long>(rs.counters.cycle_count),
                  static_cast<unsigned long long>(rt.counters.cycle_count), 100 * err);
      EXPECT_LE(std::abs(err), kMaxErrorBound) << m.name << " " << d.name;
    }
  }
}
#endif

}  // namespace
}  // namespace vta::test
