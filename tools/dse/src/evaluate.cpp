#include "vta/dse/evaluate.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "vta/area/area_model.h"
#include "vta/dse/synth.h"
#include "vta/compiler/compiled_op.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/gemm.h"
#include "vta/compiler/requantize.h"
#include "vta/compiler/workloads.h"
#include "vta/isa/error.h"
#include "vta/runtime/session.h"

namespace vta::dse {
namespace {

uint64_t dram_bytes(const isa::ExecutionCounters& c) {
  return c.inp_load_nbytes + c.wgt_load_nbytes + c.acc_load_nbytes + c.uop_load_nbytes + c.out_store_nbytes;
}

std::vector<compiler::Conv2dWorkload> selected_layers(const std::vector<std::string>& names) {
  if (names.empty()) return {std::begin(compiler::kResNet18Conv2d), std::end(compiler::kResNet18Conv2d)};
  std::vector<compiler::Conv2dWorkload> out;
  for (const auto& n : names) {
    const auto* it = std::find_if(std::begin(compiler::kResNet18Conv2d), std::end(compiler::kResNet18Conv2d),
                                  [&](const auto& l) { return n == l.name; });
    if (it == std::end(compiler::kResNet18Conv2d))
      throw Error(fmt::format("unknown ResNet-18 layer '{}' (expected C1..C11)", n));
    out.push_back(*it);
  }
  return out;
}

void run_resnet18(const isa::HwConfig& config, const EvalOptions& o, PointResult& p) {
  runtime::Session session(o.target, config);
  for (const auto& l : selected_layers(o.layers)) {
    // The same data at every point (compiler::random_conv2d), so points differ only in the hardware.
    const compiler::RandomConv2d d = compiler::random_conv2d(l, 7);
    compiler::CompiledOp op;
    try {
      op = compiler::compile_conv2d(config, d.x.shape(), d.w, &d.b, d.params);
    } catch (const Error& e) {
      p.status = "invalid";
      p.error = fmt::format("{} does not compile for this config: {}", l.name, e.what());
      return;
    }
    const compiler::Tensor* inputs[] = {&d.x};
    const compiler::OpRun run = compiler::run_compiled(session, op, inputs);
    p.layers.push_back({l.name, run.counters.cycle_count, dram_bytes(run.counters)});
  }
}

void run_gemm(const isa::HwConfig& config, const EvalOptions& o, PointResult& p) {
  runtime::Program program;
  try {
    program = compiler::compile_pipelined_gemm(config, compiler::PipelinedGemm{});
  } catch (const Error& e) {
    p.status = "invalid";
    p.error = fmt::format("the GEMM does not compile for this config: {}", e.what());
    return;
  }
  runtime::Session session(o.target, config);
  const runtime::RunStats stats = session.load(program)->run();
  p.layers.push_back({"gemm", stats.counters.cycle_count, dram_bytes(stats.counters)});
}

}  // namespace

void check_options(const EvalOptions& o) {
  if (o.workload != "resnet18" && o.workload != "gemm")
    throw Error(fmt::format("unknown workload '{}' (expected resnet18 or gemm)", o.workload));
  if (o.workload == "gemm" && !o.layers.empty()) throw Error("--layers applies to the resnet18 workload only");
  (void)selected_layers(o.layers);
  if (!o.budget.empty()) (void)area::part(o.budget);
}

PointResult evaluate_point(const SweepSpec& sweep, uint64_t index, const EvalOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  PointResult p;
  p.index = index;
  p.labels = sweep.labels(index);
  try {
    const isa::HwConfig config = isa::HwConfig::from_json(sweep.config_json(index));
    p.config_name = config.name();
    if (o.synth) {
      SynthOptions so;
      so.cache_dir = o.synth_cache.empty() ? default_synth_cache() : o.synth_cache;
      if (!o.budget.empty() && area::part(o.budget).family == "xc7") so.part = o.budget;
      p.area = synthesize(config, so);
      p.area_source = "yosys";
    } else {
      p.area = area::AreaModel::shipped().estimate(config);
    }
    p.fits = o.budget.empty() || area::part(o.budget).fits(p.area);
    if (o.workload == "gemm") run_gemm(config, o, p);
    else run_resnet18(config, o, p);
    if (p.ok()) {
      for (const auto& l : p.layers) {
        p.cycles += l.cycles;
        p.dram_bytes += l.dram_bytes;
      }
      p.device_ms = double(p.cycles) / (config.timing().clock_mhz * 1e3);
    } else {
      p.layers.clear();
    }
  } catch (const ConfigError& e) {
    p.status = "invalid";
    p.error = e.what();
  } catch (const Error& e) {
    p.status = "error";
    p.error = e.what();
  }
  p.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

}  // namespace vta::dse
