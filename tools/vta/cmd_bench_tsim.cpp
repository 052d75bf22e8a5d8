// vta bench tsim: figures of the RTL core under Verilator (Device target "tsim"), from the hardware's own
// counters:
//   1. a large int8 GEMM through the runtime: simulated cycles per second and GEMM utilization
//      (GEMM-busy cycles / total cycles; the array takes one micro-op per cycle, so GEMM-busy cycles =
//      gemm_counter), result checked against a CPU matmul;
//   2. latency hiding: one tiled GEMM (compiler::compile_pipelined_gemm) in two schedules, with two virtual threads
//      (double-buffered INP/WGT/ACC, token-synchronized so the next tile's loads overlap the current
//      tile's GEMMs and the previous tile's store) and serialized (tokens force load, compute and store to
//      take turns), both checked bit-exact against fsim;
//   3. a sweep of DRAM latency and bandwidth over that workload.
// Prints figures only; never judges timing.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "random_data.h"
#include "vta/compiler/gemm.h"
#include "vta/driver/device.h"
#include "vta/isa/error.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"
#if VTA_HAVE_TSIM
#include "vta/driver/tsim_device.h"
#endif

namespace vta::cli {
namespace {

struct TsimBenchOptions {
  std::string config;
  uint32_t size = 512;       // the runtime GEMM (M = N = K)
  uint32_t tiles = 16;       // latency-hiding workload: output tiles
  uint32_t steps = 16;       // ... reduction steps per output tile
  uint32_t tm = 64, tn = 8, tk = 4;  // ... tile sizes in blocks
  bool sweep = true;
  bool json = false;
};

#if VTA_HAVE_TSIM


struct TiledRun {
  runtime::RunStats run;
  std::vector<std::pair<std::string, uint64_t>> extra;
  bool matches_fsim = false;
};

// Runs the pipelined GEMM on tsim (and, with `check`, the same Program on fsim for comparison).
TiledRun run_tiled(const isa::HwConfig& config, const compiler::PipelinedGemm& w,
                   const driver::TsimDeviceOptions& options, bool check) {
  const runtime::Program program = compiler::compile_pipelined_gemm(config, w);
  const runtime::BufferId c = program.find_buffer("c");
  driver::TsimDevice tsim("tsim", config, options);
  runtime::Session session(tsim);
  const auto loaded = session.load(program);
  TiledRun out;
  out.run = loaded->run();
  out.extra = tsim.extra_counters();
  if (check) {
    runtime::Session fsim("fsim", config);
    const auto reference = fsim.load(program);
    reference->run();
    out.matches_fsim = loaded->read(c) == reference->read(c);
  }
  return out;
}

uint64_t extra(const TiledRun& r, const std::string& name) {
  for (const auto& [n, v] : r.extra)
    if (n == name) return v;
  return 0;
}

int run_bench_tsim(const TsimBenchOptions& o) {
  const isa::HwConfig config = load_config(o.config);
  nlohmann::json j;
  j["benchmark"] = "tsim";
  j["config"] = config.name();
  j["dram_latency_cycles"] = config.timing().dram_latency_cycles;
  j["dram_bytes_per_cycle"] = config.timing().dram_bytes_per_cycle;
  if (!o.json)
    fmt::print("tsim (Verilated RTL), config {}, DRAM {} cycles latency, {} bytes/cycle\n", config.name(),
               config.timing().dram_latency_cycles, config.timing().dram_bytes_per_cycle);

  // 1. Large GEMM through the runtime.
  const compiler::GemmShape shape{o.size, o.size, o.size};
  const auto a = tools::random_int8(uint64_t{shape.m} * shape.k, 1);
  const auto b = tools::random_int8(uint64_t{shape.k} * shape.n, 2);
  const auto expected = reference::matmul(a, b, int(o.size), int(o.size), int(o.size), nullptr);
  driver::TsimDevice dev("tsim", config, {});
  runtime::Session session(dev);
  const compiler::GemmRun g = compiler::gemm(session, shape, a, b, std::nullopt);
  const auto& c = g.stats.counters;
  const double secs = g.stats.wall_seconds;
  const double cps = secs > 0 ? static_cast<double>(c.cycle_count) / secs : 0.0;
  const double util = c.cycle_count ? static_cast<double>(c.gemm_counter) / static_cast<double>(c.cycle_count) : 0.0;
  const bool gemm_ok = g.c == expected;
  j["gemm"] = {{"m", shape.m},        {"n", shape.n},        {"k", shape.k},
               {"check_passed", gemm_ok}, {"cycles", c.cycle_count}, {"gemm_busy_cycles", c.gemm_counter},
               {"gemm_utilization", util}, {"wall_seconds", secs}, {"simulated_cycles_per_second", cps},
               {"harness_cycles", dev.harness_cycles()}, {"counters", c.to_json()}};
  if (!o.json) {
    fmt::print("\nint8 GEMM {}x{}x{} through the runtime (tiles tm={} tn={} tk={} blocks), result {}\n", shape.m,
               shape.n, shape.k, g.tiling.tm, g.tiling.tn, g.tiling.tk, gemm_ok ? "PASS" : "FAIL");
    fmt::print("  cycles                {}\n", c.cycle_count);
    fmt::print("  GEMM-busy cycles      {} (micro-ops; the array takes one per cycle)\n", c.gemm_counter);
    fmt::print("  GEMM utilization      {:.1f} %\n", 100.0 * util);
    fmt::print("  simulation            {:.3f} s host time, {} simulated cycles/s\n", secs, si(cps));
    for (const auto& [n, v] : dev.extra_counters()) fmt::print("  {:<22}{}\n", n, v);
  }

  // 2. Latency hiding.
  compiler::PipelinedGemm w;
  w.tiles = o.tiles;
  w.steps = o.steps;
  w.tm = o.tm;
  w.tn = o.tn;
  w.tk = o.tk;
  const driver::TsimDeviceOptions defaults;
  compiler::PipelinedGemm serial = w;
  serial.virtual_threads = false;
  const TiledRun vt = run_tiled(config, w, defaults, true);
  const TiledRun sr = run_tiled(config, serial, defaults, true);
  const uint64_t cv = vt.run.counters.cycle_count, cs = sr.run.counters.cycle_count;
  const auto row = [](const TiledRun& r) {
    nlohmann::json x = {{"cycles", r.run.counters.cycle_count}, {"gemm_busy_cycles", r.run.counters.gemm_counter},
                        {"matches_fsim", r.matches_fsim}};
    for (const auto& [n, v] : r.extra) x[n] = v;
    return x;
  };
  j["latency_hiding"] = {{"tiles", w.tiles}, {"steps", w.steps}, {"tm", w.tm}, {"tn", w.tn}, {"tk", w.tk},
                         {"two_virtual_threads", row(vt)}, {"serialized", row(sr)},
                         {"speedup", cv ? static_cast<double>(cs) / static_cast<double>(cv) : 0.0}};
  if (!o.json) {
    fmt::print("\nlatency hiding: tiled GEMM, {} output tiles x {} reduction steps, step = INP {}x{} + WGT {}x{} "
               "blocks, {} GEMM micro-ops\n",
               w.tiles, w.steps, w.tm, w.tk, w.tn, w.tk, w.tm * w.tn * w.tk);
    fmt::print("  {:<22}{:>10}{:>12}{:>10}{:>12}{:>14}{:>12}{:>7}\n", "schedule", "cycles", "GEMM util", "load busy",
               "load stall", "compute busy", "store busy", "fsim");
    for (const auto* r : {&vt, &sr}) {
      const auto& k = r->run.counters;
      fmt::print("  {:<22}{:>10}{:>11.1f}%{:>10}{:>12}{:>14}{:>12}{:>7}\n",
                 r == &vt ? "two virtual threads" : "serialized", k.cycle_count,
                 100.0 * static_cast<double>(k.gemm_counter) / static_cast<double>(k.cycle_count),
                 extra(*r, "load_busy_cycles"), extra(*r, "load_stall_cycles"), extra(*r, "compute_busy_cycles"),
                 extra(*r, "store_busy_cycles"), r->matches_fsim ? "same" : "DIFF");
    }
    fmt::print("  overlap saves {:.1f} % of the cycles (serialized / overlapped = {:.2f}x)\n",
               cs ? 100.0 * (1.0 - static_cast<double>(cv) / static_cast<double>(cs)) : 0.0,
               cv ? static_cast<double>(cs) / static_cast<double>(cv) : 0.0);
  }

  // 3. DRAM sweep.
  if (o.sweep) {
    nlohmann::json sweep = nlohmann::json::array();
    if (!o.json) {
      fmt::print("\nDRAM sweep (same workload; cycles from the hardware counter)\n");
      fmt::print("  {:>8}{:>10}{:>18}{:>14}\n", "latency", "bytes/cy", "virtual threads", "serialized");
    }
    const uint32_t lat0 = config.timing().dram_latency_cycles, bw0 = config.timing().dram_bytes_per_cycle;
    std::vector<std::pair<uint32_t, uint32_t>> points;
    for (uint32_t lat : {1u, 16u, 64u, 256u, 1024u}) points.emplace_back(lat, bw0);
    for (uint32_t bw : {1u, 2u, 4u, 16u, 32u}) points.emplace_back(lat0, bw);
    for (const auto& [lat, bw] : points) {
      driver::TsimDeviceOptions opt;
      opt.dram_latency_cycles = lat;
      opt.dram_bytes_per_cycle = bw;
      const TiledRun a1 = run_tiled(config, w, opt, false);
      const TiledRun a2 = run_tiled(config, serial, opt, false);
      sweep.push_back({{"latency", lat}, {"bytes_per_cycle", bw}, {"virtual_threads_cycles", a1.run.counters.cycle_count},
                       {"serialized_cycles", a2.run.counters.cycle_count}});
      if (!o.json)
        fmt::print("  {:>8}{:>10}{:>18}{:>14}\n", lat, bw, a1.run.counters.cycle_count, a2.run.counters.cycle_count);
    }
    j["dram_sweep"] = sweep;
  }
  if (o.json) fmt::print("{}\n", j.dump(2));
  return gemm_ok && vt.matches_fsim && sr.matches_fsim ? 0 : 1;
}

#else

int run_bench_tsim(const TsimBenchOptions&) {
  throw Error("bench tsim: this build has no tsim backend (Verilator was not found when it was configured)");
}

#endif

}  // namespace

void register_bench_tsim(CLI::App& bench, Action& action) {
  auto opts = std::make_shared<TsimBenchOptions>();
  CLI::App* sub = bench.add_subcommand("tsim", "Cycles/s, GEMM utilization, latency hiding and DRAM sweep on tsim");
  set_footer(*sub,
      "Runs on the Verilated RTL core and prints figures from its counters: simulated cycles per second and "
      "GEMM utilization of an int8 GEMM (--size) through the runtime; a tiled GEMM with two virtual threads "
      "vs serialized by tokens (both checked against fsim); and, unless --no-sweep, its cycles over DRAM "
      "latencies and bandwidths. Exits 1 only if a result is wrong.");
  add_config_option(*sub, opts->config);
  sub->add_option("--size,-s", opts->size, "M = N = K of the runtime GEMM")->capture_default_str()->check(
      CLI::Range(16u, 4096u));
  sub->add_option("--tiles", opts->tiles, "Output tiles of the latency-hiding workload")->capture_default_str()->check(
      CLI::Range(2u, 256u));
  sub->add_option("--steps", opts->steps, "Reduction steps per tile (even)")->capture_default_str()->check(
      CLI::Range(2u, 256u));
  sub->add_option("--tm", opts->tm, "Latency-hiding tile rows (blocks of BATCH)")->capture_default_str()->check(
      CLI::Range(1u, 1024u));
  sub->add_option("--tn", opts->tn, "Latency-hiding tile columns (blocks of BLOCK_OUT)")->capture_default_str()->check(
      CLI::Range(1u, 1024u));
  sub->add_option("--tk", opts->tk, "Latency-hiding reduction per step (blocks of BLOCK_IN)")->capture_default_str()->check(
      CLI::Range(1u, 1024u));
  sub->add_flag("!--no-sweep", opts->sweep, "Skip the DRAM latency/bandwidth sweep");
  sub->add_flag("--json", opts->json, "Print the figures as JSON");
  sub->callback([opts, &action] { action = [opts] { return run_bench_tsim(*opts); }; });
}

}  // namespace vta::cli
