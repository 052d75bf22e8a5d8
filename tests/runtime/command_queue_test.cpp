// CommandQueue: instruction construction, dependency-token placement, argument validation and the
// micro-op kernel cache. Programs that run go runtime -> driver -> fsim and are checked against the
// CPU references of runtime_test_util.h.
#include <gtest/gtest.h>

#include "runtime_test_util.h"
#include "vta/isa/error.h"

namespace vta::rtest {
namespace {

using isa::MemoryType;

const isa::MemInsn& mem(const isa::Instruction& i) { return std::get<isa::MemInsn>(i); }

class CommandQueueTest : public ::testing::Test {
 protected:
  CommandQueueTest() : h("fsim", isa::HwConfig::default_config()) {}
  Harness h;
};

UopKernel small_gemm() {
  return UopKernelBuilder(KernelMode::kGemm).loop_begin(2, 1, 1, 0).push(0, 0, 0).loop_end().build();
}

// ---------------------------------------------------------------------------------------------------
// Instruction construction
// ---------------------------------------------------------------------------------------------------

TEST_F(CommandQueueTest, LoadComputesElementDramBaseAndFields) {
  const auto& c = h.cfg();
  auto buf = h.alloc(64 * c.wgt().element_bytes);
  h.q().load_2d(buf, 5, 3, 2, 7, 1, 2, 3, 4, 10, MemoryType::kWgt);
  ASSERT_EQ(h.q().pending().size(), 1u);
  const isa::MemInsn& m = mem(h.q().pending()[0]);
  EXPECT_EQ(m.opcode, isa::Opcode::kLoad);
  EXPECT_EQ(m.memory_type, MemoryType::kWgt);
  EXPECT_EQ(m.dram_base, buf.device_address / c.wgt().element_bytes + 5);
  EXPECT_EQ(m.sram_base, 10u);
  EXPECT_EQ(m.x_size, 3u);
  EXPECT_EQ(m.y_size, 2u);
  EXPECT_EQ(m.x_stride, 7u);
  EXPECT_EQ(m.x_pad_0, 1u);
  EXPECT_EQ(m.y_pad_0, 2u);
  EXPECT_EQ(m.x_pad_1, 3u);
  EXPECT_EQ(m.y_pad_1, 4u);
}

TEST_F(CommandQueueTest, StageRoutingOfInstructions) {
  auto buf = h.alloc(1 << 16);
  h.q().load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kInp);
  h.q().load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kAcc);
  h.q().store_2d(0, MemoryType::kOut, buf, 0, 1, 1, 1);
  const auto& p = h.q().pending();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(isa::module_of(p[0]), isa::Module::kLoad);
  EXPECT_EQ(isa::module_of(p[1]), isa::Module::kCompute);
  EXPECT_EQ(isa::module_of(p[2]), isa::Module::kStore);
}

TEST_F(CommandQueueTest, GemmLoopMapping) {
  // No loop: iter_out = iter_in = 1.
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).push(1, 2, 3).build());
  // One loop: the inner one (iter_out = 1, iter_in = extent), so the core can pair its iterations.
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(5, 4, 3, 2).push(0, 0, 0).loop_end().build());
  // Two loops: outer then inner.
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm, true)
                      .loop_begin(6, 7, 8, 9)
                      .loop_begin(2, 3, 4, 5)
                      .push(0, 0, 0)
                      .push(1, 1, 1)
                      .loop_end()
                      .loop_end()
                      .build());
  std::vector<isa::GemmInsn> gemms;
  for (const auto& i : h.q().pending())
    if (auto* g = std::get_if<isa::GemmInsn>(&i)) gemms.push_back(*g);
  ASSERT_EQ(gemms.size(), 3u);
  EXPECT_EQ(gemms[0].loop.iter_out, 1u);
  EXPECT_EQ(gemms[0].loop.iter_in, 1u);
  EXPECT_EQ(gemms[0].loop.uop_end - gemms[0].loop.uop_bgn, 1u);
  EXPECT_EQ(gemms[1].loop.iter_out, 1u);
  EXPECT_EQ(gemms[1].loop.iter_in, 5u);
  EXPECT_EQ(gemms[1].loop.dst_factor_in, 4u);
  EXPECT_EQ(gemms[1].loop.src_factor_in, 3u);
  EXPECT_EQ(gemms[1].wgt_factor_in, 2u);
  EXPECT_EQ(gemms[1].loop.dst_factor_out, 0u);
  const isa::GemmInsn& g = gemms[2];
  EXPECT_TRUE(g.loop.reset);
  EXPECT_EQ(g.loop.iter_out, 6u);
  EXPECT_EQ(g.loop.iter_in, 2u);
  EXPECT_EQ(g.loop.dst_factor_out, 7u);
  EXPECT_EQ(g.loop.src_factor_out, 8u);
  EXPECT_EQ(g.wgt_factor_out, 9u);
  EXPECT_EQ(g.loop.dst_factor_in, 3u);
  EXPECT_EQ(g.loop.src_factor_in, 4u);
  EXPECT_EQ(g.wgt_factor_in, 5u);
  EXPECT_EQ(g.loop.uop_end - g.loop.uop_bgn, 2u);
  // Distinct kernels occupy distinct micro-op ranges.
  EXPECT_GE(gemms[1].loop.uop_bgn, gemms[0].loop.uop_end);
  EXPECT_GE(gemms[2].loop.uop_bgn, gemms[1].loop.uop_end);
}

