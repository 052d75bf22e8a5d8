// quantize(): exps, fusions, golden text, error bounds against the float executor, QDQ handling, errors.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "quant_test_util.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/passes.h"
#include "vta/quant/int8_executor.h"
#include "vta/quant/quantize.h"

namespace vta::quant {
namespace {

using ir::Graph;
using ir::OpKind;
using ir::ValueId;
using test::attrs;
using test::error_of;
using test::f32;
using test::random_f32;
using test::random_normal;

using Ints = std::vector<int64_t>;

using test::thresholds;

std::vector<QOp> ops(const QModel& m) {
  std::vector<QOp> v;
  for (const QStep& s : m.steps) v.push_back(s.op);
  return v;
}

TEST(Quantize, ExpForThreshold) {
  EXPECT_EQ(exp_for_threshold(127.0), 0);
  EXPECT_EQ(exp_for_threshold(1.0), 6);     // 127 / 1 = 2^6.99
  EXPECT_EQ(exp_for_threshold(0.5), 7);
  EXPECT_EQ(exp_for_threshold(127.0 / 64), 6);  // exactly 2^6
  EXPECT_EQ(exp_for_threshold(128.0), -1);
  EXPECT_EQ(exp_for_threshold(1000.0), -3);
}

// x (1,2,4,4) -> Conv 3x3 pad 1 (4 out, bias) -> [act] -> y
struct ConvGraph {
  Graph g{"conv"};
  ValueId x, c, y;
};

ConvGraph conv_graph(OpKind act, float clip_hi = 6.0f) {
  ConvGraph t;
  t.x = t.g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId w = t.g.add_constant("w", random_f32({4, 2, 3, 3}, 1, -0.5f, 0.5f));
  const ValueId b = t.g.add_constant("b", f32({4}, {0.1f, -0.2f, 0.3f, 0.0f}));
  t.c = t.g.add_value("c");
  t.g.add_node(OpKind::kConv, "conv", {t.x, w, b}, {t.c}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  t.y = t.c;
  if (act == OpKind::kRelu) {
    t.y = t.g.add_value("y");
    t.g.add_node(OpKind::kRelu, "relu", {t.c}, {t.y});
  } else if (act == OpKind::kClip) {
    t.y = t.g.add_value("y");
    t.g.add_node(OpKind::kClip, "clip", {t.c, t.g.add_constant("lo", f32({}, {0.0f})), t.g.add_constant("hi", f32({}, {clip_hi}))},
                 {t.y});
  }
  t.g.add_output(t.y);
  ir::run_default_passes(t.g);
  return t;
}

// The per-tensor rule (QuantizeOptions::per_channel = false); per_channel_test.cpp covers per channel.
QuantizeOptions per_tensor() {
  QuantizeOptions o;
  o.per_channel = false;
  return o;
}

TEST(Quantize, ConvBiasShiftAndRoundingTerm) {
  ConvGraph t = conv_graph(OpKind::kIdentity);
  // x: T = 1 -> exp 6; output T = 3 -> exp 5
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.c, 3.0}}), per_tensor());
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kDequantize}));
  const QStep& s = m.steps[1];
  // max |w| < 0.5 -> exp_w >= 8; shift = 6 + exp_w - 5
  const double maxw = [&] {
    double mx = 0;
    const Tensor& w = *t.g.value(*t.g.find_value("w")).constant;
    for (size_t i = 0; i < w.size(); ++i) mx = std::max(mx, std::fabs(double{w.data<float>()[i]}));
    return mx;
  }();
  const int32_t exp_w = static_cast<int32_t>(std::floor(std::log2(127.0 / maxw)));
  EXPECT_EQ(s.weight_exp, exp_w);
  EXPECT_EQ(s.requant.shift, 6 + exp_w - 5);
  EXPECT_EQ(m.tensor(s.output).exp, 5);
  const int32_t round = 1 << (s.requant.shift - 1);
  EXPECT_EQ(s.bias->data<int32_t>()[0], std::lround(0.1 * std::ldexp(1.0, 6 + exp_w)) + round);
  EXPECT_EQ(s.bias->data<int32_t>()[3], round);
  EXPECT_FALSE(s.requant.relu);
  // the largest weight maps into [64, 127]
  int mx = 0;
  for (size_t i = 0; i < s.weight->size(); ++i) mx = std::max(mx, std::abs(int{s.weight->data<int8_t>()[i]}));
  EXPECT_GE(mx, 64);
  EXPECT_LE(mx, 127);
}

