// Partitioning of a QModel into core operators and CPU steps, and the lowering of the core ones.
#include "vta/model/compiled_model.h"

#include <chrono>

#include <fmt/format.h>

#include "vta/ir/graph.h"
#include "vta/isa/error.h"

namespace vta::model {

namespace {

using quant::QOp;
using quant::QStep;

std::string shape_text(const std::vector<int64_t>& s) { return ir::shape_str(s); }

// The super-groups a grouped conv2d step runs as on the core (vta::Error when its groups do not tile the
// channel blocks).
compiler::SuperGroups step_super_groups(const quant::QModel& m, const QStep& s, const isa::HwConfig& cfg) {
  const std::vector<int64_t>& in = m.tensor(s.inputs.at(0)).shape;
  compiler::Conv2dShape shape;
  shape.c = in.at(1);
  shape.o = s.weight.value().dim(0);
  compiler::Conv2dParams p;
  p.groups = s.conv.groups;
  return compiler::super_groups(shape, p, cfg);
}

// Why a step has no core operator (empty: it has one).
std::string cpu_only_reason(const quant::QModel& m, const QStep& s, const isa::HwConfig& cfg) {
  switch (s.op) {
    case QOp::kConv2d:
      if (s.conv.groups != 1) {
        try {
          step_super_groups(m, s, cfg);
        } catch (const Error& e) {
          // The core's GEMM works on dense channel blocks: the groups must fill whole blocks.
          return e.what();
        }
      }
      return {};
    case QOp::kDense:
      return {};
    case QOp::kAdd:
      if (s.shift_a > 6 || s.shift_b > 6) return "add: input alignment shifts above 6 do not fit int8 weights";
      if (m.tensor(s.inputs[0]).shape != m.tensor(s.inputs[1]).shape) return "add: broadcasting is not on the core";
      if (!s.channel_shift.empty()) return "add: per-channel shifts are not on the core";
      return {};
    case QOp::kMaxPool:
      return {};
    case QOp::kReshape: return "reshape: a host-side view, no data moves";
    case QOp::kQuantize: return "quantize: float input";
    case QOp::kDequantize: return "dequantize: float output";
    case QOp::kSoftmax: return "softmax: exponentials have no core operator";
    case QOp::kAvgPool: return "average pool: division has no core operator";
    case QOp::kGlobalAvgPool: return "global average pool: division has no core operator";
    case QOp::kConcat: return "concat: a host-side copy with requantization";
    case QOp::kRelu:
    case QOp::kClip: return "standalone clip: too small to pay for a core round trip";
  }
  return "unknown op";
}

compiler::CompiledOp lower(const quant::QModel& m, const QStep& s, const isa::HwConfig& cfg) {
  const std::vector<int64_t>& in = m.tensor(s.inputs.at(0)).shape;
  switch (s.op) {
    case QOp::kConv2d: {
      compiler::Conv2dParams p;
      p.stride_h = s.conv.stride_h, p.stride_w = s.conv.stride_w;
      p.pad_top = s.conv.pad_top, p.pad_left = s.conv.pad_left;
      p.pad_bottom = s.conv.pad_bottom, p.pad_right = s.conv.pad_right;
      p.requant = s.requant;
      p.groups = s.conv.groups;
      p.channel_shift = s.channel_shift;
      if (s.has_residual()) p.residual = compiler::ResidualAdd{s.shift_a, s.shift_b, s.residual_requant};
      return compiler::compile_conv2d(cfg, in, s.weight.value(), s.bias ? &*s.bias : nullptr, p);
    }
    case QOp::kDense:
      return compiler::compile_dense(cfg, in, s.weight.value(), s.bias ? &*s.bias : nullptr, s.requant, {},
                                     s.channel_shift);
    case QOp::kAdd: {
      compiler::AddParams a;
      a.shift_a = s.shift_a, a.shift_b = s.shift_b;
      a.bias = s.requant.shift > 0 ? int32_t{1} << (s.requant.shift - 1) : 0;
      return compiler::compile_add(cfg, in, s.requant, a);
    }
    case QOp::kMaxPool: {
      compiler::MaxPoolParams p;
      p.kernel_h = s.pool.kernel_h, p.kernel_w = s.pool.kernel_w;
      p.stride_h = s.pool.stride_h, p.stride_w = s.pool.stride_w;
      p.pad_top = s.pool.pad_top, p.pad_left = s.pool.pad_left;
      p.pad_bottom = s.pool.pad_bottom, p.pad_right = s.pool.pad_right;
      return compiler::compile_max_pool2d(cfg, in, p);
    }
    default:
      throw Error(fmt::format("step '{}' ({}) has no core operator", s.name, quant::to_string(s.op)));
  }
}

std::string core_reason(const quant::QModel& m, const QStep& s, const compiler::CompiledOp& op,
                        const isa::HwConfig& cfg) {
  switch (s.op) {
    case QOp::kConv2d:
      if (s.conv.groups != 1) {
        // e.g. "grouped conv2d 3x3/1 (groups=32, 4 super-groups of 8 groups) on the core, 1/8 of the GEMM MACs
        // useful (block-diagonal weights)"
        const compiler::SuperGroups g = step_super_groups(m, s, cfg);
        const bool depthwise = s.weight->dim(1) == 1 && s.weight->dim(0) == int64_t{s.conv.groups};
        return fmt::format("{} conv2d {}x{}/{} (groups={}, {} super-group{} of {} group{}) on the core{}{}",
                           depthwise ? "depthwise" : "grouped", s.weight->dim(2), s.weight->dim(3), s.conv.stride_h,
                           s.conv.groups, g.count, g.count == 1 ? "" : "s", g.groups_per,
                           g.groups_per == 1 ? "" : "s",
                           g.groups_per == 1 ? std::string()
                                             : fmt::format(", 1/{} of the GEMM MACs useful (block-diagonal weights)",
                                                           g.groups_per),
                           s.has_residual() ? " + fused residual add" : "");
      }
      return fmt::format("conv2d {}x{}/{} on the core{}{}", s.weight->dim(2), s.weight->dim(3), s.conv.stride_h,
                         op.tiling.repack.direct() ? "" : ", host repack " + op.tiling.repack.to_string(),
                         s.has_residual() ? " + fused residual add" : "");
    case QOp::kDense: return "dense on the core";
    case QOp::kAdd: return "residual add on the core (identity GEMM + ALU requantize)";
    case QOp::kMaxPool: return "max pool on the core (ALU MAX)";
    default: return "on the core";
  }
}

uint64_t step_macs(const quant::QModel& m, const QStep& s) {
  if (s.op != QOp::kConv2d && s.op != QOp::kDense) return 0;
  const std::vector<int64_t>& out = m.tensor(s.output).shape;
  int64_t outputs = 1;
  for (int64_t d : out) outputs *= d;
  const compiler::Tensor& w = s.weight.value();
  const int64_t per_output = static_cast<int64_t>(w.size()) / w.dim(0);  // (I/groups) * KH * KW, or K
  return static_cast<uint64_t>(outputs * per_output);
}

}  // namespace

std::string_view to_string(Placement p) { return p == Placement::kCore ? "core" : "cpu"; }

CompiledModel compile_model(const quant::QModel& qmodel, const isa::HwConfig& config, const CompileOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  CompiledModel cm;
  cm.config = config;
  cm.qmodel = qmodel;
  // A conv2d whose output only a residual add reads runs as one kernel with it (the conv output stays on
  // chip); the core loads the residual in the output's layout, as INP elements: BLOCK_IN == BLOCK_OUT.
  if (opt.fuse_residual && !opt.cpu_only && config.block_in() == config.block_out()) {
    quant::fuse_residual_adds(cm.qmodel);
  }
  for (size_t i = 0; i < cm.qmodel.steps.size(); ++i) {
    const QStep& s = cm.qmodel.steps[i];
    ModelStep ms;
    ms.step = i;
    std::string why = opt.cpu_only ? "cpu-only compile" : cpu_only_reason(cm.qmodel, s, config);
    if (why.empty()) {
      try {
        ms.op = lower(cm.qmodel, s, config);
        ms.where = Placement::kCore;
        ms.why = core_reason(cm.qmodel, s, *ms.op, config);
      } catch (const Error& e) {
        // A core operator whose parameters the lowering rejects runs on the CPU, saying why.
        ms.why = fmt::format("{} does not fit the core: {}", quant::to_string(s.op), e.what());
      }
    } else {
      ms.why = std::move(why);
    }
    cm.steps.push_back(std::move(ms));
  }
  cm.compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return cm;
}

uint64_t CompiledModel::core_macs() const {
  uint64_t macs = 0;
  for (const ModelStep& s : steps) {
    if (s.where == Placement::kCore) macs += step_macs(qmodel, qmodel.steps[s.step]);
  }
  return macs;
}

uint64_t CompiledModel::total_macs() const {
  uint64_t macs = 0;
  for (const quant::QStep& s : qmodel.steps) macs += step_macs(qmodel, s);
  return macs;
}

uint64_t CompiledModel::dram_lower_bound_bytes() const {
  const quant::QModel& m = qmodel;
  std::vector<bool> produced(m.tensors.size(), false), consumed(m.tensors.size(), false);
  uint64_t bytes = 0;
  for (const QStep& s : m.steps) {
    if (s.op == QOp::kReshape) continue;  // a view: its input's bytes are the ones moved
    produced[static_cast<size_t>(s.output)] = true;
    for (quant::TensorId t : s.inputs) consumed[static_cast<size_t>(t)] = true;
    if (s.weight) bytes += s.weight->nbytes();
    if (s.bias) bytes += s.bias->nbytes();
  }
  for (size_t t = 0; t < m.tensors.size(); ++t) {
    const quant::QTensor& q = m.tensors[t];
    if (q.dtype != compiler::DType::kInt8) continue;
    int64_t n = 1;
    for (int64_t d : q.shape) n *= d;
    // A reshape's output is read in place of its input: count the read on whichever is consumed.
    bytes += static_cast<uint64_t>(n) * ((produced[t] ? 1 : 0) + (consumed[t] ? 1 : 0));
  }
  return bytes;
}

std::string CompiledModel::plan_text() const {
  std::string out = fmt::format("plan {} for config {} ({} steps)\n", qmodel.name, config.name(), steps.size());
  for (const ModelStep& ms : steps) {
    const QStep& s = qmodel.steps[ms.step];
    std::string inputs;
    for (quant::TensorId t : s.inputs) inputs += (inputs.empty() ? "" : ", ") + shape_text(qmodel.tensor(t).shape);
    out += fmt::format("{:3} {:<4} {:<14} {:<24} ({}) -> {}: {}\n", ms.step, to_string(ms.where),
                       quant::to_string(s.op), s.name, inputs, shape_text(qmodel.tensor(s.output).shape), ms.why);
    if (ms.op) {
      out += fmt::format("      tiling {}; {} instructions, {} micro-op bytes\n", ms.op->tiling.to_string(),
                         ms.op->program.instructions.size(),
                         ms.op->program.buffers.at(ms.op->program.find_buffer("uops")).bytes);
    }
  }
  return out;
}

std::string CompiledModel::asm_text() const {
  std::string out;
  for (const ModelStep& ms : steps) {
    if (!ms.op) continue;
    out += fmt::format("# step {} {} ({})\n", ms.step, qmodel.steps[ms.step].name, quant::to_string(qmodel.steps[ms.step].op));
    out += ms.op->program.to_asm();
  }
  return out;
}

}  // namespace vta::model
