// Differential tests: the RTL core (Device target "tsim") against the functional simulator ("fsim").
//   - >= 1000 random legal programs (tests/common random_program.h) at the default config: DRAM must be
//     bit-identical after every run and every counter except cycle_count equal. A failing program is
//     saved as a trace directory (recorded on fsim, so it holds fsim's result as the expectation) that
//     `vta exec --target tsim --check DIR` replays; its path is printed.
//   - directed programs the generator does not produce: long bursts across 4 KiB pages, whole-buffer
//     tiles, large loop nests, accumulation wrap-around, every ALU op on edge values;
//   - the three Apache VTA recordings in the shared conformance directory, replayed on tsim;
//   - error programs (bad opcode, bad ALU opcode, bad memory type, illegal flags, deadlock): both report an
//     error at the same instruction, and tsim is usable again afterwards;
//   - the watchdog turns a stalled memory into an error naming the cycle and the stalled module.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/driver/tsim_device.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/test/queue_depth_programs.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"
#include "vta/test/test_data.h"

namespace vta::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kShards = 8;
constexpr int kProgramsPerShard = 512;  // 8 x 512 = 4096 random programs per run (about 12 s)

isa::HwConfig default_config() { return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json"); }

isa::ExecutionCounters without_cycles(isa::ExecutionCounters c) {
  c.cycle_count = 0;
  return c;
}

// Records `g` on a fresh fsim device as a trace directory (expected = fsim's memory and counters) and
// returns the directory.
fs::path save_failure(const isa::HwConfig& config, const GeneratedProgram& g, const std::string& name) {
  const fs::path dir = fs::path(VTA_TEST_OUTPUT_DIR) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto dev = driver::open_device("fsim", config);
  load_regions(*dev, g);
  driver::TraceRecorder recorder(dir);
  recorder.before_run(*dev, g.insn_address, g.insn_count);
  const driver::RunResult result = dev->run(g.insn_address, g.insn_count, 0ms);
  recorder.after_run(*dev, result);
  return dir;
}

// Runs `g` on both devices and compares; on a difference saves a trace and fails with its path.
void run_both(const isa::HwConfig& config, driver::Device& fsim, driver::Device& tsim, const GeneratedProgram& g,
              const std::string& name, bool expect_ok = true) {
  load_regions(fsim, g);
  load_regions(tsim, g);
  const driver::RunResult rf = fsim.run(g.insn_address, g.insn_count, 0ms);
  const driver::RunResult rt = tsim.run(g.insn_address, g.insn_count, 0ms);
  std::string why;
  if (expect_ok && !rf.ok()) why = "fsim failed: " + rf.message;
  if (why.empty() && rf.ok() != rt.ok()) why = "fsim: " + (rf.ok() ? "ok" : rf.message) + "\ntsim: " + (rt.ok() ? "ok" : rt.message);
  if (why.empty() && rf.ok()) {
    why = compare_regions(g, fsim, tsim);
    if (why.empty() && without_cycles(rf.counters) != without_cycles(rt.counters))
      why = "counters differ:\nfsim " + rf.counters.to_json().dump() + "\ntsim " + rt.counters.to_json().dump();
  }
  if (!why.empty()) {
    const fs::path dir = save_failure(config, g, name);
    ADD_FAILURE() << name << ": " << why << "\nprogram:\n"
                  << g.listing() << "trace saved: " << dir.string() << "\nreplay: vta exec --target tsim --check "
                  << dir.string();
  }
}

// ---------------------------------------------------------------------------------------------------
// Random programs

class TsimDifferential : public ::testing::TestWithParam<int> {};

TEST_P(TsimDifferential, RandomProgramsMatchFsim) {
  const isa::HwConfig config = default_config();
  const auto fsim = driver::open_device("fsim", config);
  // Shards vary the memory system, so the modules interleave differently (results must not change).
  driver::TsimDeviceOptions options;
  switch (GetParam() % 4) {
    case 1: options.dram_latency_cycles = 1; options.dram_bytes_per_cycle = 64; break;
    case 2: options.dram_latency_cycles = 300; options.dram_bytes_per_cycle = 2; break;
    case 3: options.dram_latency_cycles = 17; options.dram_bytes_per_cycle = 5; options.max_outstanding = 1; break;
    default: break;  // the config's timing
  }
  driver::TsimDevice tsim("tsim", config, options);
  RandomProgramGenerator gen(config, 0x75170000u + static_cast<uint64_t>(GetParam()));
  uint64_t insns = 0, cycles = 0, gemm = 0, alu = 0, stored = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int p = 0; p < kProgramsPerShard; ++p) {
    const GeneratedProgram g = gen.next();
    const std::string name = "random_shard" + std::to_string(GetParam()) + "_program" + std::to_string(p);
    run_both(config, *fsim, tsim, g, name);
    if (HasFailure()) return;  // one saved trace per shard is enough
    insns += g.insn_count;
    cycles += tsim.counters().cycle_count;
    gemm += tsim.counters().gemm_counter;
    alu += tsim.counters().alu_counter;
    stored += tsim.counters().out_store_nbytes;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[   INFO   ] shard %d: %d programs, %llu instructions, %llu cycles, %llu GEMM uops, %llu ALU uops, "
              "%llu bytes stored, %.2f s\n",
              GetParam(), kProgramsPerShard, static_cast<unsigned long long>(insns),
              static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(gemm),
              static_cast<unsigned long long>(alu), static_cast<unsigned long long>(stored), secs);
  EXPECT_GT(gemm, 0u);
  EXPECT_GT(alu, 0u);
  EXPECT_GT(stored, 0u);
}

INSTANTIATE_TEST_SUITE_P(Shards, TsimDifferential, ::testing::Range(0, kShards));

// The other shipped configs (each has its own tsim model): kConfigShards shards of kConfigPrograms random
// programs each, the first with the config's DRAM timing, the second with a slow, narrow memory.
constexpr int kConfigShards = 2;
constexpr int kConfigPrograms = 160;  // 2 x 160 = 320 programs per config
const char* const kOtherConfigs[] = {"batch2", "block8", "block32", "in16_out32"};

isa::HwConfig shipped_config(const std::string& stem) {
  return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/" + stem + ".json");
}

class TsimConfigDifferential : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(TsimConfigDifferential, RandomProgramsMatchFsim) {
  const auto& [stem, shard] = GetParam();
  const isa::HwConfig config = shipped_config(stem);
  ASSERT_NE(config.hash(), default_config().hash());
  ASSERT_TRUE(driver::TsimDevice::has_model(config)) << "no tsim model for " << stem;
  const auto fsim = driver::open_device("fsim", config);
  driver::TsimDeviceOptions options;
  if (shard % 2 == 1) {
    options.dram_latency_cycles = 150;
    options.dram_bytes_per_cycle = 3;
    options.max_outstanding = 2;
  }
  driver::TsimDevice tsim("tsim", config, options);
  RandomProgramGenerator gen(config, 0xc0f90000u + std::hash<std::string>{}(stem) % 4096 * 16 +
                                         static_cast<uint64_t>(shard));
  uint64_t insns = 0, cycles = 0, gemm = 0, alu = 0, stored = 0;
  for (int p = 0; p < kConfigPrograms; ++p) {
    const GeneratedProgram g = gen.next();
    const std::string name = "random_" + stem + "_shard" + std::to_string(shard) + "_program" + std::to_string(p);
    run_both(config, *fsim, tsim, g, name);
    if (HasFailure()) return;
    insns += g.insn_count;
    cycles += tsim.counters().cycle_count;
    gemm += tsim.counters().gemm_counter;
    alu += tsim.counters().alu_counter;
    stored += tsim.counters().out_store_nbytes;
  }
  std::printf("[   INFO   ] %s shard %d: %d programs, %llu instructions, %llu cycles, %llu GEMM uops, %llu ALU uops, "
              "%llu bytes stored\n",
              stem.c_str(), shard, kConfigPrograms, static_cast<unsigned long long>(insns),
              static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(gemm),
              static_cast<unsigned long long>(alu), static_cast<unsigned long long>(stored));
  EXPECT_GT(gemm, 0u);
  EXPECT_GT(alu, 0u);
  EXPECT_GT(stored, 0u);
}

