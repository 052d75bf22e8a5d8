// vta compile / vta run: the model flow. compile: ONNX -> graph passes -> calibration -> int8 -> partition
// -> lowering -> one .vtapkg file. run: a package (or an ONNX file, compiled on the fly) on a backend, one
// input or a batch of them, with top-5, accuracy against labels, a per-step profile and a check against
// the int8 CPU reference executor.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/compiler/npy.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/printer.h"
#include "vta/isa/error.h"
#include "vta/model/model_runner.h"
#include "vta/model/package.h"
#include "vta/model/pipeline.h"
#include "vta/quant/int8_executor.h"
#include "vta/runtime/session.h"

namespace vta::cli {
namespace {

using compiler::DType;
using compiler::Tensor;

struct CompileCliOptions {
  std::string model, output, config, calib, method = "max", emit;
  double percentile = 99.99;
  bool cpu_only = false;
  bool no_fuse = false;
};

struct RunCliOptions {
  std::string model, input, output, labels, target = "fsim", config, profile, calib, method = "max";
  std::string reference;  // "float" or "int8": a CPU reference executor instead of the device
  std::string record;     // trace directory: every device run recorded as run000, run001, ...
  size_t limit = 0;
  uint32_t threads = 0;  // fsim GEMM threads; 0: VTA_FSIM_THREADS or 1
  bool check = false;
  bool quiet = false;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The samples of a .npy whose first dimension is the batch (or exactly one sample of `shape`).
std::vector<Tensor> split_batch(const Tensor& t, const std::vector<int64_t>& shape, const std::string& what) {
  int64_t per = 1;
  for (int64_t d : shape) per *= d;
  if (t.dtype() != DType::kFloat32) {
    throw Error(fmt::format("{}: expected float32 data, got {}", what, compiler::to_string(t.dtype())));
  }
  if (per <= 0 || t.size() % static_cast<size_t>(per) != 0 || t.size() == 0) {
    throw Error(fmt::format("{}: shape {} does not hold a whole number of model inputs {}", what, t.shape_string(),
                            Tensor::shape_to_string(shape)));
  }
  if (t.shape() != shape && (t.rank() == 0 || t.dim(0) * per != static_cast<int64_t>(t.size()))) {
    throw Error(fmt::format("{}: shape {} is neither the model input {} nor a batch of them (N, ...)", what,
                            t.shape_string(), Tensor::shape_to_string(shape)));
  }
  std::vector<Tensor> out;
  const size_t n = t.size() / static_cast<size_t>(per);
  for (size_t i = 0; i < n; ++i) {
    Tensor s(DType::kFloat32, shape);
    std::copy(t.data<float>() + i * static_cast<size_t>(per), t.data<float>() + (i + 1) * static_cast<size_t>(per),
              s.data<float>());
    out.push_back(std::move(s));
  }
  return out;
}

model::PipelineOptions pipeline_options(const std::string& method, double percentile, bool cpu_only,
                                        bool no_fuse = false) {
  model::PipelineOptions o;
  o.method = quant::parse_calibration_method(method);
  o.percentile = percentile;
  o.compile.cpu_only = cpu_only;
  o.compile.fuse_residual = !no_fuse;
  return o;
}

std::vector<Tensor> calibration_samples(const std::string& calib, const ir::Graph& g) {
  if (calib.empty()) return {};
  return quant::load_samples(calib, g.value(g.inputs().at(0)).shape);
}

void print_notes(const std::vector<std::string>& notes) {
  for (const std::string& n : notes) fmt::print("note: {}\n", n);
}

void print_summary(const model::CompiledModel& cm) {
  size_t core = 0;
  for (const auto& s : cm.steps) core += s.where == model::Placement::kCore ? 1 : 0;
  const uint64_t macs = cm.total_macs(), core_macs = cm.core_macs();
  fmt::print("{}: {} steps, {} on the core, {} on the CPU; {:.1f} M MACs, {:.2f}% of them on the core (config {})\n",
             cm.qmodel.name, cm.steps.size(), core, cm.steps.size() - core, static_cast<double>(macs) / 1e6,
             macs ? 100.0 * static_cast<double>(core_macs) / static_cast<double>(macs) : 0.0, cm.config.name());
}

int run_compile(const CompileCliOptions& o) {
  if (o.output.empty() && o.emit.empty()) throw Error("vta compile: give -o model.vtapkg and/or --emit");
  const isa::HwConfig config = load_config(o.config);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> notes;
  ir::Graph graph = model::import_model(o.model, &notes);
  const double import_s = seconds_since(t0);
  if (o.emit == "graph") {
    fmt::print("{}", ir::to_text(graph));
    if (o.output.empty()) return 0;
  }
  const std::vector<Tensor> samples = calibration_samples(o.calib, graph);
  model::PipelineResult r =
      model::compile_graph(std::move(graph), samples, config, pipeline_options(o.method, o.percentile, o.cpu_only, o.no_fuse));
  r.import_seconds = import_s;
  notes.insert(notes.end(), r.notes.begin(), r.notes.end());
  if (o.emit == "qgraph") fmt::print("{}", r.model.qmodel.to_text());
  if (o.emit == "plan") fmt::print("{}", r.model.plan_text());
  if (o.emit == "asm") fmt::print("{}", r.model.asm_text());
  if (o.output.empty()) return 0;
  model::save_package(o.output, r.model);
  print_notes(notes);
  print_summary(r.model);
  fmt::print("compile time: import {:.3f} s, calibrate + quantize {:.3f} s, partition + lower {:.3f} s; wrote {}\n",
             r.import_seconds, r.quantize_seconds, r.compile_seconds, o.output);
  return 0;
}

std::vector<size_t> top_k(const Tensor& logits, size_t k) {
  std::vector<size_t> idx(logits.size());
  std::iota(idx.begin(), idx.end(), 0);
  const float* v = logits.data<float>();
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                    [v](size_t a, size_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
  idx.resize(k);
  return idx;
}

// One output as is, several stacked along a new first dimension.
void write_outputs(const std::string& path, const std::vector<Tensor>& outputs) {
  const std::vector<int64_t> oshape = outputs.at(0).shape();
  std::vector<int64_t> shape = {static_cast<int64_t>(outputs.size())};
  shape.insert(shape.end(), oshape.begin(), oshape.end());
  Tensor all(DType::kFloat32, outputs.size() == 1 ? oshape : shape);
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::copy(outputs[i].data<float>(), outputs[i].data<float>() + outputs[i].size(),
              all.data<float>() + i * outputs[i].size());
  }
  compiler::write_npy(path, all);
}

// The same inputs through a CPU reference executor (float graph or int8 model) instead of a device.
int run_reference(const RunCliOptions& o, const model::CompiledModel& cm, const ir::Graph* graph,
                  const std::vector<Tensor>& inputs, const std::vector<int32_t>& labels) {
  const auto t0 = std::chrono::steady_clock::now();
  size_t correct = 0;
  std::vector<Tensor> outputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor out = graph ? ir::run_float(*graph, {inputs[i]}).at(0) : quant::run_int8(cm.qmodel, inputs[i]).at(0);
    if (!labels.empty() && static_cast<int32_t>(top_k(out, 1)[0]) == labels[i]) ++correct;
    outputs.push_back(std::move(out));
  }
  const Tensor& first = outputs.at(0);
  const double secs = seconds_since(t0);
  fmt::print("top-5 of input 0:");
  for (size_t k : top_k(first, 5)) fmt::print(" {} ({:.4g})", k, first.data<float>()[k]);
  fmt::print("\n{} input(s) on the {} CPU reference executor in {:.3f} s\n", inputs.size(), o.reference, secs);
  if (!labels.empty()) {
    fmt::print("accuracy: {}/{} = {:.2f}%\n", correct, inputs.size(), 100.0 * double(correct) / double(inputs.size()));
  }
  if (!o.output.empty()) write_outputs(o.output, outputs);
  return 0;
}

int run_run(const RunCliOptions& o) {
  // fsim reads its GEMM thread count when a device opens (docs/fsim.md).
  if (o.threads != 0) ::setenv("VTA_FSIM_THREADS", std::to_string(o.threads).c_str(), 1);
  const auto t0 = std::chrono::steady_clock::now();
  // The model: a package, or an ONNX file compiled now (calibrated on --calib, else on the input itself).
  model::CompiledModel cm;
  std::optional<ir::Graph> float_graph;
  const Tensor raw_input = compiler::read_npy(o.input);
  std::vector<Tensor> inputs;
  // A package by its magic, or by its extension (so a damaged one is reported as a package).
  if (model::is_package(o.model) || std::filesystem::path(o.model).extension() == ".vtapkg") {
    cm = model::load_package(o.model);
    if (!o.config.empty()) {
      const isa::HwConfig want = load_config(o.config);
      const std::string diff = model::config_difference(cm.config, want);
      if (!diff.empty()) {
        throw Error(fmt::format("package {} was compiled for config {}, not {}: {}", o.model, cm.config.name(),
                                want.name(), diff));
      }
    }
  } else {
    const isa::HwConfig config = load_config(o.config);
    std::vector<std::string> notes;
    ir::Graph graph = model::import_model(o.model, &notes);
    const std::vector<int64_t> shape = graph.value(graph.inputs().at(0)).shape;
    std::vector<Tensor> samples = calibration_samples(o.calib, graph);
    if (samples.empty()) {
      samples = split_batch(raw_input, shape, o.input);
      notes.push_back("no --calib: calibrated on the input itself");
    }
    model::PipelineResult r = model::compile_graph(std::move(graph), samples, config, pipeline_options(o.method, 99.99, false));
    notes.insert(notes.end(), r.notes.begin(), r.notes.end());
    if (!o.quiet) print_notes(notes);
    cm = std::move(r.model);
    float_graph = std::move(r.graph);
  }
  if (o.reference == "float" && !float_graph) {
    throw Error("--reference float needs the ONNX model (a package holds only the int8 model)");
  }
  const quant::QTensor& in = cm.qmodel.tensor(cm.qmodel.input);
  inputs = split_batch(raw_input, in.shape, o.input);
  if (o.limit > 0 && inputs.size() > o.limit) inputs.resize(o.limit);
  std::vector<int32_t> labels;
  if (!o.labels.empty()) {
    const Tensor l = compiler::read_npy(o.labels);
    if (l.dtype() == DType::kInt32) labels = l.to_vector<int32_t>();
    else if (l.dtype() == DType::kUint8) for (uint8_t v : l.to_vector<uint8_t>()) labels.push_back(v);
    else throw Error(fmt::format("{}: labels must be int32 or uint8, got {}", o.labels, compiler::to_string(l.dtype())));
    if (labels.size() < inputs.size())
      throw Error(fmt::format("{}: {} labels for {} inputs", o.labels, labels.size(), inputs.size()));
  }
  if (!o.quiet) print_summary(cm);
  if (!o.reference.empty()) {
    return run_reference(o, cm, o.reference == "float" ? &*float_graph : nullptr, inputs, labels);
  }

  runtime::SessionOptions session_options;
  if (!o.record.empty()) session_options.trace_dir = o.record;
  runtime::Session session(o.target, cm.config, session_options);
  model::ModelRunner runner(session, cm);
  const bool progress = inputs.size() > 1 && isatty(STDERR_FILENO);
  std::vector<Tensor> outputs;
  model::ModelRun first;
  size_t correct = 0, mismatched = 0;
  double run_seconds = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<std::pair<quant::TensorId, Tensor>> produced;
    model::ModelRun r;
    if (o.check) {
      r = runner.run(inputs[i], [&](quant::TensorId id, const Tensor& t) { produced.emplace_back(id, t); });
      const std::vector<Tensor> all = quant::run_int8_all(cm.qmodel, inputs[i]);
      for (const auto& [id, t] : produced) {
        if (!(t == all.at(static_cast<size_t>(id)))) {
          ++mismatched;
          if (mismatched == 1) {
            fmt::print(stderr, "check: input {}: tensor '{}' differs from the int8 CPU reference\n", i,
                       cm.qmodel.tensor(id).name);
          }
          break;
        }
      }
    } else {
      r = runner.run(inputs[i]);
    }
    run_seconds += r.seconds;
    if (!labels.empty() && static_cast<int32_t>(top_k(r.outputs[0], 1)[0]) == labels[i]) ++correct;
    outputs.push_back(r.outputs[0]);
    if (i == 0) first = std::move(r);
    if (progress && (i % 50 == 0 || i + 1 == inputs.size())) {
      fmt::print(stderr, "\r[{}/{}] {:.1f} s{}", i + 1, inputs.size(), seconds_since(t0),
                 labels.empty() ? "" : fmt::format(", accuracy {:.2f}%", 100.0 * double(correct) / double(i + 1)));
      if (i + 1 == inputs.size()) fmt::print(stderr, "\n");
    }
  }

