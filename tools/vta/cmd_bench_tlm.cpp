// vta bench tlm: calibration of the SystemC timing model (target "tlm") against the RTL (target "tsim"),
// in one run. For each memory setting it runs the ResNet-18 conv2d layers (compiled as `vta bench conv2d`
// compiles them), the pipelined GEMM workload and random legal programs on both, and prints per program
// tsim cycles, tlm cycles, the error, both device wall times and the speed ratio (tsim / tlm), at three
// hardware configs unless --config names others. Results must be equal (the layers' outputs, the random
// programs' memory); timing is only reported.
// --markdown FILE writes the table docs/tlm.md shows.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/compiler/compiled_op.h"
#include "vta/compiler/conv2d.h"
#include "vta/compiler/gemm.h"
#include "vta/compiler/requantize.h"
#include "vta/compiler/workloads.h"
#include "vta/driver/device.h"
#include "vta/isa/error.h"
#include "vta/runtime/session.h"
#if VTA_HAVE_TSIM && VTA_HAVE_TLM
#include "vta/driver/tlm_device.h"
#include "vta/driver/tsim_device.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"
#endif

namespace vta::cli {
namespace {

struct TlmBenchOptions {
  std::vector<std::string> configs;  // VTA JSON files; empty: default, batch2, block8 (kBenchConfigs)
  std::string layers;       // subset of C1..C11; empty = all
  uint32_t random = 40;     // random programs per memory setting
  bool gemm = true;
  bool json = false;
  std::string markdown;     // write the table here
};

#if VTA_HAVE_TSIM && VTA_HAVE_TLM

struct Memory {
  std::string name;
  uint32_t latency = 0, bytes = 0, outstanding = 16;
};

// The configs the calibration runs at when --config names none: VTA's default and the shipped
// config/batch2.json and config/block8.json, built here from the default so that the command needs no
// file (their tsim models are part of every tsim build).
using ConfigVariant = std::vector<std::pair<const char*, int>>;  // VTA JSON keys changed from the default
const ConfigVariant kBenchConfigs[] = {
    {},                  // default
    {{"LOG_BATCH", 1}},  // batch2
    {{"LOG_BLOCK", 3}, {"LOG_UOP_BUFF_SIZE", 14}, {"LOG_INP_BUFF_SIZE", 14}, {"LOG_WGT_BUFF_SIZE", 16},
     {"LOG_ACC_BUFF_SIZE", 16}},  // block8
};

std::vector<isa::HwConfig> bench_configs(const std::vector<std::string>& files) {
  std::vector<isa::HwConfig> out;
  for (const std::string& f : files) out.push_back(load_config(f));
  if (!out.empty()) return out;
  for (const ConfigVariant& v : kBenchConfigs) {
    nlohmann::json j = isa::HwConfig::default_config().to_json();
    for (const auto& [key, value] : v) j[key] = value;
    out.push_back(isa::HwConfig::from_json(j));
  }
  return out;
}

struct Row {
  std::string config, memory, kind, name;
  uint64_t tsim_cycles = 0, tlm_cycles = 0;
  double tsim_seconds = 0, tlm_seconds = 0;
  bool same = true;
  double error() const {
    return tsim_cycles ? (static_cast<double>(tlm_cycles) - static_cast<double>(tsim_cycles)) /
                             static_cast<double>(tsim_cycles)
                       : 0.0;
  }
};

std::unique_ptr<driver::TsimDevice> make_tsim(const isa::HwConfig& config, const Memory& m) {
  driver::TsimDeviceOptions o;
  o.dram_latency_cycles = m.latency;
  o.dram_bytes_per_cycle = m.bytes;
  o.max_outstanding = m.outstanding;
  return std::make_unique<driver::TsimDevice>("tsim", config, o);
}

std::unique_ptr<driver::TlmDevice> make_tlm(const isa::HwConfig& config, const Memory& m) {
  driver::TlmDeviceOptions o;
  o.dram_latency_cycles = m.latency;
  o.dram_bytes_per_cycle = m.bytes;
  o.max_outstanding = m.outstanding;
  return std::make_unique<driver::TlmDevice>("tlm", config, o);
}

std::vector<compiler::Conv2dWorkload> select_layers(const std::string& list) {
  std::vector<compiler::Conv2dWorkload> out;
  if (list.empty()) return {std::begin(compiler::kResNet18Conv2d), std::end(compiler::kResNet18Conv2d)};
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string name = list.substr(pos, comma - pos);
    bool found = false;
    for (const auto& l : compiler::kResNet18Conv2d)
      if (name == l.name) out.push_back(l), found = true;
    if (!found) throw Error(fmt::format("--layers: unknown layer '{}' (expected names C1..C11)", name));
    pos = comma + 1;
  }
  return out;
}

// One ResNet-18 layer with random data (clip((conv + bias) >> shift, 0, 127)), compiled once.
void bench_layer(const isa::HwConfig& config, const compiler::Conv2dWorkload& l, const Memory& m,
                 std::vector<Row>& rows) {
  const compiler::RandomConv2d data = compiler::random_conv2d(l, 1);
  const compiler::Tensor &tx = data.x, &tw = data.w, &tb = data.b;
  const compiler::Conv2dParams& p = data.params;
  const compiler::CompiledOp op = compiler::compile_conv2d(config, tx.shape(), tw, &tb, p);
  const compiler::Tensor* inputs[] = {&tx};
  Row row{config.name(), m.name, "resnet18", l.name};
  auto tsim = make_tsim(config, m);
  runtime::Session qs(*tsim);
  const compiler::OpRun rs = compiler::run_compiled(qs, op, inputs);
  auto tlm = make_tlm(config, m);
  runtime::Session qt(*tlm);
  const compiler::OpRun rt = compiler::run_compiled(qt, op, inputs);
  row.tsim_cycles = rs.counters.cycle_count;
  row.tlm_cycles = rt.counters.cycle_count;
  row.tsim_seconds = rs.device_seconds;
  row.tlm_seconds = rt.device_seconds;
  row.same = rs.output.to_vector<int8_t>() == rt.output.to_vector<int8_t>();
  rows.push_back(row);
}

void bench_gemm(const isa::HwConfig& config, const Memory& m, std::vector<Row>& rows) {
  compiler::PipelinedGemm w;
  const runtime::Program program = compiler::compile_pipelined_gemm(config, w);
  const runtime::BufferId c = program.find_buffer("c");
  Row row{config.name(), m.name, "gemm", fmt::format("pipelined {}x{}x{} x{}", w.tm, w.tn, w.tk, w.tiles)};
  auto tsim = make_tsim(config, m);
  runtime::Session qs(*tsim);
  const auto ls = qs.load(program);
  const runtime::RunStats ss = ls->run();
  auto tlm = make_tlm(config, m);
  runtime::Session qt(*tlm);
  const auto lt = qt.load(program);
  const runtime::RunStats st = lt->run();
  row.tsim_cycles = ss.counters.cycle_count;
  row.tlm_cycles = st.counters.cycle_count;
  row.tsim_seconds = ss.wall_seconds;
  row.tlm_seconds = st.wall_seconds;
  row.same = ls->read(c) == lt->read(c);
  rows.push_back(row);
}

void bench_random(const isa::HwConfig& config, const Memory& m, uint32_t count, std::vector<Row>& rows) {
  auto tsim = make_tsim(config, m);
  auto tlm = make_tlm(config, m);
  test::RandomProgramGenerator gen(config, 0xb7c0000u);
  using std::chrono::milliseconds;
  for (uint32_t i = 0; i < count; ++i) {
    const test::GeneratedProgram g = gen.next();
    test::load_regions(*tsim, g);
    test::load_regions(*tlm, g);
    const driver::RunResult rs = tsim->run(g.insn_address, g.insn_count, milliseconds(0));
    const driver::RunResult rt = tlm->run(g.insn_address, g.insn_count, milliseconds(0));
    if (!rs.ok() || !rt.ok()) throw Error(fmt::format("random program {}: tsim: {}; tlm: {}", i, rs.message, rt.message));
    Row row{config.name(), m.name, "random", fmt::format("random {} ({} insns)", i, g.insn_count)};
    row.tsim_cycles = rs.counters.cycle_count;
    row.tlm_cycles = rt.counters.cycle_count;
    row.tsim_seconds = rs.wall_seconds;
    row.tlm_seconds = rt.wall_seconds;
    row.same = test::compare_regions(g, *tsim, *tlm).empty();
    rows.push_back(row);
  }
}

struct Summary {
  double max_abs = 0, sum_abs = 0, tsim_s = 0, tlm_s = 0;
  size_t n = 0;
  void add(const Row& r) {
    max_abs = std::max(max_abs, std::abs(r.error()));
    sum_abs += std::abs(r.error());
    tsim_s += r.tsim_seconds;
    tlm_s += r.tlm_seconds;
    ++n;
  }
  double mean() const { return n ? sum_abs / static_cast<double>(n) : 0.0; }
  double speed() const { return tlm_s > 0 ? tsim_s / tlm_s : 0.0; }
};

// The memory settings every config runs at: its own timing, a slow one and a narrow one.
std::vector<Memory> memory_settings(const isa::HwConfig& config) {
  const isa::TimingConfig& t = config.timing();
  return {
      {fmt::format("config ({} cyc, {} B/cyc)", t.dram_latency_cycles, t.dram_bytes_per_cycle), t.dram_latency_cycles,
       t.dram_bytes_per_cycle, 16},
      {"slow (300 cyc, 2 B/cyc)", 300, 2, 16},
      {"narrow (17 cyc, 5 B/cyc, 1 outstanding)", 17, 5, 1},
  };
}

int run_bench_tlm(const TlmBenchOptions& o) {
  const std::vector<isa::HwConfig> configs = bench_configs(o.configs);
  const std::vector<compiler::Conv2dWorkload> layers = select_layers(o.layers);
  std::vector<Row> rows;
  for (const isa::HwConfig& config : configs) {
    for (const Memory& m : memory_settings(config)) {
      fmt::print(stderr, "config {}, memory {}\n", config.name(), m.name);
      for (const auto& l : layers) bench_layer(config, l, m, rows);
      if (o.gemm) bench_gemm(config, m, rows);
      bench_random(config, m, o.random, rows);
    }
  }

  bool all_same = true;
  for (const Row& r : rows) all_same = all_same && r.same;
  nlohmann::json j;
  j["benchmark"] = "tlm";
  nlohmann::json jc = nlohmann::json::array();
  for (const isa::HwConfig& c : configs) jc.push_back(c.name());
  j["configs"] = jc;
  nlohmann::json jr = nlohmann::json::array();
  for (const Row& r : rows)
    jr.push_back({{"config", r.config}, {"memory", r.memory}, {"kind", r.kind}, {"name", r.name},
                  {"tsim_cycles", r.tsim_cycles}, {"tlm_cycles", r.tlm_cycles}, {"error", r.error()},
                  {"tsim_seconds", r.tsim_seconds}, {"tlm_seconds", r.tlm_seconds}, {"results_equal", r.same}});
  j["rows"] = jr;

  // one summary line per config, memory and kind of program; then one per kind over everything
  nlohmann::json js = nlohmann::json::array();
  std::string summary_md;
  const auto summary_line = [&](const std::string& config, const std::string& memory, const std::string& kind,
                                const Summary& s) {
    js.push_back({{"config", config}, {"memory", memory}, {"kind", kind}, {"programs", s.n},
                  {"max_abs_error", s.max_abs}, {"mean_abs_error", s.mean()}, {"tsim_seconds", s.tsim_s},
                  {"tlm_seconds", s.tlm_s}, {"speed_ratio", s.speed()}});
    summary_md += fmt::format("| {} | {} | {} | {} | {:.2f} % | {:.2f} % | {:.3f} | {:.3f} | {:.1f}x |\n", config, memory,
                              kind, s.n, 100 * s.mean(), 100 * s.max_abs, s.tsim_s, s.tlm_s, s.speed());
  };
  const char* kinds[] = {"resnet18", "gemm", "random"};
  for (const isa::HwConfig& c : configs) {
    for (const Memory& m : memory_settings(c)) {
      for (const char* kind : kinds) {
        Summary s;
        for (const Row& r : rows)
          if (r.config == c.name() && r.memory == m.name && r.kind == kind) s.add(r);
        if (s.n > 0) summary_line(c.name(), m.name, kind, s);
      }
    }
  }
  Summary total;
  for (const char* kind : kinds) {
    Summary s;
    for (const Row& r : rows)
      if (r.kind == kind) s.add(r), total.add(r);
    if (s.n > 0) summary_line("all", "all", kind, s);
  }
  summary_line("all", "all", "all", total);
  j["summary"] = js;
  j["results_equal"] = all_same;

  std::string table = "| config | memory | program | tsim cycles | tlm cycles | error | tsim s | tlm s | speed |\n"
                      "|---|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Row& r : rows) {
    if (r.kind == "random") continue;  // the random programs appear in the summary only
    table += fmt::format("| {} | {} | {} | {} | {} | {:+.2f} % | {:.3f} | {:.4f} | {:.1f}x |\n", r.config, r.memory,
                         r.name, r.tsim_cycles, r.tlm_cycles, 100 * r.error(), r.tsim_seconds, r.tlm_seconds,
                         r.tlm_seconds > 0 ? r.tsim_seconds / r.tlm_seconds : 0.0);
  }
  const std::string summary =
      "| config | memory | programs | n | mean abs error | max abs error | tsim s | tlm s | speed |\n"
      "|---|---|---|---:|---:|---:|---:|---:|---:|\n" + summary_md;
  if (!o.markdown.empty()) {
    std::ofstream f(o.markdown);
    if (!f) throw Error(fmt::format("--markdown: cannot write {}", o.markdown));
    f << "<!-- written by `vta bench tlm --markdown " << o.markdown << "`; do not edit -->\n";
    f << "Speed = tsim device time / tlm device time; error = (tlm cycles - tsim cycles) / tsim cycles.\n\n"
      << summary << "\n" << table;
  }
  if (o.json) {
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("tlm vs tsim: cycles, error (tlm - tsim) / tsim, device wall time, speed ratio\n\n");
    fmt::print("{}\n{}", summary, table);
    fmt::print("\nresults equal on both: {}\n", all_same ? "yes" : "NO");
  }
  return all_same ? 0 : 1;
}

