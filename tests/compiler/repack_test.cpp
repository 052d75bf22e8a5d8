// Host repacks for few input channels (space-to-depth, folding kx/ky into the reduction): bit-exact
// against the CPU reference for every repack on odd shapes and several configs, the automatic choice,
// and the MAC-lane utilization it reaches on ResNet-18's C1.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compiler_test_util.h"

namespace vta::ctest {
namespace {

using compiler::InputRepack;

std::vector<InputRepack> all_repacks(uint32_t stride) {
  std::vector<InputRepack> out;
  std::vector<uint32_t> fs = {1};
  if (stride > 1) fs.push_back(stride);
  for (uint32_t f : fs)
    for (bool fy : {false, true})
      for (bool fx : {false, true}) {
        InputRepack r;
        r.space_to_depth = f;
        r.fold_ky = fy;
        r.fold_kx = fx;
        out.push_back(r);
      }
  return out;
}

ConvCase small_case(const char* name, int c, int h, int w, int o, int kh, int kw, int s, int pt, int pl, int pb,
                    int pr, int n = 1) {
  ConvCase k;
  k.name = name;
  k.n = n, k.c = c, k.h = h, k.w = w, k.o = o, k.kh = kh, k.kw = kw, k.sh = k.sw = s;
  k.pt = pt, k.pl = pl, k.pb = pb, k.pr = pr;
  k.relu = true;
  return k;
}

const ConvCase kCases[] = {
    small_case("c1_like", 3, 30, 27, 20, 7, 7, 2, 3, 3, 3, 3),
    small_case("asym_5x5", 2, 13, 11, 16, 5, 5, 1, 2, 1, 0, 3),
    small_case("s3_odd", 5, 17, 19, 33, 5, 3, 3, 1, 2, 2, 0),
    small_case("one_ch_3x3", 1, 9, 10, 7, 3, 3, 1, 1, 1, 1, 1),
    small_case("batch3", 3, 12, 12, 18, 4, 4, 2, 1, 2, 2, 1, 3),
};

class Repack : public ::testing::TestWithParam<std::tuple<int, std::string>> {};

TEST_P(Repack, EveryRepackIsBitExact) {
  const auto& [index, config] = GetParam();
  const ConvCase& k = kCases[index];
  for (const InputRepack& r : all_repacks(static_cast<uint32_t>(k.sh))) {
    SCOPED_TRACE(r.to_string());
    compiler::LoweringOptions opt;
    opt.repack = r;
    for (const char* target : {"fsim-strict", "fsim-serial"}) {
      expect_conv_matches(k, target, config, 3, opt);
      if (HasFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Repack,
                         ::testing::Combine(::testing::Range(0, 5),
                                            ::testing::Values("default", "block8", "block32", "batch2")),
                         [](const auto& param_info) {
                           return kCases[std::get<0>(param_info.param)].name + "_" + std::get<1>(param_info.param);
                         });

TEST(RepackChoice, C1FoldsItsWholeWindowAndReportsIt) {
  ConvCase k = small_case("C1", 3, 224, 224, 64, 7, 7, 2, 3, 3, 3, 3);
  const ConvOutcome o = run_conv_case(k, "fsim-strict", load_config("default"), 11);
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
  EXPECT_FALSE(o.run.tiling.repack.direct());
  EXPECT_NE(o.run.tiling.to_string().find("input repack"), std::string::npos);
  // Useful MACs over GEMM micro-ops x 256 lanes: well above direct's 3/16.
  const double macs = 112.0 * 112 * 64 * 3 * 49;
  const double util = macs / (static_cast<double>(o.run.counters.gemm_counter) * 256.0);
  EXPECT_GT(util, 0.5) << o.run.tiling.to_string();
  // The full window folded: 147 products per output in 10 blocks of 16 lanes.
  EXPECT_GT(util, 0.9) << o.run.tiling.to_string();
  // Its traffic (the im2col input, 13x the raw one) stays under its GEMM time at the config's bandwidth.
  const double bound = 224.0 * 224 * 3 + 64.0 * 3 * 49 + 112.0 * 112 * 64 + 4.0 * 64;
  const double moved = static_cast<double>(o.run.counters.inp_load_nbytes + o.run.counters.wgt_load_nbytes +
                                           o.run.counters.acc_load_nbytes + o.run.counters.out_store_nbytes);
  EXPECT_GT(moved, 2.5 * bound);
  EXPECT_LT(moved / load_config("default").timing().dram_bytes_per_cycle,
            static_cast<double>(o.run.counters.gemm_counter));
  // The model's prediction still matches the counters for the repacked problem.
  EXPECT_EQ(o.run.counters.inp_load_nbytes, o.run.tiling.cost.inp_bytes);
}

// The repack budget trades traffic for MAC lanes: with no cap ResNet-18 C1 folds its whole window
// (2.93x its lower bound, hidden under the GEMMs at 8 B/cycle), at 1.5x it folds kx after space-to-depth
// (1.49x), at the per-layer target space-to-depth alone (1.11x); at 1 B/cycle the bytes decide.
TEST(RepackChoice, TheTrafficBudgetPicksC1sRepack) {
  const auto cfg = load_config("default");
  compiler::Conv2dShape s;
  s.n = 1, s.c = 3, s.h = s.w = 224, s.o = 64, s.kh = s.kw = 7, s.oh = s.ow = 112;
  const Conv2dParams p = Conv2dParams::with(2, 3, 8);
  EXPECT_EQ(compiler::choose_repack(s, p, true, cfg).to_string(), "fold(ic,ky,kx)");
  EXPECT_EQ(compiler::choose_repack(s, p, true, cfg, 1.5).to_string(), "s2d2+fold(ic,kx)");
  EXPECT_EQ(compiler::choose_repack(s, p, true, cfg, compiler::kLayerTrafficBudget).to_string(), "s2d2");
  nlohmann::json slow = cfg.to_json();
  slow["timing"]["dram_bytes_per_cycle"] = 1;
  EXPECT_EQ(compiler::choose_repack(s, p, true, isa::HwConfig::from_json(slow)).to_string(), "s2d2");
}

TEST(RepackChoice, FoldsTheWholeWindowWhenTrafficAllows) {
  // A small input with many output channels: folding (ic,ky,kx) costs little traffic, so the best-utilized
  // repack is within budget and wins.
  const auto cfg = load_config("default");
  compiler::Conv2dShape s;
  s.n = 1, s.c = 3, s.h = s.w = 8, s.o = 256, s.kh = s.kw = 3, s.oh = s.ow = 8;
  const auto cands = compiler::repack_candidates(s, Conv2dParams::with(1, 1, 8), true, cfg);
  const InputRepack chosen = compiler::choose_repack(s, Conv2dParams::with(1, 1, 8), true, cfg);
  EXPECT_FALSE(chosen.direct());
  for (const auto& c : cands)
    if (c.repack.to_string() == chosen.to_string()) {
      for (const auto& other : cands) EXPECT_LE(c.gemm_uops, other.gemm_uops) << other.repack.to_string();
    }
}

TEST(RepackChoice, DirectWhenChannelsFillTheBlock) {
  const auto cfg = load_config("default");
  compiler::Conv2dShape s;
  s.n = 1, s.c = 16, s.h = s.w = 28, s.o = 16, s.kh = s.kw = 3, s.oh = s.ow = 28;
  EXPECT_TRUE(compiler::choose_repack(s, Conv2dParams::with(1, 1, 8), true, cfg).direct());
  s.c = 3, s.kh = s.kw = 1;
  s.oh = s.ow = 28;
  EXPECT_TRUE(compiler::choose_repack(s, Conv2dParams::with(1, 0, 8), true, cfg).direct());
}

TEST(RepackChoice, NamesAndRejectsBadFactor) {
  InputRepack r;
  EXPECT_EQ(r.to_string(), "direct");
  r.fold_kx = r.fold_ky = true;
  EXPECT_EQ(r.to_string(), "fold(ic,ky,kx)");
  r.space_to_depth = 2;
  r.fold_ky = false;
  EXPECT_EQ(r.to_string(), "s2d2+fold(ic,kx)");
  ConvCase k = small_case("bad", 3, 9, 9, 8, 3, 3, 1, 1, 1, 1, 1);
  compiler::LoweringOptions opt;
  opt.repack = r;  // space-to-depth by 2 with stride 1
  EXPECT_THROW(run_conv_case(k, "fsim", load_config("default"), 1, opt), Error);
}

}  // namespace
}  // namespace vta::ctest