std::string config_shard_name(const ::testing::TestParamInfo<std::tuple<std::string, int>>& param) {
  return std::get<0>(param.param) + "_" + std::to_string(std::get<1>(param.param));
}

INSTANTIATE_TEST_SUITE_P(Configs, TsimConfigDifferential,
                         ::testing::Combine(::testing::Values("batch2", "block8", "block32", "in16_out32"),
                                            ::testing::Range(0, kConfigShards)),
                         config_shard_name);

// ---------------------------------------------------------------------------------------------------
// Directed programs: fixed regions with random data, instructions written here.

struct Layout {
  explicit Layout(const isa::HwConfig& c) : cfg(c), codec(c) {}
  isa::HwConfig cfg;
  isa::InstructionCodec codec;
  // Region base addresses; every region starts 1 KiB into a 4 KiB page so rows cross page boundaries.
  static constexpr uint64_t kInp = 0x100400, kWgt = 0x200400, kAcc = 0x400400, kOut = 0x600400, kUop = 0x700400,
                            kInsn = 0x800000;
  uint32_t elem(isa::MemoryType t) const { return cfg.buffer(t).element_bytes; }
  uint32_t base(isa::MemoryType t) const {
    switch (t) {
      case isa::MemoryType::kInp: return static_cast<uint32_t>(kInp / elem(t));
      case isa::MemoryType::kWgt: return static_cast<uint32_t>(kWgt / elem(t));
      case isa::MemoryType::kAcc: return static_cast<uint32_t>(kAcc / elem(t));
      case isa::MemoryType::kOut: return static_cast<uint32_t>(kOut / elem(t));
      default: return static_cast<uint32_t>(kUop / 4);
    }
  }
};

// Builds a GeneratedProgram from instructions and micro-ops over random data (ACC data: small values when
// `small_acc`, else full-range).
GeneratedProgram directed(const Layout& L, std::vector<isa::Instruction> prog, const std::vector<isa::MicroOp>& uops,
                          uint64_t seed, bool small_acc = false) {
  std::mt19937_64 rng(seed);
  const auto bytes = [&rng](uint64_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng());
    return v;
  };
  GeneratedProgram g;
  g.regions.push_back({Layout::kInp, bytes(uint64_t{L.cfg.inp().depth} * L.elem(isa::MemoryType::kInp))});
  g.regions.push_back({Layout::kWgt, bytes(uint64_t{256} * L.elem(isa::MemoryType::kWgt))});
  std::vector<uint8_t> acc = bytes(uint64_t{L.cfg.acc().depth} * L.elem(isa::MemoryType::kAcc));
  if (small_acc)
    for (size_t i = 0; i < acc.size(); i += 4) {
      const auto v = static_cast<int32_t>(rng() % 512) - 256;
      std::memcpy(&acc[i], &v, 4);
    }
  g.regions.push_back({Layout::kAcc, acc});
  g.regions.push_back({Layout::kOut, bytes(uint64_t{L.cfg.acc().depth} * 2 * L.elem(isa::MemoryType::kOut))});
  std::vector<uint8_t> u(std::max<size_t>(uops.size(), 1) * 4);
  for (size_t i = 0; i < uops.size(); ++i) {
    const uint32_t raw = L.codec.encode_uop(uops[i]);
    std::memcpy(&u[i * 4], &raw, 4);
  }
  g.regions.push_back({Layout::kUop, u});
  if (prog.empty() || !std::holds_alternative<isa::FinishInsn>(prog.back())) prog.push_back(isa::FinishInsn{});
  std::vector<isa::RawInstruction> raw;
  for (const auto& insn : prog) raw.push_back(L.codec.encode(insn));
  RegionImage insns{Layout::kInsn, {}};
  isa::raw_instructions_to_bytes(raw, insns.bytes);
  g.regions.push_back(insns);
  g.insn_address = Layout::kInsn;
  g.insn_count = static_cast<uint32_t>(prog.size());
  g.program = std::move(prog);
  return g;
}

using isa::make_mem;

isa::LoopNest loop(uint32_t bgn, uint32_t end, uint32_t out, uint32_t in, uint32_t dst_out, uint32_t dst_in,
                   uint32_t src_out, uint32_t src_in, bool reset = false) {
  isa::LoopNest l;
  l.reset = reset;
  l.uop_bgn = bgn;
  l.uop_end = end;
  l.iter_out = out;
  l.iter_in = in;
  l.dst_factor_out = dst_out;
  l.dst_factor_in = dst_in;
  l.src_factor_out = src_out;
  l.src_factor_in = src_in;
  return l;
}

// Tokens: load -> compute -> store in program order, with a single handoff between consecutive modules.
std::vector<isa::Instruction> chain(std::vector<isa::Instruction> lds, std::vector<isa::Instruction> cmp,
                                    std::vector<isa::Instruction> sts) {
  std::vector<isa::Instruction> out;
  if (!lds.empty()) {
    isa::dep_flags(lds.back()).push_next = true;
    isa::dep_flags(cmp.front()).pop_prev = true;
  }
  isa::dep_flags(cmp.back()).push_next = true;
  isa::dep_flags(sts.front()).pop_prev = true;
  for (auto* part : {&lds, &cmp, &sts}) out.insert(out.end(), part->begin(), part->end());
  return out;
}

class TsimDirected : public ::testing::Test {
 protected:
  TsimDirected() : config_(default_config()), L_(config_), fsim_(driver::open_device("fsim", config_)),
                   tsim_("tsim", config_, {}) {}
  void check(const GeneratedProgram& g, const std::string& name, bool expect_ok = true) {
    run_both(config_, *fsim_, tsim_, g, "directed_" + name, expect_ok);
  }
  isa::HwConfig config_;
  Layout L_;
  std::unique_ptr<driver::Device> fsim_;
  driver::TsimDevice tsim_;
};

using isa::MemoryType;
using isa::Opcode;

TEST_F(TsimDirected, WholeBufferTilesAndLongBursts) {
  const uint32_t inp_depth = config_.inp().depth, acc_depth = config_.acc().depth;
  // INP: the whole buffer in one row (2048 x 16 B = 32 KiB: many 256-beat bursts, 4 KiB splits).
  // WGT: 200 rows of 1 from a strided source, padded. ACC: the whole buffer as 2D with padding.
  std::vector<isa::MicroOp> uops;
  for (uint32_t i = 0; i < 16; ++i) uops.push_back({i, i * 3, i % 7});
  std::vector<isa::Instruction> lds = {
      make_mem(Opcode::kLoad, MemoryType::kInp, 0, L_.base(MemoryType::kInp), 1, inp_depth, inp_depth),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 0, L_.base(MemoryType::kWgt) + 3, 100, 1, 2, 1, 2, 1, 0)};
  isa::GemmInsn gemm;
  gemm.loop = loop(0, 16, 8, 4, 64, 16, 100, 3);
  gemm.wgt_factor_out = 5;
  gemm.wgt_factor_in = 1;
  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 16, 16),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 56, 32, 33, 2, 2, 1, 1), gemm};
  std::vector<isa::Instruction> sts = {
      make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, acc_depth, acc_depth)};
  check(directed(L_, chain(lds, cmp, sts), uops, 1), "whole_buffer_tiles");
}