TEST_F(CommandQueueTest, AluInstructionFields) {
  h.q().push_alu(UopKernelBuilder(KernelMode::kAlu)
                     .alu(isa::AluOpcode::kShr, true, -4)
                     .loop_begin(3, 2, 1, 0)
                     .push(0, 10)
                     .loop_end()
                     .build());
  const auto& p = h.q().pending();
  ASSERT_EQ(p.size(), 2u);  // LOAD UOP + ALU
  const auto& a = std::get<isa::AluInsn>(p[1]);
  EXPECT_EQ(a.alu_opcode, isa::AluOpcode::kShr);
  EXPECT_TRUE(a.use_imm);
  EXPECT_EQ(a.imm, -4);
  EXPECT_EQ(a.loop.iter_out, 1u);
  EXPECT_EQ(a.loop.iter_in, 3u);
  EXPECT_EQ(a.loop.dst_factor_in, 2u);
  EXPECT_EQ(a.loop.src_factor_in, 1u);
}

// ---------------------------------------------------------------------------------------------------
// Dependency tokens
// ---------------------------------------------------------------------------------------------------

TEST_F(CommandQueueTest, PushMarksLastInstructionOfStageAndPopMarksNext) {
  auto buf = h.alloc(1 << 16);
  h.q().load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kInp);  // 0: load
  h.q().dep_push(Stage::kLoad, Stage::kCompute);
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().push_gemm(small_gemm());  // 1: LOAD UOP (carries the pop), 2: GEMM
  h.q().dep_push(Stage::kCompute, Stage::kStore);
  h.q().dep_push(Stage::kCompute, Stage::kLoad);
  h.q().dep_pop(Stage::kCompute, Stage::kStore);
  h.q().store_2d(0, MemoryType::kOut, buf, 0, 1, 1, 1);  // 3: store
  h.q().dep_push(Stage::kStore, Stage::kCompute);
  const auto& p = h.q().pending();
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(isa::dep_flags(p[0]), (isa::DepFlags{false, false, false, true}));
  EXPECT_EQ(isa::dep_flags(p[1]), (isa::DepFlags{true, false, false, false}));
  EXPECT_EQ(isa::dep_flags(p[2]), (isa::DepFlags{false, false, true, true}));
  EXPECT_EQ(isa::dep_flags(p[3]), (isa::DepFlags{true, false, true, false}));
}

TEST_F(CommandQueueTest, PushWithoutInstructionInsertsTokenOnlyNoop) {
  h.q().dep_push(Stage::kStore, Stage::kCompute);  // store has issued nothing
  auto buf = h.alloc(1 << 16);
  h.q().load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kInp);
  h.q().dep_push(Stage::kLoad, Stage::kCompute);
  h.q().dep_push(Stage::kLoad, Stage::kCompute);  // same flag already set: a second token needs a no-op
  const auto& p = h.q().pending();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(mem(p[0]).opcode, isa::Opcode::kStore);
  EXPECT_EQ(mem(p[0]).x_size, 0u);
  EXPECT_TRUE(isa::dep_flags(p[0]).push_prev);
  EXPECT_EQ(isa::module_of(p[2]), isa::Module::kLoad);
  EXPECT_EQ(mem(p[2]).x_size, 0u);
  EXPECT_TRUE(isa::dep_flags(p[1]).push_next);
  EXPECT_TRUE(isa::dep_flags(p[2]).push_next);
}

TEST_F(CommandQueueTest, PendingPopIsCommittedBeforeAPushOfTheSameStage) {
  h.q().push_gemm(small_gemm());  // 0: LOAD UOP, 1: GEMM
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().dep_push(Stage::kCompute, Stage::kLoad);  // must happen after the pop, not on the GEMM
  const auto& p = h.q().pending();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(isa::dep_flags(p[1]), isa::DepFlags{});
  EXPECT_EQ(isa::module_of(p[2]), isa::Module::kCompute);
  EXPECT_EQ(mem(p[2]).x_size, 0u);
  EXPECT_EQ(isa::dep_flags(p[2]), (isa::DepFlags{true, false, true, false}));
}

TEST_F(CommandQueueTest, DoublePopSplitsOntoSeparateInstructions) {
  h.q().dep_pop(Stage::kCompute, Stage::kLoad);
  h.q().dep_pop(Stage::kCompute, Stage::kLoad);
  auto buf = h.alloc(1 << 16);
  h.q().load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt);
  const auto& p = h.q().pending();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(isa::dep_flags(p[0]).pop_next);
  EXPECT_EQ(mem(p[0]).x_size, 0u);
  EXPECT_TRUE(isa::dep_flags(p[1]).pop_next);
  EXPECT_EQ(mem(p[1]).x_size, 1u);
}

