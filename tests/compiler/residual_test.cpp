// conv2d with a fused residual add (Conv2dParams::residual): random shapes (stride-2 downsample blocks,
// channel counts that are not multiples of the block, batches, few-channel convs through the host
// repack), per-tensor and per-channel shifts, forced tilings that stress the dependency tokens (several
// reduction steps, resident weights and inputs so that the residual load is a load group of its own,
// partial-width tiles with one residual load per oc block), on fsim-strict (leftover tokens are errors)
// and fsim-serial, against a plain CPU loop written here; the cost model's bytes against the counters;
// errors and the clean refusal on a config with BLOCK_IN != BLOCK_OUT.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "compiler_test_util.h"
#include "vta/compiler/compiled_op.h"

namespace vta::ctest {
namespace {

using compiler::ResidualAdd;

struct Outcome {
  compiler::OpRun run;
  std::vector<int8_t> want;
};

// `shift` empty: the case's per-tensor shift.
Outcome run_residual(const ConvCase& k, std::vector<int32_t> shift, const ResidualAdd& ra, const std::string& target,
                     const isa::HwConfig& cfg, uint32_t seed, const compiler::LoweringOptions& options = {}) {
  const ConvData d = make_data(k, seed);
  Conv2dParams p = k.params();
  p.channel_shift = shift;
  p.residual = ra;
  if (shift.empty()) shift.assign(static_cast<size_t>(k.o), k.eff_shift());
  const int oh = (k.h + k.pt + k.pb - k.kh) / k.sh + 1, ow = (k.w + k.pl + k.pr - k.kw) / k.sw + 1;
  std::mt19937 rng(seed + 1000);
  const std::vector<int8_t> r = random_i8(static_cast<size_t>(k.n) * k.o * oh * ow, rng);
  const Tensor tr = Tensor::from_values<int8_t>({k.n, k.o, oh, ow}, r);
  const compiler::CompiledOp op =
      compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, k.bias ? &d.tb : nullptr, p, options);
  auto device = driver::open_device(target, cfg);
  runtime::Session q(*device);
  const Tensor* inputs[] = {&d.tx, &tr};
  Outcome out;
  out.run = compiler::run_compiled(q, op, inputs);
  out.want = cpu_conv_full(k, 1, d.x, d.w, k.bias ? d.b : std::vector<int32_t>{}, shift, ra, r);
  return out;
}

void expect_residual(const ConvCase& k, const std::vector<int32_t>& shift, const ResidualAdd& ra,
                     const std::string& target, const std::string& config, uint32_t seed,
                     const compiler::LoweringOptions& options = {}) {
  SCOPED_TRACE(fmt::format("{} {} residual sa {} sb {} shift {}{} clip [{},{}] on {} / {}", describe(k),
                           shift.empty() ? "per-tensor" : "per-channel", ra.shift_conv, ra.shift_res,
                           ra.requant.shift, ra.requant.relu ? " relu" : "", ra.requant.clip_lo, ra.requant.clip_hi,
                           target, config));
  const Outcome o = run_residual(k, shift, ra, target, load_config(config), seed, options);
  const std::vector<int8_t> got = o.run.output.to_vector<int8_t>();
  const int64_t bad = first_mismatch(got, o.want);
  EXPECT_EQ(bad, -1) << "first mismatch at flat index " << bad << ": got "
                     << (bad >= 0 ? int(got.at(static_cast<size_t>(bad))) : 0) << ", want "
                     << (bad >= 0 ? int(o.want.at(static_cast<size_t>(bad))) : 0) << "; tiling "
                     << o.run.tiling.to_string();
  // The cost model predicts the input (incl. residual) and weight (incl. identity) bytes exactly.
  EXPECT_EQ(o.run.counters.inp_load_nbytes, o.run.tiling.cost.inp_bytes) << o.run.tiling.to_string();
  EXPECT_EQ(o.run.counters.wgt_load_nbytes, o.run.tiling.cost.wgt_bytes) << o.run.tiling.to_string();
  EXPECT_EQ(o.run.counters.out_store_nbytes, o.run.tiling.cost.out_bytes);
  // Not trivially constant: the test has power.
  if (got.size() > 8) {
    EXPECT_NE(*std::min_element(got.begin(), got.end()), *std::max_element(got.begin(), got.end()));
  }
}

ResidualAdd random_residual(std::mt19937& rng) {
  auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ResidualAdd ra;
  ra.shift_conv = r(0, 2) == 0 ? 0 : r(0, 6);
  ra.shift_res = r(0, 2) == 0 ? 0 : r(0, 6);
  ra.requant.shift = r(0, 3) == 0 ? 0 : std::min(15, std::max(ra.shift_conv, ra.shift_res) + r(0, 2));
  ra.requant.relu = r(0, 1) == 1;
  if (r(0, 3) == 0) ra.requant.clip_lo = -90, ra.requant.clip_hi = 100;
  return ra;
}

ConvCase random_case(std::mt19937& rng, int index) { return random_conv_case(rng, index, 11); }

std::vector<int32_t> random_shifts(int o, int32_t center, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-3, 3);
  std::vector<int32_t> s(static_cast<size_t>(o));
  for (auto& v : s) v = std::clamp(center + d(rng), 0, 31);
  return s;
}