// A LOAD UOP writes a bus beat's micro-ops in one cycle (the UOP buffer has a bank per lane): rows that
// start and end at either lane, on-chip indices of both parities, padding, and a later LOAD over part of
// an earlier one must hold the same micro-ops as on fsim (a GEMM over all of them shows it), and a long
// LOAD UOP takes about a cycle per beat, not per micro-op.
TEST_F(TsimDirected, MicroOpsLoadABeatACycleAtAnyAlignment) {
  std::vector<isa::MicroOp> uops;
  for (uint32_t i = 0; i < 64; ++i) uops.push_back({(i * 7) % 61, (i * 3) % 53, i % 13});
  const uint32_t ub = L_.base(MemoryType::kUop);
  std::vector<isa::Instruction> lds = {
      make_mem(Opcode::kLoad, MemoryType::kInp, 0, L_.base(MemoryType::kInp), 1, 64, 64),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 0, L_.base(MemoryType::kWgt), 1, 16, 16)};
  isa::GemmInsn gemm;
  gemm.loop = loop(0, 48, 1, 1, 0, 0, 0, 0);
  std::vector<isa::Instruction> cmp = {
      // odd rows from an odd DRAM element, to an odd index, with a pad column each side
      make_mem(Opcode::kLoad, MemoryType::kUop, 1, ub + 3, 3, 5, 9, 0, 0, 1, 1),
      // even rows from an even element, to an even index, one pad row after
      make_mem(Opcode::kLoad, MemoryType::kUop, 22, ub + 30, 2, 6, 8, 0, 1, 0, 0),
      // one row over part of the first (odd length, even index)
      make_mem(Opcode::kLoad, MemoryType::kUop, 4, ub + 41, 1, 7, 7),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 64, 64), gemm};
  std::vector<isa::Instruction> sts = {
      make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 64, 64)};
  check(directed(L_, chain(lds, cmp, sts), uops, 11, true), "uop_banks");

  // 2048 micro-ops are 1024 beats: one LOAD UOP of them runs at the bus rate (plus latency and bursts)
  std::vector<isa::MicroOp> many(2048, isa::MicroOp{1, 2, 3});
  const GeneratedProgram g = directed(L_, {make_mem(Opcode::kLoad, MemoryType::kUop, 0, ub, 1, 2048, 2048)}, many, 12);
  load_regions(tsim_, g);
  const driver::RunResult r = tsim_.run(g.insn_address, g.insn_count, 0ms);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_EQ(r.counters.uop_load_nbytes, 2048u * 4);
  EXPECT_LT(r.counters.cycle_count, 1500u) << "a LOAD UOP of 2048 micro-ops";
}

// The load module overlaps two LOADs (vta_load: the next one's requests go out while the data of the one
// before still arrives): back-to-back LOADs of both buffers, padded ones whose pad walker outlasts their
// data, and later LOADs that overwrite what earlier ones (data and pads) wrote, must land in program order.
TEST_F(TsimDirected, OverlappedLoadsLandInProgramOrder) {
  std::vector<isa::MicroOp> uops;
  for (uint32_t i = 0; i < 16; ++i) uops.push_back({i, i * 5, i % 9});
  const uint32_t inp = L_.base(MemoryType::kInp), wgt = L_.base(MemoryType::kWgt);
  std::vector<isa::Instruction> lds = {
      // a 2x3 tile in a 15-pad frame: 33 x 33 elements, almost all pad
      make_mem(Opcode::kLoad, MemoryType::kInp, 0, inp, 2, 3, 3, 15, 15, 15, 15),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 0, wgt + 7, 1, 40, 40),
      // data over the first LOAD's pads and data, and over the second's
      make_mem(Opcode::kLoad, MemoryType::kInp, 30, inp + 100, 3, 20, 64, 1, 0, 2, 0),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 20, wgt + 100, 2, 8, 9, 0, 1, 1, 1),
      make_mem(Opcode::kLoad, MemoryType::kInp, 5, inp + 900, 1, 2, 2),
      make_mem(Opcode::kLoad, MemoryType::kInp, 6, inp + 950, 1, 1, 1),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 0, wgt + 200, 1, 3, 3, 0, 0, 1, 0)};
  isa::GemmInsn gemm;
  gemm.loop = loop(0, 16, 4, 4, 64, 16, 30, 7);
  gemm.wgt_factor_out = 3;
  gemm.wgt_factor_in = 2;
  std::vector<isa::Instruction> cmp = {make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 16, 16),
                                       gemm};
  const uint32_t acc_depth = config_.acc().depth;
  std::vector<isa::Instruction> sts = {
      make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, acc_depth, acc_depth)};
  check(directed(L_, chain(lds, cmp, sts), uops, 9), "overlapped_loads");
}

// Back-to-back LOADs overlap: the next one's DRAM latency hides behind the data of the one before, so
// eight one-element LOADs take well under four times one.
TEST_F(TsimDirected, BackToBackLoadsOverlapTheirLatency) {
  const uint32_t wgt = L_.base(MemoryType::kWgt);
  const auto cycles = [&](uint32_t n) {
    std::vector<isa::Instruction> prog;
    for (uint32_t i = 0; i < n; ++i) prog.push_back(make_mem(Opcode::kLoad, MemoryType::kWgt, i, wgt + 3 * i, 1, 1, 1));
    const GeneratedProgram g = directed(L_, prog, {}, 3);
    load_regions(tsim_, g);
    const driver::RunResult r = tsim_.run(g.insn_address, g.insn_count, 0ms);
    EXPECT_TRUE(r.ok()) << r.message;
    return r.counters.cycle_count;
  };
  const uint64_t one = cycles(1), two = cycles(2), eight = cycles(8);
  std::printf("one LOAD %llu cycles, two %llu, eight %llu\n", static_cast<unsigned long long>(one),
              static_cast<unsigned long long>(two), static_cast<unsigned long long>(eight));
  // the second LOAD adds about its data (32 beats), not another latency
  EXPECT_LT(two - one, (one * 3) / 4) << "one " << one << ", two " << two;
  EXPECT_LT(eight, 4 * one) << "one " << one << ", eight " << eight;
}

