#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "ir_test_util.h"
#include "onnx_builder.h"
#include "vta/frontend/onnx_import.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/printer.h"

namespace vta::ir {
namespace {

using frontend::import_onnx;
using frontend::import_onnx_bytes;
using test::attr_float;
using test::attr_int;
using test::attr_ints;
using test::attr_string;
using test::error_of;
using test::expect_floats;
using test::OnnxBuilder;

Graph imp(const OnnxBuilder& b, std::vector<std::string>* notes = nullptr) {
  return import_onnx_bytes(b.bytes(), "m.onnx", notes);
}

std::string import_error(const OnnxBuilder& b) {
  return error_of([&] { imp(b); });
}

// The text line of the node producing `value`.
std::string line_of(const Graph& g, const std::string& value) {
  const auto v = g.find_value(value);
  if (!v) return "<no value " + value + ">";
  const auto n = g.producer(*v);
  if (!n) return "<no producer of " + value + ">";
  return to_text(g, *n);
}

std::vector<float> iota(size_t n, float start = 0) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = start + static_cast<float>(i);
  return v;
}

// x -> OP -> y with the given input shape; the node is returned for attributes.
OnnxBuilder unary(const std::string& op, const std::vector<int64_t>& shape, int64_t opset = 13) {
  OnnxBuilder b(opset);
  b.input("x", shape).output("y");
  b.node(op, {"x"}, {"y"}, "n");
  return b;
}

// ---- one test per op ----

TEST(OnnxImport, Conv) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 4, 4});
  b.init("w", {4, 3, 3, 3}, iota(108), /*raw=*/true).init("b", {4}, {0, 1, 2, 3});
  auto& n = b.node("Conv", {"x", "w", "b"}, {"y"}, "conv1");
  attr_ints(n, "kernel_shape", {3, 3});
  attr_ints(n, "strides", {2, 2});
  attr_ints(n, "pads", {1, 1, 1, 1});
  attr_ints(n, "dilations", {1, 1});
  attr_int(n, "group", 1);
  const Graph g = imp(b);
  EXPECT_EQ(to_text(g),
            "graph \"test\"(%x: f32[1,3,8,8]) {\n"
            "  %y = Conv(%x, @w[4,3,3,3], @b[4]{0,1,2,3}) {strides=[2,2], pads=[1,1,1,1], group=1} : f32[1,4,4,4]\n"
            "  return %y\n"
            "}\n");
  EXPECT_EQ(g.value(*g.find_value("w")).constant->data<float>()[107], 107.0f);
}

TEST(OnnxImport, ConvAutoPadAndGroups) {
  OnnxBuilder b;
  b.input("x", {1, 4, 5, 5}).output("y");
  b.init("w", {4, 1, 3, 3}, std::vector<float>(36, 1.0f));
  auto& n = b.node("Conv", {"x", "w"}, {"y"}, "dw");
  attr_string(n, "auto_pad", "SAME_UPPER");
  attr_ints(n, "strides", {2, 2});
  attr_int(n, "group", 4);
  EXPECT_EQ(line_of(imp(b), "y"), "%y = Conv(%x, @w[4,1,3,3]) {strides=[2,2], pads=[1,1,1,1], group=4} : f32[1,4,3,3]");
}

TEST(OnnxImport, Gemm) {
  OnnxBuilder b;
  b.input("x", {2, 8}).output("y");
  b.init("w", {3, 8}, iota(24)).init("c", {3}, {1, 2, 3});
  auto& n = b.node("Gemm", {"x", "w", "c"}, {"y"}, "fc");
  attr_float(n, "alpha", 0.5f);
  attr_int(n, "transB", 1);
  EXPECT_EQ(line_of(imp(b), "y"), "%y = Gemm(%x, @w[3,8], @c[3]{1,2,3}) {alpha=0.5, beta=1, transA=0, transB=1} : f32[2,3]");
}

