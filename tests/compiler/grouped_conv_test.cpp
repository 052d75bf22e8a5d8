// Grouped and depthwise conv2d on the core (Conv2dParams::groups): super-groups of whole channel blocks
// with block-diagonal weights, run one after the other in one program. Random shapes (stride 1/2, pads,
// 1x1/3x3, 16..64 channels, groups 2/4/C, channel multipliers) on fsim-strict (leftover tokens are
// errors) and fsim-serial at two configs, bit-exact against a plain CPU loop written here; per-channel
// shifts, a fused residual add, forced tilings over several super-groups, the GEMM micro-op count
// (block-diagonal waste), and the shapes that must stay on the CPU.
#include <gtest/gtest.h>

#include <numeric>
#include <optional>

#include <nlohmann/json.hpp>

#include "compiler_test_util.h"
#include "vta/compiler/compiled_op.h"
#include "vta/isa/error.h"

namespace vta::ctest {
namespace {

using compiler::ResidualAdd;

struct GroupedCase {
  ConvCase k;  // k.c input channels, k.o output channels
  int groups = 1;
  std::vector<int32_t> shift;         // per output channel, or empty
  std::optional<ResidualAdd> residual;
};

struct GroupedRun {
  compiler::OpRun run;
  std::vector<int8_t> want;
};

GroupedRun run_grouped(const GroupedCase& gc, const std::string& target, const isa::HwConfig& cfg, uint32_t seed,
                       const compiler::LoweringOptions& options = {}) {
  const ConvCase& k = gc.k;
  std::mt19937 rng(seed);
  const std::vector<int8_t> x = random_i8(static_cast<size_t>(k.n) * k.c * k.h * k.w, rng);
  const std::vector<int8_t> w = random_i8(static_cast<size_t>(k.o) * (k.c / gc.groups) * k.kh * k.kw, rng);
  const std::vector<int32_t> b =
      k.bias ? random_i32(static_cast<size_t>(k.o), rng, -2000, 2000) : std::vector<int32_t>{};
  const int oh = (k.h + k.pt + k.pb - k.kh) / k.sh + 1, ow = (k.w + k.pl + k.pr - k.kw) / k.sw + 1;
  const std::vector<int8_t> res =
      gc.residual ? random_i8(static_cast<size_t>(k.n) * k.o * oh * ow, rng) : std::vector<int8_t>{};
  const Tensor tx = Tensor::from_values<int8_t>({k.n, k.c, k.h, k.w}, x);
  const Tensor tw = Tensor::from_values<int8_t>({k.o, k.c / gc.groups, k.kh, k.kw}, w);
  const Tensor tb = k.bias ? Tensor::from_values<int32_t>({k.o}, b) : Tensor();
  Conv2dParams p = k.params();
  p.groups = static_cast<uint32_t>(gc.groups);
  p.channel_shift = gc.shift;
  p.residual = gc.residual;
  const compiler::CompiledOp op = compiler::compile_conv2d(cfg, tx.shape(), tw, k.bias ? &tb : nullptr, p, options);
  auto device = driver::open_device(target, cfg);
  runtime::Session q(*device);
  GroupedRun out;
  if (gc.residual) {
    const Tensor tr = Tensor::from_values<int8_t>({k.n, k.o, oh, ow}, res);
    const Tensor* inputs[] = {&tx, &tr};
    out.run = compiler::run_compiled(q, op, inputs);
  } else {
    const Tensor* inputs[] = {&tx};
    out.run = compiler::run_compiled(q, op, inputs);
  }
  out.want = cpu_conv_full(k, gc.groups, x, w, b, gc.shift, gc.residual, res);
  return out;
}

std::string describe(const GroupedCase& gc) {
  return fmt::format("{} groups {}{}{}", ctest::describe(gc.k), gc.groups,
                     gc.shift.empty() ? "" : " per-channel shifts", gc.residual ? " + residual" : "");
}

void expect_grouped(const GroupedCase& gc, const std::string& target, const std::string& config, uint32_t seed,
                    const compiler::LoweringOptions& options = {}) {
  SCOPED_TRACE(describe(gc) + " on " + target + " / " + config);
  const GroupedRun r = run_grouped(gc, target, load_config(config), seed, options);
  const std::vector<int8_t> got = r.run.output.to_vector<int8_t>();
  ASSERT_EQ(got.size(), r.want.size());
  const int64_t bad = first_mismatch(got, r.want);
  EXPECT_EQ(bad, -1) << "first mismatch at flat index " << bad << ": got "
                     << (bad >= 0 ? int(got[static_cast<size_t>(bad)]) : 0) << ", want "
                     << (bad >= 0 ? int(r.want[static_cast<size_t>(bad)]) : 0) << "; tiling "
                     << r.run.tiling.to_string();
  // The random data must exercise the range (the test's own power).
  const auto [mn, mx] = std::minmax_element(got.begin(), got.end());
  EXPECT_LT(*mn, *mx) << "constant output";
}

std::vector<int32_t> random_shifts(int o, int32_t center, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-3, 3);
  std::vector<int32_t> s(static_cast<size_t>(o));
  for (auto& v : s) v = std::clamp(center + d(rng), 0, 31);
  return s;
}

// A random grouped conv that fits `cfg`: 16..64 input channels, groups 2, 4 or C (depthwise), output
// channels = input channels x 1 or 2.
GroupedCase random_grouped(std::mt19937& rng, const isa::HwConfig& cfg, int i) {
  const auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    GroupedCase gc;
    ConvCase& k = gc.k;
    k.name = fmt::format("random{}", i);
    k.n = r(1, 2);
    k.c = 16 * r(1, 4);
    const int g = r(0, 2);
    gc.groups = g == 0 ? 2 : g == 1 ? 4 : k.c;
    k.o = k.c * r(1, 2);
    k.kh = k.kw = r(0, 2) ? 3 : 1;
    k.h = r(k.kh + 1, 12);
    k.w = r(k.kw + 1, 12);
    k.sh = k.sw = r(1, 2);
    k.pt = r(0, k.kh - 1), k.pb = r(0, k.kh - 1), k.pl = r(0, k.kw - 1), k.pr = r(0, k.kw - 1);
    k.relu = r(0, 1) == 1;
    k.bias = r(0, 3) != 0;
    k.shift = compiler::shift_for_random_data(int64_t{k.c / gc.groups} * k.kh * k.kw);
    if (i % 2) gc.shift = random_shifts(k.o, k.shift, rng);
    compiler::Conv2dShape s;
    s.c = k.c, s.o = k.o;
    Conv2dParams p;
    p.groups = static_cast<uint32_t>(gc.groups);
    try {
      compiler::super_groups(s, p, cfg);
      return gc;
    } catch (const Error&) {
      continue;  // every pick fits 8- and 16-channel blocks; larger blocks may need another pick
    }
  }
}