// A GEMM's push to the load module vouches only for the GEMM engine (the ALU engine reads neither INP nor
// WGT): the LOAD waiting for it runs beside an older ALU instruction that is still running (a tile's
// requantization beside the next steps' loads), and still lands after the GEMM read what it overwrites.
TEST_F(TsimDirected, LoadAfterAGemmDoesNotWaitForTheAluEngine) {
  const uint32_t half = config_.acc().depth / 2;
  const std::vector<isa::MicroOp> uops = {{0, 0, 0}, {half, 0, 0}};
  isa::AluInsn mul;  // one row a cycle: four runs over rows 0..499 of bank 0
  mul.alu_opcode = isa::AluOpcode::kMul;
  mul.use_imm = true;
  mul.imm = 3;
  mul.loop = loop(0, 1, 4, 500, 0, 1, 0, 0);
  isa::GemmInsn gemm;  // 16 rows of bank 1 from INP 0..15 and WGT 0
  gemm.loop = loop(1, 2, 1, 16, 0, 1, 0, 1);
  const auto program = [&](bool with_alu) {
    const uint32_t inp = L_.base(MemoryType::kInp), wgt = L_.base(MemoryType::kWgt);
    std::vector<isa::Instruction> p = {
        make_mem(Opcode::kLoad, MemoryType::kWgt, 0, wgt, 1, 1, 1),
        make_mem(Opcode::kLoad, MemoryType::kInp, 0, inp, 1, 16, 16),
        make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 2, 2)};
    isa::dep_flags(p[1]).push_next = true;
    if (with_alu) p.push_back(mul);
    isa::GemmInsn g1 = gemm;
    g1.dep.pop_prev = g1.dep.push_prev = true;
    p.push_back(g1);
    // 64 WGT elements (16 KiB) over the one the GEMM read, then a GEMM of the new weights
    isa::Instruction big = make_mem(Opcode::kLoad, MemoryType::kWgt, 0, wgt + 1, 1, 64, 64);
    isa::dep_flags(big).pop_next = isa::dep_flags(big).push_next = true;
    p.push_back(big);
    isa::GemmInsn g2 = gemm;  // onto the same rows
    g2.dep.pop_prev = g2.dep.push_next = true;
    p.push_back(g2);
    isa::Instruction st = make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 32, 32);
    isa::dep_flags(st).pop_prev = true;
    p.push_back(st);
    p.push_back(make_mem(Opcode::kStore, MemoryType::kOut, half, L_.base(MemoryType::kOut) + 64, 1, 16, 16));
    return directed(L_, p, uops, 11, /*small_acc=*/true);
  };
  check(program(true), "load_beside_alu");
  const auto cycles = [&](const GeneratedProgram& g) {
    load_regions(tsim_, g);
    const driver::RunResult r = tsim_.run(g.insn_address, g.insn_count, 0ms);
    EXPECT_TRUE(r.ok()) << r.message;
    return r.counters.cycle_count;
  };
  const uint64_t with_alu = cycles(program(true)), without = cycles(program(false));
  std::printf("with the ALU instruction %llu cycles, without %llu\n", static_cast<unsigned long long>(with_alu),
              static_cast<unsigned long long>(without));
  // The 16 KiB LOAD (>= 2048 cycles at 8 B/cycle) overlaps the 2000-cycle MUL: the MUL adds well under
  // its length (it would add all of it if the LOAD waited for it).
  EXPECT_LT(with_alu, without + 1000) << "with " << with_alu << ", without " << without;
}

// A GEMM whose one push is to the load module hands it to the GEMM engine, and ALU instructions enter
// the ALU queue while a GEMM runs (they start once it is done): the front end goes on, so the next GEMM
// starts as the engine goes idle. GEMM A (256 micro-ops on bank 1, push to load), three ALU instructions
// on bank 0 rows A does not write (behind A: they wait for it) and GEMM B (bank 1, push to load); two
// LOADs take the tokens. Bit-exact against fsim, and A to B costs what two bare GEMMs cost within a few
// cycles (with the pushes and the ALU dispatches on the front end after A was done, about 30 more), plus
// the engine's tail: the bare B starts while A's last micro-ops are past S1, which B cannot do after an A
// with a push to give and ALU instructions behind it.
TEST_F(TsimDirected, GemmsFollowEachOtherPastTheirPushesAndQueuedAluInstructions) {
  const uint32_t half = config_.acc().depth / 2;
  const std::vector<isa::MicroOp> uops = {{half, 0, 0}, {0, 0, 0}};
  isa::GemmInsn gemm;  // 256 micro-ops onto rows half .. half + 15 of bank 1 from INP 0..15 and WGT 0
  gemm.loop = loop(0, 1, 16, 16, 0, 1, 0, 1);
  isa::AluInsn add;  // rows 0..15 of bank 0, 16 rows
  add.alu_opcode = isa::AluOpcode::kAdd;
  add.use_imm = true;
  add.imm = 5;
  add.loop = loop(1, 2, 1, 16, 0, 1, 0, 0);
  const auto program = [&](bool pushes_and_alu) {
    std::vector<isa::Instruction> p = {
        make_mem(Opcode::kLoad, MemoryType::kWgt, 0, L_.base(MemoryType::kWgt), 1, 1, 1),
        make_mem(Opcode::kLoad, MemoryType::kInp, 0, L_.base(MemoryType::kInp), 1, 16, 16),
        make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 2, 2)};
    isa::dep_flags(p[1]).push_next = true;
    isa::GemmInsn a = gemm, b = gemm;
    a.dep.pop_prev = true;
    a.dep.push_prev = b.dep.push_prev = pushes_and_alu;
    p.push_back(a);
    if (pushes_and_alu)
      for (int i = 0; i < 3; ++i) p.push_back(add);
    b.dep.push_next = true;
    p.push_back(b);
    if (pushes_and_alu) {
      for (int i = 0; i < 2; ++i) {
        isa::Instruction ld = make_mem(Opcode::kLoad, MemoryType::kInp, 64, L_.base(MemoryType::kInp), 1, 1, 1);
        isa::dep_flags(ld).pop_next = true;
        p.push_back(ld);
      }
    }
    isa::Instruction st = make_mem(Opcode::kStore, MemoryType::kOut, half, L_.base(MemoryType::kOut), 1, 16, 16);
    isa::dep_flags(st).pop_prev = true;
    p.push_back(st);
    return directed(L_, p, uops, 12, /*small_acc=*/true);
  };
  check(program(true), "gemms_past_pushes_and_alu");
  const auto cycles = [&](const GeneratedProgram& g) {
    load_regions(tsim_, g);
    const driver::RunResult r = tsim_.run(g.insn_address, g.insn_count, 0ms);
    EXPECT_TRUE(r.ok()) << r.message;
    return r.counters.cycle_count;
  };
  const uint64_t with = cycles(program(true)), bare = cycles(program(false));
  std::printf("with the pushes and the ALU instructions %llu cycles, two bare GEMMs %llu\n",
              static_cast<unsigned long long>(with), static_cast<unsigned long long>(bare));
  EXPECT_LE(with, bare + 8 + 7) << "with " << with << ", bare " << bare;
}

TEST_F(TsimDirected, AccumulationWrapsAndLargeLoops) {
  // Full-range ACC values: 2^14 accumulations of 8-bit products wrap the 32-bit lanes.
  std::vector<isa::MicroOp> uops = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 0, 3}};
  std::vector<isa::Instruction> lds = {
      make_mem(Opcode::kLoad, MemoryType::kInp, 0, L_.base(MemoryType::kInp), 1, 64, 64),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 0, L_.base(MemoryType::kWgt), 1, 8, 8)};
  isa::GemmInsn gemm;
  gemm.loop = loop(0, 4, 128, 32, 0, 0, 0, 1);  // 16384 micro-ops on 4 ACC entries
  gemm.wgt_factor_in = 0;
  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 4, 4),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 8, 8), gemm};
  std::vector<isa::Instruction> sts = {make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 2, 4, 9)};
  check(directed(L_, chain(lds, cmp, sts), uops, 2), "accumulation_wrap");
}

// The core keeps a vector ALU operand for micro-ops with the same source (one ACC read instead of two):
// a micro-op that writes the kept entry (in place, or with a different source in between) makes the
// next ones read it again, and each instruction starts afresh.
TEST_F(TsimDirected, KeptVectorOperandIsReadAgainAfterAWrite) {
  std::vector<isa::MicroOp> uops = {{0, 40, 0}, {1, 40, 0}, {40, 40, 0}, {2, 40, 0}, {40, 3, 0},
                                    {4, 40, 0}, {5, 40, 0}, {6, 41, 0}, {7, 40, 0}};
  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 9, 9),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 64, 64)};
  for (isa::AluOpcode op : {isa::AluOpcode::kAdd, isa::AluOpcode::kMax, isa::AluOpcode::kAdd}) {
    isa::AluInsn a;
    a.alu_opcode = op;
    a.loop = loop(0, 9, 2, 2, 8, 16, 0, 0);  // the source stays; destinations 0..31 + 8 i + 16 j
    cmp.push_back(a);
  }
  std::vector<isa::Instruction> sts = {make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 64, 64)};
  check(directed(L_, chain({}, cmp, sts), uops, 5, /*small_acc=*/true), "kept_vector_operand");
}

