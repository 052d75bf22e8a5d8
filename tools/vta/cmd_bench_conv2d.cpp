// vta bench conv2d --workload resnet18: every ResNet-18 conv2d layer (C1..C11) compiled and run on a
// backend with random int8 data (fixed seed), checked bit for bit against the plain CPU reference, with
// per-layer figures: tiling, instruction and micro-op counts, DRAM bytes per memory type against the
// lower bound, GEMM micro-ops against the ideal, MAC-lane utilization, compile and run times, and Apache
// VTA's published total/bound beside ours; then the device time of each layer (best of --repeat runs of
// the same compiled program), its G MAC/s and the ratio to Apache VTA's recorded fsim time. Prints
// figures only; exits 1 only when a result is wrong.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/compiler/compiled_op.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/workloads.h"
#include "vta/driver/device.h"
#if VTA_HAVE_TLM
#include "vta/driver/tlm_device.h"
#endif
#if VTA_HAVE_TSIM
#include "vta/driver/tsim_device.h"
#endif
#include "vta/fsim/functional_simulator.h"
#include "vta/isa/error.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"

namespace vta::cli {
namespace {

using Layer = compiler::Conv2dWorkload;

// Apache VTA's published figures (compiler/workloads.h, kApacheVtaResNet18).
using VtaReference = compiler::ApacheVtaConv2d;
constexpr uint64_t kApacheVtaAllTotal = compiler::kApacheVtaAllTotal, kApacheVtaAllBound = compiler::kApacheVtaAllBound;
constexpr double kApacheVtaAllFsimMs = compiler::kApacheVtaAllFsimMs;
const VtaReference* vta_reference(const std::string& name) { return compiler::apache_vta_reference(name); }

struct BenchConvOptions {
  std::string workload = "resnet18";
  std::string config;
  std::string target = "fsim";
  std::string json;
  std::string layers;
  uint32_t seed = 7;
  uint32_t repeat = 3;
  uint32_t threads = 0;  // 0: VTA_FSIM_THREADS or 1
  double repack_budget = compiler::kRepackTrafficBudget;
  std::string objective = "time";
  std::string tiling;  // forced on every layer run (compiler::parse_tiling); empty: the compiler's choice
};

// The requantization the compiler tests use: bias in [-20000, 20000], relu, and a shift chosen from
// the reduction size so that the outputs spread over the int8 range.
struct Totals {
  uint64_t inp = 0, wgt = 0, acc = 0, uop = 0, out = 0, bound = 0, gemm = 0, ideal = 0, macs = 0, insns = 0;
  uint64_t vta_total = 0, vta_bound = 0;
  double compile = 0, run = 0, device = 0, vta_fsim_ms = 0;
  uint64_t total() const { return inp + wgt + acc + uop + out; }
  nlohmann::json to_json(uint64_t lanes) const {
    nlohmann::json j = {{"inp_bytes", inp},     {"wgt_bytes", wgt},   {"acc_bytes", acc},       {"uop_bytes", uop},
                        {"out_bytes", out},     {"total_bytes", total()}, {"lower_bound_bytes", bound},
                        {"total_over_bound", bound ? double(total()) / double(bound) : 0.0},
                        {"gemm_uops", gemm},    {"gemm_uops_ideal", ideal}, {"instructions", insns},
                        {"mac_lane_utilization", gemm ? double(macs) / (double(gemm) * double(lanes)) : 0.0},
                        {"compile_seconds", compile}, {"run_seconds", run}, {"device_seconds", device},
                        {"gmacs_per_second", device > 0 ? double(macs) / device * 1e-9 : 0.0}};
    if (vta_bound) {
      j["apache_vta"] = {{"total_bytes", vta_total},
                         {"lower_bound_bytes", vta_bound},
                         {"total_over_bound", double(vta_total) / double(vta_bound)},
                         {"fsim_ms", vta_fsim_ms},
                         {"fsim_ms_over_ours", device > 0 ? vta_fsim_ms / (device * 1e3) : 0.0}};
    }
    return j;
  }
};

// The layers of a workload: ResNet-18's C1..C11 or the other shapes (compiler/workloads.h).
std::vector<Layer> workload_layers(const std::string& workload) {
  if (workload == "resnet18") return {std::begin(compiler::kResNet18Conv2d), std::end(compiler::kResNet18Conv2d)};
  if (workload == "shapes") return {std::begin(compiler::kOtherConv2d), std::end(compiler::kOtherConv2d)};
  throw Error(fmt::format("--workload {}: expected resnet18 or shapes", workload));
}

std::vector<Layer> select_layers(const std::string& workload, const std::string& list) {
  const std::vector<Layer> all = workload_layers(workload);
  if (list.empty()) return all;
  std::vector<Layer> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t end = std::min(list.find(',', pos), list.size());
    const std::string name = list.substr(pos, end - pos);
    bool found = false;
    for (const Layer& l : all) {
      if (name == l.name) {
        out.push_back(l);
        found = true;
      }
    }
    if (!found) {
      throw Error(fmt::format("--layers: unknown layer '{}' (expected names {}..{} of --workload {})", name,
                              all.front().name, all.back().name, workload));
    }
    pos = end + 1;
  }
  return out;
}

// The DRAM model a timed target runs under: the config's timing, or what the target's own options take
// from the environment (tsim and tlm; a board's memory is the board's).
struct DramSetting {
  uint64_t latency = 0, bytes_per_cycle = 0;
};
DramSetting dram_setting(const std::string& target, const isa::HwConfig& config) {
  DramSetting d{config.timing().dram_latency_cycles, config.timing().dram_bytes_per_cycle};
#if VTA_HAVE_TSIM
  if (target == "tsim") {
    const driver::TsimDeviceOptions t = driver::TsimDeviceOptions::from_environment();
    if (t.dram_latency_cycles) d.latency = *t.dram_latency_cycles;
    if (t.dram_bytes_per_cycle) d.bytes_per_cycle = *t.dram_bytes_per_cycle;
  }
#endif
#if VTA_HAVE_TLM
  if (target == "tlm") {
    const driver::TlmDeviceOptions t = driver::TlmDeviceOptions::from_environment();
    if (t.dram_latency_cycles != 0) d.latency = t.dram_latency_cycles;
    if (t.dram_bytes_per_cycle != 0) d.bytes_per_cycle = t.dram_bytes_per_cycle;
  }
#endif
  return d;
}

// Input rows (columns) a convolution reads along one dimension: those some output's window covers. A
// kernel narrower than its stride skips the others (a 1x1 kernel with stride 2 reads every other row),
// so they are no part of the bytes a layer must move.
uint64_t input_extent_read(int in, int out, int k, int stride, int pad) {
  std::vector<bool> read(static_cast<size_t>(in), false);
  for (int o = 0; o < out; ++o)
    for (int t = 0; t < k; ++t)
      if (const int i = o * stride - pad + t; i >= 0 && i < in) read[static_cast<size_t>(i)] = true;
  return static_cast<uint64_t>(std::count(read.begin(), read.end(), true));
}

// One layer on a timed target: cycles against the roofline, and where the cycles went (the core's
// busy/stall counters, docs/hardware.md).
struct CycleRow {
  std::string name;
  int occurrences = 1;
  uint64_t cycles = 0, roofline = 0, compute_bound = 0, memory_bound = 0, memory_bytes = 0, gemm_uops = 0;
  double device_seconds = 0;  // the best of --repeat device runs (the simulator's wall time on tsim/tlm)
  std::map<std::string, uint64_t> counters;  // extra_counters() by name
  uint64_t counter(const std::string& n) const {
    auto it = counters.find(n);
    return it == counters.end() ? 0 : it->second;
  }
  // A module's cycles on the DRAM: busy and not waiting for a token (moving its data beats or waiting for
  // them: the DRAM's latency, its bandwidth taken by another client), from the core's busy and stall
  // counters.
  uint64_t on_dram(const std::string& module) const {
    const uint64_t busy = counter(module + "_busy_cycles"), stall = counter(module + "_stall_cycles");
    return busy > stall ? busy - stall : 0;
  }
};

void print_cycles(const std::vector<CycleRow>& rows, const std::string& workload, const std::string& target,
                  const DramSetting& dram, nlohmann::json* json) {
  fmt::print("\nCycles on {} (DRAM {} cycles latency, {} B/cycle); roofline = max(MACs / lanes, bytes moved at least / "
             "{} B/cycle: weights, bias, output and the input pixels the kernel reads); busy and stall columns are the "
             "core's counters, in % of the layer's cycles (a module's token wait is part of its busy time; on DRAM = "
             "busy less token wait: moving its data or waiting for it)\n",
             target, dram.latency, dram.bytes_per_cycle, dram.bytes_per_cycle);
  fmt::print("| layer | x | cycles | roofline | % of roofline | GEMM uops | compute busy | compute token wait | "
             "RAW hazard | load busy | load token wait | load on DRAM | store busy | store token wait | "
             "store on DRAM | fetch: queue full |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const auto pct = [](uint64_t part, uint64_t whole) { return whole ? 100.0 * double(part) / double(whole) : 0.0; };
  nlohmann::json jl = nlohmann::json::array();
  uint64_t net = 0, net_roof = 0, net_no_c1 = 0, net_roof_no_c1 = 0;
  double net_seconds = 0;
  for (const CycleRow& r : rows) {
    net_seconds += r.device_seconds * r.occurrences;
    fmt::print("| {} | {} | {} | {} | {:.1f}% | {:.1f}% | {:.1f}% | {:.1f}% | {:.1f}% | {:.1f}% | {:.1f}% | {:.1f}% | "
               "{:.1f}% | {:.1f}% | {:.1f}% | {:.1f}% |\n",
               r.name, r.occurrences, r.cycles, r.roofline, pct(r.roofline, r.cycles), pct(r.gemm_uops, r.cycles),
               pct(r.counter("compute_busy_cycles"), r.cycles), pct(r.counter("compute_stall_cycles"), r.cycles),
               pct(r.counter("gemm_hazard_cycles"), r.cycles), pct(r.counter("load_busy_cycles"), r.cycles),
               pct(r.counter("load_stall_cycles"), r.cycles), pct(r.on_dram("load"), r.cycles),
               pct(r.counter("store_busy_cycles"), r.cycles), pct(r.counter("store_stall_cycles"), r.cycles),
               pct(r.on_dram("store"), r.cycles), pct(r.counter("fetch_stall_cycles"), r.cycles));
    net += r.cycles * uint64_t(r.occurrences);
    net_roof += r.roofline * uint64_t(r.occurrences);
    if (r.name != "C1") {
      net_no_c1 += r.cycles * uint64_t(r.occurrences);
      net_roof_no_c1 += r.roofline * uint64_t(r.occurrences);
    }
    nlohmann::json j = {{"layer", r.name},
                        {"occurrences", r.occurrences},
                        {"cycles", r.cycles},
                        {"roofline_cycles", r.roofline},
                        {"compute_bound_cycles", r.compute_bound},
                        {"memory_bound_cycles", r.memory_bound},
                        {"memory_bound_bytes", r.memory_bytes},
                        {"of_roofline", r.cycles ? double(r.roofline) / double(r.cycles) : 0.0},
                        {"gemm_uops", r.gemm_uops}};
    for (const auto& [name, value] : r.counters) j["counters"][name] = value;
    j["load_on_dram_cycles"] = r.on_dram("load");
    j["store_on_dram_cycles"] = r.on_dram("store");
    jl.push_back(std::move(j));
  }
  const bool whole = workload == "resnet18" && rows.size() == std::size(compiler::kResNet18Conv2d);
  fmt::print("{} weighted by occurrence: {} cycles ({:.2f} M; roofline {:.2f} M, {:.1f}%){}\n",
             whole ? "ResNet-18 (all 20 convolutions)" : "These layers", net, double(net) * 1e-6,
             double(net_roof) * 1e-6, pct(net_roof, net),
             net_no_c1 != net ? fmt::format("; without C1: {:.2f} M ({:.1f}% of its roofline)", double(net_no_c1) * 1e-6,
                                            pct(net_roof_no_c1, net_no_c1))
                              : std::string());
  // How fast the simulator ran them (issue 9's speed target is for tsim on one core): the device time of
  // each layer's best run, weighted the same way.
  const double rate = net_seconds > 0 ? double(net) / net_seconds : 0.0;
  fmt::print("Simulated in {:.2f} s of device time ({:.2f} M simulated cycles/s, best of each layer's runs)\n",
             net_seconds, rate * 1e-6);
  if (json != nullptr) {
    (*json)["cycles"] = {{"target", target},
                         {"dram_latency_cycles", dram.latency},
                         {"dram_bytes_per_cycle", dram.bytes_per_cycle},
                         {"layers", std::move(jl)},
                         {"weighted_cycles", net},
                         {"weighted_roofline_cycles", net_roof},
                         {"weighted_cycles_without_c1", net_no_c1},
                         {"weighted_device_seconds", net_seconds},
                         {"simulated_cycles_per_second", rate},
                         {"whole_resnet18", whole}};
  }
}

int run_bench_conv2d(const BenchConvOptions& o) {
  if (o.repeat < 1) throw Error("--repeat must be at least 1");
  // fsim reads its GEMM thread count when a device opens (docs/fsim.md).
  if (o.threads != 0) ::setenv("VTA_FSIM_THREADS", std::to_string(o.threads).c_str(), 1);
  const char* threads_env = std::getenv("VTA_FSIM_THREADS");
  const std::string threads = threads_env != nullptr && *threads_env != '\0' ? threads_env : "1";
  const std::vector<Layer> layers = select_layers(o.workload, o.layers);
  const isa::HwConfig config = load_config(o.config);
  const uint64_t lanes = uint64_t{config.batch()} * config.block_in() * config.block_out();

  nlohmann::json jl = nlohmann::json::array();
  Totals all, c2_c11;
  bool all_pass = true;
  std::string target_name;
  struct DeviceRow {
    std::string name;
    uint64_t macs;
    double best;  // seconds
    const VtaReference* vta;
  };
  std::vector<DeviceRow> device_rows;
  std::vector<CycleRow> cycle_rows;
  const DramSetting dram = dram_setting(o.target, config);
  fmt::print("ResNet-18 conv2d layers, config {}, operator clip((conv + bias) >> shift, 0, 127), seed {}\n",
             config.name(), o.seed);
  fmt::print("{:<4} {:>9} {:>9} {:>7} {:>8} {:>8} {:>9} {:>9} {:>6} {:>6} {:>9} {:>9} {:>7} {:>6} {:>7} {:>7} {}\n",
             "", "inp B", "wgt B", "acc B", "uop B", "out B", "total B", "bound B", "ratio", "VTA", "gemm uops",
             "ideal", "util", "insns", "cmp ms", "run ms", "check");
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& l = layers[li];
    const compiler::RandomConv2d data = compiler::random_conv2d(l, o.seed);
    const compiler::Tensor &tx = data.x, &tw = data.w, &tb = data.b;
    const compiler::Conv2dParams& p = data.params;

    const auto device = driver::open_device(o.target, config);
    target_name = device->name();
    runtime::Session q(*device);
    // Compiled once, run --repeat times; the device time is the best run (the machine may be busy).
    (void)compiler::check_conv2d(tx, tw, &tb, p);
    compiler::LoweringOptions lowering;
    lowering.repack_traffic_budget = o.repack_budget;
    lowering.tiling_objective =
        o.objective == "traffic" ? compiler::TilingObjective::kTraffic : compiler::TilingObjective::kTime;
    if (!o.tiling.empty()) lowering.tiling = compiler::parse_tiling(o.tiling);
    const compiler::CompiledOp op = compiler::compile_conv2d(config, tx.shape(), tw, &tb, p, lowering);
    const compiler::Tensor* op_inputs[] = {&tx};
    if (li == 0) {
      // Warm-up before the first timed run: the first ~0.3 s of device work in a process runs several
      // times slower on the machines measured (clock ramp-up), which would be charged to the first layer.
      double warm = 0;
      for (int n = 0; n < 200 && warm < 0.3; ++n) warm += compiler::run_compiled(q, op, op_inputs).device_seconds;
    }
    compiler::OpRun run = compiler::run_compiled(q, op, op_inputs);
    std::vector<double> device_runs = {run.device_seconds};
    bool same = true;
    for (uint32_t r = 1; r < o.repeat; ++r) {
      const compiler::OpRun again = compiler::run_compiled(q, op, op_inputs);
      same = same && again.output.to_vector<int8_t>() == run.output.to_vector<int8_t>();
      device_runs.push_back(again.device_seconds);
    }
    const double best = *std::min_element(device_runs.begin(), device_runs.end());

    reference::ConvGeometry g;
    g.c = l.ic, g.h = l.h, g.w = l.w, g.o = l.oc, g.kh = g.kw = l.k;
    g.stride_h = g.stride_w = l.stride;
    g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = l.pad;
    const std::vector<int8_t> expect =
        reference::conv2d(tx.to_vector<int8_t>(), tw.to_vector<int8_t>(), tb.to_vector<int32_t>(), g, {p.requant.shift, true, p.requant.clip_lo, p.requant.clip_hi});
    const bool pass = same && run.output.to_vector<int8_t>() == expect;
    all_pass = all_pass && pass;

    const auto& c = run.counters;
    const uint64_t oh = uint64_t(g.out_h()), ow = uint64_t(g.out_w());
    const uint64_t macs = oh * ow * uint64_t(l.oc) * uint64_t(l.ic) * uint64_t(l.k) * uint64_t(l.k);
    const uint64_t ideal = (macs + lanes - 1) / lanes;
    const uint64_t bound = uint64_t(l.ic) * l.h * l.w + uint64_t(l.oc) * l.ic * l.k * l.k + uint64_t(l.oc) * oh * ow +
                           uint64_t(l.oc) * sizeof(int32_t);
    const uint64_t total =
        c.inp_load_nbytes + c.wgt_load_nbytes + c.acc_load_nbytes + c.uop_load_nbytes + c.out_store_nbytes;
    const double ratio = double(total) / double(bound);
    const double util = c.gemm_counter ? double(macs) / (double(c.gemm_counter) * double(lanes)) : 0.0;
    const VtaReference* vr = vta_reference(l.name);
    if (c.cycle_count > 0) {
      CycleRow row;
      row.name = l.name;
      row.occurrences = l.occurrences;
      row.cycles = c.cycle_count;
      row.device_seconds = best;
      row.gemm_uops = c.gemm_counter;
      row.compute_bound = ideal;
      // The roofline's bytes: `bound` with only the input pixels the kernel reads (bound keeps every input
      // byte, the definition of Apache VTA's published ratio).
      row.memory_bytes = bound - uint64_t(l.ic) * l.h * l.w +
                         uint64_t(l.ic) * input_extent_read(l.h, int(oh), l.k, l.stride, l.pad) *
                             input_extent_read(l.w, int(ow), l.k, l.stride, l.pad);
      row.memory_bound =
          dram.bytes_per_cycle ? (row.memory_bytes + dram.bytes_per_cycle - 1) / dram.bytes_per_cycle : 0;
      row.roofline = std::max(row.compute_bound, row.memory_bound);
      for (const auto& [name, value] : device->extra_counters()) row.counters[name] = value;
      cycle_rows.push_back(std::move(row));
    }

    for (Totals* t : {&all, &c2_c11}) {
      if (t == &c2_c11 && !vr) continue;
      t->inp += c.inp_load_nbytes, t->wgt += c.wgt_load_nbytes, t->acc += c.acc_load_nbytes;
      t->uop += c.uop_load_nbytes, t->out += c.out_store_nbytes, t->bound += bound;
      t->gemm += c.gemm_counter, t->ideal += ideal, t->macs += macs, t->insns += run.instructions;
      t->compile += run.compile_seconds, t->run += run.run_seconds, t->device += best;
      if (vr) t->vta_total += vr->total_bytes, t->vta_bound += vr->lower_bound_bytes, t->vta_fsim_ms += vr->fsim_ms;
    }

    fmt::print("{:<4} {:>9} {:>9} {:>7} {:>8} {:>8} {:>9} {:>9} {:>6.3f} {:>6} {:>9} {:>9} {:>6.1f}% {:>6} {:>7.1f} "
               "{:>7.1f} {}\n",
               l.name, c.inp_load_nbytes, c.wgt_load_nbytes, c.acc_load_nbytes, c.uop_load_nbytes, c.out_store_nbytes,
               total, bound, ratio,
               vr ? fmt::format("{:.2f}", double(vr->total_bytes) / double(vr->lower_bound_bytes)) : "cpu",
               c.gemm_counter, ideal, 100.0 * util, run.instructions, 1e3 * run.compile_seconds, 1e3 * run.run_seconds,
               pass ? "PASS" : "FAIL");
    fmt::print("     {}\n", run.tiling.to_string());
    // For layers with few input channels, every repack the compiler considered (the chosen one first
    // in the text is marked *), so the trade-off between lane utilization and DRAM traffic is visible.
    nlohmann::json jc = nlohmann::json::array();
    if (l.ic < int(config.block_in()) && l.k > 1) {
      const compiler::Conv2dShape shape = compiler::check_conv2d(tx, tw, &tb, p);
      for (const auto& cand : compiler::repack_candidates(shape, p, true, config)) {
        const double cu = double(macs) / (double(cand.gemm_uops) * double(lanes));
        const double cr = double(cand.dram_bytes) / double(bound);
        fmt::print("       {} repack {:<16} gemm uops {:>8} (util {:5.1f}%), predicted DRAM {:>8} B ({:.2f}x bound), "
                   "model score {:.0f}\n",
                   cand.repack == run.tiling.repack ? "*" : " ", cand.repack.to_string(), cand.gemm_uops, 100.0 * cu,
                   cand.dram_bytes, cr, cand.score);
        jc.push_back({{"strategy", cand.repack.to_string()}, {"gemm_uops", cand.gemm_uops},
                      {"mac_lane_utilization", cu}, {"predicted_dram_bytes", cand.dram_bytes},
                      {"predicted_over_bound", cr}, {"score", cand.score}});
      }
    }

    nlohmann::json j;
    j["name"] = l.name;
    j["workload"] = {{"h", l.h}, {"w", l.w}, {"ic", l.ic}, {"oc", l.oc}, {"k", l.k}, {"pad", l.pad},
                     {"stride", l.stride}, {"shift", p.requant.shift}};
    j["strategy"] = run.tiling.repack.to_string();
    j["tiling"] = run.tiling.to_json();
    if (!jc.empty()) j["repack_candidates"] = std::move(jc);
    j["instructions"] = run.instructions;
    j["instructions_executed"] = {{"load", c.load_insn_count}, {"compute", c.compute_insn_count},
                                  {"store", c.store_insn_count}};
    j["kernel_cache"] = {{"hits", run.kernel_cache_hits}, {"misses", run.kernel_cache_misses}};
    j["bytes"] = {{"inp", c.inp_load_nbytes}, {"wgt", c.wgt_load_nbytes}, {"acc", c.acc_load_nbytes},
                  {"uop", c.uop_load_nbytes}, {"out", c.out_store_nbytes},  {"total", total}};
    j["lower_bound_bytes"] = bound;
    j["total_over_bound"] = ratio;
    j["macs"] = macs;
    j["gemm_uops"] = c.gemm_counter;
    j["gemm_uops_ideal"] = ideal;
    j["alu_uops"] = c.alu_counter;
    j["mac_lane_utilization"] = util;
    j["compile_seconds"] = run.compile_seconds;
    j["run_seconds"] = run.run_seconds;
    j["device_seconds"] = best;
    j["device_seconds_runs"] = device_runs;
    j["gmacs_per_second"] = double(macs) / best * 1e-9;
    device_rows.push_back({l.name, macs, best, vr});
    j["check"] = pass ? "PASS" : "FAIL";
    if (vr) {
      j["apache_vta"] = {{"total_bytes", vr->total_bytes}, {"lower_bound_bytes", vr->lower_bound_bytes},
                         {"total_over_bound", double(vr->total_bytes) / double(vr->lower_bound_bytes)},
                         {"gemm_uops", vr->gemm_uops}, {"alu_uops", vr->alu_uops}, {"fsim_ms", vr->fsim_ms},
                         {"fsim_ms_over_ours", vr->fsim_ms / (best * 1e3)}};
    } else {
      j["apache_vta"] = nullptr;
    }
    jl.push_back(std::move(j));
  }
  const auto print_total = [&](const char* name, const Totals& t) {
    fmt::print("{:<4} {:>9} {:>9} {:>7} {:>8} {:>8} {:>9} {:>9} {:>6.3f} {:>6} {:>9} {:>9} {:>6.1f}% {:>6} {:>7.1f} "
               "{:>7.1f} {}\n",
               name, t.inp, t.wgt, t.acc, t.uop, t.out, t.total(), t.bound,
               t.bound ? double(t.total()) / double(t.bound) : 0.0,
               t.vta_bound ? fmt::format("{:.2f}", double(t.vta_total) / double(t.vta_bound)) : "-", t.gemm, t.ideal,
               t.gemm ? 100.0 * double(t.macs) / (double(t.gemm) * double(lanes)) : 0.0, t.insns, 1e3 * t.compile,
               1e3 * t.run, all_pass ? "PASS" : "FAIL");
  };
  print_total("all", all);
  if (c2_c11.bound && c2_c11.bound != all.bound) print_total("C2+", c2_c11);
  const bool full_vta = c2_c11.vta_bound == kApacheVtaAllBound;
  fmt::print("ratio = total / bound (total includes uop bytes; bound moves each input, weight, output byte and the "
             "int32 bias once); VTA = Apache VTA's published ratio{}; util = MACs / (GEMM uops x {} lanes).\n",
             full_vta ? fmt::format(" (all C2..C11: {:.2f})", double(kApacheVtaAllTotal) / double(kApacheVtaAllBound))
                      : "",
             lanes);

  // Device time per layer (markdown, as in docs/fsim.md).
  const bool fsim_fast = target_name.rfind("fsim", 0) == 0 && target_name.find("ref") == std::string::npos;
  const std::string path = fsim_fast ? fsim::fast_kernel_path(config) : std::string();
  fmt::print("\nDevice time on {}{}, best of {} runs of each compiled layer; Apache VTA = its fsim, recorded "
             "(resnet18_counters.md)\n",
             target_name,
             path.empty() ? ""
                          : fmt::format(" (fast kernel: {}, {} thread{})", path, threads, threads == "1" ? "" : "s"),
             o.repeat);
  fmt::print("| layer | MMAC | device ms | G MAC/s | Apache VTA fsim ms | Apache VTA / ours |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|\n");
  for (const DeviceRow& r : device_rows) {
    fmt::print("| {} | {:.1f} | {:.2f} | {:.1f} | {} | {} |\n", r.name, double(r.macs) * 1e-6, r.best * 1e3,
               double(r.macs) / r.best * 1e-9, r.vta ? fmt::format("{:.1f}", r.vta->fsim_ms) : "cpu",
               r.vta ? fmt::format("{:.1f}x", r.vta->fsim_ms / (r.best * 1e3)) : "-");
  }
  const auto device_total = [&](const char* name, const Totals& t, bool with_vta) {
    fmt::print("| {} | {:.1f} | {:.2f} | {:.1f} | {} | {} |\n", name, double(t.macs) * 1e-6, t.device * 1e3,
               t.device > 0 ? double(t.macs) / t.device * 1e-9 : 0.0,
               with_vta ? fmt::format("{:.1f}", t.vta_fsim_ms) : "-",
               with_vta && t.device > 0 ? fmt::format("{:.1f}x", t.vta_fsim_ms / (t.device * 1e3)) : "-");
  };
  if (c2_c11.bound && full_vta) device_total("C2-C11", c2_c11, true);
  else if (c2_c11.bound) device_total("sum (offloaded)", c2_c11, true);
  if (all.bound != c2_c11.bound) device_total("all", all, false);

  nlohmann::json cycles_json;
  if (!cycle_rows.empty()) print_cycles(cycle_rows, o.workload, target_name, dram, &cycles_json);

  if (!o.json.empty()) {
    nlohmann::json j;
    if (!cycles_json.is_null()) j.update(cycles_json);
    j["benchmark"] = "conv2d";
    j["workload"] = o.workload;
    j["objective"] = o.objective;
    j["config"] = config.name();
    j["target"] = target_name;
    j["seed"] = o.seed;
    j["lanes"] = lanes;
    j["layers"] = std::move(jl);
    j["totals"] = all.to_json(lanes);
    if (c2_c11.bound) j["totals_offloaded_by_apache_vta"] = c2_c11.to_json(lanes);
    j["all_passed"] = all_pass;
    j["apache_vta_source"] = "tests/data/conformance/tvm-vta-fsim/resnet18_counters.md";
    j["repeat"] = o.repeat;
    if (!path.empty()) j["fsim_fast_kernel"] = path;
    if (!path.empty()) j["fsim_threads"] = std::stoul(threads);
    if (full_vta) j["apache_vta_fsim_ms_c2_c11"] = kApacheVtaAllFsimMs;
    std::ofstream out(o.json);
    if (!out) throw Error(fmt::format("--json {}: cannot open for writing", o.json));
    out << j.dump(2) << "\n";
  }
  return all_pass ? 0 : 1;
}

}  // namespace

