// Runs a CompiledModel on a Session: every core step's Program is loaded once (constants uploaded once),
// then each inference packs the step's inputs, runs it and unpacks its output; CPU steps run the int8
// executor's execute_step. Each run returns the outputs and a per-step profile.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vta/model/compiled_model.h"
#include "vta/runtime/session.h"

namespace vta::model {

struct StepProfile {
  size_t step = 0;
  std::string name, op;
  Placement where = Placement::kCpu;
  std::string why;
  uint64_t instructions = 0;  // core steps: the Program's instructions
  uint64_t dram_bytes = 0;    // core steps: bytes loaded and stored by the device
  uint64_t gemm_ops = 0;      // GEMM micro-ops (each BATCH x BLOCK_IN x BLOCK_OUT MACs)
  uint64_t alu_ops = 0;
  uint64_t cycles = 0;        // tsim only
  uint64_t macs = 0;          // conv/dense MACs of the step
  double seconds = 0;         // wall time of the step, host transforms included
  double device_seconds = 0;  // the device run alone
  bool on_device_input = false;  // the input came from the previous core step in device memory
  // Core conv2d steps of ResNet-18's geometry: the layer (C1..C11) and Apache VTA's recorded fsim time
  // for one invocation of it (0 where none is recorded), to put the device time beside.
  std::string layer;
  double apache_vta_fsim_ms = 0;
};

struct ModelRun {
  std::vector<compiler::Tensor> outputs;
  std::vector<StepProfile> steps;
  double seconds = 0;
  StepProfile total() const;  // sums (name "total")
  nlohmann::json profile_json() const;
  std::string profile_text() const;  // a table, one line per step, and the comparison with Apache VTA
};

class ModelRunner {
 public:
  // The session's config must equal the model's (vta::Error saying what differs otherwise).
  ModelRunner(runtime::Session& session, const CompiledModel& model);
  ~ModelRunner();
  ModelRunner(const ModelRunner&) = delete;
  ModelRunner& operator=(const ModelRunner&) = delete;

  // One inference; `input` must have the model input's dtype and shape (vta::Error naming both).
  ModelRun run(const compiler::Tensor& input);
  // Calls on_tensor(id, tensor) for every step output (for differential tests against run_int8).
  ModelRun run(const compiler::Tensor& input, const std::function<void(quant::TensorId, const compiler::Tensor&)>& on_tensor);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Every key that differs between two configs, as "KEY: a vs b" lines joined by "; " (empty if equal).
std::string config_difference(const isa::HwConfig& a, const isa::HwConfig& b);

}  // namespace vta::model