// The inner iterations of a one-micro-op ALU or reset kernel stepping its destination by one row go down
// the pipeline together when they fall in one ACC word (a group of rows, up to ACC_ROWS): starts at
// every row of a word, run lengths that end inside a word, a vector operand inside the rows being
// written (the group's write makes the kept operand stale), a vector operand that is a would-be group's
// first, middle or last row, a hazard on the word a group wrote, and one-iteration runs.
TEST_F(TsimDirected, GroupsOfRowsMatchOneRowAtATime) {
  std::vector<isa::MicroOp> uops = {{0, 9, 0},   {1, 9, 0},   {5, 6, 0},  {60, 60, 0},
                                    {60, 62, 0}, {61, 63, 0}, {68, 69, 0}, {70, 70, 0}};
  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 8, 8),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 96, 96)};
  const auto alu = [&](isa::AluOpcode op, bool imm, uint32_t uop, isa::LoopNest l) {
    isa::AluInsn a;
    a.alu_opcode = op;
    a.use_imm = imm;
    a.imm = imm ? -3 : 0;
    a.loop = l;
    l.uop_bgn = uop;
    l.uop_end = uop + 1;
    a.loop = l;
    return a;
  };
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 0, loop(0, 1, 3, 13, 17, 1, 1, 0)));   // src 9 + i in rows 0..46
  cmp.push_back(alu(isa::AluOpcode::kShr, true, 1, loop(0, 1, 4, 8, 9, 1, 0, 0)));      // odd starts
  cmp.push_back(alu(isa::AluOpcode::kMax, false, 2, loop(0, 1, 2, 1, 2, 1, 0, 0)));     // one-iteration runs
  cmp.push_back(alu(isa::AluOpcode::kMul, false, 2, loop(0, 1, 1, 30, 0, 1, 0, 0)));    // src 6 inside 5..34
  isa::GemmInsn reset;
  reset.loop = loop(1, 2, 3, 11, 13, 1, 0, 0, /*reset=*/true);                          // rows 1.., odd start
  cmp.push_back(reset);
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 0, loop(0, 1, 2, 20, 40, 1, 0, 0)));   // reads rows just reset
  // the vector operand is the first row of a would-be pair, in runs over the same rows (stress program
  // 0xac0f0367c103788f found the pair reading it before its first iteration wrote it)
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 3, loop(0, 1, 3, 7, 0, 1, 0, 0)));     // rows 60..66, src 60
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 4, loop(0, 1, 3, 7, 0, 1, 0, 0)));     // rows 60..66, src 62
  cmp.push_back(alu(isa::AluOpcode::kMin, false, 5, loop(0, 1, 2, 6, 0, 1, 0, 0)));     // rows 61..66, src 63
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 6, loop(0, 1, 2, 8, 1, 1, 0, 0)));     // rows 68.., src 69
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 7, loop(0, 1, 4, 5, 1, 1, 0, 0)));     // rows 70.., src 70
  cmp.push_back(alu(isa::AluOpcode::kShr, true, 6, loop(0, 1, 5, 3, 1, 1, 0, 0)));      // runs of 3 from 68..72
  std::vector<isa::Instruction> sts = {make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 96, 96)};
  check(directed(L_, chain({}, cmp, sts), uops, 6, /*small_acc=*/true), "groups_of_rows");
}

// ALU MUL runs through three more stages (the DSP48s' M and P registers, the carry-save sum) and reads ACC
// five stages before it writes: kernels of one to six micro-ops over the same rows (each reads what the
// micro-op one to six before it wrote), with an immediate and with a vector operand that an earlier
// micro-op writes, then the other ops on the rows MUL just wrote (SHR's kernels of one to six micro-ops
// chain the same way through the other ops' window, four places: S2, S2P, S2Y, S3). Results as one
// micro-op at a time (fsim). Without the wider read-after-write window the kernels of up to five
// micro-ops read stale rows.
TEST_F(TsimDirected, AluMulWaitsForTheRowsOfTheFiveMicroOpsAhead) {
  std::vector<isa::MicroOp> uops = {{10, 0, 0}, {11, 10, 0}, {12, 11, 0}, {13, 12, 0}, {14, 13, 0}, {15, 14, 0}};
  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 6, 6),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 32, 32)};
  const auto alu = [&](isa::AluOpcode op, bool imm, int32_t value, uint32_t uops_n, uint32_t iters) {
    isa::AluInsn a;
    a.alu_opcode = op;
    a.use_imm = imm;
    a.imm = value;
    a.loop = loop(0, uops_n, 1, iters, 0, 0, 0, 0);
    return a;
  };
  for (uint32_t n = 1; n <= 6; ++n) {
    cmp.push_back(alu(isa::AluOpcode::kMul, true, -3, n, 4));
    cmp.push_back(alu(isa::AluOpcode::kMul, false, 0, n, 3));
    cmp.push_back(alu(isa::AluOpcode::kShr, true, 1, n, 2));
  }
  cmp.push_back(alu(isa::AluOpcode::kAdd, false, 0, 6, 2));
  std::vector<isa::Instruction> sts = {make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 32, 32)};
  check(directed(L_, chain({}, cmp, sts), uops, 8, /*small_acc=*/true), "alu_mul_window");
  check(directed(L_, chain({}, cmp, sts), uops, 9, /*small_acc=*/false), "alu_mul_window_full");
}

