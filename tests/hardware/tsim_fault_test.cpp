// Fault injection on tsim: out-of-range on-chip buffer indices (checked by the core, reported like fsim),
// DRAM error responses, a memory that stops answering, and runs interrupted mid-way. Each must end in a
// clear error naming its cause, after which the same Device runs a normal program correctly (the core
// was soft-reset, or hard-reset when a soft reset cannot drain the bus) with nothing left in flight.
// Also pins the one register map (isa/include/vta/isa/register_map.h) shared by the driver, the harness
// and the RTL's generated package.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vta/driver/device.h"
#include "vta/driver/register_map.h"
#include "vta/driver/tsim_device.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/isa/register_map.h"
#include "vta/sim/device_memory.h"
#include "vta/test/random_program.h"
#include "vta/tsim/tsim.h"

namespace {

using namespace vta;
using namespace std::chrono_literals;
using isa::MemoryType;
using isa::Opcode;
namespace reg = isa::reg;

isa::HwConfig default_config() { return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json"); }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Places a generated program's regions at their addresses on `dev` (mapping each region once).
void load(driver::Device& dev, const test::GeneratedProgram& g) {
  for (const test::RegionImage& r : g.regions) {
    driver::DeviceBuffer b;
    for (const driver::DeviceBuffer& live : dev.buffers())
      if (live.device_address == r.address && live.size >= r.bytes.size()) b = live;
    if (!b) b = dev.map_at(r.address, r.bytes.size());
    std::memcpy(b.host, r.bytes.data(), r.bytes.size());
    dev.flush(b, 0, r.bytes.size());
  }
}

std::vector<uint8_t> dump(driver::Device& dev) {
  std::vector<uint8_t> all;
  for (const driver::DeviceBuffer& b : dev.buffers()) {
    dev.invalidate(b, 0, b.size);
    all.insert(all.end(), b.host, b.host + b.size);
  }
  return all;
}

// Regions of the hand-written fault programs, far from the random generator's (0x100000..).
constexpr uint64_t kInsnAddr = 0x4000000;
constexpr uint64_t kDataAddr = 0x4100000;  // INP/WGT/ACC/UOP source data, one 64 KiB region
constexpr uint64_t kOutAddr = 0x4200000;   // STORE destination
constexpr uint64_t kDataBytes = 1 << 16;

class TsimFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!driver::TsimDevice::has_model(config_)) GTEST_SKIP() << "no tsim model for the default config";
    driver::TsimDeviceOptions o;
    o.watchdog_cycles = 20'000;
    tsim_ = std::make_unique<driver::TsimDevice>("tsim", config_, o);
    fsim_ = driver::open_device("fsim", config_);
  }

  // Writes `prog` (FINISH appended) and a data region of small values (micro-ops all zero: every index
  // field 0) to both devices.
  void place(driver::Device& dev, const std::vector<isa::Instruction>& prog) {
    for (const driver::DeviceBuffer& b : dev.buffers()) dev.free(b);
    std::vector<isa::Instruction> p = prog;
    p.push_back(isa::FinishInsn{});
    std::vector<isa::RawInstruction> raw;
    for (const isa::Instruction& insn : p) raw.push_back(codec_.encode(insn));
    std::vector<uint8_t> bytes;
    isa::raw_instructions_to_bytes(raw, bytes);
    test::GeneratedProgram g;
    g.regions.push_back({kDataAddr, std::vector<uint8_t>(kDataBytes, 1)});
    std::memset(g.regions.back().bytes.data(), 0, 4096);  // the first 1024 micro-ops: all indices 0
    g.regions.push_back({kOutAddr, std::vector<uint8_t>(kDataBytes, 0)});
    g.regions.push_back({kInsnAddr, bytes});
    load(dev, g);
    count_ = static_cast<uint32_t>(p.size());
  }

  driver::RunResult run(driver::Device& dev) { return dev.run(kInsnAddr, count_, 0ms); }

  // A random legal program on both devices: tsim's memory and counters must equal fsim's. Run after a
  // fault, it shows the device recovered.
  void expect_normal_program_matches_fsim(uint64_t seed) {
    test::RandomProgramGenerator gen(config_, seed);
    const test::GeneratedProgram g = gen.next();
    auto fsim = driver::open_device("fsim", config_);
    // only the generator's regions take part in the comparison: start from no buffer on tsim
    for (const driver::DeviceBuffer& b : tsim_->buffers()) tsim_->free(b);
    load(*fsim, g);
    load(*tsim_, g);
    const driver::RunResult rf = fsim->run(g.insn_address, g.insn_count, 0ms);
    const driver::RunResult rt = tsim_->run(g.insn_address, g.insn_count, 0ms);
    ASSERT_TRUE(rf.ok()) << rf.message;
    ASSERT_TRUE(rt.ok()) << rt.message << "\n" << g.listing();
    EXPECT_EQ(dump(*fsim), dump(*tsim_)) << g.listing();
    isa::ExecutionCounters a = rf.counters, b = rt.counters;
    a.cycle_count = b.cycle_count = 0;
    EXPECT_EQ(a, b);
    EXPECT_EQ(tsim_->memory_outstanding(), 0u);
  }

  isa::MemInsn load_data(MemoryType type, uint32_t sram, uint32_t y, uint32_t x, uint32_t pad = 0) const {
    const uint64_t eb = type == MemoryType::kUop ? 4 : config_.buffer(type).element_bytes;
    return isa::make_mem(Opcode::kLoad, type, sram, static_cast<uint32_t>(kDataAddr / eb), y, x, x, pad, pad, pad,
                         pad);
  }
  isa::MemInsn store_out(uint32_t sram, uint32_t y, uint32_t x) const {
    const uint64_t eb = config_.out().element_bytes;
    return isa::make_mem(Opcode::kStore, MemoryType::kOut, sram, static_cast<uint32_t>(kOutAddr / eb), y, x, x);
  }
  static isa::LoopNest loop(uint32_t bgn, uint32_t end, uint32_t iter_out, uint32_t iter_in, uint32_t dst_out,
                            uint32_t dst_in, uint32_t src_out, uint32_t src_in) {
    isa::LoopNest l;
    l.uop_bgn = bgn;
    l.uop_end = end;
    l.iter_out = iter_out;
    l.iter_in = iter_in;
    l.dst_factor_out = dst_out;
    l.dst_factor_in = dst_in;
    l.src_factor_out = src_out;
    l.src_factor_in = src_in;
    return l;
  }

  const isa::HwConfig config_ = default_config();
  const isa::InstructionCodec codec_{config_};
  std::unique_ptr<driver::TsimDevice> tsim_;
  std::unique_ptr<driver::Device> fsim_;
  uint32_t count_ = 0;
};