TEST_F(CommandQueueTest, OnlyAdjacentStagesMayExchangeTokens) {
  EXPECT_THROW(h.q().dep_push(Stage::kLoad, Stage::kStore), vta::Error);
  EXPECT_THROW(h.q().dep_push(Stage::kStore, Stage::kLoad), vta::Error);
  EXPECT_THROW(h.q().dep_pop(Stage::kLoad, Stage::kStore), vta::Error);
  EXPECT_THROW(h.q().dep_pop(Stage::kCompute, Stage::kCompute), vta::Error);
  EXPECT_THROW(h.q().dep_push(static_cast<Stage>(7), Stage::kCompute), vta::Error);
  EXPECT_TRUE(h.q().pending().empty());
}

TEST_F(CommandQueueTest, PopWithoutPushIsReportedAsDeadlock) {
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().push_gemm(small_gemm());
  try {
    h.q().synchronize();
    FAIL() << "expected a deadlock error";
  } catch (const vta::Error& e) {
    EXPECT_TRUE(contains_ci(e.what(), "deadlock")) << e.what();
  }
  // The queue is usable again after a failed run.
  EXPECT_TRUE(h.q().pending().empty());
  h.q().push_gemm(small_gemm());
  EXPECT_NO_THROW(h.q().synchronize());
}

TEST_F(CommandQueueTest, SynchronizeRunsFinishAndReturnsCounters) {
  const isa::ExecutionCounters empty = h.q().synchronize();
  EXPECT_EQ(empty.compute_insn_count, 1u);  // FINISH alone
  auto buf = h.alloc(1 << 16);
  h.q().load_2d(buf, 0, 4, 1, 4, 0, 0, 0, 0, 0, MemoryType::kInp);
  h.q().dep_push(Stage::kLoad, Stage::kCompute);
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().push_gemm(small_gemm());
  const isa::ExecutionCounters c = h.q().synchronize();
  EXPECT_EQ(c.load_insn_count, 1u + 1u);  // the load + the FINISH barrier no-op
  EXPECT_EQ(c.inp_load_nbytes, 4u * h.cfg().inp().element_bytes);
  EXPECT_EQ(c.gemm_counter, 2u);
  EXPECT_EQ(c.uop_load_nbytes, 4u);
}

// ---------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------

TEST_F(CommandQueueTest, RejectsOutOfRangeArguments) {
  const auto& c = h.cfg();
  auto buf = h.alloc(1 << 20);
  auto& q = h.q();
  // Misaligned device address for the element size.
  driver::DeviceBuffer shifted = buf;
  shifted.device_address += 16;
  shifted.host += 16;
  shifted.size -= 16;
  EXPECT_THROW(q.load_2d(shifted, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt), vta::Error);
  EXPECT_NO_THROW(q.load_2d(shifted, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kInp));  // 16-byte inp is aligned
  // Pads, sizes, strides.
  EXPECT_THROW(q.load_2d(buf, 0, 1, 1, 1, 16, 0, 0, 0, 0, MemoryType::kInp), vta::Error);
  EXPECT_THROW(q.load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 16, 0, MemoryType::kInp), vta::Error);
  EXPECT_THROW(q.load_2d(buf, 0, 65536, 1, 65536, 0, 0, 0, 0, 0, MemoryType::kInp), vta::Error);
  EXPECT_THROW(q.load_2d(buf, 0, 0, 1, 1, 0, 0, 0, 0, 0, MemoryType::kInp), vta::Error);
  EXPECT_THROW(q.load_2d(buf, 0, 2, 2, 1, 0, 0, 0, 0, 0, MemoryType::kInp), vta::Error);  // stride < x_size
  // On-chip range.
  EXPECT_THROW(q.load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, c.inp().depth, MemoryType::kInp), vta::Error);
  EXPECT_THROW(q.load_2d(buf, 0, 4, 1, 4, 1, 0, 0, 0, c.inp().depth - 4, MemoryType::kInp), vta::Error);
  EXPECT_THROW(q.store_2d(c.out().depth - 1, MemoryType::kOut, buf, 0, 2, 1, 2), vta::Error);
  // DRAM range past the end of the buffer.
  EXPECT_THROW(q.load_2d(buf, (1 << 20) / c.wgt().element_bytes, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt),
               vta::Error);
  // Memory types.
  EXPECT_THROW(q.load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kOut), vta::Error);
  EXPECT_THROW(q.load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, static_cast<MemoryType>(6)), vta::Error);
  EXPECT_THROW(q.store_2d(0, MemoryType::kAcc, buf, 0, 1, 1, 1), vta::Error);
  // Kernels reaching past a buffer, wrong kind.
  EXPECT_THROW(q.push_gemm(UopKernelBuilder(KernelMode::kGemm).push(c.acc().depth, 0, 0).build()), vta::Error);
  EXPECT_THROW(q.push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(3, 0, c.inp().depth / 2, 0).push(0, 1, 0)
                               .loop_end().build()),
               vta::Error);
  EXPECT_THROW(q.push_gemm(UopKernelBuilder(KernelMode::kGemm).push(0, 0, c.wgt().depth).build()), vta::Error);
  EXPECT_THROW(q.push_alu(small_gemm()), vta::Error);
  EXPECT_THROW(q.push_gemm(alu_range(0, 1, 1, isa::AluOpcode::kAdd, false, 0)), vta::Error);
  UopKernelBuilder huge(KernelMode::kGemm);
  for (uint32_t i = 0; i <= c.uop().depth; ++i) huge.push(0, 0, 0);
  EXPECT_THROW(q.push_gemm(huge.build()), vta::Error);
  // Only the one valid inp load was queued.
  EXPECT_EQ(q.pending().size(), 1u);
}