// The compute module's GEMM and ALU engines run at once when they work in different ACC banks (the halves
// of the row index): an ALU instruction runs beside the next GEMMs in the other bank, a GEMM into the bank
// of an older ALU instruction waits for it, and an ALU instruction whose rows or vector operand cross a
// bank (or with more than one micro-op) keeps every GEMM out until it is done. Results as in program
// order, on full-range data.
TEST_F(TsimDirected, GemmAndAluEnginesShareTheAccBanksInProgramOrder) {
  const uint32_t half = config_.acc().depth / 2;
  std::vector<isa::MicroOp> uops;
  for (uint32_t e = 0; e < 8; ++e) uops.push_back({e, e, e % 4});             // 0..7: GEMM into bank 0
  for (uint32_t e = 0; e < 8; ++e) uops.push_back({half + e, 8 + e, e % 4});  // 8..15: GEMM into bank 1
  uops.push_back({0, 40, 0});                 // 16: ALU in bank 0, vector operand row 40
  uops.push_back({half, half + 100, 0});      // 17: ALU in bank 1, vector operand in bank 1
  uops.push_back({half - 8, 3, 0});           // 18: ALU rows crossing into bank 1
  uops.push_back({0, half + 30, 0});          // 19: rows in bank 0, vector operand in bank 1
  uops.push_back({100, 0, 0});                // 20, 21: a two-micro-op ALU kernel in bank 0
  uops.push_back({101, 0, 0});
  const auto n_uops = static_cast<uint32_t>(uops.size());
  std::vector<isa::Instruction> lds = {
      make_mem(Opcode::kLoad, MemoryType::kInp, 0, L_.base(MemoryType::kInp), 1, 64, 64),
      make_mem(Opcode::kLoad, MemoryType::kWgt, 0, L_.base(MemoryType::kWgt), 1, 8, 8)};
  const auto gemm = [&](uint32_t bank, uint32_t passes) {
    isa::GemmInsn g;
    g.loop = loop(8 * bank, 8 * bank + 8, 4, passes, 8, 0, 8, 1);  // rows +0..31 of the bank, `passes` times
    return g;
  };
  const auto alu = [&](isa::AluOpcode op, bool imm, uint32_t uop, isa::LoopNest l) {
    isa::AluInsn a;
    a.alu_opcode = op;
    a.use_imm = imm;
    a.imm = imm ? 3 : 0;
    l.uop_bgn = uop;
    l.uop_end = uop == 20 ? 22 : uop + 1;
    a.loop = l;
    return a;
  };
  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, n_uops, n_uops),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 128, 128),
      make_mem(Opcode::kLoad, MemoryType::kAcc, half - 64, L_.base(MemoryType::kAcc) + 128, 1, 192, 192),
      gemm(0, 2),
      alu(isa::AluOpcode::kAdd, false, 16, loop(0, 0, 4, 8, 8, 1, 0, 0)),  // bank 0 after the GEMM into it
      gemm(1, 8),                                                            // beside it, in bank 1
      gemm(0, 1),                                                            // waits for the ALU (bank 0)
      alu(isa::AluOpcode::kShr, true, 17, loop(0, 0, 2, 16, 16, 1, 0, 0)),  // bank 1
      alu(isa::AluOpcode::kMin, false, 17, loop(0, 0, 1, 32, 0, 1, 0, 0)),  // bank 1, queued behind it
      gemm(0, 4),                                                            // beside both
      alu(isa::AluOpcode::kMax, false, 18, loop(0, 0, 2, 8, 8, 1, 0, 0)),   // rows in both banks
      gemm(1, 2),                                                            // waits for it
      alu(isa::AluOpcode::kAdd, false, 19, loop(0, 0, 4, 8, 8, 1, 0, 0)),   // operand in the other bank
      gemm(1, 2),                                                            // waits for it
      alu(isa::AluOpcode::kMul, false, 20, loop(0, 0, 2, 2, 2, 0, 1, 0)),   // two micro-ops: all banks
      gemm(0, 2),                                                            // waits for it
      alu(isa::AluOpcode::kAdd, true, 17, loop(0, 0, 2, 16, 16, 1, 0, 0)),  // bank 1, pushes to the store
  };
  std::vector<isa::Instruction> sts = {
      make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 128, 128),
      make_mem(Opcode::kStore, MemoryType::kOut, half - 64, L_.base(MemoryType::kOut) + 128, 1, 192, 192)};
  check(directed(L_, chain(lds, cmp, sts), uops, 9), "engines_share_banks");
}

// Every ALU op with every edge immediate, a vector operand through a two-level loop, and itself as
// operand; each case writes its own 4 ACC entries (64 lanes) of random inputs, and every result is read
// back in full: STORE keeps only the low 8 bits, so the results are also copied (reset + ADD) three
// times and shifted right by 8, 16 and 24 before one STORE of everything.
TEST_F(TsimDirected, EveryAluOpOnEdgeValues) {
  constexpr uint32_t kEntries = 4;  // ACC entries per case
  const int32_t imms[] = {0, 1, -1, 31, 32, 33, -31, -32, -33, 32767, -32768, 7, -7};
  constexpr uint32_t kImms = std::size(imms);
  const uint32_t cases = isa::kAluOpcodeCount * (kImms + 2) + 1;  // + vector, self per op; + one reset
  const uint32_t results = cases * kEntries;
  const uint32_t src = results;              // 2 x kEntries entries of vector operands
  const uint32_t copies = src + 2 * kEntries;  // bytes 1..3 of the results, `results` entries each
  const uint32_t stored = copies + 3 * results;
  ASSERT_LE(stored, config_.acc().depth);

  std::vector<isa::MicroOp> uops;
  // Case c: micro-ops [kEntries c, kEntries c + kEntries): dst = its own entries, src = the same (self).
  for (uint32_t e = 0; e < results; ++e) uops.push_back({e, e, 0});
  const uint32_t vector_uop = static_cast<uint32_t>(uops.size());  // + c: dst = case c's first entry, src
  for (uint32_t c = 0; c < cases; ++c) uops.push_back({c * kEntries, src, 0});
  const uint32_t copy_uop = static_cast<uint32_t>(uops.size());  // + b - 1: dst = copy b, src = results
  for (uint32_t b = 1; b <= 3; ++b) uops.push_back({copies + (b - 1) * results, 0, 0});

  std::vector<isa::Instruction> cmp = {
      make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, static_cast<uint32_t>(uops.size()),
               static_cast<uint32_t>(uops.size())),
      make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, copies, copies)};
  uint32_t c = 0;
  const auto per_case = [&](isa::AluOpcode op) {
    isa::AluInsn a;
    a.alu_opcode = op;
    a.loop = loop(c * kEntries, (c + 1) * kEntries, 1, 1, 0, 0, 0, 0);
    return a;
  };
  for (uint8_t o = 0; o < isa::kAluOpcodeCount; ++o) {
    const auto op = static_cast<isa::AluOpcode>(o);
    for (int32_t imm : imms) {
      isa::AluInsn a = per_case(op);
      a.use_imm = true;
      a.imm = imm;
      cmp.push_back(a);
      ++c;
    }
    // Vector operand, two-level loop: dst = first + 2 i + j covers the case's 4 entries once,
    // src = src + 3 i + j reads entries 0, 1, 3, 4 of the operands.
    isa::AluInsn v;
    v.alu_opcode = op;
    v.loop = loop(vector_uop + c, vector_uop + c + 1, 2, 2, 2, 1, 3, 1);
    cmp.push_back(v);
    ++c;
    cmp.push_back(per_case(op));  // self: acc[e] = op(acc[e], acc[e])
    ++c;
  }
  isa::AluInsn reset = per_case(isa::AluOpcode::kMin);
  reset.loop.reset = true;
  cmp.push_back(reset);
  ++c;
  ASSERT_EQ(c, cases);
  for (uint32_t b = 1; b <= 3; ++b) {
    isa::AluInsn zero, add, shr;
    zero.loop = loop(copy_uop + b - 1, copy_uop + b, results, 1, 1, 0, 0, 0, true);
    add.alu_opcode = isa::AluOpcode::kAdd;
    add.loop = loop(copy_uop + b - 1, copy_uop + b, results, 1, 1, 0, 1, 0);
    shr.alu_opcode = isa::AluOpcode::kShr;
    shr.use_imm = true;
    shr.imm = static_cast<int32_t>(8 * b);
    shr.loop = zero.loop;
    shr.loop.reset = false;
    for (const isa::AluInsn& a : {zero, add, shr}) cmp.push_back(a);
  }
  std::vector<isa::Instruction> sts = {
      make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, stored, stored)};
  check(directed(L_, chain({}, cmp, sts), uops, 3, /*small_acc=*/true), "alu_edges_small");
  check(directed(L_, chain({}, cmp, sts), uops, 4, /*small_acc=*/false), "alu_edges_full");
}