// ---------------------------------------------------------------------------------------------------------
// Out-of-range indices: the core checks every tile and micro-op operand and reports ERR_INDEX with the
// operand (ERROR_INFO) and the index (ERROR_ADDR) instead of wrapping; the driver words it as fsim does.

struct IndexCase {
  std::string name;
  std::vector<isa::Instruction> prog;
  uint32_t index;        // the instruction to blame
  uint32_t operand;      // reg::kIdx*
  std::string fsim_text; // what both messages name ("INP index", "micro-op range", ...)
};

TEST_F(TsimFault, OutOfRangeIndicesAreReportedLikeFsimAndRecovered) {
  const uint32_t inp = config_.inp().depth, wgt = config_.wgt().depth, acc = config_.acc().depth,
                 uop = config_.uop().depth;
  isa::GemmInsn dst_past;  // micro-op 0 (indices 0) with dst stepping by acc/2: iteration 2 is past ACC
  dst_past.loop = loop(0, 1, 3, 1, acc / 2, 0, 0, 0);
  isa::GemmInsn src_past;
  src_past.loop = loop(0, 1, 1, 3, 0, 1, 0, inp / 2);
  isa::GemmInsn wgt_past;
  wgt_past.loop = loop(0, 1, 3, 1, 1, 0, 0, 0);
  wgt_past.wgt_factor_out = wgt / 2;
  isa::GemmInsn range_past;
  range_past.loop = loop(uop - 2, uop + 3, 1, 1, 0, 0, 0, 0);
  isa::GemmInsn range_reversed;
  range_reversed.loop = loop(5, 3, 1, 1, 0, 0, 0, 0);
  isa::AluInsn alu_src_past;
  alu_src_past.alu_opcode = isa::AluOpcode::kAdd;
  alu_src_past.loop = loop(0, 1, 3, 1, 1, 0, acc / 2, 0);
  isa::AluInsn alu_reset_ok = alu_src_past;  // a reset ALU reads no source: only dst is checked (in range)
  alu_reset_ok.loop.reset = true;

  const auto uops = load_data(MemoryType::kUop, 0, 1, 4);
  const std::vector<IndexCase> cases = {
      {"load_inp_tile", {load_data(MemoryType::kInp, inp - 2, 1, 4)}, 0, reg::kIdxInp, "INP index"},
      {"load_wgt_at_end", {load_data(MemoryType::kWgt, wgt, 1, 1)}, 0, reg::kIdxWgt, "WGT index"},
      {"load_acc_padded", {load_data(MemoryType::kAcc, acc - 20, 2, 2, 2)}, 0, reg::kIdxAcc, "ACC index"},
      {"load_uop_tile", {load_data(MemoryType::kUop, uop - 1, 1, 2)}, 0, reg::kIdxUop, "UOP index"},
      {"store_tile", {store_out(acc - 3, 2, 2)}, 0, reg::kIdxStoreSrc, "ACC (STORE source) index"},
      {"gemm_dst", {uops, dst_past}, 1, reg::kIdxAcc, "ACC index"},
      {"gemm_src", {uops, src_past}, 1, reg::kIdxInp, "INP index"},
      {"gemm_wgt", {uops, wgt_past}, 1, reg::kIdxWgt, "WGT index"},
      {"gemm_uop_range", {uops, range_past}, 1, reg::kIdxUopRange, "micro-op range"},
      {"gemm_uop_range_reversed", {uops, range_reversed}, 1, reg::kIdxUopRange, "micro-op range"},
      {"alu_src", {uops, alu_reset_ok, alu_src_past}, 2, reg::kIdxAluSrc, "ACC (ALU source) index"},
  };
  uint64_t seed = 40;
  for (const IndexCase& c : cases) {
    SCOPED_TRACE(c.name);
    place(*fsim_, c.prog);
    place(*tsim_, c.prog);
    const driver::RunResult rf = run(*fsim_);
    const driver::RunResult rt = run(*tsim_);
    ASSERT_EQ(rf.status, driver::RunStatus::kError) << rf.message;
    ASSERT_EQ(rt.status, driver::RunStatus::kError) << rt.message;
    const std::string at = "instruction " + std::to_string(c.index) + ":";
    EXPECT_TRUE(contains(rf.message, at) && contains(rf.message, c.fsim_text)) << rf.message;
    EXPECT_TRUE(contains(rt.message, "hardware error 7 (on-chip buffer index out of range) at " + at)) << rt.message;
    EXPECT_TRUE(contains(rt.message, c.fsim_text)) << rt.message;
    EXPECT_TRUE(contains(rt.message, "out of range") || contains(rt.message, "exceeds") ||
                contains(rt.message, "uop_bgn > uop_end"))
        << rt.message;
    // The registers of the failed run stay readable until the next run.
    EXPECT_EQ(tsim_->read_register(reg::kStatus) & (reg::kStatusDone | reg::kStatusError),
              reg::kStatusDone | reg::kStatusError);
    EXPECT_EQ(tsim_->read_register(reg::kErrorCode), reg::kErrIndex);
    EXPECT_EQ(tsim_->read_register(reg::kErrorIndex), c.index);
    EXPECT_EQ(tsim_->read_register(reg::kErrorInfo) & 0xfu, c.operand);
    std::printf("[   INFO   ] %s\n[   INFO   ]   fsim: %s\n[   INFO   ]   tsim: %s\n", c.name.c_str(),
                rf.message.c_str(), rt.message.c_str());
    expect_normal_program_matches_fsim(seed++);
  }
  EXPECT_EQ(tsim_->soft_resets(), cases.size());
  EXPECT_EQ(tsim_->hard_resets(), 0u);
  EXPECT_EQ(tsim_->last_recovery(), "soft reset");
}