TEST(OnnxImport, MatMulAddMul) {
  OnnxBuilder b;
  b.input("x", {2, 4}).output("z");
  b.init("w", {4, 3}, iota(12)).init("b", {3}, {1, 2, 3}).init("s", {}, {0.5f});
  b.node("MatMul", {"x", "w"}, {"m"});
  b.node("Add", {"m", "b"}, {"a"});
  b.node("Mul", {"a", "s"}, {"z"});
  const Graph g = imp(b);
  EXPECT_EQ(line_of(g, "m"), "%m = MatMul(%x, @w[4,3]) : f32[2,3]");
  EXPECT_EQ(line_of(g, "a"), "%a = Add(%m, @b[3]{1,2,3}) : f32[2,3]");
  EXPECT_EQ(line_of(g, "z"), "%z = Mul(%a, @s[]{0.5}) : f32[2,3]");
}

TEST(OnnxImport, ReluAndClipWithConstantInputs) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.init("lo", {}, {0}).init("hi", {}, {6});
  b.node("Relu", {"x"}, {"r"});
  b.node("Clip", {"r", "lo", "hi"}, {"y"}, "relu6");
  const Graph g = imp(b);
  EXPECT_EQ(line_of(g, "r"), "%r = Relu(%x) : f32[1,4]");
  EXPECT_EQ(line_of(g, "y"), "%y = Clip(%r, @lo[]{0}, @hi[]{6}) : f32[1,4]");
  // Only a max (the min input left empty).
  OnnxBuilder c;
  c.input("x", {1, 4}).output("y");
  c.init("hi", {}, {6});
  c.node("Clip", {"x", "", "hi"}, {"y"});
  EXPECT_EQ(line_of(imp(c), "y"), "%y = Clip(%x, _, @hi[]{6}) : f32[1,4]");
}

TEST(OnnxImport, Pools) {
  OnnxBuilder b = unary("MaxPool", {1, 2, 8, 8});
  auto& n = *b.graph()->mutable_node(0);
  attr_ints(n, "kernel_shape", {3, 3});
  attr_ints(n, "strides", {2, 2});
  attr_ints(n, "pads", {1, 1, 1, 1});
  attr_int(n, "ceil_mode", 0);
  EXPECT_EQ(line_of(imp(b), "y"), "%y = MaxPool(%x) {kernel_shape=[3,3], strides=[2,2], pads=[1,1,1,1]} : f32[1,2,4,4]");

  OnnxBuilder a = unary("AveragePool", {1, 2, 8, 8});
  auto& m = *a.graph()->mutable_node(0);
  attr_ints(m, "kernel_shape", {2, 2});
  attr_ints(m, "strides", {2, 2});
  attr_int(m, "count_include_pad", 1);
  EXPECT_EQ(line_of(imp(a), "y"),
            "%y = AveragePool(%x) {kernel_shape=[2,2], strides=[2,2], pads=[0,0,0,0], count_include_pad=1} : f32[1,2,4,4]");

  EXPECT_EQ(line_of(imp(unary("GlobalAveragePool", {1, 2, 8, 8})), "y"), "%y = GlobalAveragePool(%x) : f32[1,2,1,1]");
}

TEST(OnnxImport, BatchNormalization) {
  OnnxBuilder b;
  b.input("x", {1, 2, 4, 4}).output("y");
  b.init("s", {2}, {1, 2}).init("t", {2}, {0, 1}).init("m", {2}, {0, 0}).init("v", {2}, {1, 1});
  auto& n = b.node("BatchNormalization", {"x", "s", "t", "m", "v"}, {"y"}, "bn");
  attr_float(n, "epsilon", 0.001f);
  attr_float(n, "momentum", 0.9f);
  EXPECT_EQ(line_of(imp(b), "y"),
            "%y = BatchNormalization(%x, @s[2]{1,2}, @t[2]{0,1}, @m[2]{0,0}, @v[2]{1,1}) {epsilon=0.001} : f32[1,2,4,4]");
}

