// Per-output-channel requantization (Conv2dParams::channel_shift): conv2d and dense on fsim bit-exact
// against a plain CPU loop written here, including channel counts that are not multiples of the block,
// few-channel convs that take the host repack path, the cost model's ACC bytes, errors, and the
// .vtapkg round trip of QStep::channel_shift through compile_model and the model runner.
#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "compiler_test_util.h"
#include "vta/compiler/compiled_op.h"
#include "vta/model/compiled_model.h"
#include "vta/model/model_runner.h"
#include "vta/model/package.h"
#include "vta/quant/int8_executor.h"

namespace vta::ctest {
namespace {

// Shifts around the one that spreads random data over int8, with the extremes 0 and 31 mixed in.
std::vector<int32_t> random_shifts(int o, int32_t center, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-4, 4), pick(0, 9);
  std::vector<int32_t> s(static_cast<size_t>(o));
  for (auto& v : s) {
    const int p = pick(rng);
    v = p == 0 ? 0 : p == 1 ? 31 : std::clamp(center + d(rng), 0, 31);
  }
  return s;
}

struct Outcome {
  compiler::OpRun run;
  std::vector<int8_t> want;
};

Outcome run_case(const ConvCase& k, const std::vector<int32_t>& shift, const std::string& target,
                 const isa::HwConfig& cfg, uint32_t seed, compiler::LoweringOptions options = {}) {
  const ConvData d = make_data(k, seed);
  Conv2dParams p = k.params();
  p.channel_shift = shift;
  auto device = driver::open_device(target, cfg);
  runtime::Session q(*device);
  Outcome out;
  out.run = compiler::conv2d(q, d.tx, d.tw, k.bias ? &d.tb : nullptr, p, options);
  out.want = cpu_conv_full(k, 1, d.x, d.w, d.b, shift);
  return out;
}

void expect_case(const ConvCase& k, const std::vector<int32_t>& shift, const std::string& target,
                 const std::string& config, uint32_t seed, compiler::LoweringOptions options = {}) {
  SCOPED_TRACE(describe(k) + " per-channel shifts on " + target + " / " + config);
  const Outcome o = run_case(k, shift, target, load_config(config), seed, options);
  const std::vector<int8_t> got = o.run.output.to_vector<int8_t>();
  const int64_t bad = first_mismatch(got, o.want);
  ASSERT_EQ(bad, -1) << "got " << int(got.at(static_cast<size_t>(bad))) << ", want "
                     << int(o.want.at(static_cast<size_t>(bad))) << "; tiling " << o.run.tiling.to_string();
  // The predicted ACC traffic (bias and shifts) is what the device loaded.
  EXPECT_EQ(o.run.counters.acc_load_nbytes, o.run.tiling.cost.acc_bytes) << o.run.tiling.to_string();
}

// A random conv2d case (channel counts mostly not multiples of 16), sometimes with a narrower clip.
ConvCase random_case(std::mt19937& rng, int index) {
  ConvCase k = random_conv_case(rng, index, 9);
  if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) k.lo = -100, k.hi = 90;
  return k;
}

class ChannelShiftConfigs : public ::testing::TestWithParam<std::string> {};

TEST_P(ChannelShiftConfigs, RandomConvsMatchTheCpuLoop) {
  std::mt19937 rng(2024);
  for (int i = 0; i < 10; ++i) {
    const ConvCase k = random_case(rng, i);
    const std::vector<int32_t> shift = random_shifts(k.o, k.eff_shift(), rng);
    expect_case(k, shift, "fsim-strict", GetParam(), 100 + i);
    expect_case(k, shift, "fsim-serial", GetParam(), 100 + i);
  }
}