TEST_F(TsimFault, InRangeEdgesAreNotErrors) {
  // The last element of each buffer, a tile ending exactly at the depth, and a full micro-op range.
  const uint32_t inp = config_.inp().depth, acc = config_.acc().depth, uop = config_.uop().depth;
  isa::GemmInsn last_dst;
  last_dst.loop = loop(0, 1, 2, 1, acc - 1, 0, inp - 1, 0);
  isa::GemmInsn full_range;
  full_range.loop = loop(uop - 4, uop, 1, 1, 0, 0, 0, 0);
  full_range.loop.reset = true;
  const std::vector<isa::Instruction> prog = {
      load_data(MemoryType::kInp, inp - 4, 1, 4), load_data(MemoryType::kAcc, acc - 12, 1, 2, 1),
      load_data(MemoryType::kUop, 0, 1, 4), load_data(MemoryType::kUop, uop - 4, 1, 4), last_dst, full_range};
  place(*fsim_, prog);
  place(*tsim_, prog);
  const driver::RunResult rf = run(*fsim_);
  const driver::RunResult rt = run(*tsim_);
  ASSERT_TRUE(rf.ok()) << rf.message;
  ASSERT_TRUE(rt.ok()) << rt.message;
  EXPECT_EQ(tsim_->read_register(reg::kErrorCode), reg::kErrNone);
}

