#include <gtest/gtest.h>

#include <regex>

#include "ir_test_util.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/passes.h"
#include "vta/ir/printer.h"

namespace vta::ir {
namespace {

using test::attrs;
using test::error_of;
using test::ft;
using test::max_abs_diff;
using test::random_tensor;

// ---- infer_shapes ----

TEST(InferShapes, ReportsMismatchesNamingTheNode) {
  {
    Graph g("g");
    const ValueId a = g.add_input("a", DType::kFloat32, {2, 3});
    const ValueId b = g.add_input("b", DType::kFloat32, {4});
    g.add_node(OpKind::kAdd, "add", {a, b}, {g.add_value("y")});
    EXPECT_EQ(error_of([&] { infer_shapes(g); }), "node 'add' (Add): shapes [2,3] and [4] cannot be broadcast together");
  }
  {
    Graph g("g");
    const ValueId x = g.add_input("x", DType::kFloat32, {1, 3, 4, 4});
    const ValueId w = g.add_constant("w", Tensor(DType::kFloat32, {8, 4, 3, 3}));
    g.add_node(OpKind::kConv, "c", {x, w}, {g.add_value("y")});
    EXPECT_EQ(error_of([&] { infer_shapes(g); }),
              "node 'c' (Conv): channel mismatch: input [1,3,4,4] has 3 channels, weight [8,4,3,3] with group 1 expects 4");
  }
  {
    Graph g("g");
    const ValueId x = g.add_input("x", DType::kFloat32, {2, 3});
    const ValueId s = g.add_input("s", DType::kInt32, {2});
    g.add_node(OpKind::kReshape, "r", {x, s}, {g.add_value("y")});
    EXPECT_EQ(error_of([&] { infer_shapes(g); }), "node 'r' (Reshape): the target shape must be a constant");
  }
  {
    Graph g("g");
    const ValueId x = g.add_input("x", DType::kFloat32, {2, 3});
    const ValueId w = g.add_constant("w", Tensor(DType::kFloat32, {4, 5}));
    g.add_node(OpKind::kGemm, "fc", {x, w}, {g.add_value("y")}, attrs({{"transB", int64_t{1}}}));
    EXPECT_EQ(error_of([&] { infer_shapes(g); }),
              "node 'fc' (Gemm): inner dimensions differ: A [2,3] (transA=0) and B [4,5] (transB=1)");
  }
  {
    Graph g("g");
    const ValueId x = g.add_input("x", DType::kFloat32, {2, 3});
    const ValueId s = g.add_constant("s", Tensor::from_values<int32_t>({2}, {4, -1}));
    g.add_node(OpKind::kReshape, "r", {x, s}, {g.add_value("y")});
    EXPECT_EQ(error_of([&] { infer_shapes(g); }), "node 'r' (Reshape): cannot reshape [2,3] (6 elements) to [4,-1]");
  }
}

TEST(InferShapes, ResolvesAutoPadIntoPads) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 1, 5, 5});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kMaxPool, "pool", {x}, {y},
             attrs({{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}},
                    {"pads", std::vector<int64_t>{0, 0, 0, 0}}, {"auto_pad", std::string("SAME_UPPER")}}));
  g.add_output(y);
  infer_shapes(g);
  EXPECT_EQ(to_text(g, 0), "%y = MaxPool(%x) {kernel_shape=[2,2], strides=[2,2], pads=[0,0,1,1]} : f32[1,1,3,3]");
}

// ---- fold_constants ----

TEST(FoldConstants, EvaluatesConstantSubgraphs) {
  Graph g("fold");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  const ValueId s = g.add_value("s");
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kAdd, "sum", {g.add_constant("c1", ft({4}, {1, 2, 3, 4})), g.add_constant("c2", ft({}, {1}))}, {s});
  g.add_node(OpKind::kAdd, "add", {x, s}, {y});
  // A quantized weight stays a QDQ pair unless asked.
  const ValueId dq = g.add_value("dq");
  const ValueId z = g.add_value("z");
  g.add_node(OpKind::kDequantizeLinear, "dq",
             {g.add_constant("wq", Tensor::from_values<int8_t>({4}, {-2, -1, 1, 2})), g.add_constant("ws", ft({}, {0.5f}))},
             {dq});
  g.add_node(OpKind::kMul, "mul", {y, dq}, {z});
  g.add_output(z);
  infer_shapes(g);
  EXPECT_EQ(fold_constants(g), 1u);
  EXPECT_EQ(to_text(g),
            "graph \"fold\"(%x: f32[1,4]) {\n"
            "  %y = Add(%x, @s[4]{2,3,4,5}) : f32[1,4]\n"
            "  %dq = DequantizeLinear(@wq:i8[4]{-2,-1,1,2}, @ws[]{0.5}) : f32[4]\n"
            "  %z = Mul(%y, %dq) : f32[1,4]\n"
            "  return %z\n"
            "}\n");
  EXPECT_EQ(fold_constants(g, /*fold_qdq=*/true), 1u);
  EXPECT_EQ(to_text(g, *g.producer(z)), "%z = Mul(%y, @dq[4]{-1,-0.5,0.5,1}) : f32[1,4]");
}

