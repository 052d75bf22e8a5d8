// What the compiler has landed, run on the RTL core: conv2d layers (bias, requantize, ReLU; 1x1, 3x3 and a
// 7x7 stride-2 stem with a host repack; with a fused residual add, under the chosen and forced small
// tilings) compiled through the runtime onto "tsim" and "fsim" must give the same int8 output bit for bit
// and the same counters (except cycle_count).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vta/compiler/compiled_op.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/gemm.h"
#include "vta/compiler/tensor.h"
#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"

namespace vta::test {
namespace {

struct Layer {
  const char* name;
  uint32_t ic, oc, hw, k, stride, pad;
  int32_t shift;
};

class TsimConv2d : public ::testing::TestWithParam<Layer> {};

// A 3x3 layer's random input, weight and bias (int8, int8, int32 in +-5000) from a seed.
struct Conv3x3Data {
  compiler::Tensor x, w, b;
};
Conv3x3Data random_conv3x3(uint32_t seed, uint32_t ic, uint32_t oc, uint32_t hw) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d8(-128, 127), db(-5000, 5000);
  std::vector<int8_t> x(size_t{ic} * hw * hw), w(size_t{oc} * ic * 9);
  std::vector<int32_t> b(oc);
  for (auto& v : x) v = static_cast<int8_t>(d8(rng));
  for (auto& v : w) v = static_cast<int8_t>(d8(rng));
  for (auto& v : b) v = db(rng);
  return {compiler::Tensor::from_values<int8_t>({1, ic, hw, hw}, x),
          compiler::Tensor::from_values<int8_t>({oc, ic, 3, 3}, w), compiler::Tensor::from_values<int32_t>({oc}, b)};
}

TEST_P(TsimConv2d, MatchesFsim) {
  const Layer& l = GetParam();
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> d8(-128, 127), db(-5000, 5000);
  std::vector<int8_t> x(size_t{l.ic} * l.hw * l.hw), w(size_t{l.oc} * l.ic * l.k * l.k);
  std::vector<int32_t> b(l.oc);
  for (auto& v : x) v = static_cast<int8_t>(d8(rng));
  for (auto& v : w) v = static_cast<int8_t>(d8(rng));
  for (auto& v : b) v = db(rng);
  compiler::Conv2dParams p = compiler::Conv2dParams::with(l.stride, l.pad, l.shift);
  p.requant.relu = true;
  const auto tx = compiler::Tensor::from_values<int8_t>({1, l.ic, l.hw, l.hw}, x);
  const auto tw = compiler::Tensor::from_values<int8_t>({l.oc, l.ic, l.k, l.k}, w);
  const auto tb = compiler::Tensor::from_values<int32_t>({l.oc}, b);

  const auto run = [&](const char* target) {
    const auto device = driver::open_device(target, config);
    runtime::Session queue(*device);
    return compiler::conv2d(queue, tx, tw, &tb, p);
  };
  const compiler::OpRun f = run("fsim");
  const compiler::OpRun t = run("tsim");
  EXPECT_EQ(f.output.to_vector<int8_t>(), t.output.to_vector<int8_t>());
  isa::ExecutionCounters fc = f.counters, tc = t.counters;
  fc.cycle_count = tc.cycle_count = 0;
  EXPECT_EQ(fc, tc) << "fsim " << f.counters.to_json().dump() << "\ntsim " << t.counters.to_json().dump();
  std::printf("[   INFO   ] %s: %llu instructions, %llu GEMM uops, %llu tsim cycles\n", l.name,
              static_cast<unsigned long long>(t.instructions), static_cast<unsigned long long>(t.counters.gemm_counter),
              static_cast<unsigned long long>(t.counters.cycle_count));
}

INSTANTIATE_TEST_SUITE_P(Layers, TsimConv2d,
                         ::testing::Values(Layer{"k3_s1_16x16", 16, 16, 8, 3, 1, 1, 8},
                                           Layer{"stem_k7_s2_ic3", 3, 16, 16, 7, 2, 3, 9},
                                           Layer{"k1_s2_32x32", 32, 32, 7, 1, 2, 0, 7},
                                           Layer{"k3_s1_64x64", 64, 64, 14, 3, 1, 1, 10},
                                           // one-step tiles in four ACC regions, zeroed on the ALU engine
                                           Layer{"k1_s1_64x64_28", 64, 64, 28, 1, 1, 0, 9},
                                           Layer{"resnet18_C2", 64, 64, 56, 3, 1, 1, 10},
                                           Layer{"resnet18_C10", 256, 512, 14, 1, 2, 0, 10}),
                         [](const ::testing::TestParamInfo<Layer>& param) { return std::string(param.param.name); });

// Output tiles of two channel blocks (the tiling chosen for 64 -> 64 channels at 16x16): the GEMM kernel
// runs along the tile's columns, not its two blocks, whose micro-ops would each wait for the write of the
// one two ahead (with the blocks inside, checked: 16,384 hazard cycles and 56,505 cycles in all on tsim;
// along the columns 0 and 41,663). Bit-exact against fsim, and no hazard stall on the RTL.
TEST(TsimConv2dHazards, TwoBlockTilesIssueWithoutHazardStalls) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  const uint32_t hw = 16;
  const Conv3x3Data d = random_conv3x3(9, 64, 64, hw);
  const compiler::Tensor &tx = d.x, &tw = d.w, &tb = d.b;
  const compiler::Conv2dParams p = compiler::Conv2dParams::with(1, 1, 9);
  compiler::LoweringOptions o;
  compiler::Conv2dTiling t;
  t.oc_blocks = 2;
  t.out_rows = t.out_cols = hw;
  t.ic_blocks = 1;
  t.weight_mode = compiler::WeightMode::kSlice;
  o.tiling = t;
  const auto fsim = driver::open_device("fsim", config), tsim = driver::open_device("tsim", config);
  runtime::Session fq(*fsim), tq(*tsim);
  const compiler::OpRun f = compiler::conv2d(fq, tx, tw, &tb, p, o);
  const compiler::OpRun r = compiler::conv2d(tq, tx, tw, &tb, p, o);
  EXPECT_EQ(f.output.to_vector<int8_t>(), r.output.to_vector<int8_t>());
  ASSERT_GT(r.counters.gemm_counter, 0u);
  bool seen = false;
  for (const auto& [name, v] : tsim->extra_counters()) {
    if (name != "gemm_hazard_cycles") continue;
    seen = true;
    std::printf("[   INFO   ] %llu GEMM hazard cycles, %llu cycles\n", static_cast<unsigned long long>(v),
                static_cast<unsigned long long>(r.counters.cycle_count));
    EXPECT_EQ(v, 0u);
  }
  EXPECT_TRUE(seen);
}

