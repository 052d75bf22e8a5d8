// A double-buffered GEMM + requantize pipeline using all four token queues (load->compute,
// compute->load, compute->store, store->compute), run on the concurrent fsim targets (fsim-strict: no
// leftover tokens, the core's queue depths) and on fsim-serial; every result must equal the CPU reference.
#include <gtest/gtest.h>

#include "runtime_test_util.h"

namespace vta::rtest {
namespace {

using isa::MemoryType;

struct PipelineResult {
  std::vector<int8_t> out;
  isa::ExecutionCounters counters;
  size_t instructions = 0;
};

constexpr uint32_t kTiles = 7, kMt = 2, kNt = 3, kKt = 3, kShift = 6;

PipelineResult run_pipeline(const std::string& target, const std::string& config, const std::vector<int8_t>& a_packed,
                            const std::vector<int8_t>& b_packed) {
  Harness h(target, load_config(config));
  auto& q = h.q();
  const uint32_t inp_tile = kMt * kKt, wgt_tile = kNt * kKt, acc_tile = kMt * kNt;
  auto a_buf = h.alloc_with(a_packed);  // [tile][kMt][kKt] inp elements
  auto b_buf = h.alloc_with(b_packed);  // [tile][kNt][kKt] wgt elements
  auto out_buf = h.alloc(uint64_t{kTiles} * acc_tile * h.cfg().out().element_bytes);

  uint64_t misses_after_two_tiles = 0;
  for (uint32_t t = 0; t < kTiles; ++t) {
    if (t == 2) misses_after_two_tiles = q.kernel_cache_misses();
    const uint32_t s = t % 2;  // buffer slot (virtual thread)
    const uint32_t inp_base = s * inp_tile, wgt_base = s * wgt_tile, acc_base = s * acc_tile;
    // Load stage: wait until compute released this slot (tile t-2), then load.
    if (t >= 2) q.dep_pop(Stage::kCompute, Stage::kLoad);
    q.load_2d(a_buf, uint64_t{t} * inp_tile, inp_tile, 1, inp_tile, 0, 0, 0, 0, inp_base, MemoryType::kInp);
    q.load_2d(b_buf, uint64_t{t} * wgt_tile, wgt_tile, 1, wgt_tile, 0, 0, 0, 0, wgt_base, MemoryType::kWgt);
    q.dep_push(Stage::kLoad, Stage::kCompute);
    // Compute stage: wait for the data and for the store of tile t-2 to drain the acc slot.
    q.dep_pop(Stage::kLoad, Stage::kCompute);
    if (t >= 2) q.dep_pop(Stage::kStore, Stage::kCompute);
    q.push_gemm(UopKernelBuilder(KernelMode::kGemm, true)
                    .loop_begin(acc_tile, 1, 0, 0)
                    .push(acc_base, 0, 0)
                    .loop_end()
                    .build());
    UopKernelBuilder kb(KernelMode::kGemm);
    kb.loop_begin(kMt, kNt, kKt, 0).loop_begin(kKt, 0, 1, 1);
    for (uint32_t j = 0; j < kNt; ++j) kb.push(acc_base + j, inp_base, wgt_base + j * kKt);
    kb.loop_end().loop_end();
    q.push_gemm(kb.build());
    q.push_alu(alu_range(acc_base, acc_base, acc_tile, isa::AluOpcode::kShr, true, kShift));
    q.push_alu(alu_range(acc_base, acc_base, acc_tile, isa::AluOpcode::kMin, true, 127));
    q.push_alu(alu_range(acc_base, acc_base, acc_tile, isa::AluOpcode::kMax, true, -128));
    if (t + 2 < kTiles) q.dep_push(Stage::kCompute, Stage::kLoad);
    q.dep_push(Stage::kCompute, Stage::kStore);
    // Store stage.
    q.dep_pop(Stage::kCompute, Stage::kStore);
    q.store_2d(acc_base, MemoryType::kOut, out_buf, uint64_t{t} * acc_tile, acc_tile, 1, acc_tile);
    if (t + 2 < kTiles) q.dep_push(Stage::kStore, Stage::kCompute);
  }
  PipelineResult r;
  r.instructions = q.pending().size();
  r.counters = q.synchronize();
  r.out = h.read<int8_t>(out_buf, size_t{kTiles} * acc_tile * h.geo().acc_lanes);
  // The kernels of slots 0 and 1 are reused by every later tile: no uploads after the first two tiles.
  EXPECT_EQ(q.kernel_cache_misses(), misses_after_two_tiles);
  EXPECT_GT(q.kernel_cache_hits(), 0u);
  return r;
}

class PipelineTest : public ::testing::TestWithParam<std::string> {};

TEST_P(PipelineTest, DoubleBufferedMatchesSerialAndReference) {
  const std::string config = GetParam();
  const Geo g(load_config(config));
  const size_t m = size_t{kMt} * g.batch, n = size_t{kNt} * g.bout, k = size_t{kKt} * g.bin;
  std::vector<int8_t> a_packed, b_packed, expect;
  std::vector<std::vector<int8_t>> a_tiles, b_tiles;
  for (uint32_t t = 0; t < kTiles; ++t) {
    const auto a = random_i8(m * k, 100 + t), b = random_i8(n * k, 200 + t);
    const auto pa = pack_tiles(a, m, k, g.batch, g.bin), pb = pack_tiles(b, n, k, g.bout, g.bin);
    a_packed.insert(a_packed.end(), pa.begin(), pa.end());
    b_packed.insert(b_packed.end(), pb.begin(), pb.end());
    const auto c = ref_matmul(a, b, m, n, k);
    std::vector<int8_t> q(c.size());
    for (size_t i = 0; i < c.size(); ++i) q[i] = static_cast<int8_t>(std::clamp(c[i] >> kShift, -128, 127));
    const auto packed = pack_tiles(q, m, n, g.batch, g.bout);
    expect.insert(expect.end(), packed.begin(), packed.end());
  }

  const PipelineResult serial = run_pipeline("fsim-serial", config, a_packed, b_packed);
  EXPECT_EQ(serial.out, expect);
  // fsim-strict: balanced tokens and the core's queue depths (the runtime's pipeline must fit them).
  for (const char* target : {"fsim", "fsim-ref", "fsim-strict"}) {
    SCOPED_TRACE(target);
    const PipelineResult r = run_pipeline(target, config, a_packed, b_packed);
    EXPECT_EQ(r.out, serial.out);
    EXPECT_EQ(r.instructions, serial.instructions);
    EXPECT_EQ(r.counters.gemm_counter, serial.counters.gemm_counter);
    EXPECT_EQ(r.counters.alu_counter, serial.counters.alu_counter);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, PipelineTest, ::testing::Values("default", "batch2", "in16_out32"));

}  // namespace
}  // namespace vta::rtest
