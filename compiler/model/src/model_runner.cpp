#include "vta/model/model_runner.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vta/compiler/workloads.h"
#include "vta/isa/error.h"
#include "vta/quant/int8_executor.h"

namespace vta::model {

using compiler::Tensor;
using Clock = std::chrono::steady_clock;

struct ModelRunner::Impl {
  runtime::Session& session;
  const CompiledModel& model;
  // Per model step: the loaded Program of a core step, its "input"/"output" buffers.
  struct Loaded {
    std::unique_ptr<runtime::LoadedProgram> program;
    runtime::BufferId input = 0, output = 0;
    bool fed_on_device = false;  // the input buffer is the producing core step's output buffer
    // A conv2d with a fused residual add: its "residual" buffer, and whether it is the producing core
    // step's output buffer.
    std::optional<runtime::BufferId> residual;
    bool residual_on_device = false;
  };
  std::vector<Loaded> loaded;
  std::vector<bool> host_needed;  // per tensor: some reader needs it unpacked on the host
};

namespace {

// Whether the producer's packed output is byte for byte the consumer's packed input: both use the
// blocked NCHW layout [N/B][C/blk][H][W][B][blk] (conv2d without a host repack, max pool) and the input
// and output blocks are equal.
bool shares_packed_layout(const compiler::CoreOpLayout& producer, const compiler::CoreOpLayout& consumer,
                          const isa::HwConfig& cfg) {
  using compiler::CoreOpKind;
  const auto nchw = [](const compiler::CoreOpLayout& l, bool as_input) {
    return l.kind == CoreOpKind::kMaxPool || (l.kind == CoreOpKind::kConv2d && (!as_input || l.repack.direct()));
  };
  return cfg.block_in() == cfg.block_out() && nchw(producer, false) && nchw(consumer, true) &&
         producer.output_shape == consumer.input_shape;
}

// Whether the producer's packed output is byte for byte the residual buffer of a conv2d with a fused
// residual add (the conv output's packed layout, [N/B][O/BO][OH][OW][B][BO]).
bool feeds_residual(const compiler::CoreOpLayout& producer, const compiler::CoreOpLayout& consumer,
                    const isa::HwConfig& cfg) {
  using compiler::CoreOpKind;
  const bool nchw_out = producer.kind == CoreOpKind::kMaxPool || producer.kind == CoreOpKind::kConv2d;
  return cfg.block_in() == cfg.block_out() && consumer.has_residual() && nchw_out &&
         producer.output_shape == consumer.output_shape;
}

}  // namespace

std::string config_difference(const isa::HwConfig& a, const isa::HwConfig& b) {
  const nlohmann::json ja = a.to_json(), jb = b.to_json();
  std::string out;
  for (const auto& [key, va] : ja.items()) {
    const auto it = jb.find(key);
    const std::string vb = it == jb.end() ? "(missing)" : it->dump();
    if (it == jb.end() || *it != va) out += fmt::format("{}{}: {} vs {}", out.empty() ? "" : "; ", key, va.dump(), vb);
  }
  return out;
}

ModelRunner::ModelRunner(runtime::Session& session, const CompiledModel& model)
    : impl_(new Impl{session, model, {}, {}}) {
  if (!(session.config() == model.config)) {
    throw Error(fmt::format("the model was compiled for config {}, the device '{}' runs {}: {}", model.config.name(),
                            session.device_name(), session.config().name(),
                            config_difference(model.config, session.config())));
  }
  const quant::QModel& m = model.qmodel;
  impl_->loaded.resize(model.steps.size());
  std::vector<int> producer(m.tensors.size(), -1);  // core step producing each tensor
  impl_->host_needed.assign(m.tensors.size(), false);
  impl_->host_needed[static_cast<size_t>(m.output)] = true;
  for (const ModelStep& ms : model.steps) {
    const quant::QStep& s = m.steps[ms.step];
    if (!ms.op) {
      for (quant::TensorId t : s.inputs) impl_->host_needed[static_cast<size_t>(t)] = true;
      continue;
    }
    Impl::Loaded& l = impl_->loaded[ms.step];
    l.program = session.load(ms.op->program);
    l.input = ms.op->program.find_buffer("input");
    l.output = ms.op->program.find_buffer("output");
    // Consecutive core operators in the same packed layout pass the tensor in device memory.
    const bool residual = ms.op->layout.has_residual() && s.inputs.size() == 2;
    const int p = s.inputs.size() == 1 || residual ? producer[static_cast<size_t>(s.inputs[0])] : -1;
    if (p >= 0 && shares_packed_layout(model.steps[static_cast<size_t>(p)].op->layout, ms.op->layout, model.config)) {
      Impl::Loaded& from = impl_->loaded[static_cast<size_t>(p)];
      l.program->alias(l.input, *from.program, from.output);
      l.fed_on_device = true;
    } else if (residual) {
      impl_->host_needed[static_cast<size_t>(s.inputs[0])] = true;
    } else {
      for (quant::TensorId t : s.inputs) impl_->host_needed[static_cast<size_t>(t)] = true;
    }
    if (residual) {
      // The shortcut: the producing core step's output buffer when it is in the conv output's layout.
      l.residual = ms.op->program.find_buffer("residual");
      const int r = producer[static_cast<size_t>(s.inputs[1])];
      if (r >= 0 && feeds_residual(model.steps[static_cast<size_t>(r)].op->layout, ms.op->layout, model.config)) {
        Impl::Loaded& from = impl_->loaded[static_cast<size_t>(r)];
        l.program->alias(*l.residual, *from.program, from.output);
        l.residual_on_device = true;
      } else {
        impl_->host_needed[static_cast<size_t>(s.inputs[1])] = true;
      }
    }
    producer[static_cast<size_t>(s.output)] = static_cast<int>(ms.step);
  }
}

ModelRunner::~ModelRunner() = default;

ModelRun ModelRunner::run(const Tensor& input) { return run(input, nullptr); }

ModelRun ModelRunner::run(const Tensor& input, const std::function<void(quant::TensorId, const Tensor&)>& on_tensor) {
  const CompiledModel& cm = impl_->model;
  const quant::QModel& m = cm.qmodel;
  const quant::QTensor& in = m.tensor(m.input);
  if (input.dtype() != in.dtype || input.shape() != in.shape) {
    throw Error(fmt::format("model input '{}' must be {} {}, got {} {}", in.name, compiler::to_string(in.dtype),
                            Tensor::shape_to_string(in.shape), compiler::to_string(input.dtype()),
                            input.shape_string()));
  }
  const auto start = Clock::now();
  std::vector<Tensor> values(m.tensors.size());
  values[static_cast<size_t>(m.input)] = input;
  ModelRun run;
  for (const ModelStep& ms : cm.steps) {
    const quant::QStep& s = m.steps[ms.step];
    const auto t0 = Clock::now();
    std::vector<const Tensor*> args;
    for (quant::TensorId id : s.inputs) args.push_back(&values.at(static_cast<size_t>(id)));
    StepProfile p;
    p.step = ms.step;
    p.name = s.name;
    p.op = quant::to_string(s.op);
    p.where = ms.where;
    p.why = ms.why;
    if (ms.op) {
      Impl::Loaded& l = impl_->loaded[ms.step];
      if (!l.fed_on_device) {
        // (a fused residual is packed on its own below)
        const std::span<const Tensor* const> main(args.data(), l.residual ? 1 : args.size());
        const std::vector<int8_t> packed = compiler::pack_op_input(ms.op->layout, cm.config, main);
        l.program->write(l.input, packed.data(), packed.size());
      }
      if (l.residual && !l.residual_on_device) {
        const std::vector<int8_t> packed = compiler::pack_op_residual(ms.op->layout, cm.config, *args.at(1));
        l.program->write(*l.residual, packed.data(), packed.size());
      }
      const runtime::RunStats st = l.program->run();
      p.on_device_input = l.fed_on_device;
      if (on_tensor || impl_->host_needed[static_cast<size_t>(s.output)]) {
        std::vector<int8_t> bytes(ms.op->program.buffers.at(l.output).bytes);
        l.program->read(l.output, bytes.data(), bytes.size());
        values[static_cast<size_t>(s.output)] = compiler::unpack_op_output(ms.op->layout, cm.config, bytes);
      }
      const isa::ExecutionCounters& c = st.counters;
      p.instructions = st.instructions;
      p.dram_bytes =
          c.inp_load_nbytes + c.wgt_load_nbytes + c.acc_load_nbytes + c.uop_load_nbytes + c.out_store_nbytes;
      p.gemm_ops = c.gemm_counter;
      p.alu_ops = c.alu_counter;
      p.cycles = c.cycle_count;
      p.device_seconds = st.wall_seconds;
      const compiler::CoreOpLayout& lay = ms.op->layout;
      if (lay.kind == compiler::CoreOpKind::kConv2d && lay.conv.n == 1) {
        if (const auto* rl = compiler::resnet18_layer(lay.conv.c, lay.conv.h, lay.conv.w, lay.conv.o, lay.conv.kh, lay.conv.oh)) {
          p.layer = rl->name;
          if (const auto* r = compiler::apache_vta_reference(rl->name)) p.apache_vta_fsim_ms = r->fsim_ms;
        }
      }
    } else {
      values[static_cast<size_t>(s.output)] = quant::execute_step(m, s, args);
    }
    if (s.op == quant::QOp::kConv2d || s.op == quant::QOp::kDense) {
      const auto& out = m.tensor(s.output).shape;
      int64_t n = 1;
      for (int64_t d : out) n *= d;
      p.macs = static_cast<uint64_t>(n) * (s.weight->size() / static_cast<uint64_t>(s.weight->dim(0)));
    }
    p.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    if (on_tensor) on_tensor(s.output, values[static_cast<size_t>(s.output)]);
    run.steps.push_back(std::move(p));
  }
  run.outputs.push_back(values.at(static_cast<size_t>(m.output)));
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

StepProfile ModelRun::total() const {
  StepProfile t;
  t.name = "total";
  for (const StepProfile& p : steps) {
    t.instructions += p.instructions;
    t.dram_bytes += p.dram_bytes;
    t.gemm_ops += p.gemm_ops;
    t.alu_ops += p.alu_ops;
    t.cycles += p.cycles;
    t.macs += p.macs;
    t.seconds += p.seconds;
    t.device_seconds += p.device_seconds;
  }
  return t;
}

namespace {
nlohmann::json step_json(const StepProfile& p) {
  return {{"step", p.step},         {"name", p.name},         {"op", p.op},
          {"target", to_string(p.where)}, {"why", p.why},     {"instructions", p.instructions},
          {"dram_bytes", p.dram_bytes}, {"gemm_ops", p.gemm_ops}, {"alu_ops", p.alu_ops},
          {"cycles", p.cycles},     {"macs", p.macs},         {"seconds", p.seconds},
          {"device_seconds", p.device_seconds}, {"input_on_device", p.on_device_input},
          {"layer", p.layer},       {"apache_vta_fsim_ms", p.apache_vta_fsim_ms}};
}
}  // namespace

nlohmann::json ModelRun::profile_json() const {
  nlohmann::json j;
  j["steps"] = nlohmann::json::array();
  for (const StepProfile& p : steps) j["steps"].push_back(step_json(p));
  nlohmann::json t = step_json(total());
  t.erase("step");
  t.erase("op");
  t.erase("target");
  t.erase("why");
  t.erase("input_on_device");
  t.erase("layer");
  t.erase("apache_vta_fsim_ms");
  j["total"] = t;
  j["seconds"] = seconds;
  return j;
}

std::string ModelRun::profile_text() const {
  std::string out = fmt::format("{:>3} {:<24} {:<13} {:<5} {:>7} {:>10} {:>9} {:>10} {:>9} {:>9} {:>7} {:>5}\n", "#",
                                "step", "op", "on", "insns", "DRAM B", "GEMM ops", "cycles", "ms", "dev ms", "GMAC/s",
                                "layer");
  const auto line = [&](const StepProfile& p, const std::string& idx, const std::string& where) {
    std::string name = p.name.size() > 24 ? p.name.substr(0, 23) + "~" : p.name;
    const std::string rate = p.device_seconds > 0 && p.macs > 0 ? fmt::format("{:.1f}", static_cast<double>(p.macs) / p.device_seconds / 1e9) : "";
    out += fmt::format("{:>3} {:<24} {:<13} {:<5} {:>7} {:>10} {:>9} {:>10} {:>9.3f} {:>9.3f} {:>7} {:>5}\n", idx, name,
                       p.op, where, p.instructions, p.dram_bytes, p.gemm_ops, p.cycles, 1e3 * p.seconds,
                       1e3 * p.device_seconds, rate, p.layer);
  };
  // "core*": the input came from the previous core step in device memory (no host repack).
  for (const StepProfile& p : steps) {
    line(p, std::to_string(p.step), std::string(to_string(p.where)) + (p.on_device_input ? "*" : ""));
  }
  line(total(), "", "");
  out += "core* = input passed in device memory from the previous core step; dev ms = the device run alone\n";
  // Side by side with Apache VTA's functional simulator on the layers it offloads (C2..C11), summed over
  // every occurrence in this model.
  double ours = 0, theirs = 0;
  uint64_t macs = 0, n = 0;
  for (const StepProfile& p : steps) {
    if (p.apache_vta_fsim_ms <= 0) continue;
    ours += 1e3 * p.device_seconds;
    theirs += p.apache_vta_fsim_ms;
    macs += p.macs;
    ++n;
  }
  if (n > 0 && ours > 0)
    out += fmt::format("ResNet-18 layers C2..C11 here: {} steps, {:.0f} M MAC, {:.2f} ms device time ({:.1f} G MAC/s); "
                       "Apache VTA's fsim, recorded: {:.1f} ms for the same steps ({:.1f}x)\n",
                       n, static_cast<double>(macs) / 1e6, ours, static_cast<double>(macs) / ours / 1e6, theirs,
                       theirs / ours);
  return out;
}

}  // namespace vta::model