TEST(Quantize, NegativeShiftRaisesTheOutputExp) {
  ConvGraph t = conv_graph(OpKind::kIdentity);
  // x: T = 100 -> exp 0; output T = 1e-6 wants exp 26 > 0 + exp_w: output exp = exp_in + exp_w, shift 0
  const QModel m = quantize(t.g, thresholds({{t.x, 100.0}, {t.c, 1e-6}}), per_tensor());
  const QStep& s = m.steps[1];
  EXPECT_EQ(s.requant.shift, 0);
  EXPECT_EQ(m.tensor(s.output).exp, s.weight_exp);
  EXPECT_EQ(s.bias->data<int32_t>()[3], 0);  // no rounding term at shift 0
}

TEST(Quantize, ShiftAbove31IsClamped) {
  ConvGraph t = conv_graph(OpKind::kIdentity);
  // x: T = 1e-6 -> exp 26; output T = 1e6 -> exp -13: shift would exceed 31
  const QModel m = quantize(t.g, thresholds({{t.x, 1e-6}, {t.c, 1e6}}), per_tensor());
  const QStep& s = m.steps[1];
  EXPECT_EQ(s.requant.shift, 31);
  EXPECT_EQ(m.tensor(s.output).exp, 26 + s.weight_exp - 31);
}

TEST(Quantize, FusesRelu) {
  ConvGraph t = conv_graph(OpKind::kRelu);
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.c, 3.0}, {t.y, 2.0}}));
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kDequantize}));
  EXPECT_TRUE(m.steps[1].requant.relu);
  EXPECT_EQ(m.steps[1].requant.lo(), 0);
  EXPECT_EQ(m.tensor(m.steps[1].output).name, "y");
  EXPECT_EQ(m.tensor(m.steps[1].output).exp, 5);  // from the relu output's threshold 2
}

TEST(Quantize, FusesClipWithBounds) {
  ConvGraph t = conv_graph(OpKind::kClip);
  // output T = 6 -> exp 4: hi = round(6 * 16) = 96
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.c, 8.0}, {t.y, 6.0}}));
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kDequantize}));
  EXPECT_EQ(m.steps[1].requant.clip_lo, 0);
  EXPECT_EQ(m.steps[1].requant.clip_hi, 96);
  // a bound beyond the int8 range saturates: T = 2 -> exp 5, 6 * 32 = 192 -> 127
  const QModel m2 = quantize(t.g, thresholds({{t.x, 1.0}, {t.c, 8.0}, {t.y, 2.0}}));
  EXPECT_EQ(m2.steps[1].requant.clip_hi, 127);
}

TEST(Quantize, DoesNotFuseAnActivationWhenTheValueHasOtherUsers) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId c = g.add_value("c"), r = g.add_value("r"), y = g.add_value("y");
  g.add_node(OpKind::kConv, "conv", {x, g.add_constant("w", random_f32({2, 2, 1, 1}, 3))}, {c});
  g.add_node(OpKind::kRelu, "relu", {c}, {r});
  g.add_node(OpKind::kAdd, "add", {c, r}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  const QModel m = quantize(g, thresholds({{x, 1.0}, {c, 2.0}, {r, 2.0}, {y, 4.0}}));
  EXPECT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kRelu, QOp::kAdd, QOp::kDequantize}));
  EXPECT_FALSE(m.steps[1].requant.relu);
}

TEST(Quantize, AddAlignsExpsAndFusesRelu) {
  Graph g("g");
  const ValueId a = g.add_input("a", DType::kFloat32, {1, 4});
  const ValueId b = g.add_value("b"), s = g.add_value("s"), y = g.add_value("y");
  g.add_node(OpKind::kClip, "halve", {a}, {b}, attrs({{"min", -0.5f}, {"max", 0.5f}}));
  g.add_node(OpKind::kAdd, "add", {a, b}, {s});
  g.add_node(OpKind::kRelu, "relu", {s}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  // a: T = 4 -> exp 4 (kept by the standalone clip, whose bounds are +-8); y: T = 4 -> exp 4
  const QModel m = quantize(g, thresholds({{a, 4.0}, {b, 0.5}, {s, 4.0}, {y, 4.0}}));
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kClip, QOp::kAdd, QOp::kDequantize}));
  EXPECT_EQ(m.steps[1].clip_lo, -8);
  EXPECT_EQ(m.steps[1].clip_hi, 8);
  const QStep& add = m.steps[2];
  EXPECT_EQ(add.shift_a, 0);
  EXPECT_EQ(add.shift_b, 0);
  EXPECT_EQ(add.requant.shift, 0);
  EXPECT_TRUE(add.requant.relu);
}