class ResidualConfigs : public ::testing::TestWithParam<std::string> {};

TEST_P(ResidualConfigs, RandomConvsMatchTheCpuLoop) {
  std::mt19937 rng(77);
  for (int i = 0; i < 12; ++i) {
    const ConvCase k = random_case(rng, i);
    const ResidualAdd ra = random_residual(rng);
    const std::vector<int32_t> shift = i % 2 ? random_shifts(k.o, k.eff_shift(), rng) : std::vector<int32_t>{};
    expect_residual(k, shift, ra, "fsim-strict", GetParam(), 300 + static_cast<uint32_t>(i));
    expect_residual(k, shift, ra, "fsim-serial", GetParam(), 300 + static_cast<uint32_t>(i));
  }
}

TEST_P(ResidualConfigs, ResNetBlocks) {
  // The second conv of a basic block (3x3/1) and the two convs of a downsample block's shortcut side
  // (3x3/2, 1x1/2), channel counts multiple of the block and not; a few-channel conv through the repack.
  ResidualAdd ra;
  ra.shift_conv = 1, ra.shift_res = 0, ra.requant.shift = 1, ra.requant.relu = true;
  std::vector<ConvCase> cases = {{"block", 1, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1, 1, 1},
                                 {"down3x3", 1, 32, 14, 14, 48, 3, 3, 2, 2, 1, 1, 1, 1},
                                 {"down1x1", 1, 32, 14, 14, 48, 1, 1, 2, 2, 0, 0, 0, 0},
                                 {"odd", 2, 20, 9, 11, 36, 3, 3, 1, 1, 1, 1, 1, 1},
                                 {"fewch", 1, 3, 16, 16, 24, 7, 7, 2, 2, 3, 3, 3, 3}};
  std::mt19937 rng(5);
  for (const ConvCase& k : cases) {
    expect_residual(k, {}, ra, "fsim-strict", GetParam(), 11);
    expect_residual(k, random_shifts(k.o, k.eff_shift(), rng), ra, "fsim-serial", GetParam(), 12);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ResidualConfigs, ::testing::Values("default", "batch2", "block8", "block32"));

TEST(Residual, ForcedTilingsKeepTheTokenDiscipline) {
  // 48 input and 40 output channels (3 ic blocks, 3 oc blocks), 12x10 output.
  const ConvCase k{"forced", 2, 48, 12, 10, 40, 3, 3, 1, 1, 1, 1, 1, 1};
  ResidualAdd ra;
  ra.shift_conv = 0, ra.shift_res = 2, ra.requant.shift = 2;
  std::vector<compiler::Conv2dTiling> tilings;
  for (compiler::LoopOrder order : {compiler::LoopOrder::kOcOuter, compiler::LoopOrder::kSpatialOuter})
    for (compiler::WeightMode mode : {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile, compiler::WeightMode::kAll})
      for (uint32_t ic : {1u, 3u})
        for (auto [rows, cols] : {std::pair{3u, 10u}, std::pair{5u, 4u}, std::pair{1u, 1u}})
          for (uint32_t oc : {1u, 2u, 3u}) {
            compiler::Conv2dTiling t;
            t.order = order, t.weight_mode = mode, t.ic_blocks = ic, t.out_rows = rows, t.out_cols = cols;
            t.oc_blocks = oc;
            t.weight_buffers = mode == compiler::WeightMode::kAll ? 2 : (oc == 2 ? 1 : 2);
            tilings.push_back(t);
          }
  int run = 0;
  for (const compiler::Conv2dTiling& t : tilings) {
    compiler::LoweringOptions opt;
    opt.tiling = t;
    opt.repack = compiler::InputRepack{};
    SCOPED_TRACE(fmt::format("tiling {}", t.to_string()));
    expect_residual(k, {}, ra, run % 2 ? "fsim-serial" : "fsim-strict", "default", 3, opt);
    ++run;
  }
}

TEST(Residual, CostModelAndFootprint) {
  compiler::ConvProblem p;
  p.oc_blocks = 4, p.ic_blocks = 2, p.in_h = p.in_w = p.out_h = p.out_w = 8, p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.has_bias = true;
  compiler::Conv2dTiling t;
  t.oc_blocks = 2, t.out_rows = 4, t.out_cols = 8, t.ic_blocks = 2;
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  const compiler::TileFootprint f0 = compiler::footprint(p, t);
  const compiler::Conv2dCost c0 = compiler::estimate_cost(p, cfg, t);
  compiler::ConvProblem pr = p;
  pr.has_residual = true;
  const compiler::TileFootprint f1 = compiler::footprint(pr, t);
  EXPECT_EQ(f1.residual, 2u * 4 * 8);
  EXPECT_EQ(f1.inp, f0.inp + f1.residual);
  EXPECT_EQ(f1.wgt, f0.wgt + 1);
  EXPECT_EQ(f1.acc, f0.acc);
  const compiler::Conv2dCost c1 = compiler::estimate_cost(pr, cfg, t);
  const uint64_t res = uint64_t{4} * 8 * 8 * cfg.inp().element_bytes;
  EXPECT_EQ(c1.inp_bytes, c0.inp_bytes + res);
  EXPECT_EQ(c1.wgt_bytes, c0.wgt_bytes + cfg.wgt().element_bytes);
  EXPECT_EQ(c1.lower_bound_bytes, c0.lower_bound_bytes + res + cfg.wgt().element_bytes);
  // A tile whose input window fills half the INP buffer no longer fits with its residual.
  compiler::ConvProblem big = pr;
  big.ic_blocks = 1, big.oc_blocks = 1, big.in_h = big.out_h = 30, big.in_w = big.out_w = 30;
  compiler::Conv2dTiling tb;
  tb.out_rows = 30, tb.out_cols = 30;
  big.has_residual = false;
  EXPECT_EQ(compiler::check_tiling(big, cfg, tb), "");
  big.has_residual = true;
  EXPECT_NE(compiler::check_tiling(big, cfg, tb), "");
  EXPECT_EQ(compiler::check_tiling(big, cfg, compiler::choose_tiling(big, cfg)), "");
}

TEST(Residual, ErrorsAndFallbacks) {
  const ConvCase k{"err", 1, 16, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1};
  const ConvData d = make_data(k, 1);
  const auto compile = [&](const ResidualAdd& ra, const isa::HwConfig& cfg) {
    Conv2dParams p = k.params();
    p.residual = ra;
    try {
      compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, &d.tb, p);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const isa::HwConfig def = isa::HwConfig::default_config();
  ResidualAdd ok;
  EXPECT_EQ(compile(ok, def), "");
  ResidualAdd bad = ok;
  bad.shift_res = 7;
  EXPECT_NE(compile(bad, def).find("residual input shifts 0 and 7 must be in [0, 6]"), std::string::npos);
  bad = ok;
  bad.requant.shift = 16;
  EXPECT_NE(compile(bad, def).find("residual shift 16 not in [0, 15]"), std::string::npos);
  bad = ok;
  bad.requant.clip_lo = 10, bad.requant.clip_hi = 5;
  EXPECT_NE(compile(bad, def).find("residual clip"), std::string::npos);
  // BLOCK_IN != BLOCK_OUT: the residual cannot be loaded as INP elements in the output's layout.
  EXPECT_NE(compile(ok, load_config("in16_out32")).find("needs BLOCK_IN == BLOCK_OUT"), std::string::npos);

  // Layout JSON round trip; a residual of the wrong shape is refused by the host transforms.
  Conv2dParams p = k.params();
  ResidualAdd ra;
  ra.shift_conv = 2, ra.shift_res = 3, ra.requant.shift = 4, ra.requant.relu = true, ra.requant.clip_hi = 100;
  p.residual = ra;
  const compiler::CompiledOp op = compiler::compile_conv2d(def, d.tx.shape(), d.tw, &d.tb, p);
  EXPECT_TRUE(op.layout.has_residual());
  const compiler::CoreOpLayout back = compiler::CoreOpLayout::from_json(op.layout.to_json());
  ASSERT_TRUE(back.has_residual());
  EXPECT_EQ(back.params.residual->shift_conv, 2);
  EXPECT_EQ(back.params.residual->shift_res, 3);
  EXPECT_EQ(back.params.residual->requant.shift, 4);
  EXPECT_TRUE(back.params.residual->requant.relu);
  EXPECT_EQ(back.params.residual->requant.clip_hi, 100);
  nlohmann::json j = op.layout.to_json();
  j["residual"][1] = 9;
  EXPECT_THROW(compiler::CoreOpLayout::from_json(j), Error);
  const Tensor wrong(DType::kInt8, {1, 16, 5, 6});
  EXPECT_THROW(compiler::pack_op_residual(op.layout, def, wrong), Error);
  auto device = driver::open_device("fsim", def);
  runtime::Session q(*device);
  const Tensor* one[] = {&d.tx};
  EXPECT_NO_THROW(compiler::pack_op_input(op.layout, def, one));
  const Tensor* two[] = {&d.tx, &wrong};
  EXPECT_THROW(compiler::run_compiled(q, op, two), Error);
}

}  // namespace
}  // namespace vta::ctest