#else

int run_bench_tlm(const TlmBenchOptions&) {
  throw Error("vta bench tlm needs both the tsim (Verilator) and tlm (SystemC) targets; this build lacks one");
}

#endif

}  // namespace

void register_bench_tlm(CLI::App& bench, Action& action) {
  auto opts = std::make_shared<TlmBenchOptions>();
  CLI::App* sub = bench.add_subcommand("tlm", "Calibration of the tlm timing model against tsim: cycles, error, speed");
  set_footer(*sub,
      "Runs the ResNet-18 conv2d layers, the pipelined GEMM and random legal programs on tsim (the RTL) and tlm "
      "(the SystemC model) at three hardware configs (VTA's default, batch2 and block8 as config/ ships them; "
      "--config, repeated, names others) and three memory settings each (the config's timing; 300 cycles, "
      "2 B/cycle; 17 cycles, 5 B/cycle, one outstanding burst) and prints each program's cycles on both, the "
      "error of tlm, the device wall times and the speed ratio, with a summary per config and memory setting "
      "and over all of them. Exits 1 only if a result differs.");
  sub->add_option("--config,-c", opts->configs,
                  "Hardware config (VTA JSON); repeat for several (default: VTA's default, batch2, block8)");
  sub->add_option("--layers", opts->layers, "Comma-separated subset of layers, e.g. C10,C11 (default: all)");
  sub->add_option("--random", opts->random, "Random programs per memory setting")->capture_default_str()->check(
      CLI::Range(0u, 100000u));
  sub->add_flag("!--no-gemm", opts->gemm, "Skip the pipelined GEMM workload");
  sub->add_option("--markdown", opts->markdown, "Write the tables as Markdown to this file (docs/tlm-calibration.md)");
  sub->add_flag("--json", opts->json, "Print the figures as JSON");
  sub->callback([opts, &action] { action = [opts] { return run_bench_tlm(*opts); }; });
}

}  // namespace vta::cli