TEST(OnnxImport, FlattenReshapeConcat) {
  OnnxBuilder b;
  b.input("x", {2, 3, 4}).output("c");
  b.init_i64("shape", {2}, {0, -1}).init_i64("shape2", {2}, {-1, 12});
  b.node("Reshape", {"x", "shape"}, {"r"});
  attr_int(b.node("Flatten", {"x"}, {"f"}), "axis", 2);
  b.node("Reshape", {"f", "shape2"}, {"r2"});
  attr_int(b.node("Concat", {"r", "r2"}, {"c"}), "axis", 0);
  const Graph g = imp(b);
  EXPECT_EQ(line_of(g, "r"), "%r = Reshape(%x, @shape:i32[2]{0,-1}) : f32[2,12]");
  EXPECT_EQ(line_of(g, "f"), "%f = Flatten(%x) {axis=2} : f32[6,4]");
  EXPECT_EQ(line_of(g, "c"), "%c = Concat(%r, %r2) {axis=0} : f32[4,12]");
}

TEST(OnnxImport, PadConstantOnly) {
  OnnxBuilder b;
  b.input("x", {1, 2, 3, 3}).output("y");
  b.init_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1}).init("zero", {}, {0});
  b.node("Pad", {"x", "pads", "zero"}, {"y"}, "pad");
  EXPECT_EQ(line_of(imp(b), "y"), "%y = Pad(%x, @pads:i32[8]{0,0,1,1,0,0,1,1}, @zero[]{0}) : f32[1,2,5,5]");
  attr_string(*b.graph()->mutable_node(0), "mode", "reflect");
  EXPECT_EQ(import_error(b), "ONNX model 'm.onnx': unsupported attribute mode='reflect' of ONNX op 'Pad' (node 'pad')");
}

TEST(OnnxImport, SoftmaxAxisDependsOnOpset) {
  EXPECT_EQ(line_of(imp(unary("Softmax", {2, 5})), "y"), "%y = Softmax(%x) {axis=-1} : f32[2,5]");
  EXPECT_EQ(line_of(imp(unary("Softmax", {2, 5}, 11)), "y"), "%y = Softmax(%x) {axis=1, coerce_2d=1} : f32[2,5]");
}

TEST(OnnxImport, QuantizeDequantize) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.init("s", {}, {0.5f}).init_int("zp", onnx::TensorProto::INT8, {}, {-3});
  b.init_int("wq", onnx::TensorProto::UINT8, {2}, {7, 200}).init("ws", {2}, {0.1f, 0.2f});
  b.init_int("wz", onnx::TensorProto::UINT8, {2}, {128, 128});
  b.node("QuantizeLinear", {"x", "s", "zp"}, {"q"});
  b.node("DequantizeLinear", {"q", "s", "zp"}, {"y"});
  attr_int(b.node("DequantizeLinear", {"wq", "ws", "wz"}, {"w"}), "axis", 0);
  const Graph g = imp(b);
  EXPECT_EQ(line_of(g, "q"), "%q = QuantizeLinear(%x, @s[]{0.5}, @zp:i8[]{-3}) : i8[1,4]");
  EXPECT_EQ(line_of(g, "y"), "%y = DequantizeLinear(%q, @s[]{0.5}, @zp:i8[]{-3}) : f32[1,4]");
  EXPECT_EQ(line_of(g, "w"), "%w = DequantizeLinear(@wq:u8[2]{7,200}, @ws[2]{0.1,0.2}, @wz:u8[2]{128,128}) {axis=0} : f32[2]");
  const auto out = run_float(g, {test::ft({1, 4}, {0.2f, 1.0f, -70, 100})});
  expect_floats(out.at(0), {0, 1, -62.5f, 65});
}