// x -> conv1 (exp from T1) and conv2 (exp from T2), Add of both.
struct AddGraph {
  Graph g{"add"};
  ValueId x, c1, c2, y;
};
AddGraph add_graph() {
  AddGraph t;
  t.x = t.g.add_input("x", DType::kFloat32, {1, 2, 2, 2});
  t.c1 = t.g.add_value("c1");
  t.c2 = t.g.add_value("c2");
  t.y = t.g.add_value("y");
  t.g.add_node(OpKind::kConv, "conv1", {t.x, t.g.add_constant("w1", random_f32({2, 2, 1, 1}, 5))}, {t.c1});
  t.g.add_node(OpKind::kConv, "conv2", {t.x, t.g.add_constant("w2", random_f32({2, 2, 1, 1}, 6))}, {t.c2});
  t.g.add_node(OpKind::kAdd, "add", {t.c1, t.c2}, {t.y});
  t.g.add_output(t.y);
  ir::run_default_passes(t.g);
  return t;
}

TEST(Quantize, AddShiftsTheCoarserInput) {
  AddGraph t = add_graph();
  // c1: T = 1 -> exp 6, c2: T = 8 -> exp 3, y: T = 8 -> exp 3: E = 6, shift_b = 3, shift = 3 (round 4)
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.c1, 1.0}, {t.c2, 8.0}, {t.y, 8.0}}));
  const QStep& add = m.steps[3];
  ASSERT_EQ(add.op, QOp::kAdd);
  EXPECT_EQ(add.shift_a, 0);
  EXPECT_EQ(add.shift_b, 3);
  EXPECT_EQ(add.requant.shift, 3);
  // executor: a = 64 (1.0), b = 8 (1.0): (64 + 64 + 4) >> 3 = 16 = 2.0 at exp 3
  const Tensor a = test::i8({1, 2, 2, 2}, {64, 0, 0, 0, 0, 0, 0, -64}), b = test::i8({1, 2, 2, 2}, {8, 0, 0, 0, 0, 0, 0, -8});
  const Tensor out = execute_step(m, add, {&a, &b});
  EXPECT_EQ(out.data<int8_t>()[0], 16);
  EXPECT_EQ(out.data<int8_t>()[7], -16);
}

TEST(Quantize, AddWithExpsFarApartRequantizesTheFinerInput) {
  AddGraph t = add_graph();
  // c1: T = 1/64 -> exp 12, c2: T = 8 -> exp 3: 9 apart; c1 is requantized to exp 9 first
  const QModel m = quantize(t.g, thresholds({{t.x, 1.0}, {t.c1, 1.0 / 64}, {t.c2, 8.0}, {t.y, 8.0}}));
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kConv2d, QOp::kConcat, QOp::kAdd, QOp::kDequantize}));
  const QStep& align = m.steps[3];
  EXPECT_EQ(m.tensor(align.output).exp, 9);
  EXPECT_EQ(m.tensor(align.output).name, "c1.align");
  ASSERT_EQ(align.notes.size(), 1u);
  EXPECT_EQ(align.notes[0], "Add 'add': input exps 12 and 3 differ by more than 6; 'c1' requantized to 2^-9");
  EXPECT_EQ(m.steps[4].shift_a, 0);
  EXPECT_EQ(m.steps[4].shift_b, 6);
}

