// tsim smoke test: one small program (LOAD with padding, UOP load at an odd micro-op address, GEMM reset
// and accumulate, ALU with immediates and vector operands, STORE with a row stride, FINISH, a full set of
// dependency tokens) run on the Verilated core; results and counters are checked against values computed
// here with plain loops.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/isa/instruction_codec.h"
#include "vta/sim/device_memory.h"
#include "vta/tsim/tsim.h"

namespace {

// Encodes `prog` into device memory; returns its address.
uint64_t place_program(vta::sim::DeviceMemory& memory, const vta::isa::InstructionCodec& codec,
                       const std::vector<vta::isa::Instruction>& prog) {
  std::vector<vta::isa::RawInstruction> raw;
  for (const auto& insn : prog) raw.push_back(codec.encode(insn));
  std::vector<uint8_t> bytes;
  vta::isa::raw_instructions_to_bytes(raw, bytes);
  const uint64_t insn_addr = memory.allocate(std::max<size_t>(bytes.size(), 16), 64);
  memory.write(insn_addr, bytes.data(), bytes.size());
  return insn_addr;
}

vta::tsim::TsimOptions options(uint32_t latency) {
  vta::tsim::TsimOptions o;
  o.read_latency = latency;
  o.write_latency = latency;
  o.bytes_per_cycle = 8;
  o.max_outstanding = 16;
  return o;
}

using namespace vta;
using isa::AluInsn;
using isa::AluOpcode;
using isa::FinishInsn;
using isa::GemmInsn;
using isa::MemInsn;
using isa::MemoryType;
using isa::Opcode;

constexpr uint32_t kTile = 12;  // INP tile elements (3 rows x 4 columns, padded)

isa::HwConfig default_config() { return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json"); }

int32_t wrap32(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

int32_t alu(AluOpcode op, int32_t a, int32_t b) {
  switch (op) {
    case AluOpcode::kMin: return a < b ? a : b;
    case AluOpcode::kMax: return a > b ? a : b;
    case AluOpcode::kAdd: return wrap32(int64_t{a} + b);
    case AluOpcode::kShr:
      if (b >= 0) return b >= 32 ? (a < 0 ? -1 : 0) : a >> b;
      return -int64_t{b} >= 32 ? 0 : wrap32(static_cast<int64_t>(static_cast<uint64_t>(static_cast<uint32_t>(a)) << -b));
    case AluOpcode::kMul: return wrap32(int64_t{a} * b);
  }
  return a;
}

using isa::make_mem;

AluInsn alu_insn(AluOpcode op, uint32_t uop, uint32_t iters, bool use_imm, int32_t imm) {
  AluInsn a;
  a.alu_opcode = op;
  a.use_imm = use_imm;
  a.imm = imm;
  a.loop.uop_bgn = uop;
  a.loop.uop_end = uop + 1;
  a.loop.iter_out = iters;
  a.loop.iter_in = 1;
  a.loop.dst_factor_out = 1;
  a.loop.src_factor_out = 1;
  return a;
}

TEST(TsimSmoke, GemmAluStoreProgram) {
  const auto config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for this config";
  const isa::InstructionCodec codec(config);
  const uint32_t bi = config.block_in(), bo = config.block_out();
  ASSERT_EQ(config.batch(), 1u);

  sim::DeviceMemory memory;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> val(-128, 127);

  // INP source: 2 rows of 3 elements, row stride 5 elements
  const uint32_t inp_elems = 10;
  const uint64_t inp_addr = memory.allocate(inp_elems * bi, 256);
  std::vector<int8_t> inp_dram(inp_elems * bi);
  for (auto& v : inp_dram) v = static_cast<int8_t>(val(rng));
  memory.write(inp_addr, inp_dram.data(), inp_dram.size());
  // WGT: 2 elements of bo x bi
  const uint64_t wgt_addr = memory.allocate(2 * bo * bi, 256);
  std::vector<int8_t> wgt(2 * bo * bi);
  for (auto& v : wgt) v = static_cast<int8_t>(val(rng));
  memory.write(wgt_addr, wgt.data(), wgt.size());

  // micro-ops 0..11: GEMM (dst k, src k, wgt 0); 12: ALU (dst 0, src 0); 13: ALU (dst 0, src 12)
  std::vector<uint32_t> uops;
  for (uint32_t k = 0; k < kTile; ++k) uops.push_back(codec.encode_uop({k, k, 0}));
  uops.push_back(codec.encode_uop({0, 0, 0}));
  uops.push_back(codec.encode_uop({0, kTile, 0}));
  const uint64_t uop_region = memory.allocate(4 * (uops.size() + 1), 64);
  const uint64_t uop_addr = uop_region + 4;  // odd micro-op address: exercises the narrow read path
  memory.write(uop_addr, uops.data(), 4 * uops.size());

  const uint32_t out_stride = 16;
  const uint64_t out_addr = memory.allocate(2 * out_stride * bo, 256);

  // ---- program ----
  std::vector<isa::Instruction> prog;
  MemInsn ld_inp = make_mem(Opcode::kLoad, MemoryType::kInp, 0, static_cast<uint32_t>(inp_addr / bi), 2, 3, 5);
  ld_inp.y_pad_0 = 1;
  ld_inp.x_pad_0 = 1;  // tile: 3 rows x 4 columns = kTile elements
  prog.push_back(ld_inp);
  MemInsn ld_wgt = make_mem(Opcode::kLoad, MemoryType::kWgt, 0, static_cast<uint32_t>(wgt_addr / (bo * bi)), 1, 2, 2);
  ld_wgt.dep.push_next = true;
  prog.push_back(ld_wgt);
  MemInsn ld_uop = make_mem(Opcode::kLoad, MemoryType::kUop, 0, static_cast<uint32_t>(uop_addr / 4), 1,
                       static_cast<uint32_t>(uops.size()), 0);
  ld_uop.dep.pop_prev = true;
  prog.push_back(ld_uop);
  GemmInsn gemm;
  gemm.loop.uop_bgn = 0;
  gemm.loop.uop_end = kTile;
  gemm.loop.iter_out = 2;
  gemm.loop.iter_in = 1;
  gemm.loop.dst_factor_out = kTile;
  gemm.wgt_factor_out = 1;
  GemmInsn reset = gemm;
  reset.loop.reset = true;
  prog.push_back(reset);
  prog.push_back(gemm);
  // ALU sequence over acc[0..2*kTile)
  struct Step {
    AluOpcode op;
    bool vector;  // src = dst + kTile over the first kTile entries
    int32_t imm;
  };
  const Step steps[] = {{AluOpcode::kAdd, false, -5},  {AluOpcode::kShr, false, 1},   {AluOpcode::kMax, true, 0},
                        {AluOpcode::kShr, false, 6},   {AluOpcode::kMul, true, 0},    {AluOpcode::kShr, false, -3},
                        {AluOpcode::kShr, false, 4},   {AluOpcode::kMin, false, 300}, {AluOpcode::kMax, false, -300},
                        {AluOpcode::kAdd, true, 0}};
  // The shifts keep the values spread over the int8 range through every step, so the stored bytes show
  // each one (a shift of 32 or more here would make every output -2..0 and hide the steps before it;
  // shifts past the ACC width are checked in tsim_differential_test's TsimDirected.EveryAluOpOnEdgeValues).
  for (const Step& s : steps)
    prog.push_back(s.vector ? alu_insn(s.op, 13, kTile, false, 0) : alu_insn(s.op, 12, 2 * kTile, true, s.imm));
  isa::dep_flags(prog.back()).push_next = true;
  MemInsn st = make_mem(Opcode::kStore, MemoryType::kOut, 0, static_cast<uint32_t>(out_addr / bo), 2, kTile, out_stride);
  st.dep.pop_prev = true;
  st.dep.push_prev = true;
  prog.push_back(st);
  FinishInsn fin;
  fin.dep.pop_next = true;
  prog.push_back(fin);

  const uint64_t insn_addr = place_program(memory, codec, prog);

  // ---- expected ----
  std::vector<int8_t> inp(kTile * bi, 0);
  for (uint32_t r = 1; r < 3; ++r)
    for (uint32_t c = 1; c < 4; ++c)
      for (uint32_t x = 0; x < bi; ++x)
        inp[(r * 4 + c) * bi + x] = inp_dram[((r - 1) * 5 + (c - 1)) * bi + x];
  std::vector<int32_t> acc(2 * kTile * bo, 0);
  for (uint32_t w = 0; w < 2; ++w)
    for (uint32_t k = 0; k < kTile; ++k)
      for (uint32_t o = 0; o < bo; ++o) {
        int64_t sum = 0;
        for (uint32_t x = 0; x < bi; ++x) sum += int64_t{inp[k * bi + x]} * wgt[(w * bo + o) * bi + x];
        acc[(w * kTile + k) * bo + o] = wrap32(sum);
      }
  for (const Step& s : steps) {
    const uint32_t n = s.vector ? kTile : 2 * kTile;
    for (uint32_t d = 0; d < n; ++d)
      for (uint32_t o = 0; o < bo; ++o) {
        int32_t& a = acc[d * bo + o];
        a = alu(s.op, a, s.vector ? acc[(d + kTile) * bo + o] : s.imm);
      }
  }

  // The expected bytes must be spread out, or a wrong step could go unseen (the test's own power).
  {
    std::vector<int8_t> expected;
    for (int32_t v : acc) expected.push_back(static_cast<int8_t>(v));
    std::sort(expected.begin(), expected.end());
    const auto distinct = std::unique(expected.begin(), expected.end()) - expected.begin();
    ASSERT_GE(distinct, 64) << "expected outputs nearly constant";
  }

  // ---- run ----
  tsim::Tsim sim(config, memory, options(20));
  const auto result = sim.run(insn_addr, static_cast<uint32_t>(prog.size()), 2'000'000);
  ASSERT_TRUE(result.done);
  EXPECT_FALSE(result.error) << "error code " << result.error_code << " at instruction " << result.error_index;

  std::vector<int8_t> out(2 * out_stride * bo);
  memory.read(out_addr, out.data(), out.size());
  for (uint32_t y = 0; y < 2; ++y)
    for (uint32_t x = 0; x < kTile; ++x)
      for (uint32_t o = 0; o < bo; ++o)
        ASSERT_EQ(out[(y * out_stride + x) * bo + o], static_cast<int8_t>(acc[((y * kTile) + x) * bo + o]))
            << "row " << y << " element " << x << " lane " << o;
  // the gap between the two stored rows is untouched
  for (uint32_t i = kTile * bo; i < out_stride * bo; ++i) EXPECT_EQ(out[i], 0) << i;

  const auto& c = result.counters;
  EXPECT_EQ(c.load_insn_count, 2u);
  EXPECT_EQ(c.compute_insn_count, 2u + 1u + std::size(steps) + 1u);
  EXPECT_EQ(c.store_insn_count, 1u);
  EXPECT_EQ(c.inp_load_nbytes, 6u * bi);
  EXPECT_EQ(c.wgt_load_nbytes, 2u * bo * bi);
  EXPECT_EQ(c.uop_load_nbytes, 4u * uops.size());
  EXPECT_EQ(c.acc_load_nbytes, 0u);
  EXPECT_EQ(c.out_store_nbytes, 2u * kTile * bo);
  EXPECT_EQ(c.gemm_counter, 2u * kTile);
  uint64_t alu_uops = 0;
  for (const Step& s : steps) alu_uops += s.vector ? kTile : 2 * kTile;
  EXPECT_EQ(c.alu_counter, alu_uops);
  EXPECT_GT(c.cycle_count, 0u);
  std::printf("tsim smoke: %llu core cycles, %llu harness cycles\n",
              static_cast<unsigned long long>(c.cycle_count), static_cast<unsigned long long>(result.harness_cycles));
  for (const auto& [name, v] : result.extra_counters) std::printf("  %s = %llu\n", name.c_str(), static_cast<unsigned long long>(v));
}

// Back-to-back micro-ops on the same accumulator entry (GEMM reduction into one dst; ALU with src == dst
// repeated): the pipeline must stall on the read-after-write hazard and match sequential execution.
TEST(TsimSmoke, SameDestinationHazards) {
  const auto config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for this config";
  const isa::InstructionCodec codec(config);
  const uint32_t bi = config.block_in(), bo = config.block_out();
  sim::DeviceMemory memory;
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> val(-128, 127);
  std::vector<int8_t> inp(4 * bi), wgt(bo * bi);
  for (auto& v : inp) v = static_cast<int8_t>(val(rng));
  for (auto& v : wgt) v = static_cast<int8_t>(val(rng));
  const uint64_t inp_addr = memory.allocate(inp.size(), 256), wgt_addr = memory.allocate(wgt.size(), 256);
  memory.write(inp_addr, inp.data(), inp.size());
  memory.write(wgt_addr, wgt.data(), wgt.size());
  std::vector<uint32_t> uops;
  for (uint32_t k = 0; k < 4; ++k) uops.push_back(codec.encode_uop({0, k, 0}));
  const uint64_t uop_addr = memory.allocate(4 * uops.size(), 64);
  memory.write(uop_addr, uops.data(), 4 * uops.size());
  const uint64_t out_addr = memory.allocate(bo, 64);

  std::vector<isa::Instruction> prog;
  MemInsn li = make_mem(Opcode::kLoad, MemoryType::kInp, 0, static_cast<uint32_t>(inp_addr / bi), 1, 4, 4);
  prog.push_back(li);
  MemInsn lw = make_mem(Opcode::kLoad, MemoryType::kWgt, 0, static_cast<uint32_t>(wgt_addr / (bo * bi)), 1, 1, 1);
  lw.dep.push_next = true;
  prog.push_back(lw);
  MemInsn lu = make_mem(Opcode::kLoad, MemoryType::kUop, 0, static_cast<uint32_t>(uop_addr / 4), 1, 4, 4);
  lu.dep.pop_prev = true;
  prog.push_back(lu);
  GemmInsn g;
  g.loop.uop_bgn = 0;
  g.loop.uop_end = 4;
  g.loop.iter_out = 1;
  g.loop.iter_in = 1;
  GemmInsn r = g;
  r.loop.reset = true;
  r.loop.uop_end = 1;
  prog.push_back(r);
  prog.push_back(g);
  AluInsn dbl = alu_insn(AluOpcode::kAdd, 0, 3, false, 0);  // acc[0] += acc[0], three times
  dbl.loop.dst_factor_out = 0;
  dbl.loop.src_factor_out = 0;
  dbl.dep.push_next = true;
  prog.push_back(dbl);
  MemInsn st = make_mem(Opcode::kStore, MemoryType::kOut, 0, static_cast<uint32_t>(out_addr / bo), 1, 1, 1);
  st.dep.pop_prev = true;
  prog.push_back(st);
  prog.push_back(FinishInsn{});  // the core reports a stream without a final FINISH (error 8)
  const uint64_t insn_addr = place_program(memory, codec, prog);

  tsim::Tsim sim(config, memory, options(5));
  const auto result = sim.run(insn_addr, static_cast<uint32_t>(prog.size()), 1'000'000);
  ASSERT_TRUE(result.done);
  ASSERT_FALSE(result.error) << "error code " << result.error_code;
  std::vector<int8_t> out(bo);
  memory.read(out_addr, out.data(), out.size());
  for (uint32_t o = 0; o < bo; ++o) {
    int64_t sum = 0;
    for (uint32_t k = 0; k < 4; ++k)
      for (uint32_t x = 0; x < bi; ++x) sum += int64_t{inp[k * bi + x]} * wgt[o * bi + x];
    EXPECT_EQ(out[o], static_cast<int8_t>(wrap32(sum) * 8)) << "lane " << o;
  }
  uint64_t hazard = 0;
  for (const auto& [name, v] : result.extra_counters)
    if (name == "gemm_hazard_cycles") hazard = v;
  EXPECT_GT(hazard, 0u);
}

TEST(TsimSmoke, InvalidAluOpcodeIsReported) {
  const auto config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for this config";
  const isa::InstructionCodec codec(config);
  sim::DeviceMemory memory;
  AluInsn bad = alu_insn(AluOpcode::kAdd, 0, 1, true, 1);
  bad.alu_opcode = static_cast<AluOpcode>(6);
  const uint64_t insn_addr = place_program(memory, codec, {bad, FinishInsn{}});
  tsim::Tsim sim(config, memory, options(8));
  const auto result = sim.run(insn_addr, 2, 100'000);
  ASSERT_TRUE(result.done);
  EXPECT_TRUE(result.error);
  EXPECT_EQ(result.error_code, 3u);  // ERR_ALU_OP
  EXPECT_EQ(result.error_index, 0u);
}

TEST(TsimSmoke, DeadlockIsReported) {
  const auto config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for this config";
  const isa::InstructionCodec codec(config);
  sim::DeviceMemory memory;
  FinishInsn ok;
  GemmInsn wait;  // pops a load->compute token nobody pushes
  wait.dep.pop_prev = true;
  const uint64_t insn_addr = place_program(memory, codec, {wait, ok});
  tsim::Tsim sim(config, memory, options(8));
  const auto result = sim.run(insn_addr, 2, 100'000);
  ASSERT_TRUE(result.done);
  EXPECT_TRUE(result.error);
  EXPECT_EQ(result.error_code, 6u);  // ERR_DEADLOCK
  EXPECT_EQ(result.error_index, 0u);
}

// The program's shape (error 8, as fsim rejects it): a FINISH before the end, a last instruction that is
// not FINISH, an empty stream. The first error stops the run.
TEST(TsimSmoke, MisplacedOrMissingFinishIsReported) {
  const auto config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for this config";
  const isa::InstructionCodec codec(config);
  sim::DeviceMemory memory;
  const MemInsn noop = make_mem(Opcode::kLoad, MemoryType::kUop, 0, 0, 0, 0, 0);
  const auto run = [&](const std::vector<isa::Instruction>& prog) {
    const uint64_t insn_addr = place_program(memory, codec, prog);
    tsim::Tsim sim(config, memory, options(8));
    return sim.run(insn_addr, static_cast<uint32_t>(prog.size()), 100'000);
  };
  auto r = run({noop, FinishInsn{}, noop, FinishInsn{}});
  EXPECT_TRUE(r.done && r.error);
  EXPECT_EQ(r.error_code, 8u);
  EXPECT_EQ(r.error_index, 1u);
  r = run({noop, noop});
  EXPECT_TRUE(r.done && r.error);
  EXPECT_EQ(r.error_code, 8u);
  EXPECT_EQ(r.error_index, 1u);
  r = run({});
  EXPECT_TRUE(r.done && r.error);
  EXPECT_EQ(r.error_code, 8u);
  EXPECT_EQ(r.error_index, 0xffffffffu);
  r = run({noop, FinishInsn{}});
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.error) << r.error_code;
}

}  // namespace

// The core's 64-bit counters on a long run: 70 loads of the whole WGT buffer count 70 x 256 KiB bytes,
// past 2^24 (a counter split into parts with registered carries must stay exact across its parts), and
// the instruction and cycle counters agree with the run.
TEST(TsimSmoke, CountersAreExactPast2To24) {
  const auto config = default_config();
  if (!tsim::Tsim::has_model(config)) GTEST_SKIP() << "no tsim model for this config";
  const isa::InstructionCodec codec(config);
  sim::DeviceMemory memory;
  const uint32_t depth = config.wgt().depth, eb = config.wgt().element_bytes;
  const uint64_t wgt_addr = memory.allocate(uint64_t{depth} * eb, 4096);
  std::vector<isa::Instruction> prog;
  const uint32_t loads = 70;
  for (uint32_t i = 0; i < loads; ++i)
    prog.push_back(make_mem(Opcode::kLoad, MemoryType::kWgt, 0, static_cast<uint32_t>(wgt_addr / eb), 1, depth, depth));
  prog.push_back(FinishInsn{});
  const uint64_t insn_addr = place_program(memory, codec, prog);
  tsim::Tsim sim(config, memory, options(8));
  const auto result = sim.run(insn_addr, static_cast<uint32_t>(prog.size()), 100'000'000);
  ASSERT_TRUE(result.done);
  ASSERT_FALSE(result.error) << "error code " << result.error_code;
  const uint64_t expected = uint64_t{loads} * depth * eb;
  ASSERT_GT(expected, uint64_t{1} << 24);
  EXPECT_EQ(result.counters.wgt_load_nbytes, expected);
  EXPECT_EQ(result.counters.load_insn_count, loads);
  EXPECT_EQ(result.counters.compute_insn_count, 1u);  // FINISH
  // the load module streams 8 bytes a cycle at best
  EXPECT_GE(result.counters.cycle_count, expected / 8);
  EXPECT_LT(result.counters.cycle_count, expected / 4);
}
