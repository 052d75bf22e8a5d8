// fuse_residual_adds: a conv2d whose output only a residual add reads becomes one step with it. The fused
// model computes the same outputs as the unfused one bit for bit (run_int8, on either add side, with the
// shifts kept straight), golden text, the executor on a hand-computed case, and the pairs left alone.
#include <gtest/gtest.h>

#include "quant_test_util.h"
#include "vta/ir/passes.h"
#include "vta/quant/calibration.h"
#include "vta/quant/int8_executor.h"
#include "vta/quant/quantize.h"

namespace vta::quant {
namespace {

using ir::Graph;
using ir::OpKind;
using ir::ValueId;
using test::attrs;
using Ints = std::vector<int64_t>;

std::vector<QOp> ops(const QModel& m) {
  std::vector<QOp> v;
  for (const QStep& s : m.steps) v.push_back(s.op);
  return v;
}

// x (1,8,8,8) -> conv a 3x3 + relu -> conv b 3x3 -> Add(b, a) + relu -> [downsample block] conv c 3x3/2
// 8->16 + relu -> conv d 3x3 16->16; conv e 1x1/2 8->16 on the block input -> Add(e, d) (the conv read
// second is d: both add inputs are fusable convs) -> relu -> conv f 1x1 -> Add(sum, f) (f on the second
// side) -> output.
Graph residual_net() {
  Graph g("resnet");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 8, 8, 8});
  const auto v = [&](const char* name) { return g.add_value(name); };
  const ValueId a = v("a"), ar = v("ar"), b = v("b"), s1 = v("s1"), s1r = v("s1r"), c = v("c"), cr = v("cr"),
                d = v("d"), e = v("e"), s2 = v("s2"), s2r = v("s2r"), f = v("f"), y = v("y");
  const auto conv = [&](const char* name, ValueId in, ValueId out, int64_t o, int64_t i, int64_t k, int64_t stride,
                        uint32_t seed) {
    const int64_t p = k / 2;
    g.add_node(OpKind::kConv, name,
               {in, g.add_constant(std::string(name) + ".w", test::random_normal({o, i, k, k}, seed, 0.2f)),
                g.add_constant(std::string(name) + ".b", test::random_normal({o}, seed + 1, 0.1f))},
               {out}, attrs({{"pads", Ints{p, p, p, p}}, {"strides", Ints{stride, stride}}}));
  };
  conv("conv_a", x, a, 8, 8, 3, 1, 10);
  g.add_node(OpKind::kRelu, "relu_a", {a}, {ar});
  conv("conv_b", ar, b, 8, 8, 3, 1, 20);
  g.add_node(OpKind::kAdd, "add1", {b, ar}, {s1});
  g.add_node(OpKind::kRelu, "relu1", {s1}, {s1r});
  conv("conv_c", s1r, c, 16, 8, 3, 2, 30);
  g.add_node(OpKind::kRelu, "relu_c", {c}, {cr});
  conv("conv_e", s1r, e, 16, 8, 1, 2, 50);
  conv("conv_d", cr, d, 16, 16, 3, 1, 40);
  g.add_node(OpKind::kAdd, "add2", {e, d}, {s2});
  g.add_node(OpKind::kRelu, "relu2", {s2}, {s2r});
  conv("conv_f", s2r, f, 16, 16, 1, 1, 60);
  g.add_node(OpKind::kAdd, "add3", {s2r, f}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  return g;
}

std::vector<Tensor> inputs(size_t n, uint32_t seed) {
  std::vector<Tensor> v;
  for (size_t i = 0; i < n; ++i) v.push_back(test::random_normal({1, 8, 8, 8}, seed + static_cast<uint32_t>(i)));
  return v;
}

const QStep& step_named(const QModel& m, const std::string& name) {
  for (const QStep& s : m.steps) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no step " + name);
}

TEST(FuseResidual, SameOutputsAsTheUnfusedModel) {
  const Graph g = residual_net();
  const QModel unfused = quantize(g, calibrate(g, inputs(4, 1), CalibrationMethod::kMax));
  QModel fused = unfused;
  EXPECT_EQ(fuse_residual_adds(fused), 3u);
  EXPECT_EQ(ops(unfused), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kConv2d, QOp::kAdd, QOp::kConv2d,
                                            QOp::kConv2d, QOp::kConv2d, QOp::kAdd, QOp::kConv2d, QOp::kAdd,
                                            QOp::kDequantize}));
  EXPECT_EQ(ops(fused), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kConv2d, QOp::kConv2d, QOp::kConv2d,
                                          QOp::kConv2d, QOp::kConv2d, QOp::kDequantize}));
  // add1: conv_b is the first add input; add2: both inputs are convs, conv_d (computed later) fuses and
  // conv_e's output is the residual, with the shifts swapped; add3: conv_f is the second input.
  const QStep& f1 = step_named(fused, "conv_b+add1");
  const QStep& a1 = step_named(unfused, "add1");
  ASSERT_TRUE(f1.has_residual());
  EXPECT_EQ(f1.inputs[1], a1.inputs[1]);
  EXPECT_EQ(f1.output, a1.output);
  EXPECT_EQ(f1.shift_a, a1.shift_a);
  EXPECT_EQ(f1.shift_b, a1.shift_b);
  EXPECT_EQ(f1.residual_requant.shift, a1.requant.shift);
  EXPECT_TRUE(f1.residual_requant.relu);
  EXPECT_EQ(f1.requant.shift, step_named(unfused, "conv_b").requant.shift);
  const QStep& f2 = step_named(fused, "conv_d+add2");
  const QStep& a2 = step_named(unfused, "add2");
  EXPECT_EQ(f2.inputs[1], a2.inputs[0]);  // conv_e's output
  EXPECT_EQ(f2.shift_a, a2.shift_b);
  EXPECT_EQ(f2.shift_b, a2.shift_a);
  EXPECT_EQ(step_named(fused, "conv_e").output, a2.inputs[0]);
  const QStep& f3 = step_named(fused, "conv_f+add3");
  const QStep& a3 = step_named(unfused, "add3");
  EXPECT_EQ(f3.inputs[1], a3.inputs[0]);
  EXPECT_EQ(f3.shift_a, a3.shift_b);
  EXPECT_EQ(f3.shift_b, a3.shift_a);
  // The shifts of this calibration differ somewhere, so swapping them matters.
  EXPECT_TRUE(a1.shift_a != a1.shift_b || a2.shift_a != a2.shift_b || a3.shift_a != a3.shift_b) << unfused.to_text();

  for (const Tensor& in : inputs(6, 100)) {
    const std::vector<Tensor> u = run_int8_all(unfused, in), f = run_int8_all(fused, in);
    EXPECT_TRUE(run_int8(unfused, in).at(0) == run_int8(fused, in).at(0));
    // Every tensor the fused model computes equals the unfused model's (tensor ids are kept).
    for (const QStep& s : fused.steps) {
      EXPECT_TRUE(f.at(static_cast<size_t>(s.output)) == u.at(static_cast<size_t>(s.output))) << s.name;
    }
  }
  // Fusing again changes nothing.
  QModel again = fused;
  EXPECT_EQ(fuse_residual_adds(again), 0u);
  EXPECT_EQ(again.to_text(), fused.to_text());
}