  if (!o.quiet) {
    fmt::print("\nprofile of input 0 on {} ({}):\n{}", session.device_name(), cm.config.name(), first.profile_text());
  }
  const std::vector<size_t> top = top_k(outputs[0], 5);
  fmt::print("top-5 of input 0:");
  for (size_t k : top) fmt::print(" {} ({:.4g})", k, outputs[0].data<float>()[k]);
  fmt::print("\n");
  fmt::print("{} input(s) on {} in {:.3f} s ({:.3f} ms per inference)\n", inputs.size(), session.device_name(),
             run_seconds, 1e3 * run_seconds / static_cast<double>(inputs.size()));
  if (!labels.empty()) {
    fmt::print("accuracy: {}/{} = {:.2f}%\n", correct, inputs.size(), 100.0 * double(correct) / double(inputs.size()));
  }
  if (o.check) {
    fmt::print("check against the int8 CPU reference: {}\n",
               mismatched == 0 ? fmt::format("bit-exact on {} input(s)", inputs.size())
                               : fmt::format("{} of {} input(s) DIFFER", mismatched, inputs.size()));
  }
  if (!o.output.empty()) write_outputs(o.output, outputs);
  if (!o.profile.empty()) {
    nlohmann::json j = first.profile_json();
    j["model"] = cm.qmodel.name;
    j["target"] = session.device_name();
    j["config"] = cm.config.name();
    j["inputs"] = inputs.size();
    j["run_seconds"] = run_seconds;
    j["core_macs"] = cm.core_macs();
    j["total_macs"] = cm.total_macs();
    j["dram_lower_bound_bytes"] = cm.dram_lower_bound_bytes();
    j["mac_bound_cycles"] = cm.core_macs() / (uint64_t{cm.config.batch()} * cm.config.block_in() * cm.config.block_out());
    if (!labels.empty()) j["accuracy"] = double(correct) / double(inputs.size());
    if (o.check) j["check_mismatches"] = mismatched;
    std::ofstream out(o.profile);
    if (!out) throw Error(fmt::format("cannot write {}", o.profile));
    out << j.dump(2) << "\n";
  }
  return mismatched == 0 ? 0 : 1;
}

}  // namespace

