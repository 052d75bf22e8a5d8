// Device-independent Programs: built without a device (symbolic buffers, relocations, the kernel cache
// and micro-op buffer inside the program), printed as text, then bound to fsim by a Session and run
// against a plain CPU computation; plus the errors of binding and host access.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "vta/driver/device.h"
#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/runtime/program_builder.h"
#include "vta/runtime/session.h"

namespace vta::runtime {
namespace {

using isa::MemoryType;

// Y = X * W^T, one BATCH x BLOCK_IN input element per row block: x is [rows][BATCH][BLOCK_IN] int8,
// w one BLOCK_OUT x BLOCK_IN weight element; the int32 accumulators are narrowed by MIN/MAX to int8.
struct SmallGemm {
  isa::HwConfig cfg = isa::HwConfig::default_config();
  uint32_t rows = 3;
  Program program;
  BufferId x = 0, w = 0, y = 0;
  std::vector<int8_t> weights;

  SmallGemm() {
    const uint32_t inp_eb = cfg.inp().element_bytes, wgt_eb = cfg.wgt().element_bytes;
    const uint32_t out_eb = cfg.out().element_bytes;
    std::mt19937 rng(7);
    weights.resize(wgt_eb);
    for (auto& v : weights) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-3, 3)(rng));
    ProgramBuilder b(cfg);
    x = b.add_buffer("x", BufferRole::kInput, uint64_t{rows} * inp_eb);
    w = b.add_constant("w", std::vector<uint8_t>(weights.begin(), weights.end()));
    y = b.add_buffer("y", BufferRole::kOutput, uint64_t{rows} * out_eb);
    b.load_2d(x, 0, rows, 1, rows, 0, 0, 0, 0, 0, MemoryType::kInp);
    b.load_2d(w, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt);
    b.dep_push(Stage::kLoad, Stage::kCompute);
    b.dep_pop(Stage::kLoad, Stage::kCompute);
    b.push_gemm(UopKernelBuilder(KernelMode::kGemm, true).loop_begin(rows, 1, 0, 0).push(0, 0, 0).loop_end().build());
    b.push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(rows, 1, 1, 0).push(0, 0, 0).loop_end().build());
    for (auto [op, imm] : {std::pair{isa::AluOpcode::kMin, 127}, std::pair{isa::AluOpcode::kMax, -128}}) {
      b.push_alu(UopKernelBuilder(KernelMode::kAlu).alu(op, true, imm).loop_begin(rows, 1, 1, 0).push(0, 0).loop_end().build());
    }
    b.dep_push(Stage::kCompute, Stage::kStore);
    b.dep_pop(Stage::kCompute, Stage::kStore);
    b.store_2d(0, MemoryType::kOut, y, 0, rows, 1, rows);
    program = b.finish();
  }

  std::vector<int8_t> expected(const std::vector<int8_t>& xs) const {
    const uint32_t B = cfg.batch(), BI = cfg.block_in(), BO = cfg.block_out();
    std::vector<int8_t> out(size_t{rows} * B * BO);
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t b = 0; b < B; ++b)
        for (uint32_t o = 0; o < BO; ++o) {
          int32_t acc = 0;
          for (uint32_t i = 0; i < BI; ++i) acc += int32_t{xs[(r * B + b) * BI + i]} * weights[o * BI + i];
          out[(r * B + b) * BO + o] = static_cast<int8_t>(std::clamp(acc, -128, 127));
        }
    return out;
  }
};

TEST(Program, BuiltWithoutADeviceWithSymbolicBuffers) {
  const SmallGemm g;
  const Program& p = g.program;
  ASSERT_EQ(p.buffers.size(), 4u);  // x, w, y and the micro-op buffer
  EXPECT_EQ(p.buffers[p.find_buffer("uops")].role, BufferRole::kMicroOps);
  // The four kernels share one micro-op (0, 0, 0): stored once, loaded once.
  EXPECT_EQ(p.buffers[p.find_buffer("uops")].data.size(), 4u);
  EXPECT_EQ(p.kernel_cache_misses, 1u);
  EXPECT_EQ(p.kernel_cache_hits, 3u);
  EXPECT_EQ(p.buffers[g.w].alignment, g.cfg.wgt().element_bytes);   // raised by the WGT load
  EXPECT_EQ(p.buffers[g.y].write_hi, 3u * g.cfg.out().element_bytes);
  EXPECT_TRUE(std::holds_alternative<isa::FinishInsn>(p.instructions.back()));
  // Every LOAD/STORE with a real transfer is relocated against a buffer.
  size_t transfers = 0;
  for (const auto& insn : p.instructions) {
    if (const auto* m = std::get_if<isa::MemInsn>(&insn); m && m->x_size > 0) ++transfers;
  }
  EXPECT_EQ(p.relocations.size(), transfers);
  EXPECT_THROW(p.find_buffer("nope"), Error);
}