class GroupedConfigs : public ::testing::TestWithParam<std::string> {};

TEST_P(GroupedConfigs, RandomGroupedConvsMatchTheCpuLoop) {
  const isa::HwConfig cfg = load_config(GetParam());
  std::mt19937 rng(2024);
  for (int i = 0; i < 14; ++i) {
    const GroupedCase gc = random_grouped(rng, cfg, i);
    expect_grouped(gc, "fsim-strict", GetParam(), 100 + static_cast<uint32_t>(i));
    expect_grouped(gc, "fsim-serial", GetParam(), 200 + static_cast<uint32_t>(i));
  }
}

TEST_P(GroupedConfigs, DepthwiseAndGroupedLayers) {
  // MobileNet-style depthwise 3x3/1 and 3x3/2, a channel multiplier, ResNeXt-style 32 groups, and a
  // 1x1 grouped conv; with and without per-channel shifts.
  std::vector<GroupedCase> cases;
  const auto add = [&](ConvCase k, int groups) {
    k.shift = compiler::shift_for_random_data(int64_t{k.c / groups} * k.kh * k.kw);
    cases.push_back({k, groups, {}, {}});
  };
  add({"dw3x3s1", 1, 32, 10, 10, 32, 3, 3, 1, 1, 1, 1, 1, 1}, 32);
  add({"dw3x3s2", 1, 64, 11, 11, 64, 3, 3, 2, 2, 1, 1, 1, 1}, 64);
  add({"dw_mult2", 2, 16, 7, 9, 32, 3, 3, 1, 1, 1, 0, 1, 2}, 16);
  add({"resnext", 1, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1}, 32);
  add({"g4_1x1", 1, 64, 6, 6, 32, 1, 1, 1, 1, 0, 0, 0, 0}, 4);
  add({"g2_s2", 1, 48, 9, 9, 48, 3, 3, 2, 2, 1, 1, 1, 1}, 2);
  std::mt19937 rng(9);
  for (size_t i = 0; i < cases.size(); ++i) {
    expect_grouped(cases[i], "fsim-strict", GetParam(), 10 + static_cast<uint32_t>(i));
    GroupedCase with_shifts = cases[i];
    with_shifts.shift = random_shifts(with_shifts.k.o, with_shifts.k.eff_shift(), rng);
    expect_grouped(with_shifts, "fsim-serial", GetParam(), 20 + static_cast<uint32_t>(i));
  }
}