TEST(Quantize, PoolsReshapeConcatSoftmax) {
  Graph g("net");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId mp = g.add_value("mp"), ap = g.add_value("ap"), cat = g.add_value("cat"), gp = g.add_value("gp"),
                fl = g.add_value("fl"), sm = g.add_value("sm");
  g.add_node(OpKind::kMaxPool, "maxpool", {x}, {mp}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  g.add_node(OpKind::kAveragePool, "avgpool", {x}, {ap},
             attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kConcat, "concat", {mp, ap}, {cat}, attrs({{"axis", int64_t{1}}}));
  g.add_node(OpKind::kGlobalAveragePool, "gap", {cat}, {gp});
  g.add_node(OpKind::kFlatten, "flatten", {gp}, {fl}, attrs({{"axis", int64_t{1}}}));
  g.add_node(OpKind::kSoftmax, "softmax", {fl}, {sm}, attrs({{"axis", int64_t{1}}}));
  g.add_output(sm);
  ir::run_default_passes(g);
  const Tensor in = random_f32({1, 2, 4, 4}, 9, -2.0f, 2.0f);
  const Calibration cal = calibrate(g, {in}, CalibrationMethod::kMax);
  const QModel m = quantize(g, cal);
  EXPECT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kMaxPool, QOp::kAvgPool, QOp::kConcat, QOp::kGlobalAvgPool,
                                      QOp::kReshape, QOp::kSoftmax}));
  EXPECT_EQ(m.tensor(m.output).dtype, DType::kFloat32);
  EXPECT_EQ(m.tensor(m.output).name, "sm");
  const int32_t e = m.tensor(m.steps[0].output).exp;
  for (size_t i = 1; i < 6; ++i) EXPECT_EQ(m.tensor(m.steps[i].output).exp, e) << i;
  EXPECT_FALSE(m.steps[2].pool.count_include_pad);
  EXPECT_EQ(m.steps[2].pool.pad_top, 1u);
  const Tensor want = ir::run_float(g, {in})[0];
  const Tensor got = run_int8(m, in)[0];
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 0.02) << i;
}