// ---------------------------------------------------------------------------------------------------
// Kernel cache and micro-op residency
// ---------------------------------------------------------------------------------------------------

TEST_F(CommandQueueTest, SameKernelTwiceUploadsOnceAndLoadsOnceWhenResident) {
  EXPECT_EQ(h.q().kernel_cache_misses(), 0u);
  h.q().push_gemm(small_gemm());
  h.q().push_gemm(small_gemm());
  EXPECT_EQ(h.q().kernel_cache_misses(), 1u);
  EXPECT_EQ(h.q().kernel_cache_hits(), 1u);
  EXPECT_EQ(count_load_uop(h.q().pending()), 1u);
  const auto c = h.q().synchronize();
  EXPECT_EQ(c.uop_load_nbytes, 4u);
  EXPECT_EQ(c.gemm_counter, 4u);

  // After synchronize residency is forgotten (one LOAD UOP again) but DRAM still holds the kernel.
  h.q().push_gemm(small_gemm());
  EXPECT_EQ(h.q().kernel_cache_misses(), 1u);
  EXPECT_EQ(h.q().kernel_cache_hits(), 2u);
  EXPECT_EQ(count_load_uop(h.q().pending()), 1u);

  // A different kernel is a miss; kernels with the same micro-ops but other loops share the upload.
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).push(3, 0, 0).build());
  EXPECT_EQ(h.q().kernel_cache_misses(), 2u);
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(3, 1, 0, 0).push(3, 0, 0).loop_end().build());
  EXPECT_EQ(h.q().kernel_cache_misses(), 2u);
  EXPECT_EQ(count_load_uop(h.q().pending()), 2u);
  h.q().synchronize();
}

TEST_F(CommandQueueTest, ManualUopLoadEvictsResidentKernels) {
  h.q().push_gemm(small_gemm());
  auto buf = h.alloc(64);
  h.q().load_2d(buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kUop);
  h.q().push_gemm(small_gemm());
  EXPECT_EQ(count_load_uop(h.q().pending()), 3u);
  h.q().synchronize();
}

// Kernels larger than half the micro-op buffer force the ring allocator to wrap and evict.
TEST(CommandQueueResidency, WrapsAndEvictsWhenTheUopBufferIsFull) {
  Harness h("fsim", load_config("block8"));
  const auto& c = h.cfg();
  const uint32_t depth = c.uop().depth;  // 4096
  const uint32_t n = depth * 3 / 4;
  const uint32_t span = 500;
  auto make = [&](uint32_t base, int32_t imm) {
    UopKernelBuilder b(KernelMode::kAlu);
    b.alu(isa::AluOpcode::kAdd, true, imm);
    for (uint32_t i = 0; i < n; ++i) b.push(base + i % span, base + i % span);
    return b.build();
  };
  const UopKernel a = make(0, 1), b = make(span, 5);
  const uint32_t count = 2 * span;
  const auto init = random_i32(size_t{count} * h.geo().acc_lanes, 7, -100000, 100000);
  auto src = h.alloc_with(init);
  h.q().load_2d(src, 0, count, 1, count, 0, 0, 0, 0, 0, MemoryType::kAcc);
  h.q().push_alu(a);
  h.q().push_alu(b);
  h.q().push_alu(a);
  h.q().push_alu(a);  // resident again
  EXPECT_EQ(count_load_uop(h.q().pending()), 3u);
  EXPECT_EQ(h.q().kernel_cache_misses(), 2u);
  EXPECT_EQ(h.q().kernel_cache_hits(), 2u);
  auto bufs = emit_read_acc(h, 0, count);
  h.q().synchronize();

  std::vector<int32_t> expect = init;
  for (const UopKernel* k : {&a, &b, &a, &a}) ref_alu(h.geo(), expect, *k);
  EXPECT_EQ(decode_acc_bytes(h, bufs, count), expect);
}

// ---------------------------------------------------------------------------------------------------
// Round trips per memory type
// ---------------------------------------------------------------------------------------------------

TEST_F(CommandQueueTest, AccLoadThenStoreGivesLowBits) {
  const auto& g = h.geo();
  const uint32_t n = 37;
  const auto values = random_i32(size_t{n} * g.acc_lanes, 1);
  auto src = h.alloc_with(values);
  auto dst = h.alloc(size_t{n} * h.cfg().out().element_bytes);
  h.q().load_2d(src, 0, n, 1, n, 0, 0, 0, 0, 100, MemoryType::kAcc);
  h.q().dep_push(Stage::kCompute, Stage::kStore);
  h.q().dep_pop(Stage::kCompute, Stage::kStore);
  h.q().store_2d(100, MemoryType::kOut, dst, 0, n, 1, n);
  h.q().synchronize();
  const auto out = h.read<int8_t>(dst, values.size());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(out[i], static_cast<int8_t>(values[i] & 0xff)) << i;
}