TEST_F(TsimDirected, TokenOnlyNoOpsAndPingPong) {
  // Two virtual threads: load and compute alternate over two INP halves with tokens both ways.
  std::vector<isa::MicroOp> uops = {{0, 0, 0}, {1, 1, 1}};
  std::vector<isa::Instruction> prog;
  const auto add = [&prog](isa::Instruction i) { prog.push_back(i); };
  add(make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 2, 2));  // compute
  add(make_mem(Opcode::kLoad, MemoryType::kAcc, 0, L_.base(MemoryType::kAcc), 1, 4, 4));   // compute
  add(make_mem(Opcode::kLoad, MemoryType::kWgt, 0, L_.base(MemoryType::kWgt), 1, 4, 4));   // load, before the tokens
  for (uint32_t t = 0; t < 6; ++t) {
    isa::MemInsn ld = make_mem(Opcode::kLoad, MemoryType::kInp, (t % 2) * 2, L_.base(MemoryType::kInp) + t * 2, 1, 2, 2);
    ld.dep.pop_next = t >= 2;
    ld.dep.push_next = true;
    add(ld);
    isa::MemInsn ldw = make_mem(Opcode::kLoad, MemoryType::kWgt, 0, 0, 0, 0, 0);  // no-op with junk fields
    ldw.sram_base = 77;
    add(ldw);
    isa::GemmInsn g;
    g.loop = loop(0, 2, 1, 1, 0, 0, 0, 0);
    g.loop.uop_bgn = 0;
    g.dep.pop_prev = true;
    g.dep.push_prev = t + 2 < 6;
    if (t % 2 == 1) g.loop.src_factor_out = 2;
    add(g);
  }
  isa::GemmInsn last;
  last.loop = loop(0, 2, 1, 1, 0, 0, 0, 0);
  last.dep.push_next = true;
  add(last);
  isa::MemInsn st = make_mem(Opcode::kStore, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 2, 2);
  st.dep.pop_prev = true;
  add(st);
  add(make_mem(Opcode::kStore, MemoryType::kOut, 0, 0, 0, 0, 0));  // token-only store no-op
  check(directed(L_, prog, uops, 5), "ping_pong");
}

// ---------------------------------------------------------------------------------------------------
// Errors: both report one, at the same instruction; tsim is usable afterwards.

TEST_F(TsimDirected, ErrorsAreReportedWithTheInstructionAndRecovered) {
  struct Case {
    std::string name;
    std::vector<isa::Instruction> prog;
    uint32_t index;
  };
  isa::AluInsn bad_alu;
  bad_alu.alu_opcode = static_cast<isa::AluOpcode>(5);
  bad_alu.loop = loop(0, 1, 1, 1, 0, 0, 0, 0);
  isa::MemInsn bad_type = make_mem(Opcode::kLoad, MemoryType::kOut, 0, L_.base(MemoryType::kOut), 1, 1, 1);
  isa::MemInsn bad_flag = make_mem(Opcode::kLoad, MemoryType::kInp, 0, L_.base(MemoryType::kInp), 1, 1, 1);
  bad_flag.dep.pop_prev = true;
  isa::GemmInsn waits;  // pops a load->compute token nobody pushes
  waits.loop = loop(0, 1, 1, 1, 0, 0, 0, 0);
  waits.dep.pop_prev = true;
  const std::vector<Case> cases = {
      {"bad_alu_opcode", {make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 1, 1), bad_alu}, 1},
      {"bad_memory_type", {make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 1, 1), bad_type}, 1},
      {"illegal_dep_flag", {bad_flag}, 0},
      {"deadlock", {make_mem(Opcode::kLoad, MemoryType::kUop, 0, L_.base(MemoryType::kUop), 1, 1, 1), waits}, 1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const GeneratedProgram g = directed(L_, c.prog, {{0, 0, 0}}, 6);
    load_regions(*fsim_, g);
    load_regions(tsim_, g);
    const driver::RunResult rf = fsim_->run(g.insn_address, g.insn_count, 0ms);
    const driver::RunResult rt = tsim_.run(g.insn_address, g.insn_count, 0ms);
    EXPECT_EQ(rf.status, driver::RunStatus::kError) << rf.message;
    EXPECT_EQ(rt.status, driver::RunStatus::kError);
    EXPECT_NE(rt.message.find("at instruction " + std::to_string(c.index) + ":"), std::string::npos) << rt.message;
    EXPECT_NE(rt.message.find("hardware error"), std::string::npos) << rt.message;
    std::printf("[   INFO   ] %s: fsim: %s\n[   INFO   ] %s: tsim: %s\n", c.name.c_str(), rf.message.c_str(),
                c.name.c_str(), rt.message.c_str());
    // The device resets the core before the next run: a good program runs and matches.
    RandomProgramGenerator gen(config_, 99);
    run_both(config_, *fsim_, tsim_, gen.next(), "after_" + c.name);
  }
  // A bad opcode (5) cannot be built from isa::Instruction: patch the raw bits of an encoded FINISH.
  GeneratedProgram g = directed(L_, {}, {}, 7);
  g.regions.back().bytes[0] = static_cast<uint8_t>((g.regions.back().bytes[0] & ~7u) | 5u);
  load_regions(tsim_, g);
  const driver::RunResult rt = tsim_.run(g.insn_address, g.insn_count, 0ms);
  EXPECT_EQ(rt.status, driver::RunStatus::kError);
  EXPECT_NE(rt.message.find("hardware error 1 (unassigned opcode) at instruction 0"), std::string::npos) << rt.message;
}

// The core's finite token and command queues (isa::CoreQueueDepths, sized through vta_pkg): programs that
// just fit them run on tsim and fsim-strict alike; one token or one queued instruction more deadlocks the
// RTL, and fsim-strict reports that deadlock at the same instruction (tests/common queue_depth_programs.h).
TEST_F(TsimDirected, QueueDepthsMatchFsimStrict) {
  const auto strict = driver::open_device("fsim-strict", config_);
  for (const QueueDepthProgram& p : queue_depth_programs()) {
    SCOPED_TRACE(p.name);
    const GeneratedProgram g = directed(L_, p.program, {}, 8);
    load_regions(*fsim_, g);
    EXPECT_TRUE(fsim_->run(g.insn_address, g.insn_count, 0ms).ok());  // unbounded queues
    load_regions(*strict, g);
    load_regions(tsim_, g);
    const driver::RunResult rf = strict->run(g.insn_address, g.insn_count, 0ms);
    const driver::RunResult rt = tsim_.run(g.insn_address, g.insn_count, 0ms);
    std::printf("[   INFO   ] %s: fsim-strict: %s\n[   INFO   ] %s: tsim: %s\n", p.name.c_str(),
                rf.ok() ? "ok" : rf.message.c_str(), p.name.c_str(), rt.ok() ? "ok" : rt.message.c_str());
    if (!p.deadlock_index) {
      EXPECT_TRUE(rf.ok()) << rf.message;
      EXPECT_TRUE(rt.ok()) << rt.message;
      EXPECT_EQ(without_cycles(rf.counters), without_cycles(rt.counters));
      continue;
    }
    const std::string index = std::to_string(*p.deadlock_index);
    EXPECT_EQ(rf.status, driver::RunStatus::kError);
    EXPECT_NE(rf.message.find("instruction " + index + ": deadlock"), std::string::npos) << rf.message;
    EXPECT_EQ(rt.status, driver::RunStatus::kError);
    EXPECT_NE(rt.message.find("deadlock"), std::string::npos) << rt.message;
    EXPECT_NE(rt.message.find("at instruction " + index + ":"), std::string::npos) << rt.message;
  }
}