TEST_P(ChannelShiftConfigs, FewChannelConvsTakeTheRepackPath) {
  // C1-like: 3 channels, 7x7 stride 2 pad 3 (and a 5x5 one), chosen repack and every forced repack.
  ConvCase c1{"c1", 1, 3, 20, 18, 24, 7, 7, 2, 2, 3, 3, 3, 3};
  c1.relu = true;
  ConvCase c5{"c5", 2, 2, 11, 13, 17, 5, 5, 2, 2, 2, 1, 2, 1};
  std::mt19937 rng(7);
  for (const ConvCase& k : {c1, c5}) {
    const std::vector<int32_t> shift = random_shifts(k.o, k.eff_shift(), rng);
    expect_case(k, shift, "fsim-strict", GetParam(), 5);
    const isa::HwConfig cfg = load_config(GetParam());
    const ConvData d = make_data(k, 5);
    const auto cands = compiler::repack_candidates(
        compiler::check_conv2d(d.tx, d.tw, &d.tb, k.params()), k.params(), true, cfg);
    ASSERT_GE(cands.size(), 2u);
    for (const compiler::RepackChoice& rc : cands) {
      compiler::LoweringOptions opt;
      opt.repack = rc.repack;
      SCOPED_TRACE(rc.repack.to_string());
      expect_case(k, shift, "fsim-serial", GetParam(), 5, opt);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ChannelShiftConfigs,
                         ::testing::Values("default", "batch2", "block8", "block32", "in16_out32"));

TEST(ChannelShift, UniformShiftsEqualThePerTensorForm) {
  const ConvCase k{"uniform", 1, 20, 6, 7, 19, 3, 3, 1, 1, 1, 1, 1, 1};
  const isa::HwConfig cfg = load_config("default");
  const Outcome a = run_case(k, std::vector<int32_t>(19, k.eff_shift()), "fsim-strict", cfg, 3);
  const ConvOutcome b = run_conv_case(k, "fsim-strict", cfg, 3);
  EXPECT_EQ(a.run.output.to_vector<int8_t>(), b.run.output.to_vector<int8_t>());
  EXPECT_EQ(a.want, b.expect);
  // One more ACC vector per oc block and output tile, loaded by the same 2-row LOAD; the SHR kernel reads
  // it (a micro-op kernel of its own: at most one more UOP load per ACC slot).
  EXPECT_EQ(a.run.counters.acc_load_nbytes, 2 * b.run.counters.acc_load_nbytes);
  EXPECT_LE(a.run.instructions, b.run.instructions + 2);
  EXPECT_EQ(a.run.counters.alu_counter, b.run.counters.alu_counter);
}

// The bias and shifts stay in the ACC buffer for the whole layer when they take at most an eighth of it
// (the 2 x OB vectors of the tiles that use an ACC half, in that half); past that each output tile loads its own. Both layouts are bit-exact
// and load what the cost model predicts.
TEST(ChannelShift, ConstantsStayResidentUnlessTheyCrowdTheAccBuffer) {
  const isa::HwConfig cfg = load_config("default");
  std::mt19937 rng(11);
  for (const int o : {16 * 128, 16 * 129}) {  // 256 ACC vectors: resident; 258: per tile
    SCOPED_TRACE(o);
    const ConvCase k{"wide", 1, 16, 4, 3, o, 1, 1, 1, 1, 0, 0, 0, 0};
    const std::vector<int32_t> shift = random_shifts(k.o, k.eff_shift(), rng);
    const ConvData d = make_data(k, 4);
    Conv2dParams params = k.params();
    params.channel_shift = shift;
    const compiler::ConvProblem prob =
        compiler::make_conv_problem(compiler::check_conv2d(d.tx, d.tw, &d.tb, params), params, true, cfg);
    const bool resident = o == 16 * 128;
    EXPECT_EQ(prob.resident_constants, resident ? 2u * 128u : 0u);
    expect_case(k, shift, "fsim-strict", "default", 4);
    const Outcome out = run_case(k, shift, "fsim-strict", cfg, 4);
    // resident: in each ACC half the output tiles use, the blocks of those tiles (a tile's requantization
    // reads its own): every block at least once, at most twice, as the cost model predicts
    const uint64_t once = 2ull * (o / 16) * cfg.acc().element_bytes;
    if (resident) {
      EXPECT_GE(out.run.counters.acc_load_nbytes, once);
      EXPECT_LE(out.run.counters.acc_load_nbytes, once * std::min<uint64_t>(2, out.run.tiling.cost.output_tiles));
      EXPECT_EQ(out.run.counters.acc_load_nbytes, out.run.tiling.cost.acc_bytes);
    }
  }
}

TEST(ChannelShift, WithoutBiasGetsAZeroBias) {
  ConvCase k{"nobias", 1, 16, 5, 5, 33, 3, 3, 1, 1, 1, 1, 1, 1};
  k.bias = false;
  std::mt19937 rng(1);
  expect_case(k, random_shifts(k.o, k.eff_shift(), rng), "fsim-strict", "default", 9);
}

TEST(ChannelShift, CostModelAndFootprint) {
  compiler::ConvProblem p;
  p.oc_blocks = 4, p.ic_blocks = 2, p.in_h = p.in_w = p.out_h = p.out_w = 8, p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  p.has_bias = true;
  compiler::Conv2dTiling t;
  t.oc_blocks = 2, t.out_rows = 4, t.out_cols = 8, t.ic_blocks = 2;
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  const compiler::TileFootprint f0 = compiler::footprint(p, t);
  const compiler::Conv2dCost c0 = compiler::estimate_cost(p, cfg, t);
  compiler::ConvProblem ps = p;
  ps.has_channel_shift = true;
  EXPECT_EQ(compiler::footprint(ps, t).acc, f0.acc + 2);
  const compiler::Conv2dCost c1 = compiler::estimate_cost(ps, cfg, t);
  EXPECT_EQ(c1.acc_bytes, 2 * c0.acc_bytes);
  EXPECT_EQ(c1.lower_bound_bytes, c0.lower_bound_bytes + 4 * cfg.acc().element_bytes);
}

// ---- dense ----

TEST(ChannelShiftDense, MatchesTheCpuLoop) {
  struct Case {
    int n, k, m;
    bool bias;
  };
  uint32_t seed = 40;
  for (const std::string config : {"default", "batch2", "block8", "in16_out32"}) {
    const isa::HwConfig cfg = load_config(config);
    for (const Case& c : {Case{1, 16, 16, true}, Case{5, 100, 33, true}, Case{3, 7, 5, false}, Case{17, 64, 10, true}}) {
      SCOPED_TRACE(fmt::format("dense n{} k{} m{} on {}", c.n, c.k, c.m, config));
      std::mt19937 rng(seed++);
      const auto x = random_i8(static_cast<size_t>(c.n) * c.k, rng);
      const auto w = random_i8(static_cast<size_t>(c.m) * c.k, rng);
      std::vector<int32_t> b;
      if (c.bias) b = random_i32(static_cast<size_t>(c.m), rng, -30000, 30000);
      const std::vector<int32_t> shift = random_shifts(c.m, compiler::shift_for_random_data(c.k), rng);
      compiler::Requantize rq;
      rq.shift = 3;  // ignored: the channel shifts replace it
      rq.relu = c.n % 2 == 1;
      const Tensor tx = Tensor::from_values<int8_t>({c.n, c.k}, x);
      const Tensor tw = Tensor::from_values<int8_t>({c.m, c.k}, w);
      const Tensor tb = c.bias ? Tensor::from_values<int32_t>({c.m}, b) : Tensor();
      const compiler::CompiledOp op = compiler::compile_dense(cfg, tx.shape(), tw, c.bias ? &tb : nullptr, rq, {}, shift);
      auto device = driver::open_device("fsim-strict", cfg);
      runtime::Session q(*device);
      const Tensor* in[] = {&tx};
      const compiler::OpRun run = compiler::run_compiled(q, op, in);
      // dense = a 1x1 conv over (n, k, 1, 1) images
      ConvCase k{"dense", c.n, c.k, 1, 1, c.m, 1, 1, 1, 1, 0, 0, 0, 0};
      k.relu = rq.relu;
      EXPECT_EQ(first_mismatch(run.output.to_vector<int8_t>(), cpu_conv_full(k, 1, x, w, b, shift)), -1) << run.tiling.to_string();
      // the layout keeps the shifts through its JSON form
      EXPECT_EQ(compiler::CoreOpLayout::from_json(op.layout.to_json()).params.channel_shift, shift);
    }
  }
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ChannelShiftErrors, LengthAndRange) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  const Tensor w(DType::kInt8, {4, 8, 3, 3});
  Conv2dParams p = Conv2dParams::with(1, 1, 4);
  p.channel_shift = {1, 2, 3};
  EXPECT_EQ(error_of([&] { compiler::compile_conv2d(cfg, {1, 8, 5, 5}, w, nullptr, p); }),
            "conv2d: 3 channel shifts for 4 output channels");
  p.channel_shift = {1, 2, 32, 3};
  EXPECT_EQ(error_of([&] { compiler::compile_conv2d(cfg, {1, 8, 5, 5}, w, nullptr, p); }),
            "conv2d: channel shift 32 of output channel 2 not in [0, 31]");
  p.channel_shift = {1, -1, 2, 3};
  EXPECT_NE(error_of([&] { compiler::compile_conv2d(cfg, {1, 8, 5, 5}, w, nullptr, p); }), "");
  const Tensor wd(DType::kInt8, {4, 8});
  EXPECT_EQ(error_of([&] { compiler::compile_dense(cfg, {2, 8}, wd, nullptr, {}, {}, {1, 2}); }),
            "dense: 2 channel shifts for 4 output features");
  EXPECT_EQ(error_of([&] { compiler::compile_dense(cfg, {2, 8}, wd, nullptr, {}, {}, {1, 2, 40, 0}); }),
            "conv2d: channel shift 40 of output channel 2 not in [0, 31]");
  // a layout whose shifts do not match its output channels
  nlohmann::json j = compiler::compile_conv2d(cfg, {1, 8, 5, 5}, w, nullptr, Conv2dParams::with(1, 1, 4)).layout.to_json();
  j["channel_shift"] = {1, 2};
  EXPECT_NE(error_of([&] { compiler::CoreOpLayout::from_json(j); }).find("channel shift count"), std::string::npos);
  j["channel_shift"] = {1, 2, 3, 99};
  EXPECT_NE(error_of([&] { compiler::CoreOpLayout::from_json(j); }).find("channel shift out of range"), std::string::npos);
}

// ---- the package round trip ----

// x (1,3,6,6) -> Quantize -> Conv2d 3x3 (20 out, per-channel shifts, relu) -> Reshape -> Dense (10 out,
// per-channel shifts) -> Dequantize.
quant::QModel per_channel_qmodel() {
  using quant::QOp;
  quant::QModel m;
  m.name = "per_channel";
  auto tensor = [&](std::string name, DType dt, std::vector<int64_t> shape, int32_t exp) {
    m.tensors.push_back(quant::QTensor{std::move(name), dt, std::move(shape), exp});
    return static_cast<quant::TensorId>(m.tensors.size() - 1);
  };
  auto step = [&](QOp op, std::string name, quant::TensorId in, quant::TensorId out) -> quant::QStep& {
    quant::QStep s;
    s.op = op;
    s.name = std::move(name);
    s.inputs = {in};
    s.output = out;
    m.steps.push_back(std::move(s));
    return m.steps.back();
  };
  const auto x = tensor("x", DType::kFloat32, {1, 3, 6, 6}, 0), xq = tensor("x.q", DType::kInt8, {1, 3, 6, 6}, 5),
             c = tensor("c", DType::kInt8, {1, 20, 6, 6}, 3), f = tensor("f", DType::kInt8, {1, 720}, 3),
             y = tensor("y", DType::kInt8, {1, 10}, 2), ydq = tensor("y.dq", DType::kFloat32, {1, 10}, 0);
  m.input = x;
  m.output = ydq;
  std::mt19937 rng(5);
  step(QOp::kQuantize, "quantize", x, xq);
  {
    quant::QStep& s = step(QOp::kConv2d, "conv", xq, c);
    s.weight = Tensor::from_values<int8_t>({20, 3, 3, 3}, random_i8(20 * 27, rng));
    s.bias = Tensor::from_values<int32_t>({20}, random_i32(20, rng, -3000, 3000));
    s.conv.pad_top = s.conv.pad_left = s.conv.pad_bottom = s.conv.pad_right = 1;
    s.requant.relu = true;
    s.channel_shift = random_shifts(20, 9, rng);
    s.channel_shift[0] = 12;  // the malformed-package cases below edit it
    s.requant.shift = *std::min_element(s.channel_shift.begin(), s.channel_shift.end());
    s.weight_exp = 7;
  }
  step(QOp::kReshape, "flatten", c, f);
  {
    quant::QStep& s = step(QOp::kDense, "fc", f, y);
    s.weight = Tensor::from_values<int8_t>({10, 720}, random_i8(7200, rng));
    s.bias = Tensor::from_values<int32_t>({10}, random_i32(10, rng, -3000, 3000));
    s.channel_shift = random_shifts(10, 12, rng);
    s.requant.shift = *std::min_element(s.channel_shift.begin(), s.channel_shift.end());
  }
  step(QOp::kDequantize, "dequantize", y, ydq);
  return m;
}

std::vector<uint8_t> with_json(const std::vector<uint8_t>& pkg, const std::function<std::string(std::string)>& edit) {
  uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= uint64_t{pkg[16 + static_cast<size_t>(i)]} << (8 * i);
  const std::string text = edit(std::string(pkg.begin() + 24, pkg.begin() + 24 + static_cast<std::ptrdiff_t>(len)));
  std::vector<uint8_t> out(pkg.begin(), pkg.begin() + 16);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(text.size() >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), pkg.begin() + 24 + static_cast<std::ptrdiff_t>(len), pkg.end());
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
  return s;
}