// ---------------------------------------------------------------------------------------------------------
// DRAM error responses.

TEST_F(TsimFault, DramReadErrorNamesTheResponseTheReaderAndTheInstruction) {
  const std::vector<isa::Instruction> prog = {load_data(MemoryType::kUop, 0, 1, 4),
                                              load_data(MemoryType::kInp, 0, 2, 8)};
  place(*tsim_, prog);
  driver::TsimFaultOptions f;
  f.error_addr_lo = kDataAddr + 64;  // the INP rows, not the micro-ops
  f.error_addr_hi = kDataAddr + 4096;
  tsim_->set_faults(f);
  const driver::RunResult r = run(*tsim_);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "hardware error 5 (AXI bus error response from memory)")) << r.message;
  EXPECT_TRUE(contains(r.message, "SLVERR response to a read by load")) << r.message;
  EXPECT_TRUE(contains(r.message, "at instruction 1: LOAD")) << r.message;
  EXPECT_EQ(tsim_->read_register(reg::kErrorIndex), 1u);
  EXPECT_EQ(tsim_->read_register(reg::kErrorInfo), (2u << reg::kAxiInfoRespLsb) | reg::kAxiIdLoad);
  std::printf("[   INFO   ] %s\n", r.message.c_str());
  tsim_->set_faults({});
  expect_normal_program_matches_fsim(1);
  EXPECT_EQ(tsim_->soft_resets(), 1u);
}

