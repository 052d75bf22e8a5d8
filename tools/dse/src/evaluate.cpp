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
#if VTA_HAVE_ONNX
#include <map>
#include <mutex>
#include <random>

#include "vta/model/model_runner.h"
#include "vta/model/pipeline.h"
#include "vta/quant/calibration.h"
#endif

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

#if VTA_HAVE_ONNX
// The imported graph and its samples, once per model file (points share them: only the hardware differs).
struct ModelWorkload {
  ir::Graph graph;
  std::vector<compiler::Tensor> samples;
};

const ModelWorkload& model_workload(const EvalOptions& o) {
  static std::mutex mutex;
  static std::map<std::string, ModelWorkload> cache;
  std::lock_guard<std::mutex> lock(mutex);
  const std::string key = o.workload + "|" + o.model_input;
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  ModelWorkload w;
  w.graph = model::import_model(o.workload);
  const ir::Shape& shape = w.graph.value(w.graph.inputs().at(0)).shape;
  if (!o.model_input.empty()) {
    w.samples = quant::load_samples(o.model_input, shape);
  } else {
    // Uniform [0, 1) images, fixed seed: calibration and the measured inference.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    for (int s = 0; s < 4; ++s) {
      std::vector<float> v(static_cast<size_t>(n));
      for (auto& x : v) x = u(rng);
      w.samples.push_back(compiler::Tensor::from_values<float>(shape, v));
    }
  }
  return cache.emplace(key, std::move(w)).first->second;
}

void run_model(const isa::HwConfig& config, const EvalOptions& o, PointResult& p) {
  const ModelWorkload& w = model_workload(o);
  model::PipelineResult compiled;
  try {
    compiled = model::compile_graph(w.graph, w.samples, config);
  } catch (const Error& e) {
    p.status = "invalid";
    p.error = fmt::format("the model does not compile for this config: {}", e.what());
    return;
  }
  runtime::Session session(o.target, config);
  model::ModelRunner runner(session, compiled.model);
  const model::ModelRun run = runner.run(w.samples.front());
  for (const model::StepProfile& s : run.steps)
    if (s.where == model::Placement::kCore) p.layers.push_back({s.name, s.cycles, s.dram_bytes});
  if (p.layers.empty()) {
    p.status = "invalid";
    p.error = "no step of the model runs on the core at this config";
  }
}
#endif

bool is_model_workload(const std::string& workload) {
  return workload.size() > 5 && workload.compare(workload.size() - 5, 5, ".onnx") == 0;
}

}  // namespace

void check_options(const EvalOptions& o) {
  if (is_model_workload(o.workload)) {
#if VTA_HAVE_ONNX
    if (!o.layers.empty()) throw Error("--layers applies to the resnet18 workload only");
    (void)model_workload(o);  // a missing or malformed model fails here, before the sweep
    if (!o.budget.empty()) (void)area::part(o.budget);
    return;
#else
    throw Error("an ONNX workload needs the ONNX front end (libonnx-dev), which this build does not have");
#endif
  }
  if (!o.model_input.empty()) throw Error("--model-input applies to an ONNX model workload only");
  if (o.workload != "resnet18" && o.workload != "gemm")
    throw Error(fmt::format("unknown workload '{}' (expected resnet18, gemm or a model .onnx)", o.workload));
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
#if VTA_HAVE_ONNX
    else if (is_model_workload(o.workload)) run_model(config, o, p);
#endif
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