// x i8[1,2,2,2]@e6 -> Conv2d 1x1 2->2 (identity weights * 2, shift 1) -> c@e6; Add(r, c) with shift_a 1
// (r@e5), shift_b 0, shift 1 -> y@e5.
QModel hand_model(bool conv_first) {
  test::ModelBuilder b;
  const TensorId x = b.tensor("x", DType::kInt8, {1, 2, 2, 2}, 6);
  const TensorId r = b.tensor("r", DType::kInt8, {1, 2, 2, 2}, 5);
  const TensorId c = b.tensor("c", DType::kInt8, {1, 2, 2, 2}, 6);
  const TensorId y = b.tensor("y", DType::kInt8, {1, 2, 2, 2}, 5);
  b.m.name = "hand";
  b.m.input = x;
  b.m.output = y;
  QStep& q = b.step(QOp::kRelu, {x}, r);  // r = relu(x), a stand-in for a shortcut
  q.name = "shortcut";
  QStep& conv = b.step(QOp::kConv2d, {x}, c);
  conv.name = "conv";
  conv.weight = test::i8({2, 2, 1, 1}, {2, 0, 0, 2});
  conv.bias = test::i32({2}, {1, 1});
  conv.weight_exp = 1;
  conv.requant.shift = 1;
  conv.notes.push_back("conv note");
  QStep& add = b.step(QOp::kAdd, conv_first ? std::vector<TensorId>{c, r} : std::vector<TensorId>{r, c}, y);
  add.name = "add";
  (conv_first ? add.shift_b : add.shift_a) = 1;
  add.requant.shift = 1;
  add.requant.clip_hi = 100;
  return b.m;
}