TEST(ChannelShiftPackage, RoundTripKeepsTheShiftsAndRunsBitExact) {
  const quant::QModel qm = per_channel_qmodel();
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  const model::CompiledModel cm = model::compile_model(qm, cfg);
  ASSERT_EQ(cm.steps.size(), 5u);
  EXPECT_EQ(cm.steps[1].where, model::Placement::kCore) << cm.steps[1].why;
  EXPECT_EQ(cm.steps[3].where, model::Placement::kCore) << cm.steps[3].why;
  const std::vector<uint8_t> bytes = model::serialize_package(cm);
  const model::CompiledModel back = model::parse_package(bytes, "pc.vtapkg");
  for (size_t i : {size_t{1}, size_t{3}}) {
    EXPECT_EQ(back.qmodel.steps[i].channel_shift, qm.steps[i].channel_shift);
    EXPECT_EQ(back.qmodel.steps[i].requant.shift, qm.steps[i].requant.shift);
    ASSERT_TRUE(back.steps[i].op.has_value());
    EXPECT_EQ(back.steps[i].op->layout.params.channel_shift, qm.steps[i].channel_shift);
  }
  EXPECT_TRUE(model::serialize_package(back) == bytes);
  // core (fsim) == int8 CPU reference, bit for bit, before and after the round trip
  auto device = driver::open_device("fsim-strict", cfg);
  runtime::Session session(*device);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-3.0f, 3.0f);
  Tensor in(DType::kFloat32, {1, 3, 6, 6});
  for (size_t i = 0; i < in.size(); ++i) in.data<float>()[i] = d(rng);
  const std::vector<Tensor> ref = quant::run_int8_all(qm, in);
  for (const model::CompiledModel* m : {&cm, &back}) {
    model::ModelRunner runner(session, *m);
    size_t checked = 0;
    runner.run(in, [&](quant::TensorId t, const Tensor& v) {
      if (v.dtype() != DType::kInt8) return;
      EXPECT_EQ(v.to_vector<int8_t>(), ref[static_cast<size_t>(t)].to_vector<int8_t>()) << qm.tensor(t).name;
      ++checked;
    });
    EXPECT_GE(checked, 3u);
  }
  // the conv output is not trivially saturated (the test's own power)
  const auto conv_out = ref[2].to_vector<int8_t>();
  EXPECT_GT(std::count_if(conv_out.begin(), conv_out.end(), [](int8_t v) { return v > 0 && v < 127; }), 100);
}

TEST(ChannelShiftPackage, MalformedShiftsAreRejected) {
  const std::vector<uint8_t> bytes = model::serialize_package(model::compile_model(per_channel_qmodel(), isa::HwConfig::default_config()));
  const std::string key = "\"channel_shift\":[12,";
  auto parse = [&](const std::string& to) {
    return error_of([&] { model::parse_package(with_json(bytes, [&](std::string t) { return replace_all(t, key, to); }), "bad"); });
  };
  EXPECT_NE(parse("\"channel_shift\":[32,").find("channel shift = 32 is out of range [0, 31]"), std::string::npos);
  EXPECT_NE(parse("\"channel_shift\":[-1,").find("channel shift = -1 is out of range"), std::string::npos);
  EXPECT_NE(parse("\"channel_shift\":[").find("19 channel shifts for 20 output channels"), std::string::npos);
  EXPECT_NE(parse("\"channel_shift\":[12,12,").find("21 channel shifts for 20 output channels"), std::string::npos);
  // unchanged: parses
  EXPECT_EQ(parse(key), "");
}

}  // namespace
}  // namespace vta::ctest