TEST(Program, PrintsAsAssembly) {
  const std::string text = SmallGemm().program.to_asm();
  EXPECT_NE(text.find("buffer 0 x input 48 bytes align 64"), std::string::npos) << text;
  EXPECT_NE(text.find("buffer 1 w constant 256 bytes align 256"), std::string::npos) << text;
  EXPECT_NE(text.find("LOAD INP sram=0 dram=0 y=1 x=3 stride=3"), std::string::npos) << text;
  EXPECT_NE(text.find("@x"), std::string::npos);
  EXPECT_NE(text.find("STORE OUT"), std::string::npos);
  EXPECT_NE(text.find("FINISH"), std::string::npos);
}

TEST(Session, RunsALoadedProgramManyTimes) {
  const SmallGemm g;
  Session session("fsim", g.cfg);
  const auto loaded = session.load(g.program);
  std::mt19937 rng(11);
  for (int run = 0; run < 3; ++run) {
    std::vector<int8_t> xs(size_t{g.rows} * g.cfg.inp().element_bytes);
    for (auto& v : xs) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
    loaded->write(g.x, xs.data(), xs.size());
    const RunStats stats = loaded->run();
    EXPECT_EQ(stats.instructions, g.program.instructions.size());
    std::vector<int8_t> ys(size_t{g.rows} * g.cfg.out().element_bytes);
    loaded->read(g.y, ys.data(), ys.size());
    EXPECT_EQ(ys, g.expected(xs)) << "run " << run;
  }
}

TEST(Session, SameResultOnEveryFsimTarget) {
  const SmallGemm g;
  std::vector<int8_t> xs(size_t{g.rows} * g.cfg.inp().element_bytes, 5);
  for (const char* target : {"fsim", "fsim-ref", "fsim-serial"}) {
    Session session(target, g.cfg);
    const auto loaded = session.load(g.program);
    loaded->write(g.x, xs.data(), xs.size());
    loaded->run();
    std::vector<uint8_t> ys = loaded->read(g.y);
    EXPECT_EQ(std::vector<int8_t>(ys.begin(), ys.end()), g.expected(xs)) << target;
  }
}

TEST(Session, RejectsAProgramForAnotherConfig) {
  const SmallGemm g;
  const auto other = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/block32.json");
  Session session("fsim", other);
  try {
    session.load(g.program);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("compiled for config"), std::string::npos) << e.what();
  }
}

TEST(Session, HostAccessIsRangeChecked) {
  const SmallGemm g;
  Session session("fsim", g.cfg);
  const auto loaded = session.load(g.program);
  std::vector<uint8_t> big(1024);
  EXPECT_THROW(loaded->write(g.x, big.data(), big.size()), Error);
  EXPECT_THROW(loaded->read(g.y, big.data(), 8, 1000), Error);
  EXPECT_THROW(loaded->read(99), Error);
}

// A consumer whose input aliases a producer's output reads what the producer stored, with no host copy.
TEST(Session, AliasedBuffersChainTwoPrograms) {
  const SmallGemm first, second;  // the same GEMM twice: y2 = f(f(x)) when y1 feeds x2
  ASSERT_EQ(first.program.buffers[first.y].bytes, second.program.buffers[second.x].bytes);
  Session session("fsim", first.cfg);
  const auto p1 = session.load(first.program);
  const auto p2 = session.load(second.program);
  p2->alias(second.x, *p1, first.y);
  std::vector<int8_t> xs(size_t{first.rows} * first.cfg.inp().element_bytes);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<int8_t>(i % 7) - 3;
  p1->write(first.x, xs.data(), xs.size());
  p1->run();
  p2->run();
  const std::vector<uint8_t> y2 = p2->read(second.y);
  EXPECT_EQ(std::vector<int8_t>(y2.begin(), y2.end()), second.expected(first.expected(xs)));
  EXPECT_THROW(p2->alias(second.y, *p1, first.w), Error);  // 48 bytes vs 256
  Session other("fsim", first.cfg);
  const auto p3 = other.load(second.program);
  EXPECT_THROW(p3->alias(second.x, *p1, first.y), Error);  // another session
}