TEST_F(TsimFault, DramWriteErrorAndFetchErrorAreNamed) {
  // DECERR on the STORE's writes
  isa::GemmInsn reset;
  reset.loop = loop(0, 1, 1, 1, 0, 0, 0, 0);
  reset.loop.reset = true;
  place(*tsim_, {load_data(MemoryType::kUop, 0, 1, 4), reset, store_out(0, 1, 4)});
  driver::TsimFaultOptions f;
  f.error_addr_lo = kOutAddr;
  f.error_addr_hi = kOutAddr + kDataBytes;
  f.error_resp = 3;
  tsim_->set_faults(f);
  driver::RunResult r = run(*tsim_);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "DECERR response to a write by store")) << r.message;
  std::printf("[   INFO   ] %s\n", r.message.c_str());
  // an error on the instruction fetch
  f = {};
  f.error_addr_lo = kInsnAddr;
  f.error_addr_hi = kInsnAddr + 4096;
  tsim_->set_faults(f);
  r = run(*tsim_);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "SLVERR response to an instruction fetch")) << r.message;
  std::printf("[   INFO   ] %s\n", r.message.c_str());
  tsim_->set_faults({});
  expect_normal_program_matches_fsim(2);
  EXPECT_EQ(tsim_->soft_resets(), 2u);
  EXPECT_EQ(tsim_->hard_resets(), 0u);
}

TEST_F(TsimFault, OneShotReadErrorAfterNBeatsFiresOnce) {
  const std::vector<isa::Instruction> prog = {load_data(MemoryType::kInp, 0, 4, 16),
                                              load_data(MemoryType::kWgt, 0, 1, 4)};
  place(*tsim_, prog);
  driver::TsimFaultOptions f;
  f.read_error_after_beats = 40;  // past the fetch, inside the INP rows
  tsim_->set_faults(f);
  const driver::RunResult bad = run(*tsim_);
  ASSERT_EQ(bad.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(bad.message, "SLVERR response to a read by load")) << bad.message;
  // disarmed: the same program on the same device now runs
  const driver::RunResult good = run(*tsim_);
  EXPECT_TRUE(good.ok()) << good.message;
  EXPECT_EQ(good.counters.load_insn_count, 2u);
}

// ---------------------------------------------------------------------------------------------------------
// A memory that stops answering: the watchdog (or the cycle limit) ends the run; the soft reset cannot
// drain the bus, so the device falls back to the hard reset, and the next program runs.

TEST_F(TsimFault, StalledMemoryEndsByWatchdogThenHardReset) {
  const std::vector<isa::Instruction> prog = {load_data(MemoryType::kInp, 0, 16, 16)};
  place(*tsim_, prog);
  driver::TsimFaultOptions f;
  f.stall_at_cycle = 60;
  tsim_->set_faults(f);
  const auto t0 = std::chrono::steady_clock::now();
  const driver::RunResult r = run(*tsim_);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "watchdog: no progress")) << r.message;
  EXPECT_TRUE(contains(r.message, "memory: stalled (fault injected)")) << r.message;
  std::printf("[   INFO   ] %s\n", r.message.c_str());
  expect_normal_program_matches_fsim(3);
  EXPECT_EQ(tsim_->soft_resets(), 0u);
  EXPECT_EQ(tsim_->hard_resets(), 1u);
  EXPECT_TRUE(contains(tsim_->last_recovery(), "hard reset: the soft reset did not finish")) << tsim_->last_recovery();
}

TEST_F(TsimFault, StalledMemoryEndsByCycleLimitWithoutWatchdog) {
  driver::TsimDeviceOptions o;
  o.watchdog_cycles = 0;
  o.max_cycles = 50'000;
  o.soft_reset_cycles = 5'000;
  o.faults.stall_at_cycle = 30;
  driver::TsimDevice dev("tsim", config_, o);
  place(dev, {load_data(MemoryType::kInp, 0, 16, 16)});
  const driver::RunResult r = dev.run(kInsnAddr, count_, 0ms);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "no done after 50000 cycles (cycle limit)")) << r.message;
  const driver::RunResult again = dev.run(kInsnAddr, count_, 0ms);  // stall fired once: runs now
  EXPECT_TRUE(again.ok()) << again.message;
  EXPECT_EQ(dev.hard_resets(), 1u);
}

// ---------------------------------------------------------------------------------------------------------
// Runs interrupted mid-way (a deterministic interrupt, or cancel() from another thread): the core is
// still busy when the run returns; the soft reset drains it and the next program runs.