TEST_F(CommandQueueTest, AccLoadFullRoundTripThroughAlu) {
  const uint32_t n = 20;
  const auto values = random_i32(size_t{n} * h.geo().acc_lanes, 2);
  auto src = h.alloc_with(values);
  h.q().load_2d(src, 0, n, 1, n, 0, 0, 0, 0, 8, MemoryType::kAcc);
  auto bufs = emit_read_acc(h, 8, n);
  h.q().synchronize();
  EXPECT_EQ(decode_acc_bytes(h, bufs, n), values);
}

// INP observed through GEMM with identity weights.
TEST_F(CommandQueueTest, InpRoundTripThroughIdentityGemm) {
  const auto& g = h.geo();
  const uint32_t n = 24;
  const auto inp = random_i8(size_t{n} * g.inp_lanes, 3);
  std::vector<int8_t> eye(g.wgt_lanes, 0);
  for (uint32_t o = 0; o < std::min(g.bout, g.bin); ++o) eye[o * g.bin + o] = 1;
  auto inp_buf = h.alloc_with(inp);
  auto wgt_buf = h.alloc_with(eye);
  auto out_buf = h.alloc(size_t{n} * h.cfg().out().element_bytes);
  h.q().load_2d(inp_buf, 0, n, 1, n, 0, 0, 0, 0, 16, MemoryType::kInp);
  h.q().load_2d(wgt_buf, 0, 1, 1, 1, 0, 0, 0, 0, 3, MemoryType::kWgt);
  h.q().dep_push(Stage::kLoad, Stage::kCompute);
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm, true).loop_begin(n, 1, 0, 0).push(0, 0, 0).loop_end().build());
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(n, 1, 1, 0).push(0, 16, 3).loop_end().build());
  h.q().dep_push(Stage::kCompute, Stage::kStore);
  h.q().dep_pop(Stage::kCompute, Stage::kStore);
  h.q().store_2d(0, MemoryType::kOut, out_buf, 0, n, 1, n);
  h.q().synchronize();
  EXPECT_EQ(h.read<int8_t>(out_buf, inp.size()), inp);
}

// WGT observed through GEMM with one-hot inputs: input k selects column k of the weight tile.
TEST_F(CommandQueueTest, WgtRoundTripThroughOneHotGemm) {
  const auto& g = h.geo();
  const auto wgt = random_i8(g.wgt_lanes, 4);
  std::vector<int8_t> onehot(size_t{g.bin} * g.inp_lanes, 0);
  for (uint32_t k = 0; k < g.bin; ++k)
    for (uint32_t b = 0; b < g.batch; ++b) onehot[k * g.inp_lanes + b * g.bin + k] = 1;
  auto wgt_buf = h.alloc_with(wgt);
  auto inp_buf = h.alloc_with(onehot);
  auto out_buf = h.alloc(size_t{g.bin} * h.cfg().out().element_bytes);
  h.q().load_2d(wgt_buf, 0, 1, 1, 1, 0, 0, 0, 0, 7, MemoryType::kWgt);
  h.q().load_2d(inp_buf, 0, g.bin, 1, g.bin, 0, 0, 0, 0, 0, MemoryType::kInp);
  h.q().dep_push(Stage::kLoad, Stage::kCompute);
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().push_gemm(
      UopKernelBuilder(KernelMode::kGemm, true).loop_begin(g.bin, 1, 0, 0).push(0, 0, 0).loop_end().build());
  h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(g.bin, 1, 1, 0).push(0, 0, 7).loop_end().build());
  h.q().dep_push(Stage::kCompute, Stage::kStore);
  h.q().dep_pop(Stage::kCompute, Stage::kStore);
  h.q().store_2d(0, MemoryType::kOut, out_buf, 0, g.bin, 1, g.bin);
  h.q().synchronize();
  const auto out = h.read<int8_t>(out_buf, size_t{g.bin} * g.acc_lanes);
  for (uint32_t k = 0; k < g.bin; ++k)
    for (uint32_t o = 0; o < g.bout; ++o) ASSERT_EQ(out[k * g.acc_lanes + o], wgt[o * g.bin + k]) << k << "," << o;
}

// ---------------------------------------------------------------------------------------------------
// Padded loads
// ---------------------------------------------------------------------------------------------------

struct PadCase {
  uint32_t x_size, y_size, x_stride, x_pad0, y_pad0, x_pad1, y_pad1;
  uint64_t offset;
};