// The layer's first step in pieces of its output-channel blocks (a load->compute token and a GEMM a
// piece; rolling weights and weight slices, three uneven pieces of five blocks): bit-exact against fsim
// with the same counters, and no hazard stall from a piece's kernel.
TEST(TsimConv2dPieces, FirstStepInPiecesMatchesFsim) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  const uint32_t hw = 12;
  const Conv3x3Data d = random_conv3x3(11, 64, 80, hw);
  const compiler::Tensor &tx = d.x, &tw = d.w, &tb = d.b;
  const compiler::Conv2dParams p = compiler::Conv2dParams::with(1, 1, 9);
  for (const compiler::WeightMode mode : {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile}) {
    compiler::LoweringOptions o;
    compiler::Conv2dTiling t;
    t.oc_blocks = 5;
    t.out_rows = 6;
    t.out_cols = hw;
    t.ic_blocks = 1;
    t.weight_mode = mode;
    t.weight_buffers = mode == compiler::WeightMode::kOcTile ? 1 : 2;
    t.first_pieces = 3;
    o.tiling = t;
    SCOPED_TRACE(t.to_string());
    const auto fsim = driver::open_device("fsim", config), tsim = driver::open_device("tsim", config);
    runtime::Session fq(*fsim), tq(*tsim);
    const compiler::OpRun f = compiler::conv2d(fq, tx, tw, &tb, p, o);
    const compiler::OpRun r = compiler::conv2d(tq, tx, tw, &tb, p, o);
    EXPECT_EQ(f.output.to_vector<int8_t>(), r.output.to_vector<int8_t>());
    isa::ExecutionCounters fc = f.counters, tc = r.counters;
    fc.cycle_count = tc.cycle_count = 0;
    EXPECT_EQ(fc, tc);
    for (const auto& [name, v] : tsim->extra_counters())
      if (name == "gemm_hazard_cycles") {
        EXPECT_EQ(v, 0u);
      }
  }
}

