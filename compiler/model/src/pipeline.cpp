#include "vta/model/pipeline.h"

#include <chrono>

#include <fmt/format.h>

#include "vta/frontend/onnx_import.h"
#include "vta/ir/passes.h"
#include "vta/isa/error.h"
#include "vta/quant/quantize.h"

namespace vta::model {

namespace {
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool has_qdq(const ir::Graph& g) {
  for (ir::NodeId n : g.node_ids()) {
    const ir::OpKind op = g.node(n).op;
    if (op == ir::OpKind::kQuantizeLinear || op == ir::OpKind::kDequantizeLinear) return true;
  }
  return false;
}
}  // namespace

ir::Graph import_model(const std::filesystem::path& onnx_path, std::vector<std::string>* notes) {
  ir::Graph g = frontend::import_onnx(onnx_path, notes);
  ir::run_default_passes(g);
  return g;
}

PipelineResult compile_graph(ir::Graph graph, const std::vector<compiler::Tensor>& samples, const isa::HwConfig& config,
                             const PipelineOptions& options) {
  PipelineResult r;
  const auto t0 = Clock::now();
  if (graph.inputs().size() != 1 || graph.outputs().size() != 1) {
    throw Error(fmt::format("model '{}' has {} inputs and {} outputs; one of each is supported", graph.name(),
                            graph.inputs().size(), graph.outputs().size()));
  }
  std::vector<compiler::Tensor> calib = samples;
  if (calib.empty()) {
    if (!has_qdq(graph)) {
      throw Error("a float model needs calibration samples (--calib x.npy or a directory of .npy files)");
    }
    // A QDQ model carries its scales; thresholds of unannotated values come from a zero input.
    const ir::Value& in = graph.value(graph.inputs()[0]);
    calib.emplace_back(in.dtype, in.shape);
    r.notes.push_back("no calibration samples: QDQ scales only (other activations calibrated on a zero input)");
  }
  const quant::Calibration cal = quant::calibrate(graph, calib, options.method, options.percentile);
  quant::QuantizeOptions qo;
  qo.name = graph.name();
  quant::QModel qm = quant::quantize(graph, cal, qo);
  r.quantize_seconds = since(t0);
  const auto t1 = Clock::now();
  r.model = compile_model(qm, config, options.compile);
  r.compile_seconds = since(t1);
  r.notes.insert(r.notes.end(), qm.notes.begin(), qm.notes.end());
  r.graph = std::move(graph);
  return r;
}

PipelineResult compile_onnx(const std::filesystem::path& onnx_path, const std::vector<compiler::Tensor>& samples,
                            const isa::HwConfig& config, const PipelineOptions& options) {
  const auto t0 = Clock::now();
  std::vector<std::string> notes;
  ir::Graph g = import_model(onnx_path, &notes);
  const double import_seconds = since(t0);
  PipelineResult r = compile_graph(std::move(g), samples, config, options);
  r.import_seconds = import_seconds;
  r.notes.insert(r.notes.begin(), notes.begin(), notes.end());
  return r;
}

}  // namespace vta::model