std::vector<PadCase> pad_cases() {
  std::vector<PadCase> cases;
  const uint32_t strides[] = {5, 8, 13};
  for (uint32_t stride : strides) {
    cases.push_back({5, 3, stride, 0, 0, 0, 0, 2});
    cases.push_back({5, 3, stride, 2, 0, 0, 0, 1});  // x before
    cases.push_back({5, 3, stride, 0, 3, 0, 0, 0});  // y before
    cases.push_back({5, 3, stride, 0, 0, 1, 0, 3});  // x after
    cases.push_back({5, 3, stride, 0, 0, 0, 2, 0});  // y after
    cases.push_back({5, 3, stride, 1, 2, 3, 1, 4});  // all
  }
  cases.push_back({1, 1, 1, 15, 15, 15, 15, 0});     // maximal pads
  cases.push_back({4, 6, 4, 1, 1, 1, 1, 7});        // dense rows
  return cases;
}

TEST_F(CommandQueueTest, PaddedAccLoadsMatchReference) {
  const auto& g = h.geo();
  const auto dram = random_i32(size_t{256} * g.acc_lanes, 5);
  auto src = h.alloc_with(dram);
  for (const PadCase& pc : pad_cases()) {
    SCOPED_TRACE(testing::Message() << "x " << pc.x_size << " y " << pc.y_size << " stride " << pc.x_stride << " pads "
                                    << pc.x_pad0 << "," << pc.y_pad0 << "," << pc.x_pad1 << "," << pc.y_pad1);
    const uint32_t tile = (pc.y_pad0 + pc.y_size + pc.y_pad1) * (pc.x_pad0 + pc.x_size + pc.x_pad1);
    // Pre-fill the on-chip range with non-zero values so that zero padding is observable.
    auto fill = h.alloc_with(random_i32(size_t{tile} * g.acc_lanes, 99));
    h.q().load_2d(fill, 0, tile, 1, tile, 0, 0, 0, 0, 32, MemoryType::kAcc);
    h.q().load_2d(src, pc.offset, pc.x_size, pc.y_size, pc.x_stride, pc.x_pad0, pc.y_pad0, pc.x_pad1, pc.y_pad1, 32,
                  MemoryType::kAcc);
    auto bufs = emit_read_acc(h, 32, tile);
    h.q().synchronize();
    const auto expect = ref_load(dram, g.acc_lanes, pc.offset, pc.x_size, pc.y_size, pc.x_stride, pc.x_pad0,
                                 pc.y_pad0, pc.x_pad1, pc.y_pad1);
    EXPECT_EQ(decode_acc_bytes(h, bufs, tile), expect);
  }
}

TEST_F(CommandQueueTest, PaddedInpLoadsMatchReference) {
  const auto& g = h.geo();
  const auto dram = random_i8(size_t{256} * g.inp_lanes, 6);
  std::vector<int8_t> eye(g.wgt_lanes, 0);
  for (uint32_t o = 0; o < std::min(g.bout, g.bin); ++o) eye[o * g.bin + o] = 1;
  auto src = h.alloc_with(dram);
  auto wgt_buf = h.alloc_with(eye);
  for (const PadCase& pc : pad_cases()) {
    SCOPED_TRACE(testing::Message() << "x " << pc.x_size << " y " << pc.y_size << " stride " << pc.x_stride << " pads "
                                    << pc.x_pad0 << "," << pc.y_pad0 << "," << pc.x_pad1 << "," << pc.y_pad1);
    const uint32_t tile = (pc.y_pad0 + pc.y_size + pc.y_pad1) * (pc.x_pad0 + pc.x_size + pc.x_pad1);
    auto fill = h.alloc_with(std::vector<int8_t>(size_t{tile} * g.inp_lanes, 77));
    auto out_buf = h.alloc(size_t{tile} * h.cfg().out().element_bytes);
    h.q().load_2d(fill, 0, tile, 1, tile, 0, 0, 0, 0, 40, MemoryType::kInp);
    h.q().load_2d(src, pc.offset, pc.x_size, pc.y_size, pc.x_stride, pc.x_pad0, pc.y_pad0, pc.x_pad1, pc.y_pad1, 40,
                  MemoryType::kInp);
    h.q().load_2d(wgt_buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt);
    h.q().dep_push(Stage::kLoad, Stage::kCompute);
    h.q().dep_pop(Stage::kLoad, Stage::kCompute);
    h.q().push_gemm(
        UopKernelBuilder(KernelMode::kGemm, true).loop_begin(tile, 1, 0, 0).push(0, 0, 0).loop_end().build());
    h.q().push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(tile, 1, 1, 0).push(0, 40, 0).loop_end().build());
    h.q().dep_push(Stage::kCompute, Stage::kStore);
    h.q().dep_pop(Stage::kCompute, Stage::kStore);
    h.q().store_2d(0, MemoryType::kOut, out_buf, 0, tile, 1, tile);
    h.q().synchronize();

    const auto tile_ref = ref_load(dram, g.inp_lanes, pc.offset, pc.x_size, pc.y_size, pc.x_stride, pc.x_pad0,
                                   pc.y_pad0, pc.x_pad1, pc.y_pad1);
    std::vector<int32_t> acc(size_t{tile} * g.acc_lanes, 0);
    ref_gemm(g, acc, tile_ref, eye,
             UopKernelBuilder(KernelMode::kGemm).loop_begin(tile, 1, 1, 0).push(0, 0, 0).loop_end().build());
    std::vector<int8_t> expect(acc.size());
    for (size_t i = 0; i < acc.size(); ++i) expect[i] = static_cast<int8_t>(acc[i]);
    EXPECT_EQ(h.read<int8_t>(out_buf, expect.size()), expect);
  }
}

