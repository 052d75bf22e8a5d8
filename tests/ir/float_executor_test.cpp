#include <gtest/gtest.h>

#include <cmath>

#include "ir_test_util.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/passes.h"

namespace vta::ir {
namespace {

using test::attrs;
using test::error_of;
using test::expect_floats;
using test::ft;

// One node whose inputs are all graph inputs, run through run_float (so shape inference runs too).
Tensor run1(OpKind op, const std::vector<Tensor>& inputs, Attributes a = {}) {
  Graph g("one");
  std::vector<ValueId> ins;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ins.push_back(g.add_input("in" + std::to_string(i), inputs[i].dtype(), inputs[i].shape()));
  }
  const ValueId y = g.add_value("y");
  g.add_node(op, "n", ins, {y}, std::move(a));
  g.add_output(y);
  infer_shapes(g);
  auto out = run_float(g, inputs);
  EXPECT_EQ(out.at(0).shape(), g.value(y).shape);
  EXPECT_EQ(out.at(0).dtype(), g.value(y).dtype);
  return out.at(0);
}

std::vector<float> iota(size_t n, float start = 1) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

TEST(FloatExecutor, Conv) {
  const Tensor x = ft({1, 1, 3, 3}, iota(9));
  expect_floats(run1(OpKind::kConv, {x, ft({1, 1, 2, 2}, {1, 0, 0, 1}), ft({1}, {10})}), {16, 18, 22, 24});
  // Padding reads zeros; stride 2.
  const Tensor y = run1(OpKind::kConv, {x, ft({1, 1, 3, 3}, std::vector<float>(9, 1.0f))},
                        attrs({{"strides", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  expect_floats(y, {12, 16, 24, 28});
}

TEST(FloatExecutor, ConvAsymmetricAndAutoPad) {
  const Tensor x = ft({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor w = ft({1, 1, 2, 2}, {1, 1, 1, 1});
  // pads [top, left, bottom, right] = [0, 0, 1, 1]: windows anchored top-left.
  expect_floats(run1(OpKind::kConv, {x, w}, attrs({{"pads", std::vector<int64_t>{0, 0, 1, 1}}})), {10, 6, 7, 4});
  expect_floats(run1(OpKind::kConv, {x, w}, attrs({{"auto_pad", std::string("SAME_UPPER")}})), {10, 6, 7, 4});
  expect_floats(run1(OpKind::kConv, {x, w}, attrs({{"auto_pad", std::string("SAME_LOWER")}})), {1, 3, 4, 10});
}

TEST(FloatExecutor, GroupedConv) {
  const Tensor x = ft({1, 2, 2, 2}, iota(8));
  const Tensor y = run1(OpKind::kConv, {x, ft({2, 1, 1, 1}, {2, -1})}, attrs({{"group", int64_t{2}}}));
  expect_floats(y, {2, 4, 6, 8, -5, -6, -7, -8});
  // Two groups of 2 input channels each feeding 1 output channel.
  const Tensor x4 = ft({1, 4, 1, 1}, {1, 2, 3, 4});
  expect_floats(run1(OpKind::kConv, {x4, ft({2, 2, 1, 1}, {1, 10, 100, 1000})}, attrs({{"group", int64_t{2}}})),
                {21, 4300});
}

TEST(FloatExecutor, Gemm) {
  const Tensor a = ft({2, 3}, iota(6));
  const Tensor b = ft({2, 3}, {1, 0, 0, 0, 1, 1});
  const Tensor c = ft({2}, {10, 20});
  const auto at = attrs({{"alpha", 2.0f}, {"beta", 0.5f}, {"transB", int64_t{1}}});
  expect_floats(run1(OpKind::kGemm, {a, b, c}, at), {7, 20, 13, 32});
  // transA with A given transposed; no C.
  const Tensor a_t = ft({3, 2}, {1, 4, 2, 5, 3, 6});
  expect_floats(run1(OpKind::kGemm, {a_t, b}, attrs({{"transA", int64_t{1}}, {"transB", int64_t{1}}})), {1, 5, 4, 11});
  // C of shape [2, 1] broadcasts along columns.
  expect_floats(run1(OpKind::kGemm, {a, ft({3, 2}, {1, 0, 0, 1, 0, 1}), ft({2, 1}, {100, 200})}), {101, 105, 204, 211});
}

TEST(FloatExecutor, MatMul) {
  expect_floats(run1(OpKind::kMatMul, {ft({2, 3}, iota(6)), ft({3, 2}, iota(6))}), {22, 28, 49, 64});
  const Tensor y = run1(OpKind::kMatMul, {ft({2, 1, 2}, {1, 2, 3, 4}), ft({2, 1}, {1, 1})});
  EXPECT_EQ(y.shape(), (Shape{2, 1, 1}));
  expect_floats(y, {3, 7});
}

TEST(FloatExecutor, ReluAndClip) {
  const Tensor x = ft({3}, {-1, 3, 7});
  expect_floats(run1(OpKind::kRelu, {x}), {0, 3, 7});
  expect_floats(run1(OpKind::kClip, {x}, attrs({{"min", 0.0f}, {"max", 6.0f}})), {0, 3, 6});
  expect_floats(run1(OpKind::kClip, {x, ft({}, {0}), ft({}, {6})}), {0, 3, 6});
  // Only a max input (min absent).
  Node n;
  n.op = OpKind::kClip;
  n.name = "clip";
  const Tensor hi = ft({}, {5});
  expect_floats(evaluate_node(n, {&x, nullptr, &hi}).at(0), {-1, 3, 5});
}

TEST(FloatExecutor, AddAndMulBroadcast) {
  expect_floats(run1(OpKind::kAdd, {ft({2, 3}, iota(6)), ft({3}, {10, 20, 30})}), {11, 22, 33, 14, 25, 36});
  const Tensor y = run1(OpKind::kMul, {ft({2, 1}, {1, 2}), ft({3}, {1, 2, 3})});
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  expect_floats(y, {1, 2, 3, 2, 4, 6});
  expect_floats(run1(OpKind::kMul, {ft({2}, {1, 2}), ft({}, {0.5f})}), {0.5f, 1});
}

TEST(FloatExecutor, MaxPool) {
  const auto k2s2 = attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}});
  expect_floats(run1(OpKind::kMaxPool, {ft({1, 1, 4, 4}, iota(16, 0))}, k2s2), {5, 7, 13, 15});
  // Padding never wins a max, even over negative values.
  const auto padded = attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 0, 0}}});
  expect_floats(run1(OpKind::kMaxPool, {ft({1, 1, 2, 2}, {-1, -2, -3, -4})}, padded), {-1, -1, -1, -1});
}