// Exporters (e.g. onnxruntime's quantizer) give int32 bias DequantizeLinear an explicit zero point of 0,
// which ONNX allows; any other int32 zero point is an error naming the node.
TEST(OnnxImport, Int32DequantizeTakesAZeroZeroPoint) {
  const auto model = [](int32_t zero) {
    OnnxBuilder b;
    b.input("x", {1, 2}).output("y");
    b.init_int("bq", onnx::TensorProto::INT32, {2}, {100, -7}).init("bs", {}, {0.25f});
    b.init_int("bz", onnx::TensorProto::INT32, {2}, {0, zero});
    b.node("DequantizeLinear", {"bq", "bs", "bz"}, {"b"}, "dequant_b");
    b.node("Add", {"x", "b"}, {"y"});
    return b;
  };
  const Graph g = imp(model(0));
  expect_floats(run_float(g, {test::ft({1, 2}, {1, 2})}).at(0), {26, 0.25f});
  try {
    imp(model(3));
    FAIL() << "a nonzero int32 zero point was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("dequant_b"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("must be a constant 0"), std::string::npos) << e.what();
  }
}

TEST(OnnxImport, IdentityDropoutAndConstants) {
  OnnxBuilder b(13);
  b.input("x", {1, 3}).output("y");
  auto& c = b.node("Constant", {}, {"k"}, "const");
  auto* t = test::add_attr(c, "value");
  t->set_type(onnx::AttributeProto::TENSOR);
  t->mutable_t()->set_data_type(onnx::TensorProto::FLOAT);
  t->mutable_t()->add_dims(3);
  for (float v : {1.0f, 2.0f, 3.0f}) t->mutable_t()->add_float_data(v);
  attr_float(b.node("Constant", {}, {"ratio"}, "r"), "value_float", 0.5f);
  b.node("Identity", {"x"}, {"i"});
  b.node("Dropout", {"i", "ratio"}, {"d", "mask"});  // the mask output nobody reads is dropped
  b.node("Add", {"d", "k"}, {"y"});
  const Graph g = imp(b);
  EXPECT_EQ(line_of(g, "i"), "%i = Identity(%x) : f32[1,3]");
  EXPECT_EQ(line_of(g, "d"), "%d = Dropout(%i) : f32[1,3]");
  EXPECT_EQ(line_of(g, "y"), "%y = Add(%d, @k[3]{1,2,3}) : f32[1,3]");
  expect_floats(run_float(g, {test::ft({1, 3}, {1, 1, 1})}).at(0), {2, 3, 4});
}

TEST(OnnxImport, InitializerThatIsAlsoAnInputIsAConstant) {
  OnnxBuilder b;
  b.input("x", {1, 2}).input("w", {2}).output("y");
  b.init("w", {2}, {3, 4});
  b.node("Mul", {"x", "w"}, {"y"});
  const Graph g = imp(b);
  ASSERT_EQ(g.inputs().size(), 1u);
  EXPECT_EQ(line_of(g, "y"), "%y = Mul(%x, @w[2]{3,4}) : f32[1,2]");
}

TEST(OnnxImport, SymbolicBatchBecomesOneWithANote) {
  std::vector<std::string> notes;
  const Graph g = imp(unary("Relu", {-1, 3}), &notes);
  EXPECT_EQ(g.value(g.inputs()[0]).shape, (Shape{1, 3}));
  EXPECT_EQ(notes, std::vector<std::string>{"graph input 'x': symbolic ('N') batch dimension set to 1"});
  EXPECT_EQ(import_error(unary("Relu", {1, -1})),
            "ONNX model 'm.onnx': graph input 'x': dimension 1 is symbolic ('N'); only the batch dimension may be");
  OnnxBuilder b;
  b.input("x", {}, onnx::TensorProto::FLOAT, /*no_shape=*/true).output("y");
  b.node("Relu", {"x"}, {"y"});
  EXPECT_EQ(import_error(b), "ONNX model 'm.onnx': graph input 'x' has no shape");
}