// ---------------------------------------------------------------------------------------------------
// ALU
// ---------------------------------------------------------------------------------------------------

struct AluCase {
  isa::AluOpcode op;
  bool use_imm;
  int32_t imm;
};

class AluTest : public ::testing::TestWithParam<AluCase> {};

TEST_P(AluTest, MatchesReference) {
  const AluCase ac = GetParam();
  Harness h("fsim", isa::HwConfig::default_config());
  const auto& g = h.geo();
  const uint32_t n = 48;
  auto a = random_i32(size_t{n} * g.acc_lanes, 11);
  auto b = ac.op == isa::AluOpcode::kShr ? random_i32(size_t{n} * g.acc_lanes, 12, -31, 31)
                                         : random_i32(size_t{n} * g.acc_lanes, 12);
  std::vector<int32_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  auto src = h.alloc_with(both);
  h.q().load_2d(src, 0, 2 * n, 1, 2 * n, 0, 0, 0, 0, 0, MemoryType::kAcc);
  const UopKernel k = alu_range(0, n, n, ac.op, ac.use_imm, ac.imm);
  h.q().push_alu(k);
  auto bufs = emit_read_acc(h, 0, n);
  const auto counters = h.q().synchronize();
  EXPECT_EQ(counters.alu_counter, n + 3u * n);

  std::vector<int32_t> expect = both;
  ref_alu(g, expect, k);
  expect.resize(a.size());
  EXPECT_EQ(decode_acc_bytes(h, bufs, n), expect);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, AluTest,
    ::testing::Values(AluCase{isa::AluOpcode::kMin, false, 0}, AluCase{isa::AluOpcode::kMin, true, -1000},
                      AluCase{isa::AluOpcode::kMax, false, 0}, AluCase{isa::AluOpcode::kMax, true, 12345},
                      AluCase{isa::AluOpcode::kAdd, false, 0}, AluCase{isa::AluOpcode::kAdd, true, -32768},
                      AluCase{isa::AluOpcode::kAdd, true, 32767}, AluCase{isa::AluOpcode::kShr, false, 0},
                      AluCase{isa::AluOpcode::kShr, true, 0}, AluCase{isa::AluOpcode::kShr, true, 7},
                      AluCase{isa::AluOpcode::kShr, true, 31}, AluCase{isa::AluOpcode::kShr, true, -5},
                      AluCase{isa::AluOpcode::kMul, false, 0}, AluCase{isa::AluOpcode::kMul, true, -3},
                      AluCase{isa::AluOpcode::kMul, true, 1021}),
    [](const ::testing::TestParamInfo<AluCase>& param_info) {
      const AluCase& c = param_info.param;
      std::string name(isa::to_string(c.op));
      if (!c.use_imm) return name + "_operand";
      return name + "_imm" + (c.imm < 0 ? "m" + std::to_string(-c.imm) : std::to_string(c.imm));
    });

// The reset bit is shared by GEMM and ALU: an ALU kernel with reset zeroes its destinations.
TEST_F(CommandQueueTest, AluResetZeroesDestinations) {
  const auto& g = h.geo();
  const uint32_t n = 16;
  const auto values = random_i32(size_t{2} * n * g.acc_lanes, 14);
  auto src = h.alloc_with(values);
  h.q().load_2d(src, 0, 2 * n, 1, 2 * n, 0, 0, 0, 0, 0, MemoryType::kAcc);
  const UopKernel k = UopKernelBuilder(KernelMode::kAlu, true)
                          .alu(isa::AluOpcode::kAdd)
                          .loop_begin(n / 2, 2, 0, 0)
                          .push(0, 0)
                          .loop_end()
                          .build();
  h.q().push_alu(k);
  EXPECT_TRUE(std::get<isa::AluInsn>(h.q().pending().back()).loop.reset);
  auto bufs = emit_read_acc(h, 0, 2 * n);
  h.q().synchronize();
  std::vector<int32_t> expect = values;
  for (uint32_t e = 0; e < n; e += 2)
    std::fill_n(expect.begin() + e * g.acc_lanes, g.acc_lanes, 0);
  EXPECT_EQ(decode_acc_bytes(h, bufs, 2 * n), expect);
}