TEST(FloatExecutor, AveragePoolCountIncludePad) {
  const Tensor x = ft({1, 1, 2, 2}, {1, 2, 3, 4});
  auto a = attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"pads", std::vector<int64_t>{1, 1, 0, 0}}});
  expect_floats(run1(OpKind::kAveragePool, {x}, a), {1, 1.5f, 2, 2.5f});
  a.set("count_include_pad", int64_t{1});
  expect_floats(run1(OpKind::kAveragePool, {x}, a), {0.25f, 0.75f, 1, 2.5f});
}

TEST(FloatExecutor, GlobalAveragePool) {
  const Tensor y = run1(OpKind::kGlobalAveragePool, {ft({1, 2, 2, 2}, iota(8))});
  EXPECT_EQ(y.shape(), (Shape{1, 2, 1, 1}));
  expect_floats(y, {2.5f, 6.5f});
}

TEST(FloatExecutor, BatchNormalization) {
  const Tensor y = run1(OpKind::kBatchNormalization,
                        {ft({1, 2, 1, 1}, {1, 2}), ft({2}, {2, 3}), ft({2}, {0.5f, -1}), ft({2}, {1, 0}), ft({2}, {3, 15})},
                        attrs({{"epsilon", 1.0f}}));
  expect_floats(y, {0.5f, 0.5f});
}

TEST(FloatExecutor, FlattenReshapeConcat) {
  const Tensor x = ft({2, 3, 4}, iota(24));
  EXPECT_EQ(run1(OpKind::kFlatten, {x}, attrs({{"axis", int64_t{2}}})).shape(), (Shape{6, 4}));
  EXPECT_EQ(run1(OpKind::kFlatten, {x}, attrs({{"axis", int64_t{0}}})).shape(), (Shape{1, 24}));
  // Reshape with 0 (copy) and -1 (infer): the shape must be a constant.
  Graph g("reshape");
  const ValueId in = g.add_input("x", DType::kFloat32, {2, 3, 4});
  const ValueId s = g.add_constant("s", Tensor::from_values<int32_t>({2}, {0, -1}));
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kReshape, "r", {in, s}, {y});
  g.add_output(y);
  infer_shapes(g);
  const Tensor r = run_float(g, {x}).at(0);
  EXPECT_EQ(r.shape(), (Shape{2, 12}));
  expect_floats(r, iota(24));
  expect_floats(run1(OpKind::kConcat, {ft({2, 1}, {1, 2}), ft({2, 2}, {3, 4, 5, 6})}, attrs({{"axis", int64_t{1}}})),
                {1, 3, 4, 2, 5, 6});
  expect_floats(run1(OpKind::kConcat, {ft({1, 2}, {1, 2}), ft({1, 2}, {3, 4})}, attrs({{"axis", int64_t{-2}}})),
                {1, 2, 3, 4});
}

TEST(FloatExecutor, Softmax) {
  const float ln3 = std::log(3.0f), ln5 = std::log(5.0f);
  expect_floats(run1(OpKind::kSoftmax, {ft({1, 2}, {0, ln3})}), {0.25f, 0.75f});
  expect_floats(run1(OpKind::kSoftmax, {ft({1, 2, 2}, {0, 0, ln3, 0})}, attrs({{"axis", int64_t{1}}})),
                {0.25f, 0.5f, 0.75f, 0.5f});
  // Opset < 13: everything from the axis on is one row.
  expect_floats(run1(OpKind::kSoftmax, {ft({1, 2, 2}, {0, 0, 0, ln5})},
                     attrs({{"axis", int64_t{1}}, {"coerce_2d", int64_t{1}}})),
                {0.125f, 0.125f, 0.125f, 0.625f});
}