TEST_F(TsimFault, InterruptedRunIsReportedAndTheSoftResetDrainsTheCore) {
  isa::GemmInsn long_gemm;  // 64 x 64 x 4 micro-ops
  long_gemm.loop = loop(0, 4, 64, 64, 0, 0, 0, 0);
  place(*tsim_, {load_data(MemoryType::kUop, 0, 1, 4), load_data(MemoryType::kInp, 0, 8, 64), long_gemm,
                 store_out(0, 8, 64)});
  driver::TsimFaultOptions f;
  f.interrupt_at_cycle = 700;
  tsim_->set_faults(f);
  const driver::RunResult r = run(*tsim_);
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "run interrupted at cycle 700 of the run")) << r.message;
  EXPECT_NE(tsim_->read_register(reg::kStatus) & reg::kStatusBusy, 0u);  // it was running when stopped
  EXPECT_EQ(tsim_->soft_resets(), 1u);  // recovered before run() returned: drained, nothing in flight
  EXPECT_EQ(tsim_->memory_outstanding(), 0u);
  expect_normal_program_matches_fsim(4);
  EXPECT_EQ(tsim_->soft_resets(), 1u);
  EXPECT_EQ(tsim_->hard_resets(), 0u);
}

TEST_F(TsimFault, CancelFromAnotherThreadStopsALongRun) {
  isa::GemmInsn huge;  // ~16 M micro-op cycles: far longer than the test waits
  huge.loop = loop(0, 1, 4096, 4096, 0, 0, 0, 0);
  place(*tsim_, {load_data(MemoryType::kUop, 0, 1, 4), huge});
  driver::RunResult r;
  std::thread runner([&] { r = run(*tsim_); });
  std::this_thread::sleep_for(100ms);
  tsim_->cancel();
  runner.join();
  ASSERT_EQ(r.status, driver::RunStatus::kError);
  EXPECT_TRUE(contains(r.message, "run cancelled at cycle")) << r.message;
  std::printf("[   INFO   ] %s\n", r.message.c_str());
  expect_normal_program_matches_fsim(5);
  EXPECT_EQ(tsim_->soft_resets(), 1u);
}

// ---------------------------------------------------------------------------------------------------------
// The soft reset through the register file, as a board driver would use it.

TEST_F(TsimFault, SoftResetRegisterReturnsTheCoreToIdle) {
  isa::AluInsn bad;
  bad.alu_opcode = static_cast<isa::AluOpcode>(6);
  bad.loop = loop(0, 1, 1, 1, 0, 0, 0, 0);
  place(*tsim_, {bad});
  ASSERT_EQ(run(*tsim_).status, driver::RunStatus::kError);
  EXPECT_EQ(tsim_->read_register(reg::kErrorCode), reg::kErrAluOp);
  // the device recovered before run() returned; the register file shows the failed run until a CONTROL
  // write: start again by hand (the same bad program) and soft-reset through the register
  tsim_->write_register(reg::kInsnAddrLo, static_cast<uint32_t>(kInsnAddr));
  tsim_->write_register(reg::kInsnAddrHi, 0);
  tsim_->write_register(reg::kInsnCount, count_);
  tsim_->write_register(reg::kControl, reg::kControlStart);
  EXPECT_EQ(tsim_->read_register(reg::kErrorCode), reg::kErrAluOp);
  tsim_->write_register(reg::kControl, reg::kControlSoftReset);
  uint32_t status = reg::kStatusResetting;
  for (int i = 0; i < 100 && (status & reg::kStatusResetting) != 0; ++i) status = tsim_->read_register(reg::kStatus);
  EXPECT_EQ(status, 0u);  // not resetting, not busy, no done/error
  EXPECT_EQ(tsim_->read_register(reg::kErrorCode), 0u);
  EXPECT_EQ(tsim_->read_register(reg::kErrorInfo), 0u);
  EXPECT_EQ(tsim_->read_register(reg::counter_lo(reg::kNumExecutionCounters - 1)), 0u);  // cycle_count
  // a soft reset of an idle core is harmless; the instruction registers are kept
  tsim_->write_register(reg::kInsnCount, 1234);
  tsim_->write_register(reg::kControl, reg::kControlSoftReset);
  EXPECT_EQ(tsim_->read_register(reg::kInsnCount), 1234u);
  // fsim accepts the bit too (it is idle between runs)
  fsim_->write_register(reg::kControl, reg::kControlSoftReset);
  EXPECT_EQ(fsim_->read_register(reg::kStatus), 0u);
}