TEST(FuseResidual, GoldenTextAndHandComputedExecutor) {
  for (bool conv_first : {true, false}) {
    SCOPED_TRACE(conv_first ? "conv first" : "conv second");
    const QModel unfused = hand_model(conv_first);
    QModel m = unfused;
    ASSERT_EQ(fuse_residual_adds(m), 1u);
    EXPECT_EQ(m.to_text(),
              "qmodel \"hand\": %x:i8[1,2,2,2]@e6 -> %y:i8[1,2,2,2]@e5\n"
              "%r:i8[1,2,2,2]@e5 = Relu(%x:i8[1,2,2,2]@e6)\n"
              "%y:i8[1,2,2,2]@e5 = Conv2d(%x:i8[1,2,2,2]@e6, %r:i8[1,2,2,2]@e5) {w=i8[2,2,1,1]@e1, bias=i32[2], "
              "stride=1x1, pad=0,0,0,0, groups=1, shift=1, clip=[-128,127], residual={shift_a=0, shift_b=1, shift=1, "
              "clip=[-128,100]}}\n"
              "  # note: conv note\n");
    // x = [-3, 5, 100, -128 | 7, 0, 127, -1]: c = clamp((2x + 1) >> 1) = x (clamped to int8);
    // r = relu(x); y = clamp((c + (r << 1) + 1) >> 1, -128, 100).
    const Tensor x = test::i8({1, 2, 2, 2}, {-3, 5, 100, -128, 7, 0, 127, -1});
    const Tensor y = run_int8(m, x).at(0);
    EXPECT_EQ(test::ints(y), (std::vector<int>{-1, 8, 100, -64, 11, 0, 100, 0}));
    EXPECT_TRUE(y == run_int8(unfused, x).at(0));
  }
}

TEST(FuseResidual, PairsLeftAlone) {
  // The conv output has a second reader.
  {
    QModel m = hand_model(true);
    QStep extra;
    extra.op = QOp::kRelu;
    extra.name = "extra";
    extra.inputs = {m.steps[1].output};
    m.tensors.push_back(QTensor{"e", DType::kInt8, {1, 2, 2, 2}, 6});
    extra.output = static_cast<TensorId>(m.tensors.size() - 1);
    m.steps.push_back(extra);
    EXPECT_EQ(fuse_residual_adds(m), 0u);
  }
  // The conv output is the model output.
  {
    QModel m = hand_model(true);
    m.output = m.steps[1].output;
    EXPECT_EQ(fuse_residual_adds(m), 0u);
  }
  // Input shifts beyond the core's identity weights, an add shift whose rounding term needs more than a
  // 16-bit immediate, a grouped conv: left alone by default, fused with wider limits.
  const auto with = [](auto edit, const ResidualFusionLimits& limits) {
    QModel m = hand_model(true);
    edit(m);
    return fuse_residual_adds(m, limits);
  };
  ResidualFusionLimits wide;
  wide.max_input_shift = 24;
  wide.max_add_shift = 31;
  wide.groups_one_only = false;
  const auto big_shift = [](QModel& m) { m.steps[2].shift_b = 7; };
  const auto big_round = [](QModel& m) { m.steps[2].requant.shift = 16; };
  const auto grouped = [](QModel& m) {
    m.steps[1].conv.groups = 2;
    m.steps[1].weight = test::i8({2, 1, 1, 1}, {2, 2});
  };
  EXPECT_EQ(with(big_shift, {}), 0u);
  EXPECT_EQ(with(big_round, {}), 0u);
  EXPECT_EQ(with(grouped, {}), 0u);
  EXPECT_EQ(with(big_shift, wide), 1u);
  EXPECT_EQ(with(big_round, wide), 1u);
  EXPECT_EQ(with(grouped, wide), 1u);
  // An add of a tensor with itself is not a residual.
  {
    QModel m = hand_model(true);
    m.steps[2].inputs = {m.steps[1].output, m.steps[1].output};
    EXPECT_EQ(fuse_residual_adds(m), 0u);
  }
}

TEST(FuseResidual, ExecutorChecksTheResidual) {
  QModel m = hand_model(true);
  ASSERT_EQ(fuse_residual_adds(m), 1u);
  const QStep& s = m.steps.back();
  const Tensor x = test::i8({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor wrong = test::i8({1, 2, 1, 2}, {1, 2, 3, 4});
  EXPECT_NE(test::error_of([&] { execute_step(m, s, {&x}); }).find("takes 2 inputs"), std::string::npos);
  EXPECT_NE(test::error_of([&] { execute_step(m, s, {&x, &wrong}); }).find("input 1 ('r') expects"), std::string::npos);
}

}  // namespace
}  // namespace vta::quant
