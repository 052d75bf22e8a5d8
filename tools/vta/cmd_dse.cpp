// vta dse: sweeps hardware config keys, runs a workload at each point (tlm by default) with the area
// model's estimate, and writes dse.json, dse.csv and pareto.svg; `vta dse merge` joins the shards of one
// sweep (docs/dse.md).
#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/dse/evaluate.h"
#include "vta/dse/pareto.h"
#include "vta/dse/report.h"
#include "vta/dse/sweep.h"
#include "vta/isa/error.h"

namespace vta::cli {
namespace {

namespace fs = std::filesystem;

struct DseOptions {
  std::string config;
  std::vector<std::string> sweeps;
  std::string sweep_file;
  std::string workload = "resnet18";
  std::string model_input;
  std::string layers;
  std::string target = "tlm";
  std::string budget;
  std::string shard = "0/1";
  std::string out = "dse";
  bool quiet = false;
  bool synth = false;
  std::string synth_cache;
};

struct MergeOptions {
  std::vector<std::string> inputs;
  std::string out = "dse";
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string labels_text(const nlohmann::json& labels) {
  std::string s;
  for (const auto& [k, v] : labels.items()) s += (s.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return s;
}

void print_summary(const dse::DseReport& r, const fs::path& out) {
  size_t ok = 0, invalid = 0, errors = 0, fit = 0;
  for (const auto& p : r.points) {
    ok += p.ok();
    invalid += p.status == "invalid";
    errors += p.status == "error";
    fit += p.ok() && p.fits;
  }
  fmt::print("{} points: {} ran, {} invalid, {} failed; {} within {}; {:.1f} s\n", r.points.size(), ok, invalid, errors,
             fit, r.budget.empty() ? std::string("no budget") : r.budget, r.wall_seconds);
  const auto front = dse::pareto_front(r.points, dse::Resource::kLut);
  for (size_t i = 0; i < r.points.size(); ++i) {
    if (!front[i]) continue;
    const auto& p = r.points[i];
    fmt::print("  Pareto (cycles, LUT): point {:>3}  {:<40} {:>12} cycles  {:>7.0f} LUT {:>5.0f} DSP {:>6.1f} BRAM36\n",
               p.index, labels_text(p.labels), p.cycles, p.area.lut, p.area.dsp, p.area.bram36);
  }
  fmt::print("wrote {0}/dse.json, {0}/dse.csv, {0}/pareto.svg\n", out.string());
}

int run_dse(const DseOptions& o) {
  const nlohmann::json base = load_config(o.config).to_json();
  std::vector<dse::SweepAxis> axes;
  for (const auto& s : o.sweeps) axes.push_back(dse::SweepAxis::parse(s));
  dse::SweepSpec sweep = o.sweep_file.empty() ? dse::SweepSpec(base, axes) : dse::SweepSpec::from_file(o.sweep_file, base);
  if (!o.sweep_file.empty() && !axes.empty()) {  // --sweep adds axes to the file's
    auto all = sweep.axes();
    all.insert(all.end(), axes.begin(), axes.end());
    sweep = dse::SweepSpec(sweep.base(), all);
  }
  if (sweep.axes().empty()) throw Error("vta dse needs at least one --sweep KEY=V1,V2,... or a --sweep-file");
  dse::EvalOptions eval;
  eval.target = o.target;
  eval.workload = o.workload;
  eval.model_input = o.model_input;
  eval.layers = split_list(o.layers);
  eval.budget = o.budget;
  eval.synth = o.synth;
  eval.synth_cache = o.synth_cache;
  dse::check_options(eval);

  dse::DseReport report;
  report.sweep = sweep.to_json();
  report.fingerprint = sweep.fingerprint();
  report.target = o.target;
  report.workload = o.workload + (eval.layers.empty() ? "" : " " + o.layers);
  report.budget = o.budget;
  report.point_count = sweep.point_count();
  report.shard = dse::Shard::parse(o.shard);

  uint64_t mine = 0;
  for (uint64_t p = 0; p < sweep.point_count(); ++p) mine += report.shard.owns(p);
  const auto start = std::chrono::steady_clock::now();
  uint64_t done = 0;
  for (uint64_t p = 0; p < sweep.point_count(); ++p) {
    if (!report.shard.owns(p)) continue;
    const dse::PointResult r = dse::evaluate_point(sweep, p, eval);
    ++done;
    if (!o.quiet) {
      const std::string what = r.ok() ? fmt::format("{} cycles, {} B DRAM, {:.0f} LUT {:.0f} DSP {:.1f} BRAM36{}", r.cycles,
                                                    r.dram_bytes, r.area.lut, r.area.dsp, r.area.bram36,
                                                    r.fits ? "" : " (over " + o.budget + ")")
                                      : r.status + ": " + r.error;
      fmt::print("[{}/{}] point {} {}: {} ({:.1f} s)\n", done, mine, p, labels_text(r.labels), what, r.wall_seconds);
      std::fflush(stdout);
    }
    report.points.push_back(r);
  }
  report.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.write(o.out);
  print_summary(report, o.out);
  for (const auto& r : report.points)
    if (r.status == "error") return 1;
  return 0;
}

int run_merge(const MergeOptions& o) {
  std::vector<dse::DseReport> shards;
  for (const auto& in : o.inputs) {
    const fs::path p = fs::is_directory(in) ? fs::path(in) / "dse.json" : fs::path(in);
    shards.push_back(dse::DseReport::read(p));
  }
  const dse::DseReport merged = dse::merge(shards);
  merged.write(o.out);
  print_summary(merged, o.out);
  return 0;
}

}  // namespace

void register_dse(CLI::App& app, Action& action) {
  auto opts = std::make_shared<DseOptions>();
  CLI::App* sub = app.add_subcommand("dse", "Sweep hardware config keys: cycles (tlm) and estimated FPGA area per point");
  set_footer(*sub,
      "Each point is the base config (--config, default VTA's) with one value per swept key, e.g. --sweep "
      "LOG_BLOCK=3,4,5 --sweep LOG_BATCH=0,1 --sweep timing.dram_bytes_per_cycle=8,16 (12 points, the last key "
      "changing fastest). A sweep file holds {\"base\": {keys}, \"sweep\": {\"KEY\": [values]}}. Each point's "
      "workload is compiled for its config and run on --target (tlm gives cycles; fsim only DRAM traffic); "
      "LUT/FF/DSP/BRAM come from the area model fitted to Yosys results (docs/dse.md). Points whose config is "
      "invalid or cannot hold the workload are reported and skipped. --shard I/N runs every N-th point from I "
      "(for a cluster: scripts/dse_slurm.sh), `vta dse merge` joins the shards. Writes DIR/dse.json, "
      "DIR/dse.csv and DIR/pareto.svg. Exits 1 if a point failed to run.");
  add_config_option(*sub, opts->config);
  sub->add_option("--sweep", opts->sweeps, "KEY=V1,V2,... (repeatable)");
  sub->add_option("--sweep-file", opts->sweep_file, "JSON sweep file");
  sub->add_option("--workload", opts->workload, "resnet18 (conv2d layers), gemm, or a model FILE.onnx")
      ->capture_default_str();
  sub->add_option("--model-input", opts->model_input,
                  "With a model workload: calibration samples and input (.npy; default random [0, 1) images)");
  sub->add_option("--layers", opts->layers, "resnet18 layers, e.g. C2,C5,C8 (default: all)");
  add_target_option(*sub, opts->target);
  sub->add_option("--budget", opts->budget, "FPGA part points must fit: xc7z020, xczu3eg, xck26 (default: none)");
  sub->add_option("--shard", opts->shard, "I/N: run only the points p with p % N == I")->capture_default_str();
  sub->add_option("-o,--out", opts->out, "Output directory")->capture_default_str();
  sub->add_flag("-q,--quiet", opts->quiet, "No per-point progress lines");
  sub->add_flag("--synth", opts->synth,
                "Yosys synthesis per distinct config instead of the area model (minutes each; cached)");
  sub->add_option("--synth-cache", opts->synth_cache,
                  "Synthesis cache (default $VTA_SYNTH_CACHE, $XDG_CACHE_HOME/vta/synth or ~/.cache/vta/synth)");
  sub->callback([opts, sub, &action] {
    if (sub->got_subcommand("merge")) return;
    action = [opts] { return run_dse(*opts); };
  });

  auto mopts = std::make_shared<MergeOptions>();
  CLI::App* merge = sub->add_subcommand("merge", "Join the shards of one sweep (their dse.json files or directories)");
  merge->add_option("REPORTS", mopts->inputs, "Shard directories or dse.json files")->required();
  merge->add_option("-o,--out", mopts->out, "Output directory")->capture_default_str();
  merge->callback([mopts, &action] { action = [mopts] { return run_merge(*mopts); }; });
}

}  // namespace vta::cli