// ---- errors ----

TEST(OnnxImport, UnsupportedOpsAreAllReportedByTypeAndName) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("LSTM", {"x"}, {"a"}, "lstm_1");
  b.node("Relu", {"a"}, {"r"});
  b.node("Gelu", {"r"}, {"y"}, "gelu_7");
  EXPECT_EQ(import_error(b),
            "ONNX model 'm.onnx': unsupported ONNX op 'LSTM' (node 'lstm_1'); unsupported ONNX op 'Gelu' (node 'gelu_7')");
  OnnxBuilder c;
  c.input("x", {1, 4}).output("y");
  c.node("Relu", {"x"}, {"y"}, "r").set_domain("com.microsoft");
  EXPECT_EQ(import_error(c), "ONNX model 'm.onnx': unsupported ONNX op 'com.microsoft::Relu' (node 'r')");
}

TEST(OnnxImport, UnsupportedAttributeValues) {
  OnnxBuilder b;
  b.input("x", {1, 1, 8, 8}).output("y");
  b.init("w", {1, 1, 3, 3}, std::vector<float>(9, 1));
  attr_ints(b.node("Conv", {"x", "w"}, {"c"}, "c"), "dilations", {2, 2});
  auto& p = b.node("MaxPool", {"c"}, {"p"}, "pool");
  attr_ints(p, "kernel_shape", {2, 2});
  attr_int(p, "ceil_mode", 1);
  attr_int(p, "storage_order", 1);
  auto& avg = b.node("AveragePool", {"p"}, {"y"}, "avg");
  attr_ints(avg, "kernel_shape", {1, 1});
  attr_string(avg, "auto_pad", "BOGUS");
  EXPECT_EQ(import_error(b),
            "ONNX model 'm.onnx': unsupported attribute dilations=[2,2] of ONNX op 'Conv' (node 'c'); "
            "unsupported attribute ceil_mode=1 of ONNX op 'MaxPool' (node 'pool'); "
            "unsupported attribute storage_order=1 of ONNX op 'MaxPool' (node 'pool'); "
            "unsupported attribute auto_pad='BOGUS' of ONNX op 'AveragePool' (node 'avg')");
  OnnxBuilder u = unary("Relu", {1, 2});
  attr_int(*u.graph()->mutable_node(0), "alpha", 1);
  EXPECT_EQ(import_error(u), "ONNX model 'm.onnx': unsupported attribute 'alpha' of ONNX op 'Relu' (node 'n')");
}

TEST(OnnxImport, OpsetOutsideTheRange) {
  EXPECT_EQ(import_error(unary("Relu", {1}, 9)), "ONNX model 'm.onnx': opset version 9 is not supported (supported: 11 to 17)");
  EXPECT_EQ(import_error(unary("Relu", {1}, 18)), "ONNX model 'm.onnx': opset version 18 is not supported (supported: 11 to 17)");
  OnnxBuilder b = unary("Relu", {1});
  b.model().mutable_opset_import(0)->set_domain("ai.onnx.ml");
  EXPECT_EQ(import_error(b), "ONNX model 'm.onnx': the model imports no opset of the default ONNX domain");
}