TEST_P(GroupedConfigs, FusedResidualAdd) {
  ResidualAdd ra;
  ra.shift_conv = 1, ra.shift_res = 0, ra.requant.shift = 1, ra.requant.relu = true;
  std::vector<GroupedCase> cases;
  ConvCase dw{"dw_res", 1, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1};
  dw.shift = compiler::shift_for_random_data(9);
  cases.push_back({dw, 32, {}, ra});
  ConvCase g4{"g4_res", 2, 64, 6, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1};
  g4.shift = compiler::shift_for_random_data(16 * 9);
  cases.push_back({g4, 4, {}, ra});
  std::mt19937 rng(3);
  for (GroupedCase& gc : cases) {
    expect_grouped(gc, "fsim-strict", GetParam(), 31);
    gc.shift = random_shifts(gc.k.o, gc.k.eff_shift(), rng);
    expect_grouped(gc, "fsim-serial", GetParam(), 32);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, GroupedConfigs, ::testing::Values("default", "block8"));

TEST(GroupedConv, ForcedTilingsKeepTheTokenDisciplineAcrossSuperGroups) {
  // Depthwise 64 channels on 16-channel blocks: 4 super-groups of 16 groups, one block each; 32 groups of
  // 2 -> 4 channels: 4 super-groups of 8 groups (1 ic block -> 2 oc blocks). Every loop order, weight
  // mode and a few tile sizes, so that slots, tokens and ACC halves carry over between super-groups.
  ConvCase dw{"dw64", 2, 64, 9, 7, 64, 3, 3, 1, 1, 1, 1, 1, 1};
  dw.shift = compiler::shift_for_random_data(9);
  ConvCase g32{"g32", 1, 64, 8, 6, 128, 3, 3, 2, 1, 1, 1, 0, 1};
  g32.shift = compiler::shift_for_random_data(18);
  int run = 0;
  for (const auto& [k, groups] : {std::pair{dw, 64}, std::pair{g32, 32}}) {
    for (compiler::LoopOrder order : {compiler::LoopOrder::kOcOuter, compiler::LoopOrder::kSpatialOuter})
      for (compiler::WeightMode mode :
           {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile, compiler::WeightMode::kAll})
        for (auto [rows, cols] : {std::pair{1u, 1u}, std::pair{2u, 3u}, std::pair{100u, 100u}}) {
          compiler::Conv2dTiling t;
          t.order = order, t.weight_mode = mode;
          t.out_rows = std::min<uint32_t>(rows, static_cast<uint32_t>((k.h + k.pt + k.pb - k.kh) / k.sh + 1));
          t.out_cols = std::min<uint32_t>(cols, static_cast<uint32_t>((k.w + k.pl + k.pr - k.kw) / k.sw + 1));
          t.oc_blocks = groups == 32 && run % 2 ? 2 : 1;
          t.weight_buffers = run % 3 == 0 && mode != compiler::WeightMode::kAll ? 1 : 2;
          compiler::LoweringOptions opt;
          opt.tiling = t;
          SCOPED_TRACE(fmt::format("tiling {}", t.to_string()));
          GroupedCase gc{k, groups, {}, {}};
          expect_grouped(gc, run % 2 ? "fsim-serial" : "fsim-strict", "default", 5, opt);
          ++run;
        }
  }
}

TEST(GroupedConv, GemmMicroOpsAreTheBlockDiagonalExpansion) {
  // Depthwise 32 channels 3x3/1 on 8x8 outputs (default config: batch 1, 16x16 blocks): 2 super-groups of
  // 16 groups, each one ic block -> one oc block, 9 taps: 2 * 9 * 64 GEMM micro-ops, 16x the ideal
  // (32 * 64 * 9 useful MACs / 256 per micro-op).
  ConvCase k{"dw32", 1, 32, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1};
  k.shift = 4;
  const GroupedCase gc{k, 32, {}, {}};
  const GroupedRun r = run_grouped(gc, "fsim", load_config("default"), 1);
  EXPECT_EQ(r.run.output.to_vector<int8_t>(), r.want);
  EXPECT_EQ(r.run.counters.gemm_counter, uint64_t{2 * 9 * 64});
  EXPECT_EQ(r.run.counters.gemm_counter * 256, uint64_t{16} * (32 * 64 * 9));
  // The predicted traffic counts both super-groups.
  EXPECT_EQ(r.run.tiling.cost.inp_bytes, r.run.counters.inp_load_nbytes);
  EXPECT_EQ(r.run.tiling.cost.out_bytes, r.run.counters.out_store_nbytes);
  EXPECT_EQ(r.run.tiling.cost.wgt_bytes, r.run.counters.wgt_load_nbytes);
  EXPECT_EQ(r.run.tiling.cost.acc_bytes, r.run.counters.acc_load_nbytes);
}

TEST(GroupedConv, SuperGroupsAndFallbacks) {
  const isa::HwConfig def = load_config("default"), b8 = load_config("block8");
  const auto sg = [](const isa::HwConfig& cfg, int64_t c, int64_t o, uint32_t groups) {
    compiler::Conv2dShape s;
    s.c = c, s.o = o;
    Conv2dParams p;
    p.groups = groups;
    return compiler::super_groups(s, p, cfg);
  };
  EXPECT_EQ(sg(def, 32, 32, 32).groups_per, 16u);
  EXPECT_EQ(sg(def, 32, 32, 32).count, 2u);
  EXPECT_EQ(sg(b8, 32, 32, 32).groups_per, 8u);
  EXPECT_EQ(sg(def, 256, 256, 32).groups_per, 2u);  // 8 channels per group
  EXPECT_EQ(sg(def, 64, 64, 2).groups_per, 1u);     // 32 channels per group: whole blocks already
  EXPECT_EQ(sg(def, 16, 64, 16).groups_per, 16u);   // depthwise, channel multiplier 4
  EXPECT_EQ(sg(def, 16, 16, 1).count, 1u);

  // 3 groups of 8 channels on 16-channel blocks: a block needs 2 groups, which do not divide 3.
  std::mt19937 rng(1);
  const auto compile = [&](const isa::HwConfig& cfg, int c, int o, int groups, int kh = 3) {
    const Tensor w = Tensor::from_values<int8_t>({o, c / groups, kh, kh},
                                                 random_i8(static_cast<size_t>(o) * (c / groups) * kh * kh, rng));
    Conv2dParams p = Conv2dParams::with(1, 1, 6);
    p.groups = static_cast<uint32_t>(groups);
    return compiler::compile_conv2d(cfg, {1, c, 8, 8}, w, nullptr, p);
  };
  try {
    compile(def, 24, 24, 3);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not tile"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("super-groups of 2 groups"), std::string::npos) << e.what();
  }
  // Depthwise 8 channels: 16 groups per block, more than there are.
  EXPECT_THROW(compile(def, 8, 8, 8), Error);
  EXPECT_NO_THROW(compile(b8, 8, 8, 8));
  EXPECT_NO_THROW(compile(b8, 24, 24, 3));  // 8 channels per group fill an 8-channel block
  // Groups that do not divide the channels, a weight of the wrong width, and a forced host repack.
  EXPECT_THROW(compile(def, 16, 16, 3), Error);
  EXPECT_THROW(compiler::compile_conv2d(def, {1, 32, 8, 8}, Tensor(DType::kInt8, {32, 2, 3, 3}), nullptr,
                                        [] {
                                          Conv2dParams p;
                                          p.groups = 32;
                                          p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
                                          return p;
                                        }()),
               Error);
  compiler::LoweringOptions opt;
  opt.repack = compiler::InputRepack{1, true, false};
  Conv2dParams p = Conv2dParams::with(1, 1, 6);
  p.groups = 16;
  EXPECT_THROW(compiler::compile_conv2d(def, {1, 16, 8, 8}, Tensor(DType::kInt8, {16, 1, 3, 3}), nullptr, p, opt),
               Error);
}

TEST(GroupedConv, LayoutJsonCarriesTheGroups) {
  const isa::HwConfig def = load_config("default");
  Conv2dParams p = Conv2dParams::with(2, 1, 6);
  p.groups = 32;
  const compiler::CompiledOp op =
      compiler::compile_conv2d(def, {1, 32, 9, 9}, Tensor(DType::kInt8, {32, 1, 3, 3}), nullptr, p);
  const compiler::CoreOpLayout back = compiler::CoreOpLayout::from_json(op.layout.to_json());
  EXPECT_EQ(back.params.groups, 32u);
  nlohmann::json bad = op.layout.to_json();
  bad["groups"] = 5;
  EXPECT_THROW(compiler::CoreOpLayout::from_json(bad), Error);
}

}  // namespace
}  // namespace vta::ctest
