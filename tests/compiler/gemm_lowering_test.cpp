// compiler::gemm (lowered as its 1x1 conv2d) on fsim-strict against the CPU matmul: random shapes that give
// one or many tiles in every dimension, with and without requantization, at every shipped config; and
// its tiling (conv2d's: fits the buffers, within the traffic budget).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "vta/compiler/gemm.h"
#include "vta/compiler/tiling.h"
#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"

namespace vta::compiler {
namespace {

std::vector<int8_t> random_int8(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

class GemmLowering : public ::testing::TestWithParam<std::string> {};

TEST_P(GemmLowering, RandomShapesMatchTheCpuMatmul) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/" + GetParam() + ".json");
  const uint32_t bm = config.batch(), bi = config.block_in(), bo = config.block_out();
  runtime::Session session("fsim-strict", config);  // tokens balanced, the core's queue depths
  std::mt19937 rng(0x6e33u);
  for (int trial = 0; trial < 8; ++trial) {
    // Block counts from 1 to 40 (primes among them, so tiles of every divisor shape), then shapes larger
    // than the buffers' slots: many output tiles and reduction steps, both slots of every buffer in use.
    std::uniform_int_distribution<uint32_t> blocks(1, trial < 3 ? 7 : 40);
    const GemmShape shape = trial < 6 ? GemmShape{blocks(rng) * bm, blocks(rng) * bo, blocks(rng) * bi}
                                      : GemmShape{(trial == 6 ? 200 : 96) * bm, (trial == 6 ? 24 : 40) * bo,
                                                  (trial == 6 ? 64 : 160) * bi};
    if (trial >= 6) {
      const GemmTiling t = choose_gemm_tiling(config, shape);
      EXPECT_GT(shape.k / bi / t.tk, 1u) << "the reduction is one step: the load slots are not exercised";
      EXPECT_GT(uint64_t{shape.m / bm / t.tm} * (shape.n / bo / t.tn), 2u) << "fewer than three output tiles";
    }
    SCOPED_TRACE(std::to_string(shape.m) + "x" + std::to_string(shape.n) + "x" + std::to_string(shape.k));
    const auto a = random_int8(uint64_t{shape.m} * shape.k, 11 + trial);
    const auto b = random_int8(uint64_t{shape.k} * shape.n, 29 + trial);
    const bool requantize = trial % 2 == 1;
    Requantize rq;
    rq.shift = 7;
    rq.clip_hi = 127;
    rq.relu = trial % 4 == 1;
    const reference::RequantParams ref{rq.shift, rq.relu, rq.clip_lo, rq.clip_hi};
    const GemmRun run = gemm(session, shape, a, b, requantize ? std::optional<Requantize>(rq) : std::nullopt);
    EXPECT_EQ(run.c, reference::matmul(a, b, int(shape.m), int(shape.k), int(shape.n), requantize ? &ref : nullptr));
    // Every counted micro-op is one BATCH x BLOCK_IN x BLOCK_OUT step of the product (resets are not
    // counted): nothing is computed twice.
    EXPECT_EQ(run.stats.counters.gemm_counter, uint64_t{shape.m / bm} * (shape.n / bo) * (shape.k / bi));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, GemmLowering, ::testing::Values("default", "block8", "block32", "batch2", "in16_out32"));

// The GEMM is lowered as its 1x1 conv2d (BATCH images of M / BATCH x 1 pixels, K -> N channels), so its
// tiles are conv2d's: they fit the buffers (check_tiling's rules), move at most the layer budget over the
// lower bound (A, B and C once each) and are predicted no faster than the roofline.
TEST(GemmTiling, IsTheConv2dTilingOfItsOneByOneConv) {
  const isa::HwConfig config = isa::HwConfig::default_config();
  for (const GemmShape shape : {GemmShape{512, 512, 512}, GemmShape{128, 128, 128}, GemmShape{1024, 64, 256}}) {
    SCOPED_TRACE(std::to_string(shape.m) + "x" + std::to_string(shape.n) + "x" + std::to_string(shape.k));
    const auto b = random_int8(uint64_t{shape.k} * shape.n, 3);
    const CompiledGemm g = compile_gemm(config, shape, b, std::nullopt);
    const Conv2dTiling& t = g.conv_tiling;
    EXPECT_EQ(g.tiling.tm, t.out_rows);
    EXPECT_EQ(g.tiling.tn, t.oc_blocks);
    EXPECT_EQ(g.tiling.tk, t.ic_blocks);
    const GemmTiling chosen = choose_gemm_tiling(config, shape);
    EXPECT_EQ(chosen.tm, g.tiling.tm);
    EXPECT_EQ(chosen.tn, g.tiling.tn);
    EXPECT_EQ(chosen.tk, g.tiling.tk);
    const uint64_t lower = uint64_t{shape.m} * shape.k + uint64_t{shape.k} * shape.n + uint64_t{shape.m} * shape.n;
    EXPECT_EQ(t.cost.lower_bound_bytes, lower);
    EXPECT_LE(double(t.cost.total_bytes()), 1.3 * double(lower));
    EXPECT_GE(t.cost.estimated_cycles, double(shape.macs()) / (config.block_in() * config.block_out()));
    EXPECT_LE(uint64_t{t.out_rows} * t.oc_blocks, config.acc().depth / 2);
    EXPECT_LE(uint64_t{t.out_rows} * t.ic_blocks, config.inp().depth / 2);
  }
}

}  // namespace
}  // namespace vta::compiler