// A resident input (each ic step's unit in a slot of its own, loaded once for every oc tile; three oc
// tiles of 2, 2 and 1 blocks): bit-exact against fsim with the same counters, the input read once.
TEST(TsimConv2dResidentInput, MatchesFsim) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  const uint32_t hw = 8;
  const Conv3x3Data d = random_conv3x3(13, 64, 80, hw);
  const compiler::Conv2dParams p = compiler::Conv2dParams::with(1, 1, 9);
  compiler::LoweringOptions o;
  compiler::Conv2dTiling t;
  t.oc_blocks = 2;
  t.out_rows = hw;
  t.out_cols = hw;
  t.ic_blocks = 1;
  t.inp_resident = true;
  // weight slices, and rolling oc-tile units with the first step in pieces (ResNet-18 C10's choice)
  for (const compiler::WeightMode mode : {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile}) {
    t.weight_mode = mode;
    t.weight_buffers = mode == compiler::WeightMode::kSlice ? 2 : 1;
    t.first_pieces = mode == compiler::WeightMode::kSlice ? 1 : 2;
    o.tiling = t;
    SCOPED_TRACE(t.to_string());
    const auto fsim = driver::open_device("fsim", config), tsim = driver::open_device("tsim", config);
    runtime::Session fq(*fsim), tq(*tsim);
    const compiler::OpRun f = compiler::conv2d(fq, d.x, d.w, &d.b, p, o);
    const compiler::OpRun r = compiler::conv2d(tq, d.x, d.w, &d.b, p, o);
    EXPECT_EQ(f.output.to_vector<int8_t>(), r.output.to_vector<int8_t>());
    isa::ExecutionCounters fc = f.counters, tc = r.counters;
    fc.cycle_count = tc.cycle_count = 0;
    EXPECT_EQ(fc, tc);
    EXPECT_EQ(tc.inp_load_nbytes, uint64_t{4} * hw * hw * config.inp().element_bytes);  // padding is not read
  }
}