void register_bench_conv2d(CLI::App& bench, Action& action) {
  auto opts = std::make_shared<BenchConvOptions>();
  CLI::App* sub = bench.add_subcommand("conv2d", "ResNet-18 conv2d layers: DRAM traffic, micro-ops, times, check");
  set_footer(*sub,
      "Compiles and runs each ResNet-18 conv2d layer (C1..C11, batch 1) with random int8 data and a fixed seed, "
      "checks it bit for bit against the CPU reference and prints per layer: the chosen tiling, instruction and "
      "micro-op counts, DRAM bytes per memory type against the lower bound, GEMM micro-ops against the ideal "
      "(MACs / (BATCH x BLOCK_IN x BLOCK_OUT)), the MAC-lane utilization, compile and run times, and Apache "
      "VTA's published total/bound. Then a table of device time per layer (best of --repeat runs), G MAC/s "
      "and the ratio to Apache VTA's recorded fsim time. On a timed target (tsim, tlm, a board) also a table of "
      "cycles per layer against its roofline max(MACs / lanes, bytes moved at least (the input pixels the kernel "
      "reads, every weight, output and bias byte) / DRAM bytes per cycle), where "
      "the cycles went (GEMM micro-ops, busy, token-wait and on-DRAM cycles per module, RAW hazards, a full command "
      "queue), the DRAM setting, and ResNet-18's whole-network total weighted by how often each layer occurs "
      "(--json carries all of it). On fsim, VTA_FSIM_SIMD=generic|sse2|avx2|avx512 "
      "picks the fast kernel's instruction set (default: the best the CPU has) and --threads "
      "(VTA_FSIM_THREADS) splits each big GEMM's accumulator rows between threads. Exits 1 only if a result "
      "is wrong.");
  sub->add_option("--workload", opts->workload, "Workload: resnet18 (C1..C11) or shapes (18 conv2d shapes of other networks)")->capture_default_str();
  add_config_option(*sub, opts->config);
  add_target_option(*sub, opts->target);
  sub->add_option("--json", opts->json, "Also write the table as JSON to this file");
  sub->add_option("--layers", opts->layers, "Comma-separated subset of layers, e.g. C10,C11 (default: all)");
  sub->add_option("--seed", opts->seed, "Seed of the random data")->capture_default_str();
  sub->add_option("--repack-budget", opts->repack_budget,
                  "DRAM traffic a host repack of a few-channel layer (C1) may move, as a multiple of the layer's "
                  "lower bound: more buys MAC-lane utilization (default: no cap, the modelled time picks)")
      ->check(CLI::Range(1.0, 100.0));
  sub->add_option("--objective", opts->objective,
                  "What the compiler's tiling search minimizes: time (estimated cycles among the best by traffic) "
                  "or traffic (the DRAM byte score alone)")
      ->check(CLI::IsMember({"time", "traffic"}))
      ->capture_default_str();
  sub->add_option("--tiling", opts->tiling,
                  "Force this tiling on every layer run (with --layers: one), e.g. "
                  "oc=16,rows=4,cols=14,ic=8,order=spatial_outer,weights=all,buffers=1,pieces=8 (keys oc, rows, "
                  "cols, ic, order, weights, buffers, pieces, split, resident; a layer it does not fit fails with the reason; "
                  "a forced tiling runs the layer without a host repack)");
  sub->add_option("--repeat", opts->repeat, "Runs of each compiled layer; the device time is the best")
      ->capture_default_str();
  sub->add_option("--threads", opts->threads,
                  "fsim: threads for the GEMM rows (sets VTA_FSIM_THREADS; default: that variable, else 1)")
      ->check(CLI::Range(1, 256));
  sub->callback([opts, &action] { action = [opts] { return run_bench_conv2d(*opts); }; });
}

}  // namespace vta::cli
