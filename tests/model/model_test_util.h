// Helpers shared by the model-flow tests: small float graphs built with the ir::Graph API, the
// calibrate -> quantize -> compile_model path, a hand-built QModel with fixed weights, and the check that
// a ModelRunner run equals the int8 CPU reference step by step.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "vta/ir/graph.h"
#include "vta/ir/passes.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/model/compiled_model.h"
#include "vta/model/model_runner.h"
#include "vta/quant/calibration.h"
#include "vta/quant/int8_executor.h"
#include "vta/quant/qmodel.h"
#include "vta/quant/quantize.h"
#include "vta/runtime/session.h"
#include "vta/test/graph_helpers.h"

namespace vta::model::test {

using compiler::DType;
using compiler::Tensor;
using ir::Attributes;
using ir::AttrValue;
using ir::Graph;
using ir::OpKind;
using ir::ValueId;
using quant::QOp;
using Ints = std::vector<int64_t>;

inline Tensor random_normal(std::vector<int64_t> shape, uint32_t seed, float stddev = 1.0f) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, stddev);
  for (size_t i = 0; i < t.size(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

template <class T>
inline Tensor random_int(DType dtype, std::vector<int64_t> shape, uint32_t seed, int lo, int hi) {
  Tensor t(dtype, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(lo, hi);
  for (size_t i = 0; i < t.size(); ++i) t.data<T>()[i] = static_cast<T>(d(rng));
  return t;
}

using vta::test::attrs;
using vta::test::error_of;

inline isa::HwConfig config_file(const std::string& name) {
  return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/" + name);
}

// x (1,3,12,12) -> Conv 3x3 3->16 + Relu -> MaxPool 2x2/2 -> Conv 3x3 16->16 + Relu -> Conv 3x3 16->16
// -> Add(., maxpool) + Relu -> GlobalAveragePool -> Flatten -> Gemm 16->10 -> Softmax.
// The first conv has 3 input channels (the host-repack path); the residual Add reads the max pool.
inline Graph residual_graph() {
  Graph g("residual");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 3, 12, 12});
  const auto v = [&](const char* name) { return g.add_value(name); };
  const ValueId c1 = v("c1"), r1 = v("r1"), p1 = v("p1"), c2 = v("c2"), r2 = v("r2"), c3 = v("c3"), a = v("a"),
                ra = v("ra"), gp = v("gp"), f = v("f"), logits = v("logits"), y = v("y");
  const Attributes pad1 = attrs({{"pads", Ints{1, 1, 1, 1}}});
  g.add_node(OpKind::kConv, "conv1",
             {x, g.add_constant("w1", random_normal({16, 3, 3, 3}, 11, 0.3f)), g.add_constant("b1", random_normal({16}, 12, 0.1f))},
             {c1}, pad1);
  g.add_node(OpKind::kRelu, "relu1", {c1}, {r1});
  g.add_node(OpKind::kMaxPool, "pool", {r1}, {p1}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  g.add_node(OpKind::kConv, "conv2",
             {p1, g.add_constant("w2", random_normal({16, 16, 3, 3}, 13, 0.1f)), g.add_constant("b2", random_normal({16}, 14, 0.1f))},
             {c2}, pad1);
  g.add_node(OpKind::kRelu, "relu2", {c2}, {r2});
  g.add_node(OpKind::kConv, "conv3",
             {r2, g.add_constant("w3", random_normal({16, 16, 3, 3}, 15, 0.1f)), g.add_constant("b3", random_normal({16}, 16, 0.1f))},
             {c3}, pad1);
  g.add_node(OpKind::kAdd, "add", {c3, p1}, {a});
  g.add_node(OpKind::kRelu, "relu3", {a}, {ra});
  g.add_node(OpKind::kGlobalAveragePool, "gap", {ra}, {gp});
  g.add_node(OpKind::kFlatten, "flatten", {gp}, {f}, attrs({{"axis", int64_t{1}}}));
  g.add_node(OpKind::kGemm, "fc",
             {f, g.add_constant("wf", random_normal({10, 16}, 17, 0.3f)), g.add_constant("bf", random_normal({10}, 18, 0.1f))},
             {logits}, attrs({{"transB", int64_t{1}}}));
  g.add_node(OpKind::kSoftmax, "softmax", {logits}, {y}, attrs({{"axis", int64_t{1}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  return g;
}

// x (1,16,8,8) -> Conv 3x3 groups=2 16->32 + Relu -> Conv 1x1 32->16 + Relu -> AveragePool 2x2/2 ->
// Flatten -> Gemm 256->10.
inline Graph grouped_graph() {
  Graph g("grouped");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 16, 8, 8});
  const auto v = [&](const char* name) { return g.add_value(name); };
  const ValueId c1 = v("c1"), r1 = v("r1"), c2 = v("c2"), r2 = v("r2"), ap = v("ap"), f = v("f"), y = v("y");
  g.add_node(OpKind::kConv, "gconv",
             {x, g.add_constant("w1", random_normal({32, 8, 3, 3}, 21, 0.15f)), g.add_constant("b1", random_normal({32}, 22, 0.1f))},
             {c1}, attrs({{"pads", Ints{1, 1, 1, 1}}, {"group", int64_t{2}}}));
  g.add_node(OpKind::kRelu, "relu1", {c1}, {r1});
  g.add_node(OpKind::kConv, "pconv",
             {r1, g.add_constant("w2", random_normal({16, 32, 1, 1}, 23, 0.2f)), g.add_constant("b2", random_normal({16}, 24, 0.1f))},
             {c2});
  g.add_node(OpKind::kRelu, "relu2", {c2}, {r2});
  g.add_node(OpKind::kAveragePool, "avgpool", {r2}, {ap}, attrs({{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}}));
  g.add_node(OpKind::kFlatten, "flatten", {ap}, {f}, attrs({{"axis", int64_t{1}}}));
  g.add_node(OpKind::kGemm, "fc",
             {f, g.add_constant("wf", random_normal({10, 256}, 25, 0.1f)), g.add_constant("bf", random_normal({10}, 26, 0.1f))},
             {y}, attrs({{"transB", int64_t{1}}}));
  g.add_output(y);
  ir::run_default_passes(g);
  return g;
}

inline std::vector<Tensor> random_inputs(const Graph& g, size_t n, uint32_t seed) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < n; ++i) out.push_back(random_normal(g.value(g.inputs().at(0)).shape, seed + static_cast<uint32_t>(i)));
  return out;
}

// calibrate (max, on 4 random inputs) -> quantize -> compile_model.
inline CompiledModel compile_graph_for(const Graph& g, const isa::HwConfig& cfg, const CompileOptions& opt = {}) {
  const quant::Calibration cal = quant::calibrate(g, random_inputs(g, 4, 100), quant::CalibrationMethod::kMax);
  return compile_model(quant::quantize(g, cal), cfg, opt);
}

// A QModel with fixed int8 weights (seeded), no calibration involved: the subject of the golden tests.
//   x f32[1,16,4,4] -> Quantize@e6 -> Conv2d 3x3 pad 1 16->16 relu shift 8 @e5 -> MaxPool 2x2/2 ->
//   Reshape [1,64] -> Dense 64->16 shift 8 @e4 -> Softmax -> f32[1,16]
inline quant::QModel tiny_qmodel() {
  quant::QModel m;
  m.name = "tiny";
  const auto tensor = [&](std::string name, DType dt, Ints shape, int32_t exp) {
    m.tensors.push_back(quant::QTensor{std::move(name), dt, std::move(shape), exp});
    return static_cast<quant::TensorId>(m.tensors.size() - 1);
  };
  const auto step = [&](QOp op, std::string name, std::vector<quant::TensorId> in, quant::TensorId out) -> quant::QStep& {
    quant::QStep s;
    s.op = op;
    s.name = std::move(name);
    s.inputs = std::move(in);
    s.output = out;
    m.steps.push_back(std::move(s));
    return m.steps.back();
  };
  const auto x = tensor("x", DType::kFloat32, {1, 16, 4, 4}, 0);
  const auto xq = tensor("x.q", DType::kInt8, {1, 16, 4, 4}, 6);
  const auto c = tensor("c", DType::kInt8, {1, 16, 4, 4}, 5);
  const auto p = tensor("p", DType::kInt8, {1, 16, 2, 2}, 5);
  const auto f = tensor("f", DType::kInt8, {1, 64}, 5);
  const auto d = tensor("d", DType::kInt8, {1, 16}, 4);
  const auto y = tensor("y", DType::kFloat32, {1, 16}, 0);
  m.input = x;
  m.output = y;
  step(QOp::kQuantize, "x.quantize", {x}, xq);
  quant::QStep& conv = step(QOp::kConv2d, "conv", {xq}, c);
  conv.weight = random_int<int8_t>(DType::kInt8, {16, 16, 3, 3}, 1, -64, 64);
  conv.bias = random_int<int32_t>(DType::kInt32, {16}, 2, -2000, 2000);
  conv.weight_exp = 7;
  conv.conv.pad_top = conv.conv.pad_left = conv.conv.pad_bottom = conv.conv.pad_right = 1;
  conv.requant.shift = 8;
  conv.requant.relu = true;
  quant::QStep& pool = step(QOp::kMaxPool, "pool", {c}, p);
  pool.pool.kernel_h = pool.pool.kernel_w = 2;
  pool.pool.stride_h = pool.pool.stride_w = 2;
  step(QOp::kReshape, "flatten", {p}, f);
  quant::QStep& fc = step(QOp::kDense, "fc", {f}, d);
  fc.weight = random_int<int8_t>(DType::kInt8, {16, 64}, 3, -64, 64);
  fc.bias = random_int<int32_t>(DType::kInt32, {16}, 4, -2000, 2000);
  fc.weight_exp = 7;
  fc.requant.shift = 8;
  step(QOp::kSoftmax, "softmax", {d}, y);
  return m;
}

// Runs `input` through `runner` (callback form) and checks that every step output equals the int8 CPU
// reference (run_int8_all) bit for bit, that each step reports exactly once and in step order, and that
// the model output equals the reference's.
inline ModelRun expect_bit_exact(ModelRunner& runner, const CompiledModel& cm, const Tensor& input) {
  const quant::QModel& m = cm.qmodel;
  const std::vector<Tensor> ref = quant::run_int8_all(m, input);
  std::vector<quant::TensorId> seen;
  ModelRun run = runner.run(input, [&](quant::TensorId id, const Tensor& t) {
    seen.push_back(id);
    ASSERT_GE(id, 0);
    ASSERT_LT(static_cast<size_t>(id), ref.size());
    EXPECT_TRUE(t == ref[static_cast<size_t>(id)])
        << "tensor '" << m.tensor(id).name << "' differs from the int8 CPU reference (dtype "
        << compiler::to_string(t.dtype()) << " " << t.shape_string() << " vs "
        << compiler::to_string(ref[static_cast<size_t>(id)].dtype()) << " " << ref[static_cast<size_t>(id)].shape_string()
        << ")";
  });
  std::vector<quant::TensorId> want;
  for (const quant::QStep& s : m.steps) want.push_back(s.output);
  EXPECT_EQ(seen, want) << "the callback must report every step output once, in step order";
  EXPECT_EQ(run.steps.size(), m.steps.size());
  EXPECT_EQ(run.outputs.size(), 1u);
  if (!run.outputs.empty()) {
    EXPECT_TRUE(run.outputs[0] == ref.at(static_cast<size_t>(m.output))) << "model output differs";
  }
  return run;
}

inline std::vector<QOp> step_ops(const CompiledModel& cm) {
  std::vector<QOp> ops;
  for (const quant::QStep& s : cm.qmodel.steps) ops.push_back(s.op);
  return ops;
}

}  // namespace vta::model::test