TEST(OnnxImport, MalformedFiles) {
  OnnxBuilder b;
  b.input("x", {1, 3, 8, 8}).output("y");
  b.init("w", {4, 3, 3, 3}, iota(108));
  b.node("Conv", {"x", "w"}, {"y"});
  const std::string good = b.bytes();
  const std::string prefix = "cannot parse ONNX model 'bad.onnx': ";
  EXPECT_EQ(error_of([&] { import_onnx_bytes(good.substr(0, good.size() / 2), "bad.onnx"); }),
            prefix + "not a valid ONNX protobuf (truncated or corrupt?)");
  EXPECT_EQ(error_of([&] { import_onnx_bytes("", "bad.onnx"); }), prefix + "the file is empty");
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    std::string noise(64 + trial * 97, '\0');
    for (char& c : noise) c = static_cast<char>(rng());
    const std::string e = error_of([&] { import_onnx_bytes(noise, "bad.onnx"); });
    EXPECT_EQ(e.rfind("cannot parse ONNX model 'bad.onnx': ", 0), 0u) << e;
  }
  EXPECT_EQ(error_of([&] { import_onnx_bytes("this is a text file, not a model\n", "bad.onnx"); }).rfind(prefix, 0), 0u);
  onnx::ModelProto no_graph;
  no_graph.set_ir_version(8);
  EXPECT_EQ(error_of([&] { import_onnx_bytes(no_graph.SerializeAsString(), "bad.onnx"); }), prefix + "the model has no graph");
  EXPECT_EQ(error_of([] { import_onnx("/nonexistent/m.onnx"); }),
            "cannot parse ONNX model '/nonexistent/m.onnx': cannot open the file");
}

// Every prefix and many corrupted copies of a valid model: imported or a vta::Error, nothing else.
TEST(OnnxImport, CorruptedModelsAreErrorsNeverCrashes) {
  OnnxBuilder b;
  b.input("x", {1, 2, 4, 4}).output("y");
  b.init("w", {2, 2, 3, 3}, iota(36)).init("b", {2}, {1, 2}).init_i64("shape", {2}, {1, -1});
  auto& c = b.node("Conv", {"x", "w", "b"}, {"c"});
  attr_ints(c, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"});
  b.node("Reshape", {"r", "shape"}, {"y"});
  const std::string good = b.bytes();
  auto try_import = [](const std::string& bytes) {
    try {
      import_onnx_bytes(bytes, "fuzz.onnx");
    } catch (const Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-vta exception: " << e.what();
    }
  };
  for (size_t len = 0; len < good.size(); ++len) try_import(good.substr(0, len));
  std::mt19937 rng(11);
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    try_import(bytes);
  }
}

TEST(OnnxImport, UndefinedTensorsAndShapeErrors) {
  OnnxBuilder b;
  b.input("x", {1, 4}).output("y");
  b.node("Add", {"x", "ghost"}, {"y"}, "add");
  EXPECT_EQ(import_error(b), "ONNX model 'm.onnx': node 'add' (Add) reads undefined tensor 'ghost'");

  OnnxBuilder c;
  c.input("x", {1, 4}).output("nope");
  c.node("Relu", {"x"}, {"y"});
  EXPECT_EQ(import_error(c), "ONNX model 'm.onnx': graph output 'nope' is not defined");

  OnnxBuilder d;
  d.input("x", {2, 3}).output("y");
  d.init("b", {4}, {1, 2, 3, 4});
  d.node("Add", {"x", "b"}, {"y"}, "add");
  EXPECT_EQ(import_error(d), "ONNX model 'm.onnx': node 'add' (Add): shapes [2,3] and [4] cannot be broadcast together");

  OnnxBuilder e;
  e.input("x", {2, 3}).output("y", {2, 4});
  e.node("Relu", {"x"}, {"y"});
  EXPECT_EQ(import_error(e), "ONNX model 'm.onnx': graph output 'y' is declared [2,4] but infers to [2,3]");

  OnnxBuilder f;
  f.input("x", {2}).output("y");
  onnx::TensorProto* t = f.graph()->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(3);
  t->add_float_data(1);
  f.node("Add", {"x", "w"}, {"y"});
  EXPECT_EQ(import_error(f), "ONNX model 'm.onnx': initializer 'w': 1 values for shape [3]");
}

TEST(OnnxImport, ReadsAFile) {
  const auto path = std::filesystem::temp_directory_path() / "vta_ir_import_test.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    out << unary("Relu", {1, 2}).bytes();
  }
  const Graph g = import_onnx(path);
  EXPECT_EQ(g.num_nodes(), 1u);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vta::ir