TEST(Quantize, ConcatTakesTheSmallestExp) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2});
  const ValueId a = g.add_value("a"), b = g.add_value("b"), y = g.add_value("y");
  g.add_node(OpKind::kGemm, "fa", {x, g.add_constant("wa", f32({2, 2}, {1, 0, 0, 1}))}, {a}, attrs({{"transB", int64_t{1}}}));
  g.add_node(OpKind::kGemm, "fb", {x, g.add_constant("wb", f32({2, 2}, {4, 0, 0, 4}))}, {b}, attrs({{"transB", int64_t{1}}}));
  g.add_node(OpKind::kConcat, "cat", {a, b}, {y}, attrs({{"axis", int64_t{-1}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  const QModel m = quantize(g, thresholds({{x, 1.0}, {a, 1.0}, {b, 4.0}, {y, 1.0}}));
  const QStep& cat = m.steps[3];
  ASSERT_EQ(cat.op, QOp::kConcat);
  EXPECT_EQ(cat.axis, 1);
  EXPECT_EQ(m.tensor(cat.output).exp, 4);  // min(6, 4)
  const Tensor in = f32({1, 2}, {0.5f, -0.25f});
  const Tensor got = run_int8(m, in)[0];
  EXPECT_EQ(got.to_vector<float>(), (std::vector<float>{0.5f, -0.25f, 2.0f, -1.0f}));
}

TEST(Quantize, FoldsAZeroPadIntoConvAndAveragePool) {
  Graph g("pad");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId p1 = g.add_value("p1"), c = g.add_value("c"), p2 = g.add_value("p2"), y = g.add_value("y");
  g.add_node(OpKind::kPad, "pad1", {x, g.add_constant("pads1", test::i32({8}, {0, 0, 1, 2, 0, 0, 1, 0}))}, {p1});
  g.add_node(OpKind::kConv, "conv", {p1, g.add_constant("w", random_f32({2, 2, 3, 3}, 12))}, {c});
  g.add_node(OpKind::kPad, "pad2", {c, g.add_constant("pads2", test::i32({8}, {0, 0, 1, 1, 0, 0, 1, 1}))}, {p2});
  g.add_node(OpKind::kAveragePool, "avg", {p2}, {y}, attrs({{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  const Tensor in = random_f32({1, 2, 4, 4}, 13);
  const QModel m = quantize(g, calibrate(g, {in}, CalibrationMethod::kMax));
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kAvgPool, QOp::kDequantize}));
  const QStep& conv = m.steps[1];
  EXPECT_EQ(std::vector<uint32_t>({conv.conv.pad_top, conv.conv.pad_left, conv.conv.pad_bottom, conv.conv.pad_right}),
            std::vector<uint32_t>({1, 2, 1, 0}));
  EXPECT_TRUE(m.steps[2].pool.count_include_pad);
  EXPECT_EQ(m.steps[2].pool.pad_top, 1u);
  EXPECT_LT(test::relative_l2(run_int8(m, in)[0], ir::run_float(g, {in})[0]), 0.03);
}

TEST(Quantize, DepthwiseConvKeepsGroups) {
  Graph g("dw");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4, 5, 5});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kConv, "dw", {x, g.add_constant("w", random_f32({4, 1, 3, 3}, 4))}, {y},
             attrs({{"group", int64_t{4}}, {"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  std::vector<Tensor> samples;
  for (uint32_t i = 0; i < 4; ++i) samples.push_back(random_f32({1, 4, 5, 5}, 100 + i));
  const QModel m = quantize(g, calibrate(g, samples, CalibrationMethod::kMax));
  ASSERT_EQ(m.steps[1].op, QOp::kConv2d);
  EXPECT_EQ(m.steps[1].conv.groups, 4u);
  EXPECT_EQ(m.steps[1].conv.stride_h, 2u);
  const Tensor in = random_f32({1, 4, 5, 5}, 200);
  EXPECT_LT(test::relative_l2(run_int8(m, in)[0], ir::run_float(g, {in})[0]), 0.03);
}

TEST(Quantize, GoldenText) {
  // x (1,2,4,4) -> conv 3x3 (3 out) + relu -> maxpool 2x2 -> flatten -> gemm (2) -> y
  Graph g("tiny");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId c = g.add_value("c"), r = g.add_value("r"), p = g.add_value("p"), f = g.add_value("f"), y = g.add_value("y");
  std::vector<float> w(3 * 2 * 9);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 7) - 3) / 8.0f;  // max 3/8
  g.add_node(OpKind::kConv, "conv", {x, g.add_constant("w", f32({3, 2, 3, 3}, w)), g.add_constant("b", f32({3}, {0.5f, 0, -0.5f}))},
             {c}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kRelu, "relu", {c}, {r});
  g.add_node(OpKind::kMaxPool, "pool", {r}, {p}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  g.add_node(OpKind::kFlatten, "flatten", {p}, {f}, attrs({{"axis", int64_t{1}}}));
  g.add_node(OpKind::kGemm, "fc", {f, g.add_constant("fw", f32({2, 12}, std::vector<float>(24, 0.25f)))}, {y},
             attrs({{"transB", int64_t{1}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  // x: T 1 -> e6; w: 3/8 -> e8; r: T 4 -> e4 (shift 10); fw: 0.25 -> e8; y: T 16 -> e2 (shift 10)
  const QModel m = quantize(g, thresholds({{x, 1.0}, {c, 4.0}, {r, 4.0}, {p, 4.0}, {f, 4.0}, {y, 16.0}}));
  EXPECT_EQ(m.to_text(),
            "qmodel \"tiny\": %x:f32[1,2,4,4] -> %y.dq:f32[1,2]\n"
            "# note: calibration: max over 1 sample(s)\n"
            "%x.q:i8[1,2,4,4]@e6 = Quantize(%x:f32[1,2,4,4])\n"
            "%r:i8[1,3,4,4]@e4 = Conv2d(%x.q:i8[1,2,4,4]@e6) {w=i8[3,2,3,3]@e8, bias=i32[3], stride=1x1, pad=1,1,1,1, "
            "groups=1, shift=10, clip=[0,127]}\n"
            "%p:i8[1,3,2,2]@e4 = MaxPool(%r:i8[1,3,4,4]@e4) {kernel=2x2, stride=2x2, pad=0,0,0,0}\n"
            "%f:i8[1,12]@e4 = Reshape(%p:i8[1,3,2,2]@e4)\n"
            "%y:i8[1,2]@e2 = Dense(%f:i8[1,12]@e4) {w=i8[2,12]@e8, bias=i32[2], shift=10, clip=[-128,127]}\n"
            "%y.dq:f32[1,2] = Dequantize(%y:i8[1,2]@e2)\n");
  // bias: 0.5 * 2^14 + 2^9
  EXPECT_EQ(m.steps[1].bias->to_vector<int32_t>(), (std::vector<int32_t>{8192 + 512, 512, -8192 + 512}));
}

// ---- accuracy ----

TEST(Quantize, SmallCnnStaysWithinFivePercent) {
  // conv 3x3 (3 -> 8) + relu -> maxpool 2 -> conv 3x3 (8 -> 8) + relu -> flatten -> dense 10.
  // Error budget: each int8 tensor with a power-of-two scale covering its range has a rounding error of at
  // most half a step, i.e. <= 1/256 of the range... 1/128 when the power of two halves it; summed over
  // independent errors in 4 requantizations, inputs and weights, the relative L2 error of the logits is a few
  // percent at most (measured ~1%); 5% leaves room without hiding a wrong shift (which is off by >= 50%).
  Graph g("cnn");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 3, 8, 8});
  const ValueId c1 = g.add_value("c1"), r1 = g.add_value("r1"), p1 = g.add_value("p1"), c2 = g.add_value("c2"),
                r2 = g.add_value("r2"), fl = g.add_value("fl"), y = g.add_value("y");
  g.add_node(OpKind::kConv, "conv1", {x, g.add_constant("w1", random_normal({8, 3, 3, 3}, 1, 0.3f)), g.add_constant("b1", random_normal({8}, 2, 0.1f))},
             {c1}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kRelu, "relu1", {c1}, {r1});
  g.add_node(OpKind::kMaxPool, "pool", {r1}, {p1}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  g.add_node(OpKind::kConv, "conv2", {p1, g.add_constant("w2", random_normal({8, 8, 3, 3}, 3, 0.15f)), g.add_constant("b2", random_normal({8}, 4, 0.1f))},
             {c2}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kRelu, "relu2", {c2}, {r2});
  g.add_node(OpKind::kFlatten, "flatten", {r2}, {fl}, attrs({{"axis", int64_t{1}}}));
  g.add_node(OpKind::kGemm, "fc", {fl, g.add_constant("w3", random_normal({128, 10}, 5, 0.1f)), g.add_constant("b3", random_normal({10}, 6, 0.1f))},
             {y});  // transB = 0: canonicalize transposes it
  g.add_output(y);
  ir::run_default_passes(g);
  std::vector<Tensor> calib;
  for (uint32_t i = 0; i < 16; ++i) calib.push_back(random_normal({1, 3, 8, 8}, 1000 + i));
  for (auto method : {CalibrationMethod::kMax, CalibrationMethod::kPercentile, CalibrationMethod::kKl}) {
    SCOPED_TRACE(std::string(to_string(method)));
    const Calibration cal = calibrate(g, calib, method);
    const QModel m = quantize(g, cal);
    EXPECT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kMaxPool, QOp::kConv2d, QOp::kReshape,
                                        QOp::kDense, QOp::kDequantize}));
    double worst = 0;
    for (uint32_t i = 0; i < 8; ++i) {
      const Tensor in = random_normal({1, 3, 8, 8}, 5000 + i);
      worst = std::max(worst, test::relative_l2(run_int8(m, in)[0], ir::run_float(g, {in})[0]));
    }
    EXPECT_LT(worst, method == CalibrationMethod::kMax ? 0.05 : 0.08);
  }
}

// ---- QDQ ----

// x -> Q(sx) -> DQ -> Conv(DQ(int8 w, sw)) -> y
struct QdqGraph {
  Graph g{"qdq"};
  ValueId x, y;
};
QdqGraph qdq_graph(float sx, float sw, int8_t x_zero = 0) {
  QdqGraph t;
  Graph& g = t.g;
  t.x = g.add_input("x", DType::kFloat32, {1, 2, 3, 3});
  const ValueId xq = g.add_value("xq"), xdq = g.add_value("xdq"), wdq = g.add_value("wdq");
  t.y = g.add_value("y");
  const ValueId sxv = g.add_constant("sx", f32({}, {sx})), zx = g.add_constant("zx", test::i8({}, {x_zero}));
  g.add_node(OpKind::kQuantizeLinear, "qx", {t.x, sxv, zx}, {xq});
  g.add_node(OpKind::kDequantizeLinear, "dqx", {xq, sxv, zx}, {xdq});
  const Tensor wq = test::random_i8({3, 2, 3, 3}, 77);
  g.add_node(OpKind::kDequantizeLinear, "dqw",
             {g.add_constant("wq", wq), g.add_constant("sw", f32({}, {sw})), g.add_constant("zw", test::i8({}, {0}))}, {wdq});
  g.add_node(OpKind::kConv, "conv", {xdq, wdq}, {t.y}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_output(t.y);
  ir::run_default_passes(g);
  return t;
}

TEST(QuantizeQdq, PowerOfTwoScalesAreKeptExactly) {
  QdqGraph t = qdq_graph(1.0f / 32, 1.0f / 128);
  std::vector<Tensor> samples{random_f32({1, 2, 3, 3}, 1, -3.0f, 3.0f)};
  const Calibration cal = calibrate(t.g, samples, CalibrationMethod::kMax);
  const QModel m = quantize(t.g, cal);
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kDequantize}));
  EXPECT_EQ(m.tensor(m.steps[0].output).exp, 5);
  EXPECT_EQ(m.steps[1].weight_exp, 7);
  EXPECT_EQ(*m.steps[1].weight, test::random_i8({3, 2, 3, 3}, 77));
  EXPECT_EQ(m.notes.size(), 1u);  // calibration only
  // The float graph computes exactly sum(qx * qw) * 2^-12; the int8 result differs by the final rounding only.
  const Tensor in = samples[0];
  const Tensor want = ir::run_float(t.g, {in})[0];
  const Tensor got = run_int8(m, in)[0];
  const double half_step = std::ldexp(0.5, -m.tensor(m.steps[1].output).exp);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_LE(std::fabs(got.data<float>()[i] - want.data<float>()[i]), half_step + 1e-6) << i;
}

TEST(QuantizeQdq, NonPowerOfTwoScalesAreRoundedWithANote) {
  QdqGraph t = qdq_graph(0.03f, 0.01f);
  const Calibration cal = calibrate(t.g, {random_f32({1, 2, 3, 3}, 1, -3.0f, 3.0f)}, CalibrationMethod::kMax);
  const QModel m = quantize(t.g, cal);
  EXPECT_EQ(m.tensor(m.steps[0].output).exp, 5);  // 0.03 = 2^-5.06
  ASSERT_EQ(m.steps[0].notes.size(), 1u);
  EXPECT_EQ(m.steps[0].notes[0], "QDQ scale 0.03 of tensor 'x' is not a power of two; using 2^-5");
  // weights: 0.01 * 127 = 1.27 at most -> requantized by the weight rule
  ASSERT_EQ(m.steps[1].notes.size(), 1u);
  EXPECT_EQ(m.steps[1].notes[0].rfind("QDQ scale 0.01 of weight 'wq' is not a power of two; requantized to 2^-", 0), 0u)
      << m.steps[1].notes[0];
  EXPECT_EQ(m.notes.size(), 3u);
  EXPECT_NE(m.to_text().find("  # note: QDQ scale 0.03 of tensor 'x'"), std::string::npos) << m.to_text();
}

TEST(QuantizeQdq, NonzeroZeroPointIsAnError) {
  QdqGraph t = qdq_graph(1.0f / 32, 1.0f / 128, 3);
  const Calibration cal = thresholds({{t.x, 1.0}, {t.y, 1.0}});
  EXPECT_EQ(error_of([&] { quantize(t.g, cal); }),
            "cannot quantize node 'dqx' (DequantizeLinear): asymmetric quantization is not supported: zero point 3 on tensor 'x'");
}

TEST(QuantizeQdq, PerChannelWeightsInt32BiasAndOutputPair) {
  // onnxruntime-quantizer layout: Q/DQ input, int8 weight with per-channel scales, int32 bias DQ without a
  // zero point, Relu, Q/DQ output with scale 2^-4.
  Graph g("qdq_pc");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId xq = g.add_value("xq"), xdq = g.add_value("xdq"), wdq = g.add_value("wdq"), bdq = g.add_value("bdq"),
                c = g.add_value("c"), r = g.add_value("r"), yq = g.add_value("yq"), y = g.add_value("y");
  const ValueId sx = g.add_constant("sx", f32({}, {1.0f / 32})), z8 = g.add_constant("z8", test::i8({}, {0}));
  g.add_node(OpKind::kQuantizeLinear, "qx", {x, sx, z8}, {xq});
  g.add_node(OpKind::kDequantizeLinear, "dqx", {xq, sx, z8}, {xdq});
  const ValueId sw = g.add_constant("sw", f32({3}, {0.01f, 0.02f, 0.005f}));
  g.add_node(OpKind::kDequantizeLinear, "dqw", {g.add_constant("wq", test::random_i8({3, 2, 3, 3}, 8)), sw, g.add_constant("zw", test::i8({3}, {0, 0, 0}))},
             {wdq}, attrs({{"axis", int64_t{0}}}));
  g.add_node(OpKind::kDequantizeLinear, "dqb", {g.add_constant("bq", test::i32({3}, {100, -200, 50})), g.add_constant("sb", f32({3}, {1e-3f, 1e-3f, 1e-3f}))},
             {bdq}, attrs({{"axis", int64_t{0}}}));
  g.add_node(OpKind::kConv, "conv", {xdq, wdq, bdq}, {c}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kRelu, "relu", {c}, {r});
  const ValueId sy = g.add_constant("sy", f32({}, {1.0f / 16}));
  g.add_node(OpKind::kQuantizeLinear, "qy", {r, sy, z8}, {yq});
  g.add_node(OpKind::kDequantizeLinear, "dqy", {yq, sy, z8}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  const Tensor in = random_f32({1, 2, 4, 4}, 2, -2.0f, 2.0f);
  const QModel m = quantize(g, calibrate(g, {in}, CalibrationMethod::kMax));
  ASSERT_EQ(ops(m), (std::vector<QOp>{QOp::kQuantize, QOp::kConv2d, QOp::kDequantize}));
  const QStep& conv = m.steps[1];
  EXPECT_TRUE(conv.requant.relu);
  EXPECT_EQ(m.tensor(conv.output).exp, 4);
  EXPECT_EQ(m.tensor(conv.output).name, "r");
  // Per channel (the default): scales 0.01, 0.02, 0.005 give three exps, one shift each.
  ASSERT_EQ(conv.notes.size(), 1u);
  ASSERT_EQ(conv.channel_shift.size(), 3u);
  const int32_t e0 = conv.weight_exp + conv.channel_shift[0] - conv.requant.shift;
  EXPECT_EQ(conv.notes[0], fmt::format("per-channel QDQ scales of weight 'wq' requantized per channel to 2^-{}..2^-{}",
                                       conv.weight_exp, conv.weight_exp + 2));
  EXPECT_EQ(conv.channel_shift[1], conv.requant.shift);  // the largest scale: the coarsest exp
  // bias 100 * 1e-3 = 0.1: round(0.1 * 2^(5 + exp_w[0])) + rounding term
  EXPECT_EQ(conv.bias->data<int32_t>()[0],
            std::lround(0.1 * std::ldexp(1.0, 5 + e0)) + (1 << (conv.channel_shift[0] - 1)));
  // Per tensor: one exp, the note says so.
  const QModel pt = quantize(g, calibrate(g, {in}, CalibrationMethod::kMax), per_tensor());
  ASSERT_EQ(pt.steps[1].notes.size(), 1u);
  EXPECT_EQ(pt.steps[1].notes[0],
            fmt::format("per-channel QDQ scales of weight 'wq' requantized per tensor to 2^-{}", pt.steps[1].weight_exp));
  EXPECT_TRUE(pt.steps[1].channel_shift.empty());
  EXPECT_EQ(pt.steps[1].bias->data<int32_t>()[0],
            std::lround(0.1 * std::ldexp(1.0, 5 + pt.steps[1].weight_exp)) + (1 << (pt.steps[1].requant.shift - 1)));
  // The float graph rounds its output to 2^-4 as well: the int8 result is within one step of it.
  const Tensor want = ir::run_float(g, {in})[0];
  const Tensor got = run_int8(m, in)[0];
  for (size_t i = 0; i < want.size(); ++i) EXPECT_LE(std::fabs(got.data<float>()[i] - want.data<float>()[i]), 1.0 / 16 + 1e-6) << i;
}

TEST(QuantizeQdq, Uint8IsAnError) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  const ValueId q = g.add_value("q"), y = g.add_value("y");
  const ValueId s = g.add_constant("s", f32({}, {0.5f}));
  g.add_node(OpKind::kQuantizeLinear, "qx", {x, s}, {q});
  g.add_node(OpKind::kDequantizeLinear, "dqx", {q, s}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  EXPECT_EQ(error_of([&] { quantize(g, thresholds({{x, 1.0}})); }),
            "cannot quantize node 'dqx' (DequantizeLinear): uint8 quantization of tensor 'x' is not supported (only "
            "symmetric int8)");
}

// ---- errors ----

TEST(Quantize, UnsupportedOpsAreNamed) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kMul, "scale", {x, x}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  EXPECT_EQ(error_of([&] { quantize(g, thresholds({{x, 1.0}, {y, 1.0}})); }),
            "cannot quantize node 'scale' (Mul): the op is not supported by the int8 quantizer");
}

TEST(Quantize, MissingCalibrationIsNamed) {
  ConvGraph t = conv_graph(OpKind::kIdentity);
  EXPECT_EQ(error_of([&] { quantize(t.g, thresholds({{t.x, 1.0}})); }), "calibration has no threshold for value 'c'");
}

TEST(Quantize, ConstantOperandOfAddIsAnError) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kAdd, "add", {x, g.add_constant("k", f32({1, 4}, {1, 2, 3, 4}))}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  EXPECT_EQ(error_of([&] { quantize(g, thresholds({{x, 1.0}, {y, 1.0}})); }),
            "cannot quantize node 'add' (Add): input 1 ('k') is a constant; only weights and biases may be");
}

}  // namespace
}  // namespace vta::quant
