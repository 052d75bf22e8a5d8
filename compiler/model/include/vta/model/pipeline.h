// The whole compile flow from a float (or QDQ) ONNX model to a CompiledModel: import, graph passes
// (BatchNorm folding, canonical forms), calibration on sample inputs, int8 quantization, partitioning
// into core operators and CPU steps, lowering. Each stage is also reachable on its own; this is what
// `vta compile` and `vta run model.onnx` call.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "vta/compiler/tensor.h"
#include "vta/ir/graph.h"
#include "vta/model/compiled_model.h"
#include "vta/quant/calibration.h"

namespace vta::model {

struct PipelineOptions {
  quant::CalibrationMethod method = quant::CalibrationMethod::kMax;
  double percentile = 99.99;
  CompileOptions compile;
};

struct PipelineResult {
  ir::Graph graph;  // the float graph after the passes (the float reference)
  CompiledModel model;
  std::vector<std::string> notes;  // importer and quantizer notes
  double import_seconds = 0, quantize_seconds = 0, compile_seconds = 0;  // quantize includes calibration
};

// Imports `onnx_path` and runs the graph passes (vta::Error on a malformed or unsupported model).
ir::Graph import_model(const std::filesystem::path& onnx_path, std::vector<std::string>* notes = nullptr);

// Calibrates `graph` on `samples` (float32, each of the input's shape), quantizes, partitions and lowers.
// A float model without samples is a vta::Error; a model whose every activation carries QDQ scales needs
// none.
PipelineResult compile_graph(ir::Graph graph, const std::vector<compiler::Tensor>& samples,
                             const isa::HwConfig& config, const PipelineOptions& options = {});

// import_model + compile_graph.
PipelineResult compile_onnx(const std::filesystem::path& onnx_path, const std::vector<compiler::Tensor>& samples,
                            const isa::HwConfig& config, const PipelineOptions& options = {});

}  // namespace vta::model
