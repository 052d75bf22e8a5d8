// compile_model + ModelRunner: placement of each step (core or CPU, with the reason), every step's output
// on the simulator equal to the int8 CPU reference bit for bit (fsim, fsim-ref; every shipped config),
// the per-step profile, and the runner's errors (another config, a wrong input).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <span>

#include "model_test_util.h"

namespace vta::model {
namespace {

using test::DType;
using test::Graph;
using test::Ints;
using ir::Attributes;
using ir::OpKind;
using ir::ValueId;
using test::attrs;
using test::QOp;
using test::Tensor;
using test::compile_graph_for;
using test::config_file;
using test::error_of;
using test::expect_bit_exact;
using test::grouped_graph;
using test::random_inputs;
using test::random_normal;
using test::residual_graph;
using test::step_ops;
using test::tiny_qmodel;

// conv3 and the residual add that reads it are one fused step ("conv3+add").
const std::vector<QOp> kResidualOps = {QOp::kQuantize, QOp::kConv2d,  QOp::kMaxPool, QOp::kConv2d,
                                       QOp::kConv2d,   QOp::kGlobalAvgPool, QOp::kReshape, QOp::kDense,
                                       QOp::kSoftmax};
const std::vector<QOp> kResidualOpsUnfused = {QOp::kQuantize, QOp::kConv2d,        QOp::kMaxPool, QOp::kConv2d,
                                              QOp::kConv2d,   QOp::kAdd,           QOp::kGlobalAvgPool, QOp::kReshape,
                                              QOp::kDense,    QOp::kSoftmax};
const std::vector<QOp> kGroupedOps = {QOp::kQuantize, QOp::kConv2d, QOp::kConv2d,    QOp::kAvgPool,
                                      QOp::kReshape,  QOp::kDense,  QOp::kDequantize};

// Where each op must run: conv2d (grouped ones as super-groups of whole channel blocks, which the test
// graphs' grouped convs form on the default config), dense, add, max pool on the core; the rest on the CPU.
Placement expected_placement(const quant::QStep& s) {
  switch (s.op) {
    case QOp::kConv2d:
    case QOp::kDense:
    case QOp::kAdd:
    case QOp::kMaxPool: return Placement::kCore;
    default: return Placement::kCpu;
  }
}

void expect_placement(const CompiledModel& cm) {
  ASSERT_EQ(cm.steps.size(), cm.qmodel.steps.size());
  for (size_t i = 0; i < cm.steps.size(); ++i) {
    const ModelStep& ms = cm.steps[i];
    const quant::QStep& s = cm.qmodel.steps[i];
    SCOPED_TRACE(testing::Message() << "step " << i << " '" << s.name << "' (" << quant::to_string(s.op) << "): " << ms.why);
    EXPECT_EQ(ms.step, i);
    EXPECT_EQ(ms.where, expected_placement(s));
    EXPECT_FALSE(ms.why.empty()) << "every placement says why";
    EXPECT_EQ(ms.op.has_value(), ms.where == Placement::kCore) << "core steps (only) carry a CompiledOp";
    if (ms.op) {
      EXPECT_FALSE(ms.op->program.instructions.empty());
      EXPECT_NE(ms.why.find("core"), std::string::npos);
    }
  }
}

const ModelStep& step_named(const CompiledModel& cm, const std::string& name) {
  for (const ModelStep& ms : cm.steps) {
    if (cm.qmodel.steps[ms.step].name == name) return ms;
  }
  throw std::runtime_error("no step named " + name);
}

TEST(ModelPlacement, ResidualModel) {
  const CompiledModel cm = compile_graph_for(residual_graph(), isa::HwConfig::default_config());
  ASSERT_EQ(step_ops(cm), kResidualOps) << cm.qmodel.to_text();
  expect_placement(cm);
  EXPECT_NE(step_named(cm, "softmax").why.find("softmax"), std::string::npos);
  EXPECT_NE(step_named(cm, "gap").why.find("global average pool"), std::string::npos);
  EXPECT_NE(step_named(cm, "conv3+add").why.find("fused residual add"), std::string::npos);
  EXPECT_TRUE(cm.qmodel.steps[step_named(cm, "conv3+add").step].has_residual());
  // conv1 has 3 input channels: a host repack on the core
  EXPECT_NE(step_named(cm, "conv1").why.find("host repack"), std::string::npos) << step_named(cm, "conv1").why;
  EXPECT_EQ(cm.core_macs(), cm.total_macs());
  EXPECT_GT(cm.total_macs(), 0u);
}

TEST(ModelPlacement, ResidualModelUnfused) {
  // Without the fusion (or on a config with BLOCK_IN != BLOCK_OUT) the add is its own core step.
  CompileOptions opt;
  opt.fuse_residual = false;
  for (const isa::HwConfig& cfg : {isa::HwConfig::default_config(), test::config_file("in16_out32.json")}) {
    const CompiledModel cm = compile_graph_for(residual_graph(), cfg, cfg.block_in() == cfg.block_out() ? opt : CompileOptions{});
    ASSERT_EQ(step_ops(cm), kResidualOpsUnfused) << cm.qmodel.to_text();
    expect_placement(cm);
    EXPECT_NE(step_named(cm, "add").why.find("add"), std::string::npos);
  }
}

TEST(ModelRunnerFusion, ResidualComesFromDeviceMemoryAndMatchesTheUnfusedModel) {
  // The fused step reads its shortcut (the max pool's output) and its input (conv2's output) in device
  // memory, and the model's output equals the unfused model's bit for bit.
  const Graph g = residual_graph();
  const CompiledModel fused = compile_graph_for(g, isa::HwConfig::default_config());
  CompileOptions opt;
  opt.fuse_residual = false;
  const CompiledModel unfused = compile_graph_for(g, isa::HwConfig::default_config(), opt);
  runtime::Session session("fsim-strict", fused.config);
  ModelRunner rf(session, fused), ru(session, unfused);
  for (const Tensor& in : random_inputs(g, 3, 700)) {
    const ModelRun a = expect_bit_exact(rf, fused, in);
    const ModelRun b = ru.run(in);
    EXPECT_TRUE(a.outputs.at(0) == b.outputs.at(0));
    const StepProfile& f = a.steps.at(step_named(fused, "conv3+add").step);
    EXPECT_TRUE(f.on_device_input);
    EXPECT_LT(a.total().dram_bytes, b.total().dram_bytes) << "the conv output no longer makes a DRAM round trip";
  }
}

TEST(ModelPlacement, GroupedConvOnTheCoreAveragePoolOnTheCpu) {
  const CompiledModel cm = compile_graph_for(grouped_graph(), isa::HwConfig::default_config());
  ASSERT_EQ(step_ops(cm), kGroupedOps) << cm.qmodel.to_text();
  expect_placement(cm);
  // 2 groups of 8 -> 16 channels: one super-group of both groups fills one 16-channel input block.
  const ModelStep& g = step_named(cm, "gconv");
  EXPECT_EQ(g.why, "grouped conv2d 3x3/1 (groups=2, 1 super-group of 2 groups) on the core, 1/2 of the GEMM MACs "
                   "useful (block-diagonal weights)");
  EXPECT_NE(step_named(cm, "avgpool").why.find("average pool"), std::string::npos);
  // MACs: grouped conv 32*8*8 outputs * 8*9, pointwise 16*8*8 * 32, dense 10 * 256
  EXPECT_EQ(cm.total_macs(), uint64_t{32 * 64 * 72 + 16 * 64 * 32 + 10 * 256});
  EXPECT_EQ(cm.core_macs(), cm.total_macs());
}

TEST(ModelPlacement, GroupedConvThatDoesNotTileTheBlocksRunsOnTheCpu) {
  // On 32-channel blocks a block needs 4 groups of 8 input channels; the conv has 2.
  const CompiledModel cm = compile_graph_for(grouped_graph(), config_file("block32.json"));
  const ModelStep& g = step_named(cm, "gconv");
  EXPECT_EQ(g.where, Placement::kCpu);
  EXPECT_NE(g.why.find("grouped conv2d (groups=2, 8 -> 16 channels per group) does not tile the 32x32 channel "
                       "blocks"),
            std::string::npos)
      << g.why;
  EXPECT_EQ(cm.core_macs(), uint64_t{16 * 64 * 32 + 10 * 256});
}

TEST(ModelPlacement, CpuOnlyPlacesEveryStepOnTheCpu) {
  CompileOptions opt;
  opt.cpu_only = true;
  const CompiledModel cm = compile_graph_for(residual_graph(), isa::HwConfig::default_config(), opt);
  for (const ModelStep& ms : cm.steps) {
    EXPECT_EQ(ms.where, Placement::kCpu);
    EXPECT_FALSE(ms.op.has_value());
    EXPECT_EQ(ms.why, "cpu-only compile");
  }
  EXPECT_EQ(cm.core_macs(), 0u);
  runtime::Session session("fsim", cm.config);
  ModelRunner runner(session, cm);
  for (const Tensor& in : random_inputs(residual_graph(), 2, 500)) expect_bit_exact(runner, cm, in);
}

// ---- bit-exact against run_int8_all ----

class ModelRunnerTarget : public testing::TestWithParam<const char*> {};

TEST_P(ModelRunnerTarget, ResidualModelIsBitExact) {
  const Graph g = residual_graph();
  const CompiledModel cm = compile_graph_for(g, isa::HwConfig::default_config());
  runtime::Session session(GetParam(), cm.config);
  ModelRunner runner(session, cm);
  // the calibration inputs, then fresh ones (some saturate: x3 the calibrated range)
  std::vector<Tensor> inputs = random_inputs(g, 2, 100);
  for (Tensor& t : random_inputs(g, 2, 900)) inputs.push_back(t);
  for (float& v : std::span(inputs.back().data<float>(), inputs.back().size())) v *= 3.0f;
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "input " << i);
    const ModelRun run = expect_bit_exact(runner, cm, inputs[i]);
    // softmax output: a probability vector
    ASSERT_EQ(run.outputs[0].shape(), (Ints{1, 10}));
    double sum = 0;
    for (float p : run.outputs[0].to_vector<float>()) sum += p;
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST_P(ModelRunnerTarget, GroupedModelIsBitExact) {
  const Graph g = grouped_graph();
  const CompiledModel cm = compile_graph_for(g, isa::HwConfig::default_config());
  runtime::Session session(GetParam(), cm.config);
  ModelRunner runner(session, cm);
  for (const Tensor& in : random_inputs(g, 3, 700)) expect_bit_exact(runner, cm, in);
}

TEST_P(ModelRunnerTarget, HandBuiltModelIsBitExact) {
  const quant::QModel qm = tiny_qmodel();
  const CompiledModel cm = compile_model(qm, isa::HwConfig::default_config());
  runtime::Session session(GetParam(), cm.config);
  ModelRunner runner(session, cm);
  for (uint32_t seed : {1u, 2u, 3u}) expect_bit_exact(runner, cm, random_normal({1, 16, 4, 4}, seed));
}

// fsim (fast kernels), fsim-ref (the plain reference interpreter), fsim-strict (concurrent modules; a
// token left in a queue at FINISH is an error).
INSTANTIATE_TEST_SUITE_P(Fsim, ModelRunnerTarget, testing::Values("fsim", "fsim-ref", "fsim-strict"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           std::string s = i.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

// Every shipped config (block 8/16/32, batch 2, in16_out32): compiled for it and bit-exact on fsim.
class ModelRunnerConfig : public testing::TestWithParam<const char*> {};

TEST_P(ModelRunnerConfig, ResidualModelIsBitExact) {
  const isa::HwConfig cfg = config_file(GetParam());
  const Graph g = residual_graph();
  const CompiledModel cm = compile_graph_for(g, cfg);
  EXPECT_EQ(cm.config, cfg);
  expect_placement(cm);
  runtime::Session session("fsim", cfg);
  ModelRunner runner(session, cm);
  for (const Tensor& in : random_inputs(g, 2, 300)) {
    expect_bit_exact(runner, cm, in);
    // without the callback the runner may keep intermediate tensors in device memory; same output
    EXPECT_TRUE(runner.run(in).outputs.at(0) == quant::run_int8(cm.qmodel, in).at(0));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, ModelRunnerConfig,
                         testing::Values("default.json", "block8.json", "block32.json", "batch2.json", "in16_out32.json"),
                         [](const testing::TestParamInfo<const char*>& i) {
                           std::string s = i.param;
                           return s.substr(0, s.find('.'));
                         });

// ---- profile ----

TEST(ModelRunner, ProfileCountsCoreWorkOnly) {
  const CompiledModel cm = compile_graph_for(residual_graph(), isa::HwConfig::default_config());
  runtime::Session session("fsim", cm.config);
  ModelRunner runner(session, cm);
  const ModelRun run = runner.run(random_normal({1, 3, 12, 12}, 42));
  ASSERT_EQ(run.steps.size(), cm.steps.size());
  for (size_t i = 0; i < run.steps.size(); ++i) {
    const StepProfile& p = run.steps[i];
    const ModelStep& ms = cm.steps[i];
    SCOPED_TRACE(p.name);
    EXPECT_EQ(p.step, i);
    EXPECT_EQ(p.name, cm.qmodel.steps[i].name);
    EXPECT_EQ(p.op, quant::to_string(cm.qmodel.steps[i].op));
    EXPECT_EQ(p.where, ms.where);
    EXPECT_EQ(p.why, ms.why);
    if (ms.where == Placement::kCore) {
      EXPECT_EQ(p.instructions, ms.op->program.instructions.size());
      EXPECT_GT(p.dram_bytes, 0u);
      EXPECT_GT(p.gemm_ops, 0u);  // conv/dense/add/maxpool all go through the GEMM core
    } else {
      EXPECT_EQ(p.instructions, 0u);
      EXPECT_EQ(p.dram_bytes, 0u);
      EXPECT_EQ(p.gemm_ops, 0u);
    }
    EXPECT_EQ(p.cycles, 0u) << "fsim counts no cycles";
  }
  const StepProfile t = run.total();
  EXPECT_EQ(t.name, "total");
  EXPECT_EQ(t.macs, cm.total_macs());
  uint64_t insns = 0;
  for (const StepProfile& p : run.steps) insns += p.instructions;
  EXPECT_EQ(t.instructions, insns);

  const nlohmann::json j = run.profile_json();
  ASSERT_TRUE(j.contains("steps") && j["steps"].is_array());
  ASSERT_EQ(j["steps"].size(), cm.steps.size());
  for (size_t i = 0; i < cm.steps.size(); ++i) {
    EXPECT_EQ(j["steps"][i]["target"], std::string(to_string(cm.steps[i].where)));
    EXPECT_EQ(j["steps"][i]["name"], cm.qmodel.steps[i].name);
  }
  EXPECT_EQ(j["total"]["instructions"].get<uint64_t>(), insns);
  EXPECT_EQ(j["total"]["macs"].get<uint64_t>(), cm.total_macs());
  const std::string text = run.profile_text();
  EXPECT_NE(text.find("conv1"), std::string::npos) << text;
  EXPECT_NE(text.find("total"), std::string::npos) << text;
}

// A conv of ResNet-18's C11 geometry (512 x 7 x 7, 3 x 3, pad 1) is named in the profile, with Apache
// VTA's recorded fsim time beside the device time; other convs are not.
TEST(ModelRunner, ProfileNamesResNet18LayersBesideApacheVta) {
  Graph g("c11");
  const ValueId x = g.add_input("x", DType::kFloat32, {1, 512, 7, 7});
  const ValueId c = g.add_value("c"), y = g.add_value("y");
  g.add_node(OpKind::kConv, "c11",
             {x, g.add_constant("w", random_normal({512, 512, 3, 3}, 21, 0.02f)), g.add_constant("b", random_normal({512}, 22, 0.1f))},
             {c}, attrs({{"pads", Ints{1, 1, 1, 1}}}));
  g.add_node(OpKind::kRelu, "relu", {c}, {y});
  g.add_output(y);
  ir::run_default_passes(g);
  const CompiledModel cm = compile_graph_for(g, isa::HwConfig::default_config());
  runtime::Session session("fsim", cm.config);
  ModelRunner runner(session, cm);
  const ModelRun run = runner.run(random_normal({1, 512, 7, 7}, 25));
  size_t named = 0;
  for (const StepProfile& p : run.steps) {
    if (p.layer.empty()) continue;
    EXPECT_EQ(p.layer, "C11");
    EXPECT_DOUBLE_EQ(p.apache_vta_fsim_ms, 49.4);
    EXPECT_GT(p.device_seconds, 0);
    ++named;
  }
  EXPECT_EQ(named, 1u);
  const std::string text = run.profile_text();
  EXPECT_NE(text.find("Apache VTA's fsim, recorded: 49.4 ms for the same steps"), std::string::npos) << text;
  size_t in_json = 0;
  const nlohmann::json j = run.profile_json();
  for (const auto& step : j["steps"]) in_json += step["layer"] == "C11";
  EXPECT_EQ(in_json, 1u);
  // The residual test model has no ResNet-18 geometry: nothing is named.
  const CompiledModel small = compile_graph_for(residual_graph(), isa::HwConfig::default_config());
  runtime::Session s2("fsim", small.config);
  ModelRunner r2(s2, small);
  for (const StepProfile& p : r2.run(random_normal({1, 3, 12, 12}, 42)).steps) EXPECT_EQ(p.layer, "") << p.name;
}

TEST(ModelRunner, RunsManyInputsWithOneRunner) {
  // Programs are loaded once; constants must survive across runs (no input leaks into the next run).
  const Graph g = residual_graph();
  const CompiledModel cm = compile_graph_for(g, isa::HwConfig::default_config());
  runtime::Session session("fsim", cm.config);
  ModelRunner runner(session, cm);
  const Tensor a = random_normal({1, 3, 12, 12}, 1), b = random_normal({1, 3, 12, 12}, 2);
  const Tensor ya = runner.run(a).outputs.at(0);
  const Tensor yb = runner.run(b).outputs.at(0);
  EXPECT_TRUE(runner.run(a).outputs.at(0) == ya);
  EXPECT_TRUE(ya == quant::run_int8(cm.qmodel, a).at(0));
  EXPECT_TRUE(yb == quant::run_int8(cm.qmodel, b).at(0));
  EXPECT_FALSE(ya == yb);
}

// ---- errors ----

TEST(ModelRunnerErrors, SessionOfAnotherConfigNamesTheKey) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  const isa::HwConfig block8 = config_file("block8.json");
  runtime::Session session("fsim", block8);
  const std::string msg = error_of([&] { ModelRunner runner(session, cm); });
  ASSERT_FALSE(msg.empty()) << "a model of another config must be refused";
  EXPECT_NE(msg.find("LOG_BLOCK"), std::string::npos) << msg;
  EXPECT_NE(msg.find(cm.config.name()), std::string::npos) << msg;
  EXPECT_NE(msg.find(block8.name()), std::string::npos) << msg;
}

TEST(ModelRunnerErrors, ConfigDifference) {
  const isa::HwConfig def = isa::HwConfig::default_config();
  EXPECT_EQ(config_difference(def, def), "");
  EXPECT_EQ(config_difference(def, config_file("default.json")), "");
  const std::string d = config_difference(def, config_file("block32.json"));
  EXPECT_NE(d.find("LOG_BLOCK: 4 vs 5"), std::string::npos) << d;
  EXPECT_EQ(d.find("LOG_BATCH"), std::string::npos) << d;  // equal keys are not listed
  const std::string b = config_difference(def, config_file("batch2.json"));
  EXPECT_NE(b.find("LOG_BATCH: 0 vs 1"), std::string::npos) << b;
}

TEST(ModelRunnerErrors, WrongInputShapeOrDtypeNamesBoth) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  runtime::Session session("fsim", cm.config);
  ModelRunner runner(session, cm);
  std::string msg = error_of([&] { runner.run(Tensor(DType::kFloat32, {1, 16, 4, 5})); });
  EXPECT_NE(msg.find("(1, 16, 4, 4)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(1, 16, 4, 5)"), std::string::npos) << msg;
  msg = error_of([&] { runner.run(Tensor(DType::kFloat32, {16, 4, 4})); });
  EXPECT_NE(msg.find("(16, 4, 4)"), std::string::npos) << msg;
  msg = error_of([&] { runner.run(Tensor(DType::kInt8, {1, 16, 4, 4})); });
  EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
  EXPECT_NE(msg.find("int8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'x'"), std::string::npos) << msg;  // the input's name
  // the runner still works after a refused input
  expect_bit_exact(runner, cm, random_normal({1, 16, 4, 4}, 9));
}

}  // namespace
}  // namespace vta::model