// The RTL's soft reset on the harness directly (the device recovers by itself): after a failed run
// CONTROL.soft_reset returns STATUS, ERROR_* and the counters to zero, and the next start runs.
TEST(TsimSoftReset, ClearsTheCoreAfterAnErrorThroughTheRegisterFile) {
  const isa::HwConfig config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for the default config";
  const isa::InstructionCodec codec(config);
  sim::DeviceMemory memory;
  isa::AluInsn bad;
  bad.alu_opcode = static_cast<isa::AluOpcode>(7);
  bad.loop.uop_end = bad.loop.iter_out = bad.loop.iter_in = 1;
  std::vector<isa::RawInstruction> raw = {codec.encode(bad), codec.encode(isa::FinishInsn{})};
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  const uint64_t insns = memory.allocate(bytes.size(), 64);
  memory.write(insns, bytes.data(), bytes.size());
  tsim::Tsim sim(config, memory);
  const tsim::TsimResult bad_run = sim.run(insns, 2, 100'000);
  ASSERT_TRUE(bad_run.error);
  EXPECT_EQ(sim.read_reg(reg::kErrorCode), reg::kErrAluOp);
  EXPECT_EQ(sim.read_reg(reg::kStatus), reg::kStatusDone | reg::kStatusError);
  ASSERT_TRUE(sim.soft_reset());
  EXPECT_EQ(sim.read_reg(reg::kStatus), 0u);
  EXPECT_EQ(sim.read_reg(reg::kErrorCode), 0u);
  EXPECT_EQ(sim.read_reg(reg::kErrorIndex), 0u);
  EXPECT_EQ(sim.read_reg(reg::counter_lo(reg::kNumExecutionCounters - 1)), 0u);
  EXPECT_EQ(sim.memory_outstanding(), 0u);
  const tsim::TsimResult finish_only = sim.run(insns + 16, 1, 100'000);  // the FINISH alone
  EXPECT_TRUE(finish_only.done && !finish_only.error) << finish_only.error_code;
}

// ---------------------------------------------------------------------------------------------------------
// One register map: the driver's names are isa::reg's, the first counters are ExecutionCounters::items(),
// the generated package carries every register, and no RTL file spells a register offset itself.

TEST(TsimRegisterMap, DriverHarnessAndRtlShareOneDefinition) {
  static_assert(driver::reg::kControl == isa::reg::kControl && driver::reg::kErrorCode == isa::reg::kErrorCode);
  const auto items = isa::ExecutionCounters{}.items();
  ASSERT_EQ(items.size(), reg::kNumExecutionCounters);
  for (uint32_t i = 0; i < reg::kNumExecutionCounters; ++i) EXPECT_EQ(items[i].first, reg::kCounters[i].name);

  std::ifstream in(VTA_DEFAULT_PKG_SV);
  ASSERT_TRUE(in) << VTA_DEFAULT_PKG_SV;
  std::stringstream pkg;
  pkg << in.rdbuf();
  char line[96];
  for (const reg::Register& r : reg::kRegisters) {
    std::snprintf(line, sizeof line, "localparam logic [11:0] REG_%s = 12'h%03x;", std::string(r.name).c_str(),
                  r.offset);
    EXPECT_TRUE(contains(pkg.str(), line)) << line;
  }
  for (const reg::ErrorCode& e : reg::kErrorCodes)
    EXPECT_TRUE(contains(pkg.str(), "ERR_" + std::string(e.name) + " = 8'd" + std::to_string(e.code) + ";"));
  EXPECT_TRUE(contains(pkg.str(), "NUM_COUNTERS = " + std::to_string(reg::kNumCounters) + ";"));

  for (const auto& f : std::filesystem::directory_iterator(VTA_RTL_SOURCE_DIR)) {
    if (f.path().extension() != ".sv") continue;
    std::ifstream src(f.path());
    std::stringstream text;
    text << src.rdbuf();
    EXPECT_FALSE(contains(text.str(), "12'h")) << f.path() << " spells a register offset; use vta_pkg::REG_*";
  }
}

// The typed instruction views in vta_pkg (mem_insn_t, gemm_insn_t, alu_insn_t, uop_t) lay out exactly the
// codec's fields (the one encoding), MSB first, filling the word; and no module slices an instruction by a
// literal width any more.
TEST(TsimRegisterMap, InstructionStructsMatchTheCodec) {
  std::ifstream in(VTA_DEFAULT_PKG_SV);
  ASSERT_TRUE(in) << VTA_DEFAULT_PKG_SV;
  std::stringstream pkg;
  pkg << in.rdbuf();
  const std::string text = pkg.str();
  const isa::HwConfig config = isa::HwConfig::default_config();
  const isa::InstructionCodec codec(config);
  const std::pair<const char*, std::vector<isa::FieldLayout>> views[] = {
      {"mem_insn_t", codec.layout(isa::Opcode::kLoad)},
      {"gemm_insn_t", codec.layout(isa::Opcode::kGemm)},
      {"alu_insn_t", codec.layout(isa::Opcode::kAlu)},
      {"uop_t", codec.uop_layout()}};
  for (const auto& [type, layout] : views) {
    SCOPED_TRACE(type);
    const size_t end = text.find(std::string("} ") + type + ";");
    ASSERT_NE(end, std::string::npos);
    const size_t begin = text.rfind("typedef struct packed {", end);
    ASSERT_NE(begin, std::string::npos);
    // Walk the struct's members from the LSB up: name -> (lsb, width).
    std::vector<std::pair<std::string, std::pair<uint32_t, uint32_t>>> members;
    std::istringstream body(text.substr(begin, end - begin));
    std::string l;
    std::vector<std::pair<std::string, uint32_t>> top_down;
    while (std::getline(body, l)) {
      const size_t semi = l.find(';');
      if (l.find("logic") == std::string::npos || semi == std::string::npos) continue;
      uint32_t width = 1;
      if (const size_t br = l.find('['); br != std::string::npos) width = static_cast<uint32_t>(std::stoul(l.substr(br + 1))) + 1;
      const size_t name_begin = l.find_last_of(" ]", semi) + 1;
      top_down.emplace_back(l.substr(name_begin, semi - name_begin), width);
    }
    uint32_t lsb = 0, total = 0;
    for (auto it = top_down.rbegin(); it != top_down.rend(); ++it) {
      members.push_back({it->first, {lsb, it->second}});
      lsb += it->second;
      total += it->second;
    }
    EXPECT_EQ(total, std::string(type) == "uop_t" ? isa::FixedFieldWidths::kMicroOpBits
                                                  : isa::FixedFieldWidths::kInstructionBits);
    for (const isa::FieldLayout& f : layout) {
      const auto m = std::find_if(members.begin(), members.end(), [&](const auto& x) { return x.first == f.name; });
      ASSERT_NE(m, members.end()) << f.name;
      EXPECT_EQ(m->second.first, f.offset) << f.name;
      EXPECT_EQ(m->second.second, f.width) << f.name;
    }
  }
  for (const auto& f : std::filesystem::directory_iterator(VTA_RTL_SOURCE_DIR)) {
    if (f.path().extension() != ".sv") continue;
    std::ifstream src(f.path());
    std::stringstream rtl;
    rtl << src.rdbuf();
    const std::regex slice(R"((insn|head|uop_rdata)\w*\[vta_pkg::(MEM|GEMM|ALU|UOP)_\w+_LSB)");
    EXPECT_FALSE(std::regex_search(rtl.str(), slice)) << f.path() << " slices an instruction by position; use its typed view";
  }
}

}  // namespace