void register_model(CLI::App& app, Action& action) {
  auto co = std::make_shared<CompileCliOptions>();
  CLI::App* c = app.add_subcommand("compile", "Compile an ONNX model to int8 for the core (.vtapkg)");
  set_footer(*c,
      "Imports the ONNX model (opset 11-17), folds BatchNorm and normalizes the graph, calibrates activation "
      "ranges on --calib samples (a .npy batch or a directory of .npy files; QDQ models carry their own scales), "
      "quantizes to int8 with power-of-two scales, places each step on the core or the CPU and lowers the core "
      "steps to instruction streams. -o writes one versioned package with everything a run needs; --emit prints "
      "a stage as text: graph (after the passes), qgraph (int8), plan (placement and tiling), asm (programs).");
  c->add_option("model", co->model, "ONNX model file")->required();
  c->add_option("-o,--output", co->output, "Package to write (.vtapkg)");
  add_config_option(*c, co->config);
  c->add_option("--calib", co->calib, "Calibration samples: a .npy batch or a directory of .npy files");
  c->add_option("--method", co->method, "Calibration method")->capture_default_str()->check(
      CLI::IsMember({"max", "percentile", "kl"}));
  c->add_option("--percentile", co->percentile, "Percentile of |x| for --method percentile")
      ->capture_default_str()->check(CLI::Range(50.0, 100.0));
  c->add_option("--emit", co->emit, "Print a stage as text")->check(CLI::IsMember({"graph", "qgraph", "plan", "asm"}));
  c->add_flag("--cpu-only", co->cpu_only, "Place every step on the CPU (a reference package)");
  c->add_flag("--no-fuse", co->no_fuse,
              "Keep each residual add a step of its own (by default a conv2d whose output only an add reads is "
              "fused into it)");
  c->callback([co, &action] { action = [co] { return run_compile(*co); }; });

  auto ro = std::make_shared<RunCliOptions>();
  CLI::App* r = app.add_subcommand("run", "Run a compiled model (or an ONNX model) on a backend");
  set_footer(*r,
      "Runs a .vtapkg (an ONNX file is compiled first, calibrated on --calib or on the input itself) on the "
      "target for each input in --input (one model input, or a batch (N, ...)). Prints the per-step profile of "
      "the first input (where each step runs and why, instructions, DRAM bytes, GEMM ops, cycles on tsim, time), "
      "its top-5, and with --labels the accuracy. --check compares every step's output with the int8 CPU "
      "reference executor (exit 1 on any difference). A package compiled for another config is refused, naming "
      "the keys that differ.");
  r->add_option("model", ro->model, "Package (.vtapkg) or ONNX model")->required();
  r->add_option("--input,-i", ro->input, "Input .npy (float32)")->required();
  r->add_option("--output,-o", ro->output, "Write the outputs (float32 .npy)");
  r->add_option("--labels", ro->labels, "Labels .npy (int32 or uint8) for accuracy");
  add_target_option(*r, ro->target);
  add_config_option(*r, ro->config);
  r->add_option("--profile", ro->profile, "Write the profile as JSON");
  r->add_option("--record", ro->record,
                "Record every device run as a program trace in this directory (run000, run001, ...; replay one "
                "with `vta exec`)");
  r->add_option("--calib", ro->calib, "Calibration samples when running an ONNX file");
  r->add_option("--method", ro->method, "Calibration method when running an ONNX file")->capture_default_str()->check(
      CLI::IsMember({"max", "percentile", "kl"}));
  r->add_option("--limit", ro->limit, "Run at most this many inputs of the batch");
  r->add_option("--threads", ro->threads,
                "fsim: threads for the GEMM rows (sets VTA_FSIM_THREADS; default: that variable, else 1)")
      ->check(CLI::Range(1, 256));
  r->add_flag("--check", ro->check, "Compare with the int8 CPU reference executor");
  r->add_option("--reference", ro->reference,
                "Run a CPU reference executor instead of the target: float (the ONNX graph) or int8")
      ->check(CLI::IsMember({"float", "int8"}));
  r->add_flag("--quiet,-q", ro->quiet, "Print only the results");
  r->callback([ro, &action] { action = [ro] { return run_run(*ro); }; });
}

}  // namespace vta::cli