// ---- eliminate_identity ----

TEST(EliminateIdentity, BypassesIdentityAndDropoutKeepingOutputNames) {
  Graph g("ids");
  const ValueId x = g.add_input("x", DType::kFloat32, {2});
  const ValueId i = g.add_value("i");
  const ValueId r = g.add_value("r");
  const ValueId out = g.add_value("out");
  g.add_node(OpKind::kIdentity, "id", {x}, {i});
  g.add_node(OpKind::kRelu, "relu", {i}, {r});
  g.add_node(OpKind::kDropout, "drop", {r}, {out});
  g.add_output(out);
  infer_shapes(g);
  EXPECT_EQ(eliminate_identity(g), 2u);
  EXPECT_EQ(to_text(g),
            "graph \"ids\"(%x: f32[2]) {\n"
            "  %out = Relu(%x) : f32[2]\n"
            "  return %out\n"
            "}\n");

  Graph h("passthrough");
  const ValueId hx = h.add_input("x", DType::kFloat32, {2});
  const ValueId hy = h.add_value("y");
  h.add_node(OpKind::kIdentity, "id", {hx}, {hy});
  h.add_output(hy);
  eliminate_identity(h);
  EXPECT_EQ(h.outputs(), std::vector<ValueId>{hx});
}

// ---- fold_batch_norm ----

struct ConvBnRelu {
  Graph g{"cbr"};
  ValueId conv_out, bn_out, y;
};

// x[1,C,H,W] -> Conv(3x3, pad 1) -> BN -> Relu.
ConvBnRelu conv_bn_relu(int64_t c, int64_t m, int64_t hw, bool random) {
  ConvBnRelu r;
  Graph& g = r.g;
  const ValueId x = g.add_input("x", DType::kFloat32, {1, c, hw, hw});
  Tensor w = random ? random_tensor({m, c, 3, 3}, 1) : Tensor(DType::kFloat32, {m, c, 3, 3});
  Tensor b = random ? random_tensor({m}, 2) : ft({2}, {1, 1});
  r.conv_out = g.add_value("conv");
  r.bn_out = g.add_value("bn");
  r.y = g.add_value("y");
  g.add_node(OpKind::kConv, "conv", {x, g.add_constant("conv.weight", w), g.add_constant("conv.bias", b)}, {r.conv_out},
             attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"group", int64_t{1}}}));
  std::vector<ValueId> params;
  if (random) {
    params = {g.add_constant("bn.scale", random_tensor({m}, 3, 0.5f, 2.0f)), g.add_constant("bn.bias", random_tensor({m}, 4)),
              g.add_constant("bn.mean", random_tensor({m}, 5)), g.add_constant("bn.var", random_tensor({m}, 6, 0.1f, 3.0f))};
  } else {
    params = {g.add_constant("bn.scale", ft({2}, {2, 3})), g.add_constant("bn.bias", ft({2}, {0.5f, -1})),
              g.add_constant("bn.mean", ft({2}, {1, 2})), g.add_constant("bn.var", ft({2}, {3, 0}))};
  }
  std::vector<ValueId> bn_in{r.conv_out};
  bn_in.insert(bn_in.end(), params.begin(), params.end());
  g.add_node(OpKind::kBatchNormalization, "bn", bn_in, {r.bn_out}, attrs({{"epsilon", random ? 1e-5f : 1.0f}}));
  g.add_node(OpKind::kRelu, "relu", {r.bn_out}, {r.y});
  g.add_output(r.y);
  infer_shapes(g);
  return r;
}