TEST(FloatExecutor, QuantizeLinearRoundsHalfToEvenAndSaturates) {
  const Tensor x = ft({8}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 300, -300, 0.26f});
  const Tensor q = run1(OpKind::kQuantizeLinear, {x, ft({}, {1}), Tensor::from_values<int8_t>({}, {0})});
  ASSERT_EQ(q.dtype(), DType::kInt8);
  EXPECT_EQ(q.to_vector<int8_t>(), (std::vector<int8_t>{0, 2, 2, 0, -2, 127, -128, 0}));
  const Tensor u = run1(OpKind::kQuantizeLinear,
                        {ft({5}, {0, 1, -64, 64, 100}), ft({}, {0.5f}), Tensor::from_values<uint8_t>({}, {128})});
  EXPECT_EQ(u.to_vector<uint8_t>(), (std::vector<uint8_t>{128, 130, 0, 255, 255}));
  // No zero point: uint8, zero point 0.
  EXPECT_EQ(run1(OpKind::kQuantizeLinear, {ft({2}, {-3, 3}), ft({}, {1})}).to_vector<uint8_t>(),
            (std::vector<uint8_t>{0, 3}));
  // Per axis.
  const Tensor p = run1(OpKind::kQuantizeLinear,
                        {ft({2, 2}, {1, 2, 3, 4}), ft({2}, {1, 2}), Tensor::from_values<int8_t>({2}, {0, 1})},
                        attrs({{"axis", int64_t{0}}}));
  EXPECT_EQ(p.to_vector<int8_t>(), (std::vector<int8_t>{1, 2, 3, 3}));
}

TEST(FloatExecutor, DequantizeLinear) {
  expect_floats(run1(OpKind::kDequantizeLinear,
                     {Tensor::from_values<int8_t>({3}, {-128, 0, 127}), ft({}, {0.5f}), Tensor::from_values<int8_t>({}, {-1})}),
                {-63.5f, 0.5f, 64});
  expect_floats(run1(OpKind::kDequantizeLinear, {Tensor::from_values<uint8_t>({2}, {0, 255}), ft({}, {2}),
                                                 Tensor::from_values<uint8_t>({}, {128})}),
                {-256, 254});
  expect_floats(run1(OpKind::kDequantizeLinear, {Tensor::from_values<int32_t>({2}, {-1000, 3}), ft({}, {0.25f})}),
                {-250, 0.75f});
}

TEST(FloatExecutor, IdentityAndDropoutCopy) {
  expect_floats(run1(OpKind::kIdentity, {ft({2}, {1, 2})}), {1, 2});
  expect_floats(run1(OpKind::kDropout, {ft({2}, {1, 2})}), {1, 2});
}

TEST(FloatExecutor, PadConstant) {
  Graph g("pad");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 1, 2, 2});
  const ValueId pads = g.add_constant("pads", Tensor::from_values<int32_t>({8}, {0, 0, 1, 0, 0, 0, 0, 1}));
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kPad, "pad", {x, pads, g.add_constant("v", ft({}, {9}))}, {y});
  g.add_output(y);
  infer_shapes(g);
  EXPECT_EQ(g.value(y).shape, (Shape{1, 1, 3, 3}));
  expect_floats(run_float(g, {ft({1, 1, 2, 2}, {1, 2, 3, 4})}).at(0), {9, 9, 9, 1, 2, 9, 3, 4, 9});
}

TEST(FloatExecutor, ChecksInputsAndReportsEveryValue) {
  Graph g("net");
  const ValueId x = g.add_input("image", DType::kFloat32, {1, 3});
  const ValueId a = g.add_value("a");
  const ValueId b = g.add_value("b");
  g.add_node(OpKind::kRelu, "r", {x}, {a});
  g.add_node(OpKind::kAdd, "add", {a, g.add_constant("one", ft({}, {1}))}, {b});
  g.add_output(b);
  infer_shapes(g);
  EXPECT_EQ(error_of([&] { run_float(g, {Tensor(DType::kFloat32, {1, 4})}); }),
            "graph 'net': input 'image' expects f32[1,3], got f32[1,4]");
  EXPECT_EQ(error_of([&] { run_float(g, {Tensor(DType::kInt8, {1, 3})}); }),
            "graph 'net': input 'image' expects f32[1,3], got i8[1,3]");
  EXPECT_EQ(error_of([&] { run_float(g, {}); }), "graph 'net' takes 1 inputs, got 0");
  const Tensor in = ft({1, 3}, {-1, 0, 2});
  std::vector<ValueId> seen;
  const auto out = run_float(g, {in}, [&](ValueId v, const Tensor&) { seen.push_back(v); });
  EXPECT_EQ(seen, (std::vector<ValueId>{a, b}));
  expect_floats(out.at(0), {1, 1, 3});
  const auto all = run_float_all(g, {in});
  expect_floats(all.at(a), {0, 0, 2});
  expect_floats(all.at(x), {-1, 0, 2});
}

}  // namespace
}  // namespace vta::ir
