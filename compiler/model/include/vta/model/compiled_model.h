// A whole int8 model compiled for one hardware config: every step of the QModel placed on the core (with
// its CompiledOp) or on the CPU (run by the int8 executor's execute_step), each with the reason. This is
// what a package stores and what the ModelRunner executes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vta/compiler/compiled_op.h"
#include "vta/isa/hw_config.h"
#include "vta/quant/qmodel.h"

namespace vta::model {

enum class Placement : uint8_t { kCore, kCpu };
std::string_view to_string(Placement p);

struct ModelStep {
  size_t step = 0;  // index into qmodel.steps
  Placement where = Placement::kCpu;
  std::string why;  // e.g. "conv2d 3x3/1 on the core", "softmax: no core operator"
  std::optional<compiler::CompiledOp> op;  // kCore only
};

struct CompiledModel {
  isa::HwConfig config = isa::HwConfig::default_config();
  quant::QModel qmodel;
  std::vector<ModelStep> steps;  // one per qmodel step, same order
  double compile_seconds = 0;    // partition + lowering (not quantization)

  // One line per step: index, name, op, shapes, placement and why, and for core steps the tiling and
  // the Program's size (`vta compile --emit plan`).
  std::string plan_text() const;
  // Every core step's Program as assembly, headed by the step (`vta compile --emit asm`).
  std::string asm_text() const;
  // MACs of the conv/dense steps: on the core and in total.
  uint64_t core_macs() const;
  uint64_t total_macs() const;
  // The DRAM traffic lower bound of one inference: every int8 activation between steps written once and
  // read once, the int8 model input and output moved once, every weight and bias read once.
  uint64_t dram_lower_bound_bytes() const;
};

struct CompileOptions {
  bool cpu_only = false;  // place every step on the CPU (a reference run through the same runner)
  // Fuse each conv2d whose output only a residual add reads into that add (quant::fuse_residual_adds),
  // so that the conv output never leaves the core; needs BLOCK_IN == BLOCK_OUT (otherwise not applied).
  bool fuse_residual = true;
};

// Fuses conv2d + residual add pairs (CompileOptions::fuse_residual; CompiledModel::qmodel is then the
// fused model), places and lowers every step. Steps the core cannot run (no core operator, unsupported parameters, or
// a lowering that does not fit the config) go to the CPU with the reason.
CompiledModel compile_model(const quant::QModel& qmodel, const isa::HwConfig& config, const CompileOptions& opt = {});

}  // namespace vta::model