// Relu (MAX 0) and requantization (SHR, then MIN 127, MAX -128) stored as int8.
TEST_F(CommandQueueTest, ReluAndRequantizeToInt8) {
  const auto& g = h.geo();
  const uint32_t n = 32;
  const auto values = random_i32(size_t{n} * g.acc_lanes, 13, -200000, 200000);
  auto src = h.alloc_with(values);
  auto relu_out = h.alloc(size_t{n} * h.cfg().out().element_bytes);
  auto quant_out = h.alloc(size_t{n} * h.cfg().out().element_bytes);
  h.q().load_2d(src, 0, n, 1, n, 0, 0, 0, 0, 0, MemoryType::kAcc);
  h.q().load_2d(src, 0, n, 1, n, 0, 0, 0, 0, n, MemoryType::kAcc);
  // relu then >> 10 then clip to [0, 127] on [0, n)
  h.q().push_alu(alu_range(0, 0, n, isa::AluOpcode::kMax, true, 0));
  h.q().push_alu(alu_range(0, 0, n, isa::AluOpcode::kShr, true, 10));
  h.q().push_alu(alu_range(0, 0, n, isa::AluOpcode::kMin, true, 127));
  // signed requantization >> 9, clip [-128, 127] on [n, 2n)
  h.q().push_alu(alu_range(n, n, n, isa::AluOpcode::kShr, true, 9));
  h.q().push_alu(alu_range(n, n, n, isa::AluOpcode::kMin, true, 127));
  h.q().push_alu(alu_range(n, n, n, isa::AluOpcode::kMax, true, -128));
  h.q().dep_push(Stage::kCompute, Stage::kStore);
  h.q().dep_pop(Stage::kCompute, Stage::kStore);
  h.q().store_2d(0, MemoryType::kOut, relu_out, 0, n, 1, n);
  h.q().store_2d(n, MemoryType::kOut, quant_out, 0, n, 1, n);
  h.q().synchronize();
  const auto r = h.read<int8_t>(relu_out, values.size());
  const auto s = h.read<int8_t>(quant_out, values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const int32_t v = values[i];
    ASSERT_EQ(r[i], std::min(std::max(v, 0) >> 10, 127)) << i;
    ASSERT_EQ(s[i], std::max(std::min(v >> 9, 127), -128)) << i;
  }
}

// ---------------------------------------------------------------------------------------------------
// Two-level loops with non-trivial factors in both loops
// ---------------------------------------------------------------------------------------------------

TEST_F(CommandQueueTest, TwoLevelLoopFactorsGemm) {
  const auto& g = h.geo();
  const uint32_t n_inp = 64, n_wgt = 32, n_acc = 96;
  const auto inp = random_i8(size_t{n_inp} * g.inp_lanes, 21);
  const auto wgt = random_i8(size_t{n_wgt} * g.wgt_lanes, 22);
  const auto acc0 = random_i32(size_t{n_acc} * g.acc_lanes, 23, -1000000, 1000000);
  auto inp_buf = h.alloc_with(inp), wgt_buf = h.alloc_with(wgt), acc_buf = h.alloc_with(acc0);
  const UopKernel k = UopKernelBuilder(KernelMode::kGemm)
                          .loop_begin(3, 24, 11, 5)  // outer: dst, src, wgt factors
                          .loop_begin(4, 3, 2, 1)    // inner
                          .push(0, 0, 0)
                          .push(1, 5, 3)
                          .push(2, 9, 17)
                          .loop_end()
                          .loop_end()
                          .build();
  h.q().load_2d(inp_buf, 0, n_inp, 1, n_inp, 0, 0, 0, 0, 0, MemoryType::kInp);
  h.q().load_2d(wgt_buf, 0, n_wgt, 1, n_wgt, 0, 0, 0, 0, 0, MemoryType::kWgt);
  h.q().load_2d(acc_buf, 0, n_acc, 1, n_acc, 0, 0, 0, 0, 0, MemoryType::kAcc);
  h.q().dep_push(Stage::kLoad, Stage::kCompute);
  h.q().dep_pop(Stage::kLoad, Stage::kCompute);
  h.q().push_gemm(k);
  auto bufs = emit_read_acc(h, 0, n_acc);
  const auto counters = h.q().synchronize();
  EXPECT_EQ(counters.gemm_counter, 3u * 4u * 3u);

  std::vector<int32_t> expect = acc0;
  ref_gemm(g, expect, inp, wgt, k);
  EXPECT_EQ(decode_acc_bytes(h, bufs, n_acc), expect);
}

TEST_F(CommandQueueTest, TwoLevelLoopFactorsAlu) {
  const auto& g = h.geo();
  const uint32_t n_acc = 200;
  const auto acc0 = random_i32(size_t{n_acc} * g.acc_lanes, 31, -1000000, 1000000);
  auto acc_buf = h.alloc_with(acc0);
  // dst in [0, 64), src in [100, 200): disjoint, so the order of updates does not matter.
  const UopKernel k = UopKernelBuilder(KernelMode::kAlu)
                          .alu(isa::AluOpcode::kAdd)
                          .loop_begin(4, 16, 20, 0)
                          .loop_begin(5, 3, 4, 0)
                          .push(0, 100)
                          .push(1, 101)
                          .loop_end()
                          .loop_end()
                          .build();
  h.q().load_2d(acc_buf, 0, n_acc, 1, n_acc, 0, 0, 0, 0, 0, MemoryType::kAcc);
  h.q().push_alu(k);
  auto bufs = emit_read_acc(h, 0, 64);
  h.q().synchronize();
  std::vector<int32_t> expect = acc0;
  ref_alu(g, expect, k);
  expect.resize(size_t{64} * g.acc_lanes);
  EXPECT_EQ(decode_acc_bytes(h, bufs, 64), expect);
}

}  // namespace
}  // namespace vta::rtest