// conv2d + fused residual add: the residual LOADs, the identity GEMM and the extra ALU ops on the RTL, with
// the tiling chosen and with small forced tiles (several reduction steps, partial rows, one residual load
// per oc block) so that the residual regions and their tokens turn over many times; and with rolling
// single-buffered weights, each ic slice reloaded once the previous unit's last step over it is done.
TEST(TsimConv2dResidual, MatchesFsim) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  struct Case {
    const char* name;
    uint32_t ic, oc, hw, k, stride, pad;
    int32_t shift;
    std::optional<compiler::Conv2dTiling> tiling;
  };
  compiler::Conv2dTiling small;
  small.oc_blocks = 2, small.out_rows = 3, small.out_cols = 5, small.ic_blocks = 1;
  compiler::Conv2dTiling spatial = small;
  spatial.order = compiler::LoopOrder::kSpatialOuter, spatial.weight_mode = compiler::WeightMode::kAll;
  spatial.ic_blocks = 3, spatial.oc_blocks = 1, spatial.out_cols = 14;
  // single-buffered oc-tile weights roll in slice by slice over the previous unit (plan_conv_steps)
  compiler::Conv2dTiling rolling = small;
  rolling.oc_blocks = 1, rolling.weight_mode = compiler::WeightMode::kOcTile, rolling.weight_buffers = 1;
  compiler::Conv2dTiling rolling_spatial = rolling;
  rolling_spatial.order = compiler::LoopOrder::kSpatialOuter;
  const std::vector<Case> cases = {{"k3_s1_48x40", 48, 40, 14, 3, 1, 1, 10, std::nullopt},
                                   {"k3_s1_48x40_small_tiles", 48, 40, 14, 3, 1, 1, 10, small},
                                   {"k3_s1_48x40_spatial_all", 48, 40, 14, 3, 1, 1, 10, spatial},
                                   {"k3_s1_48x40_rolling_weights", 48, 40, 14, 3, 1, 1, 10, rolling},
                                   {"k3_s1_48x40_rolling_spatial", 48, 40, 14, 3, 1, 1, 10, rolling_spatial},
                                   {"k1_s2_32x64", 32, 64, 14, 1, 2, 0, 8, std::nullopt}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> d8(-128, 127), db(-5000, 5000);
    const uint32_t oh = (c.hw + 2 * c.pad - c.k) / c.stride + 1;
    std::vector<int8_t> x(size_t{c.ic} * c.hw * c.hw), w(size_t{c.oc} * c.ic * c.k * c.k), r(size_t{c.oc} * oh * oh);
    std::vector<int32_t> b(c.oc);
    for (auto& v : x) v = static_cast<int8_t>(d8(rng));
    for (auto& v : w) v = static_cast<int8_t>(d8(rng));
    for (auto& v : r) v = static_cast<int8_t>(d8(rng));
    for (auto& v : b) v = db(rng);
    compiler::Conv2dParams p = compiler::Conv2dParams::with(c.stride, c.pad, c.shift);
    p.requant.relu = true;
    compiler::ResidualAdd ra;
    ra.shift_conv = 1, ra.shift_res = 2, ra.requant.shift = 2, ra.requant.relu = true;
    p.residual = ra;
    const auto tx = compiler::Tensor::from_values<int8_t>({1, c.ic, c.hw, c.hw}, x);
    const auto tw = compiler::Tensor::from_values<int8_t>({c.oc, c.ic, c.k, c.k}, w);
    const auto tb = compiler::Tensor::from_values<int32_t>({c.oc}, b);
    const auto tr = compiler::Tensor::from_values<int8_t>({1, c.oc, oh, oh}, r);
    compiler::LoweringOptions opt;
    opt.tiling = c.tiling;
    const compiler::CompiledOp op = compiler::compile_conv2d(config, tx.shape(), tw, &tb, p, opt);
    const compiler::Tensor* inputs[] = {&tx, &tr};
    const auto run = [&](const char* target) {
      const auto device = driver::open_device(target, config);
      runtime::Session queue(*device);
      return compiler::run_compiled(queue, op, inputs);
    };
    const compiler::OpRun f = run("fsim-strict");
    const compiler::OpRun t = run("tsim");
    EXPECT_EQ(f.output.to_vector<int8_t>(), t.output.to_vector<int8_t>());
    isa::ExecutionCounters fc = f.counters, tc = t.counters;
    fc.cycle_count = tc.cycle_count = 0;
    EXPECT_EQ(fc, tc) << "fsim " << f.counters.to_json().dump() << "\ntsim " << t.counters.to_json().dump();
    std::printf("[   INFO   ] %s: %s; %llu tsim cycles\n", c.name, op.tiling.to_string().c_str(),
                static_cast<unsigned long long>(t.counters.cycle_count));
  }
}