TEST(FoldBatchNorm, GoldenConv) {
  ConvBnRelu r = conv_bn_relu(2, 2, 4, false);
  EXPECT_EQ(fold_batch_norm(r.g), 1u);
  EXPECT_EQ(to_text(r.g),
            "graph \"cbr\"(%x: f32[1,2,4,4]) {\n"
            "  %bn = Conv(%x, @conv.weight_folded[2,2,3,3], @conv.bias_folded[2]{0.5,-4}) {pads=[1,1,1,1], group=1} : "
            "f32[1,2,4,4]\n"
            "  %y = Relu(%bn) : f32[1,2,4,4]\n"
            "  return %y\n"
            "}\n");
}

TEST(FoldBatchNorm, PreservesTheFloatOutput) {
  ConvBnRelu r = conv_bn_relu(3, 8, 6, true);
  const Tensor x = random_tensor({1, 3, 6, 6}, 42);
  const Tensor before = run_float(r.g, {x}).at(0);
  EXPECT_EQ(fold_batch_norm(r.g), 1u);
  EXPECT_EQ(r.g.num_nodes(), 2u);
  const Tensor after = run_float(r.g, {x}).at(0);
  EXPECT_LT(max_abs_diff(before, after), 1e-4f);
}

TEST(FoldBatchNorm, GemmWithTransposedAndPlainWeights) {
  for (int64_t trans_b : {0, 1}) {
    Graph g("fc_bn");
    const ValueId x = g.add_input("x", DType::kFloat32, {2, 5});
    const Shape wshape = trans_b ? Shape{4, 5} : Shape{5, 4};
    const ValueId fc = g.add_value("fc");
    const ValueId y = g.add_value("y");
    g.add_node(OpKind::kGemm, "fc", {x, g.add_constant("w", random_tensor(wshape, 7)), g.add_constant("b", random_tensor({4}, 8))},
               {fc}, attrs({{"alpha", 1.5f}, {"beta", 0.5f}, {"transA", int64_t{0}}, {"transB", trans_b}}));
    g.add_node(OpKind::kBatchNormalization, "bn",
               {fc, g.add_constant("s", random_tensor({4}, 9)), g.add_constant("t", random_tensor({4}, 10)),
                g.add_constant("m", random_tensor({4}, 11)), g.add_constant("v", random_tensor({4}, 12, 0.1f, 2.0f))},
               {y});
    g.add_output(y);
    infer_shapes(g);
    const Tensor in = random_tensor({2, 5}, 13);
    const Tensor before = run_float(g, {in}).at(0);
    EXPECT_EQ(fold_batch_norm(g), 1u);
    EXPECT_EQ(g.num_nodes(), 1u);
    EXPECT_LT(max_abs_diff(before, run_float(g, {in}).at(0)), 1e-4f);
  }
}

TEST(FoldBatchNorm, LeavesStandaloneAndSharedBatchNorms) {
  // The conv output has a second user: folding would change it.
  ConvBnRelu r = conv_bn_relu(2, 2, 4, false);
  r.g.add_output(r.conv_out);
  EXPECT_EQ(fold_batch_norm(r.g), 0u);
  // BN straight on a graph input.
  Graph g("bn_only");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 2, 2});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kBatchNormalization, "bn",
             {x, g.add_constant("s", ft({2}, {1, 1})), g.add_constant("t", ft({2}, {0, 0})), g.add_constant("m", ft({2}, {0, 0})),
              g.add_constant("v", ft({2}, {1, 1}))},
             {y});
  g.add_output(y);
  EXPECT_EQ(fold_batch_norm(g), 0u);
  EXPECT_EQ(g.num_nodes(), 1u);
}

// ---- canonicalize ----

TEST(Canonicalize, MatMulAddBecomesGemmAndReshapeBecomesFlatten) {
  Graph g("mlp");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 2, 2});
  const ValueId r = g.add_value("r");
  const ValueId m = g.add_value("m");
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kReshape, "reshape", {x, g.add_constant("shape", Tensor::from_values<int32_t>({2}, {1, -1}))}, {r});
  g.add_node(OpKind::kMatMul, "fc", {r, g.add_constant("W", random_tensor({8, 3}, 1))}, {m});
  g.add_node(OpKind::kAdd, "bias", {m, g.add_constant("b", ft({3}, {1, 2, 3}))}, {y});
  g.add_output(y);
  infer_shapes(g);
  const Tensor in = random_tensor({1, 2, 2, 2}, 2);
  const Tensor before = run_float(g, {in}).at(0);
  EXPECT_EQ(canonicalize(g), 3u);  // MatMul+Add -> Gemm, transB, Flatten
  g.eliminate_dead_nodes();
  EXPECT_EQ(to_text(g),
            "graph \"mlp\"(%x: f32[1,2,2,2]) {\n"
            "  %r = Flatten(%x) {axis=1} : f32[1,8]\n"
            "  %y = Gemm(%r, @W.t[3,8], @b[3]{1,2,3}) {alpha=1, beta=1, transA=0, transB=1} : f32[1,3]\n"
            "  return %y\n"
            "}\n");
  EXPECT_LT(max_abs_diff(before, run_float(g, {in}).at(0)), 1e-5f);
  EXPECT_EQ(canonicalize(g), 0u);  // a fixed point
}