TEST(TsimWatchdog, StalledMemoryIsReportedWithCycleAndModule) {
  const isa::HwConfig config = default_config();
  driver::TsimDeviceOptions options;
  options.dram_latency_cycles = 2'000'000;  // the first read answers long after the watchdog fires
  options.watchdog_cycles = 20'000;
  driver::TsimDevice tsim("tsim", config, options);
  RandomProgramGenerator gen(config, 5);
  const GeneratedProgram g = gen.next();
  load_regions(tsim, g);
  const driver::RunResult r = tsim.run(g.insn_address, g.insn_count, 0ms);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_NE(r.message.find("watchdog: no progress for"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("at cycle"), std::string::npos) << r.message;
  std::printf("[   INFO   ] %s\n", r.message.c_str());
}

TEST(TsimDevice, WallClockTimeoutIsReported) {
  const isa::HwConfig config = default_config();
  driver::TsimDeviceOptions options;
  options.dram_latency_cycles = 50'000'000;
  options.watchdog_cycles = 0;  // off: only the timeout can end the run
  driver::TsimDevice tsim("tsim", config, options);
  RandomProgramGenerator gen(config, 6);
  const GeneratedProgram g = gen.next();
  load_regions(tsim, g);
  const driver::RunResult r = tsim.run(g.insn_address, g.insn_count, 200ms);
  EXPECT_EQ(r.status, driver::RunStatus::kTimeout) << r.message;
}

// ---------------------------------------------------------------------------------------------------
// Apache VTA recordings (tvm-vta-fsim): replayed on tsim with zero mismatches.

TEST(TsimConformance, ApacheVtaRecordingsReplayExactly) {
  const fs::path root = vta::test::conformance_root();
  int replayed = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    SCOPED_TRACE(entry.path().string());
    const fs::path trace_dir = fs::path(VTA_TEST_OUTPUT_DIR) / ("recording_" + entry.path().filename().string());
    fs::remove_all(trace_dir);
    driver::import_vta_recording(entry.path(), trace_dir);
    const driver::ProgramTrace trace = driver::ProgramTrace::load(trace_dir);
    const auto dev = driver::open_device("tsim", trace.config);
    const driver::ReplayResult r = driver::replay(trace, trace_dir, *dev, std::nullopt);
    EXPECT_TRUE(r.run.ok()) << r.run.message;
    EXPECT_TRUE(r.mismatches.empty()) << r.mismatches.size() << " regions differ, first: "
                                      << (r.mismatches.empty() ? "" : r.mismatches[0].region);
    EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
    std::printf("[   INFO   ] %s: %u instructions, %llu cycles, %zu mismatches\n",
                entry.path().filename().string().c_str(), trace.insn_count,
                static_cast<unsigned long long>(r.run.counters.cycle_count), r.mismatches.size());
    ++replayed;
  }
  EXPECT_EQ(replayed, 3);
}

TEST(TsimDevice, SavedFailureTraceReplaysOnTsim) {
  // The trace a failing differential test saves (recorded on fsim) replays on tsim through the same path
  // as `vta exec --target tsim --check DIR`.
  const isa::HwConfig config = default_config();
  RandomProgramGenerator gen(config, 11);
  const GeneratedProgram g = gen.next();
  const fs::path dir = save_failure(config, g, "selfcheck");
  const driver::ProgramTrace trace = driver::ProgramTrace::load(dir);
  const auto dev = driver::open_device("tsim", config);
  const driver::ReplayResult r = driver::replay(trace, dir, *dev, std::nullopt);
  EXPECT_TRUE(r.run.ok()) << r.run.message;
  EXPECT_TRUE(r.mismatches.empty());
  EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
}

TEST(TsimDevice, SavedFailureTraceOfAnotherConfigReplaysOnTsim) {
  // A trace recorded at a non-default config replays on tsim (the model is picked from the trace's config).
  for (const char* stem : {"block8", "in16_out32"}) {
    SCOPED_TRACE(stem);
    const isa::HwConfig config = shipped_config(stem);
    RandomProgramGenerator gen(config, 12);
    const fs::path dir = save_failure(config, gen.next(), std::string("selfcheck_") + stem);
    const driver::ProgramTrace trace = driver::ProgramTrace::load(dir);
    EXPECT_EQ(trace.config.hash(), config.hash());
    const auto dev = driver::open_device("tsim", trace.config);
    const driver::ReplayResult r = driver::replay(trace, dir, *dev, std::nullopt);
    EXPECT_TRUE(r.run.ok()) << r.run.message;
    EXPECT_TRUE(r.mismatches.empty());
    EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
  }
}

TEST(TsimDevice, EveryShippedConfigHasItsOwnModel) {
  std::vector<std::string> stems = {"default"};
  stems.insert(stems.end(), std::begin(kOtherConfigs), std::end(kOtherConfigs));
  const std::vector<std::string> models = driver::TsimDevice::model_configs();
  ASSERT_EQ(models.size(), stems.size());
  EXPECT_EQ(models.front(), "default (hash " + default_config().hash() + ")");
  for (const std::string& stem : stems) {
    SCOPED_TRACE(stem);
    const isa::HwConfig config = shipped_config(stem);
    ASSERT_TRUE(driver::TsimDevice::has_model(config));
    // The core reports the hash of the package it was generated from: the right model was picked.
    driver::TsimDevice dev("tsim", config);
    const uint64_t hash = (uint64_t{dev.read_register(0x24)} << 32) | dev.read_register(0x20);
    EXPECT_EQ(fmt::format("{:016x}", hash), config.hash());
  }
}

// A config no model was built for: with on-demand models off, a clear error; with them on (the default),
// tsim verilates one on first use (cached by config hash) and it matches fsim.
isa::HwConfig config_without_prebuilt_model() {
  nlohmann::json j = default_config().to_json();
  j["LOG_ACC_BUFF_SIZE"] = j["LOG_ACC_BUFF_SIZE"].get<int>() - 1;
  return isa::HwConfig::from_json(j);
}

TEST(TsimDevice, OnDemandModelForAConfigWithoutOneMatchesFsim) {
  const isa::HwConfig config = config_without_prebuilt_model();
  EXPECT_FALSE(driver::TsimDevice::has_model(config));
  ::setenv("VTA_TSIM_CACHE", (fs::path(VTA_TEST_OUTPUT_DIR) / "on_demand_models").c_str(), 1);
  const auto fsim = driver::open_device("fsim", config);
  const auto tsim = driver::open_device("tsim", config);  // builds the model the first time (seconds to minutes)
  ::unsetenv("VTA_TSIM_CACHE");
  // The model is the config's own: the core reports its hash.
  const uint64_t hash = (uint64_t{tsim->read_register(isa::reg::kConfigHashHi)} << 32) |
                        tsim->read_register(isa::reg::kConfigHashLo);
  EXPECT_EQ(fmt::format("{:016x}", hash), config.hash());
  RandomProgramGenerator gen(config, 0x0de3a2d0u);
  for (int p = 0; p < 64; ++p) {
    run_both(config, *fsim, *tsim, gen.next(), "on_demand_program" + std::to_string(p));
    if (HasFailure()) return;
  }
}

TEST(TsimDevice, ConfigWithoutModelIsAClearErrorWhenOnDemandIsOff) {
  const isa::HwConfig config = config_without_prebuilt_model();
  EXPECT_FALSE(driver::TsimDevice::has_model(config));
  ::setenv("VTA_TSIM_ON_DEMAND", "0", 1);
  struct Restore {
    ~Restore() { ::unsetenv("VTA_TSIM_ON_DEMAND"); }
  } restore;
  try {
    driver::open_device("tsim", config);
    ADD_FAILURE() << "no error for a config without a model";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("no RTL model for config"), std::string::npos) << msg;
    EXPECT_NE(msg.find(config.hash()), std::string::npos) << msg;
    for (const char* stem : {"default (hash", "batch2", "block8", "block32", "in16_out32"})
      EXPECT_NE(msg.find(stem), std::string::npos) << stem << " missing in: " << msg;
    EXPECT_NE(msg.find("config/"), std::string::npos) << "how to add one: " << msg;
  }
}

TEST(TsimDevice, IsAKnownTarget) {
  const auto targets = driver::known_targets();
  EXPECT_NE(std::find(targets.begin(), targets.end(), "tsim"), targets.end());
  EXPECT_EQ(driver::TsimDevice::built_config_hash(), default_config().hash());
}

}  // namespace
}  // namespace vta::test
