#include <gtest/gtest.h>

#include "ir_test_util.h"
#include "vta/ir/passes.h"
#include "vta/ir/printer.h"

namespace vta::ir {
namespace {

using test::attrs;
using test::error_of;

TEST(Attributes, KeepInsertionOrderAndReplaceInPlace) {
  Attributes a;
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("group", int64_t{1});
  a.set("strides", std::vector<int64_t>{1, 1});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.items()[0].first, "strides");
  EXPECT_EQ(std::get<std::vector<int64_t>>(a.items()[0].second), (std::vector<int64_t>{1, 1}));
  a.erase("strides");
  EXPECT_FALSE(a.has("strides"));
  EXPECT_TRUE(a.has("group"));
}

TEST(Attributes, TypedReadsNameNodeAndAttribute) {
  Node n;
  n.op = OpKind::kConv;
  n.name = "conv1";
  n.attrs = attrs({{"group", int64_t{2}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}, {"alpha", 0.5f}});
  EXPECT_EQ(n.get_int("group"), 2);
  EXPECT_EQ(n.get_int("missing", 7), 7);
  EXPECT_EQ(n.get_float("group"), 2.0f);  // ints read as floats
  EXPECT_EQ(n.get_float("alpha"), 0.5f);
  EXPECT_EQ(error_of([&] { n.get_int("strides"); }), "node 'conv1' (Conv): missing attribute 'strides'");
  EXPECT_EQ(error_of([&] { n.get_int("pads"); }), "node 'conv1' (Conv): attribute 'pads' is ints, expected int");
  EXPECT_EQ(error_of([&] { n.get_ints("group", {}); }), "node 'conv1' (Conv): attribute 'group' is int, expected ints");
  EXPECT_EQ(error_of([&] { n.get_string("alpha"); }), "node 'conv1' (Conv): attribute 'alpha' is float, expected string");
}

TEST(OpKind, NamesRoundTrip) {
  for (int i = 0; i < kNumOpKinds; ++i) {
    const auto op = static_cast<OpKind>(i);
    EXPECT_EQ(op_from_name(op_name(op)), op);
  }
  EXPECT_FALSE(op_from_name("LSTM"));
}

TEST(Graph, ValuesAreUniqueByName) {
  Graph g("g");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  EXPECT_EQ(g.find_value("x"), x);
  EXPECT_FALSE(g.find_value("y"));
  EXPECT_EQ(error_of([&] { g.add_value("x"); }), "graph 'g': value 'x' defined twice");
  EXPECT_EQ(g.unique_name("x"), "x.1");
  g.add_value("x.1");
  EXPECT_EQ(g.unique_name("x"), "x.2");
  EXPECT_EQ(g.unique_name("z"), "z");
  const ValueId c = g.add_constant("c", test::ft({2}, {1, 2}));
  EXPECT_TRUE(g.is_constant(c));
  EXPECT_FALSE(g.is_constant(x));
  EXPECT_EQ(g.value(c).shape, (Shape{2}));
  EXPECT_EQ(error_of([&] { g.constant(x, "node 'n' (Reshape) shape"); }),
            "node 'n' (Reshape) shape ('x') must be a constant");
}

// b = Relu(a); a = Relu(x); added in reverse order.
Graph reversed_chain() {
  Graph g("chain");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  const ValueId a = g.add_value("a");
  const ValueId b = g.add_value("b");
  g.add_node(OpKind::kRelu, "second", {a}, {b});
  g.add_node(OpKind::kRelu, "first", {x}, {a});
  g.add_output(b);
  return g;
}

TEST(Graph, TopologicalOrderPutsProducersFirst) {
  Graph g = reversed_chain();
  const auto order = g.topological_order();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(g.node(order[0]).name, "first");
  EXPECT_EQ(g.node(order[1]).name, "second");
  EXPECT_EQ(g.producer(*g.find_value("a")), order[0]);
  EXPECT_EQ(g.users(*g.find_value("a")), std::vector<NodeId>{order[1]});
}

TEST(Graph, CycleAndUndefinedValuesAreErrors) {
  Graph g("cyc");
  const ValueId a = g.add_value("a");
  const ValueId b = g.add_value("b");
  g.add_node(OpKind::kRelu, "n1", {a}, {b});
  g.add_node(OpKind::kRelu, "n2", {b}, {a});
  EXPECT_EQ(error_of([&] { g.topological_order(); }), "graph 'cyc': cycle through node 'n1' (Relu)");

  Graph h("undef");
  const ValueId u = h.add_value("u");
  const ValueId v = h.add_value("v");
  h.add_node(OpKind::kRelu, "n", {u}, {v});
  EXPECT_EQ(error_of([&] { h.topological_order(); }),
            "graph 'undef': node 'n' (Relu) reads 'u', which no node, input or constant defines");
}

TEST(Graph, RemoveReplaceAndDeadNodes) {
  Graph g = reversed_chain();
  const ValueId x = *g.find_value("x");
  const ValueId a = *g.find_value("a");
  const ValueId dead = g.add_value("dead");
  g.add_node(OpKind::kRelu, "unused", {x}, {dead});
  EXPECT_EQ(g.num_nodes(), 3u);
  EXPECT_EQ(g.eliminate_dead_nodes(), 1u);
  EXPECT_EQ(g.num_nodes(), 2u);

  // Bypass "second": the output now reads a.
  const NodeId second = *g.producer(*g.find_value("b"));
  g.remove_node(second);
  g.replace_all_uses(*g.find_value("b"), a);
  EXPECT_EQ(g.outputs(), std::vector<ValueId>{a});
  EXPECT_FALSE(g.is_live(second));
  EXPECT_EQ(error_of([&] { g.node(second); }), "graph 'chain': node id 0 does not exist");
  EXPECT_EQ(g.node_ids().size(), 1u);
}

TEST(Printer, OneLinePerNodeWithTypesConstantsAndAttributes) {
  Graph g("tiny");
  const ValueId x = g.add_input("input", DType::kFloat32, {1, 3, 8, 8});
  const ValueId w = g.add_constant("conv1.weight", Tensor(DType::kFloat32, {4, 3, 3, 3}));
  const ValueId b = g.add_constant("conv1.bias", Tensor(DType::kFloat32, {4}));
  const ValueId c = g.add_value("conv1");
  const ValueId y = g.add_value("y");
  const ValueId r = g.add_value("r");
  const ValueId shape = g.add_constant("shape", Tensor::from_values<int32_t>({2}, {1, -1}));
  g.add_node(OpKind::kConv, "conv1", {x, w, b}, {c},
             attrs({{"strides", std::vector<int64_t>{1, 1}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                    {"group", int64_t{1}}}));
  g.add_node(OpKind::kRelu, "relu", {c}, {y});
  g.add_node(OpKind::kReshape, "flat", {y, shape}, {r});
  g.add_output(r);
  EXPECT_EQ(to_text(g),
            "graph \"tiny\"(%input: f32[1,3,8,8]) {\n"
            "  %conv1 = Conv(%input, @conv1.weight[4,3,3,3], @conv1.bias[4]{0,0,0,0}) {strides=[1,1], pads=[1,1,1,1], "
            "group=1} : ?\n"
            "  %y = Relu(%conv1) : ?\n"
            "  %r = Reshape(%y, @shape:i32[2]{1,-1}) : ?\n"
            "  return %r\n"
            "}\n");
  infer_shapes(g);
  EXPECT_EQ(to_text(g, *g.producer(r)), "%r = Reshape(%y, @shape:i32[2]{1,-1}) : f32[1,256]");
  EXPECT_EQ(to_text(g, *g.producer(c)),
            "%conv1 = Conv(%input, @conv1.weight[4,3,3,3], @conv1.bias[4]{0,0,0,0}) {strides=[1,1], pads=[1,1,1,1], "
            "group=1} : f32[1,4,8,8]");
}

TEST(Printer, FloatsStringsAndAbsentInputs) {
  Graph g("p");
  const ValueId x = g.add_input("x", DType::kFloat32, {2});
  const ValueId hi = g.add_constant("hi", test::ft({}, {6.0f}));
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::kClip, "clip", {x, kNoValue, hi}, {y},
             attrs({{"f", 0.1f}, {"fs", std::vector<float>{1.5f, -2.0f}}, {"s", std::string("SAME_UPPER")}}));
  g.add_output(y);
  EXPECT_EQ(to_text(g, 0), "%y = Clip(%x, _, @hi[]{6}) {f=0.1, fs=[1.5,-2], s=\"SAME_UPPER\"} : ?");
}

}  // namespace
}  // namespace vta::ir
