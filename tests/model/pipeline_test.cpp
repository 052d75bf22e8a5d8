// pipeline.h (built with the ONNX front end): compile_graph is exactly calibrate -> quantize ->
// compile_model, and its errors (no calibration samples for a float model, several outputs).
#include <gtest/gtest.h>

#include "model_test_util.h"
#include "vta/model/package.h"
#include "vta/model/pipeline.h"

namespace vta::model {
namespace {

using test::Graph;
using test::Tensor;
using test::compile_graph_for;
using test::error_of;
using test::expect_bit_exact;
using test::grouped_graph;
using test::random_inputs;
using test::residual_graph;

TEST(Pipeline, CompileGraphEqualsTheStagesByHand) {
  const Graph g = residual_graph();
  const std::vector<Tensor> samples = random_inputs(g, 4, 100);
  const PipelineResult r = compile_graph(g, samples, isa::HwConfig::default_config());
  const CompiledModel by_hand = compile_graph_for(g, isa::HwConfig::default_config());  // same 4 samples
  EXPECT_EQ(r.model.qmodel.to_text(), by_hand.qmodel.to_text());
  EXPECT_EQ(r.model.plan_text(), by_hand.plan_text());
  EXPECT_TRUE(serialize_package(r.model) != std::vector<uint8_t>{});
  EXPECT_EQ(r.model.qmodel.name, "residual");
  // the float graph comes back as the reference
  EXPECT_EQ(r.graph.num_nodes(), g.num_nodes());
  bool calibration_note = false;
  for (const std::string& n : r.notes) calibration_note |= n.find("calibration") != std::string::npos;
  EXPECT_TRUE(calibration_note) << "the notes say how the model was calibrated";
  runtime::Session session("fsim", r.model.config);
  ModelRunner runner(session, r.model);
  for (const Tensor& in : random_inputs(g, 2, 31)) expect_bit_exact(runner, r.model, in);
}

TEST(Pipeline, CpuOnlyOption) {
  PipelineOptions o;
  o.compile.cpu_only = true;
  o.method = quant::CalibrationMethod::kPercentile;
  const Graph g = grouped_graph();
  const PipelineResult r = compile_graph(g, random_inputs(g, 2, 5), isa::HwConfig::default_config(), o);
  for (const ModelStep& ms : r.model.steps) EXPECT_EQ(ms.where, Placement::kCpu);
}

TEST(Pipeline, FloatModelWithoutSamplesIsAnError) {
  const std::string msg = error_of([] { compile_graph(residual_graph(), {}, isa::HwConfig::default_config()); });
  EXPECT_NE(msg.find("calibration samples"), std::string::npos) << msg;
}

TEST(Pipeline, TwoOutputsIsAnError) {
  Graph g = residual_graph();
  g.add_output(g.inputs().at(0));
  const std::string msg =
      error_of([&] { compile_graph(g, random_inputs(g, 1, 1), isa::HwConfig::default_config()); });
  EXPECT_NE(msg.find("2 outputs"), std::string::npos) << msg;
}

TEST(Pipeline, MissingOnnxFileIsAnError) {
  const std::string msg = error_of([] { import_model("/nonexistent/model.onnx"); });
  EXPECT_NE(msg.find("model.onnx"), std::string::npos) << msg;
}

}  // namespace
}  // namespace vta::model