// Grouped and depthwise conv2d (super-groups of whole channel blocks with block-diagonal weights, one
// after the other in one program): per-channel shifts, a fused residual on one, the chosen and small forced
// tilings, so that slots, tokens and ACC halves carry over between super-groups on the RTL.
TEST(TsimConv2dGrouped, MatchesFsim) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  struct Case {
    const char* name;
    uint32_t ic, oc, groups, hw, k, stride, pad;
    int32_t shift;
    bool residual;
    std::optional<compiler::Conv2dTiling> tiling;
  };
  compiler::Conv2dTiling small;
  small.out_rows = 3, small.out_cols = 4;
  compiler::Conv2dTiling spatial = small;
  spatial.order = compiler::LoopOrder::kSpatialOuter, spatial.weight_mode = compiler::WeightMode::kAll;
  const std::vector<Case> cases = {{"dw3x3_s1_64", 64, 64, 64, 10, 3, 1, 1, 6, false, std::nullopt},
                                   {"dw3x3_s2_32_small_tiles", 32, 32, 32, 11, 3, 2, 1, 6, false, small},
                                   {"g32_3x3_64x128_spatial_all", 64, 128, 32, 8, 3, 1, 1, 7, false, spatial},
                                   {"dw3x3_s1_32_residual", 32, 32, 32, 8, 3, 1, 1, 6, true, small}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> d8(-128, 127), db(-500, 500), ds(4, 8);
    const uint32_t oh = (c.hw + 2 * c.pad - c.k) / c.stride + 1, cg = c.ic / c.groups;
    std::vector<int8_t> x(size_t{c.ic} * c.hw * c.hw), w(size_t{c.oc} * cg * c.k * c.k), r(size_t{c.oc} * oh * oh);
    std::vector<int32_t> b(c.oc), shifts(c.oc);
    for (auto& v : x) v = static_cast<int8_t>(d8(rng));
    for (auto& v : w) v = static_cast<int8_t>(d8(rng));
    for (auto& v : r) v = static_cast<int8_t>(d8(rng));
    for (auto& v : b) v = db(rng);
    for (auto& v : shifts) v = ds(rng);
    compiler::Conv2dParams p = compiler::Conv2dParams::with(c.stride, c.pad, c.shift);
    p.groups = c.groups;
    p.channel_shift = shifts;
    if (c.residual) {
      compiler::ResidualAdd ra;
      ra.shift_conv = 1, ra.shift_res = 0, ra.requant.shift = 1;
      p.residual = ra;
    }
    const auto tx = compiler::Tensor::from_values<int8_t>({1, c.ic, c.hw, c.hw}, x);
    const auto tw = compiler::Tensor::from_values<int8_t>({c.oc, cg, c.k, c.k}, w);
    const auto tb = compiler::Tensor::from_values<int32_t>({c.oc}, b);
    const auto tr = compiler::Tensor::from_values<int8_t>({1, c.oc, oh, oh}, r);
    compiler::LoweringOptions opt;
    opt.tiling = c.tiling;
    const compiler::CompiledOp op = compiler::compile_conv2d(config, tx.shape(), tw, &tb, p, opt);
    const compiler::Tensor* inputs[] = {&tx, &tr};
    const auto run = [&](const char* target) {
      const auto device = driver::open_device(target, config);
      runtime::Session queue(*device);
      return compiler::run_compiled(queue, op, std::span(inputs, c.residual ? 2 : 1));
    };
    const compiler::OpRun f = run("fsim-strict");
    const compiler::OpRun t = run("tsim");
    EXPECT_EQ(f.output.to_vector<int8_t>(), t.output.to_vector<int8_t>());
    isa::ExecutionCounters fc = f.counters, tc = t.counters;
    fc.cycle_count = tc.cycle_count = 0;
    EXPECT_EQ(fc, tc) << "fsim " << f.counters.to_json().dump() << "\ntsim " << t.counters.to_json().dump();
    std::printf("[   INFO   ] %s: %s; %llu GEMM uops, %llu tsim cycles\n", c.name, op.tiling.to_string().c_str(),
                static_cast<unsigned long long>(t.counters.gemm_counter),
                static_cast<unsigned long long>(t.counters.cycle_count));
  }
}

// The 512^3 int8 GEMM through the runtime on the RTL (double-buffered, tiled by DRAM traffic): bit-exact
// against the CPU matmul, and the array busy in at least 95% of the cycles at the config's DRAM timing
// (cycles are the core's counter: deterministic, not a wall-time measurement).
TEST(TsimGemm, Gemm512KeepsTheArrayBusy) {
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  const compiler::GemmShape shape{512, 512, 512};
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> d8(-128, 127);
  std::vector<int8_t> a(size_t{512} * 512), b(size_t{512} * 512);
  for (auto& v : a) v = static_cast<int8_t>(d8(rng));
  for (auto& v : b) v = static_cast<int8_t>(d8(rng));
  runtime::Session session("tsim", config);
  const compiler::GemmRun run = compiler::gemm(session, shape, a, b, std::nullopt);
  EXPECT_EQ(run.c, reference::matmul(a, b, 512, 512, 512, nullptr));
  const auto& c = run.stats.counters;
  ASSERT_GT(c.cycle_count, 0u);
  const double utilization = double(c.gemm_counter) / double(c.cycle_count);
  std::printf("[   INFO   ] 512^3 GEMM: tiles %u x %u x %u, %llu cycles, GEMM utilization %.1f%%\n", run.tiling.tm,
              run.tiling.tn, run.tiling.tk, static_cast<unsigned long long>(c.cycle_count), 100 * utilization);
  EXPECT_GE(utilization, 0.95);
}

}  // namespace
}  // namespace vta::test