TEST(ProgramBuilder, RejectsBadBuffersAndOperands) {
  ProgramBuilder b(isa::HwConfig::default_config());
  const BufferId x = b.add_buffer("x", BufferRole::kInput, 64);
  EXPECT_THROW(b.add_buffer("x", BufferRole::kOutput, 64), Error);        // duplicate name
  EXPECT_THROW(b.add_buffer("", BufferRole::kOutput, 64), Error);         // no name
  EXPECT_THROW(b.add_buffer("z", BufferRole::kScratch, 0), Error);        // empty
  EXPECT_THROW(b.add_buffer("u", BufferRole::kMicroOps, 16), Error);      // reserved role
  EXPECT_THROW(b.load_2d(x, 0, 5, 1, 5, 0, 0, 0, 0, 0, MemoryType::kInp), Error);  // 80 bytes > 64
  EXPECT_THROW(b.load_2d(7, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kInp), Error);  // unknown buffer
  b.finish();
  EXPECT_THROW(b.finish(), Error);
}

TEST(ProgramBuilder, KernelCacheSharesMicroOpsWithinAProgram) {
  ProgramBuilder b(isa::HwConfig::default_config());
  const UopKernel k = UopKernelBuilder(KernelMode::kGemm, true).push(0, 0, 0).build();
  for (int i = 0; i < 3; ++i) b.push_gemm(k);
  const Program p = b.finish();
  EXPECT_EQ(p.kernel_cache_misses, 1u);
  EXPECT_EQ(p.kernel_cache_hits, 2u);
  EXPECT_EQ(p.buffers[p.find_buffer("uops")].bytes, 4u);
}

// Every kernel load moves to the program's start, merged into one LOAD UOP when the kernels continue
// each other, and the load module's first LOAD waits for it (a compute->load token); a load that carried a
// token pop leaves a no-op with it; the program still computes the same.
TEST(ProgramBuilder, KernelLoadsMoveToTheStartAsOneLoad) {
  const SmallGemm g;
  const std::vector<isa::Instruction>& insns = g.program.instructions;
  size_t kernel_loads = 0;
  for (size_t i = 0; i < insns.size(); ++i) {
    const auto* m = std::get_if<isa::MemInsn>(&insns[i]);
    if (m == nullptr || m->memory_type != MemoryType::kUop || m->x_size == 0) continue;
    ++kernel_loads;
    EXPECT_EQ(i, 0u);
    EXPECT_EQ(m->x_size, g.program.kernel_cache_misses);  // one micro-op per distinct kernel
    EXPECT_EQ(m->sram_base, 0u);
    EXPECT_FALSE(m->dep.pop_prev || m->dep.pop_next || m->dep.push_next);
    EXPECT_TRUE(m->dep.push_prev);  // the load module's first LOAD waits for the kernels
  }
  EXPECT_EQ(kernel_loads, 1u);
  for (const isa::Instruction& insn : insns) {
    if (isa::module_of(insn) != isa::Module::kLoad) continue;
    EXPECT_TRUE(std::get<isa::MemInsn>(insn).dep.pop_next) << isa::disassemble(insn);
    break;
  }
  // The load->compute pop the first kernel load carried is on a no-op before the first GEMM.
  bool pop_before_gemm = false;
  for (const isa::Instruction& insn : insns) {
    if (std::holds_alternative<isa::GemmInsn>(insn)) break;
    if (const auto* m = std::get_if<isa::MemInsn>(&insn)) pop_before_gemm |= m->x_size == 0 && m->dep.pop_prev;
  }
  EXPECT_TRUE(pop_before_gemm) << g.program.to_asm();

  Session session("fsim-strict", g.cfg);
  const auto loaded = session.load(g.program);
  std::vector<int8_t> xs(size_t{g.rows} * g.cfg.inp().element_bytes);
  std::mt19937 rng(3);
  for (auto& v : xs) v = static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
  loaded->write(g.x, xs.data(), xs.size());
  loaded->run();
  std::vector<int8_t> ys(size_t{g.rows} * g.cfg.out().element_bytes);
  loaded->read(g.y, ys.data(), ys.size());
  EXPECT_EQ(ys, g.expected(xs));
}

// Kernels that do not all fit the micro-op buffer evict each other: their loads stay where they are.
TEST(ProgramBuilder, KernelLoadsStayInPlaceWhenKernelsAreEvicted) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  ProgramBuilder b(cfg);
  const uint32_t n = cfg.uop().depth / 2 + 1;  // two such kernels cannot both stay
  for (uint32_t k = 0; k < 3; ++k) {
    UopKernelBuilder kb(KernelMode::kGemm, true);
    for (uint32_t i = 0; i < n; ++i) kb.push(k, 0, 0);
    b.push_gemm(kb.build());
  }
  const Program p = b.finish();
  std::vector<size_t> loads;
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const auto* m = std::get_if<isa::MemInsn>(&p.instructions[i]);
    if (m != nullptr && m->memory_type == MemoryType::kUop && m->x_size != 0) loads.push_back(i);
  }
  EXPECT_EQ(loads, (std::vector<size_t>{0, 2, 4})) << p.to_asm();
}

}  // namespace
}  // namespace vta::runtime