TEST(Canonicalize, GemmAlphaBetaAndRowBias) {
  Graph g("gemm");
  const ValueId x = g.add_input("x", DType::kFloat32, {2, 2});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kGemm, "fc", {x, g.add_constant("W", ft({2, 2}, {1, 2, 3, 4})), g.add_constant("C", ft({1, 2}, {1, -1}))},
             {y}, attrs({{"alpha", 2.0f}, {"beta", 3.0f}, {"transA", int64_t{0}}, {"transB", int64_t{1}}}));
  g.add_output(y);
  infer_shapes(g);
  const Tensor in = random_tensor({2, 2}, 3);
  const Tensor before = run_float(g, {in}).at(0);
  EXPECT_EQ(canonicalize(g), 2u);
  EXPECT_EQ(to_text(g, *g.producer(y)),
            "%y = Gemm(%x, @W.scaled[2,2]{2,4,6,8}, @C.bias[2]{3,-3}) {alpha=1, beta=1, transA=0, transB=1} : f32[2,2]");
  EXPECT_LT(max_abs_diff(before, run_float(g, {in}).at(0)), 1e-5f);
}

TEST(DefaultPasses, ConvBnReluFlattenLinear) {
  Graph g("net");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 2, 4, 4});
  const ValueId c = g.add_value("c"), bn = g.add_value("bn"), id = g.add_value("id"), r = g.add_value("r");
  const ValueId p = g.add_value("p"), f = g.add_value("f"), y = g.add_value("y");
  g.add_node(OpKind::kConv, "conv", {x, g.add_constant("w", random_tensor({4, 2, 3, 3}, 1))}, {c},
             attrs({{"pads", std::vector<int64_t>{1, 1, 1, 1}}}));
  g.add_node(OpKind::kBatchNormalization, "bn",
             {c, g.add_constant("s", random_tensor({4}, 2)), g.add_constant("t", random_tensor({4}, 3)),
              g.add_constant("m", random_tensor({4}, 4)), g.add_constant("v", random_tensor({4}, 5, 0.5f, 1.5f))},
             {bn});
  g.add_node(OpKind::kIdentity, "id", {bn}, {id});
  g.add_node(OpKind::kRelu, "relu", {id}, {r});
  g.add_node(OpKind::kGlobalAveragePool, "gap", {r}, {p});
  g.add_node(OpKind::kFlatten, "flat", {p}, {f});
  g.add_node(OpKind::kGemm, "fc", {f, g.add_constant("fc.w", random_tensor({4, 3}, 6))}, {y});
  g.add_output(y);
  infer_shapes(g);
  const Tensor in = random_tensor({1, 2, 4, 4}, 7);
  const Tensor before = run_float(g, {in}).at(0);
  run_default_passes(g);
  // The folded bias values are random; the golden text elides them.
  const std::string text =
      std::regex_replace(to_text(g), std::regex(R"((@conv\.bias_folded\[4\])\{[^}]*\})"), "$1{...}");
  EXPECT_EQ(text,
            "graph \"net\"(%x: f32[1,2,4,4]) {\n"
            "  %bn = Conv(%x, @conv.weight_folded[4,2,3,3], @conv.bias_folded[4]{...}) {pads=[1,1,1,1]} : f32[1,4,4,4]\n"
            "  %r = Relu(%bn) : f32[1,4,4,4]\n"
            "  %p = GlobalAveragePool(%r) : f32[1,4,1,1]\n"
            "  %f = Flatten(%p) {axis=1} : f32[1,4]\n"
            "  %y = Gemm(%f, @fc.w.t[3,4]) {alpha=1, transB=1} : f32[1,3]\n"
            "  return %y\n"
            "}\n");
  EXPECT_LT(max_abs_diff(before, run_float(g, {in}).at(0)), 1e-4f);
}

}  // namespace
}  // namespace vta::ir
