// Runs one sweep point: builds its config, estimates its area, compiles the workload for it and runs it on
// the chosen backend (docs/dse.md). Never throws for a bad point: an invalid config or a workload that does
// not fit it becomes status "invalid", a failed run status "error", each with the reason.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "vta/dse/report.h"
#include "vta/dse/sweep.h"

namespace vta::dse {

struct EvalOptions {
  std::string target = "tlm";     // any driver target; tlm and tsim give cycles
  // "resnet18" (its conv2d layers), "gemm" (the pipelined GEMM) or a model file "*.onnx" (compiled per
  // point, one inference; the core steps' cycles count, CPU steps do not)
  std::string workload = "resnet18";
  std::string model_input;  // .onnx workload: calibration samples and the input (.npy); empty = random [0, 1)
  std::vector<std::string> layers;    // resnet18: a subset of C1..C11 (empty = all)
  std::string budget;                 // FPGA part the points must fit ("" = no budget)
  // Yosys instead of the area model for every valid point (cached per config hash; see synth.h).
  bool synth = false;
  std::filesystem::path synth_cache;  // empty: default_synth_cache()
};

// Checks the options (known workload, layers and part) before a sweep starts; throws vta::Error.
void check_options(const EvalOptions& options);

PointResult evaluate_point(const SweepSpec& sweep, uint64_t index, const EvalOptions& options);

}  // namespace vta::dse
