// vta bench tsim: figures of the RTL core under Verilator (Device target "tsim"), from the hardware's own
// counters:
//   1. a large int8 GEMM through the runtime: simulated cycles per second and GEMM utilization
//      (GEMM-busy cycles / total cycles; the array takes one micro-op per cycle, so GEMM-busy cycles =
//      gemm_counter), result checked against a CPU matmul;
//   2. latency hiding: one tiled GEMM written twice at the instruction level, with two virtual threads
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
#include "gemm_workload.h"
#include "vta/driver/device.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
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

using isa::MemoryType;
using isa::Opcode;

// The instruction-level tiled GEMM of the latency-hiding benchmark: C[tm][O*tn] = A[tm][R*tk] x W[O*tn][R*tk]
// in blocks, output tile o over R reduction steps; tile sizes in blocks (tm rows of BATCH, tn of BLOCK_OUT,
// tk of BLOCK_IN), chosen so that one step's loads take about as long as its GEMMs at 8 bytes/cycle.
struct TiledGemm {
  uint32_t tm = 64, tn = 4, tk = 4;
  uint32_t tiles = 16, steps = 16;
  bool virtual_threads = true;
};

struct Placed {
  uint64_t insn_address = 0;
  uint32_t insn_count = 0;
  std::vector<driver::DeviceBuffer> buffers;
  driver::DeviceBuffer out;
};

using isa::make_mem;

// Builds the program and its data on `dev` (same bytes for the same arguments on every device).
Placed place_tiled_gemm(driver::Device& dev, const TiledGemm& w) {
  const isa::HwConfig& cfg = dev.config();
  const isa::InstructionCodec codec(cfg);
  const uint32_t tm = w.tm, tn = w.tn, tk = w.tk, O = w.tiles, R = w.steps;
  const uint32_t inp_tile = tm * tk, wgt_tile = tn * tk, acc_tile = tm * tn;
  if (2 * inp_tile > cfg.inp().depth || 2 * wgt_tile > cfg.wgt().depth || 2 * acc_tile > cfg.acc().depth)
    throw Error("bench tsim: the latency-hiding tiles do not fit this config's buffers twice");
  if (R % 2 != 0) throw Error("bench tsim: --steps must be even");
  Placed p;
  const auto alloc = [&](uint64_t bytes, uint64_t align) {
    driver::DeviceBuffer b = dev.allocate(bytes, align);
    p.buffers.push_back(b);
    return b;
  };
  const uint32_t ie = cfg.inp().element_bytes, we = cfg.wgt().element_bytes, oe = cfg.out().element_bytes;
  const uint64_t a_elems = uint64_t{tm} * R * tk, w_elems = uint64_t{O} * tn * R * tk, c_elems = uint64_t{tm} * O * tn;
  driver::DeviceBuffer a = alloc(a_elems * ie, 4096), wt = alloc(w_elems * we, 4096);
  p.out = alloc(c_elems * oe, 4096);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  const auto fill = [&x](driver::DeviceBuffer& b) {
    for (uint64_t i = 0; i < b.size; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b.host[i] = static_cast<uint8_t>(x);
    }
  };
  fill(a);
  fill(wt);
  std::memset(p.out.host, 0, p.out.size);

  // Micro-ops: per (inp/wgt slot, acc slot) one set of tn micro-ops (n = 0..tn-1: acc n, wgt row n); the
  // loop nest walks m (outer: acc += tn, inp += tk) and k (inner: inp += 1, wgt += 1). Consecutive
  // micro-ops write different ACC entries, so the pipeline never waits on a read-after-write hazard.
  std::vector<isa::MicroOp> uops;
  const auto set_base = [tn](uint32_t slot, uint32_t acc_slot) { return (acc_slot * 2 + slot) * tn; };
  for (uint32_t acc_slot = 0; acc_slot < 2; ++acc_slot)
    for (uint32_t slot = 0; slot < 2; ++slot)
      for (uint32_t n = 0; n < tn; ++n) uops.push_back({acc_slot * acc_tile + n, slot * inp_tile, slot * wgt_tile + n * tk});
  driver::DeviceBuffer u = alloc(uops.size() * 4, 4096);
  for (size_t i = 0; i < uops.size(); ++i) {
    const uint32_t raw = codec.encode_uop(uops[i]);
    std::memcpy(u.host + 4 * i, &raw, 4);
  }

  const uint32_t a_base = static_cast<uint32_t>(a.device_address / ie);
  const uint32_t w_base = static_cast<uint32_t>(wt.device_address / we);
  const uint32_t c_base = static_cast<uint32_t>(p.out.device_address / oe);
  const uint32_t u_base = static_cast<uint32_t>(u.device_address / 4);
  const bool vt = w.virtual_threads;
  const uint32_t total = O * R;

  std::vector<isa::Instruction> prog;
  prog.push_back(make_mem(Opcode::kLoad, MemoryType::kUop, 0, u_base, 1, static_cast<uint32_t>(uops.size()),
                     static_cast<uint32_t>(uops.size())));
  for (uint32_t o = 0; o < O; ++o) {
    const uint32_t acc_slot = o % 2;
    for (uint32_t r = 0; r < R; ++r) {
      const uint32_t s = o * R + r, slot = s % 2;
      // Load module: INP and WGT tiles of step s into slot s % 2.
      isa::MemInsn li = make_mem(Opcode::kLoad, MemoryType::kInp, slot * inp_tile, a_base + r * tk, tm, tk, R * tk);
      isa::MemInsn lw = make_mem(Opcode::kLoad, MemoryType::kWgt, slot * wgt_tile,
                            w_base + (o * tn) * R * tk + r * tk, tn, tk, R * tk);
      li.dep.pop_next = vt ? s >= 2 : s >= 1;  // the slot is free (vt) / the previous step is done (serial)
      lw.dep.push_next = true;
      prog.push_back(li);
      prog.push_back(lw);
      // Compute: (reset the ACC tile first) GEMM over the step.
      isa::GemmInsn g;
      g.loop.uop_bgn = set_base(slot, acc_slot);
      g.loop.uop_end = g.loop.uop_bgn + tn;
      g.loop.iter_out = tm;
      g.loop.iter_in = tk;
      g.loop.dst_factor_out = tn;
      g.loop.dst_factor_in = 0;
      g.loop.src_factor_out = tk;
      g.loop.src_factor_in = 1;
      g.wgt_factor_out = 0;
      g.wgt_factor_in = 1;
      isa::Instruction first;
      if (r == 0) {
        isa::GemmInsn reset = g;
        reset.loop.reset = true;
        reset.loop.iter_in = 1;
        reset.dep.pop_prev = true;
        reset.dep.pop_next = vt && o >= 2;  // the store of tile o - 2 (same ACC slot) is done
        prog.push_back(reset);
      } else {
        g.dep.pop_prev = true;
      }
      const bool last = r + 1 == R;
      if (vt) {
        g.dep.push_prev = s + 2 < total;
      } else {
        g.dep.push_prev = !last && s + 1 < total;
      }
      g.dep.push_next = last;
      prog.push_back(g);
      if (last) {
        isa::MemInsn st = make_mem(Opcode::kStore, MemoryType::kOut, acc_slot * acc_tile, c_base + o * tn, tm, tn, O * tn);
        st.dep.pop_prev = true;
        st.dep.push_prev = vt ? o + 2 < O : o + 1 < O;
        prog.push_back(st);
        if (!vt && o + 1 < O) {  // serialized: compute waits for the store, then lets the next load go
          isa::MemInsn noop = make_mem(Opcode::kLoad, MemoryType::kUop, 0, 0, 0, 0, 0);
          noop.dep.pop_next = true;
          noop.dep.push_prev = true;
          prog.push_back(noop);
        }
      }
    }
  }
  prog.push_back(isa::FinishInsn{});
  std::vector<isa::RawInstruction> raw;
  for (const auto& insn : prog) raw.push_back(codec.encode(insn));
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  driver::DeviceBuffer ib = alloc(bytes.size(), 4096);
  std::memcpy(ib.host, bytes.data(), bytes.size());
  for (auto& b : p.buffers) dev.flush(b, 0, b.size);
  p.insn_address = ib.device_address;
  p.insn_count = static_cast<uint32_t>(prog.size());
  return p;
}

struct TiledRun {
  driver::RunResult run;
  std::vector<std::pair<std::string, uint64_t>> extra;
  bool matches_fsim = false;
};

TiledRun run_tiled(const isa::HwConfig& config, const TiledGemm& w, const driver::TsimDeviceOptions& options,
                   bool check) {
  driver::TsimDevice tsim("tsim", config, options);
  const Placed p = place_tiled_gemm(tsim, w);
  TiledRun out;
  out.run = tsim.run(p.insn_address, p.insn_count, std::chrono::milliseconds(0));
  if (!out.run.ok()) throw Error("bench tsim: the tiled GEMM failed on tsim: " + out.run.message);
  out.extra = tsim.extra_counters();
  if (check) {
    const auto fsim = driver::open_device("fsim", config);
    const Placed q = place_tiled_gemm(*fsim, w);
    const driver::RunResult rf = fsim->run(q.insn_address, q.insn_count, std::chrono::milliseconds(0));
    if (!rf.ok()) throw Error("bench tsim: the tiled GEMM failed on fsim: " + rf.message);
    tsim.invalidate(p.out, 0, p.out.size);
    fsim->invalidate(q.out, 0, q.out.size);
    out.matches_fsim = p.out.size == q.out.size && std::memcmp(p.out.host, q.out.host, p.out.size) == 0;
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
  const tools::GemmShape shape{o.size, o.size, o.size};
  const auto a = tools::random_int8(uint64_t{shape.m} * shape.k, 1);
  const auto b = tools::random_int8(uint64_t{shape.k} * shape.n, 2);
  const auto expected = tools::cpu_gemm_reference(shape, a, b, std::nullopt);
  driver::TsimDevice dev("tsim", config, {});
  const tools::GemmDeviceRun g = tools::run_gemm_on_device(dev, shape, a, b, std::nullopt);
  const auto& c = g.run.counters;
  const double secs = g.run.wall_seconds;
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
  TiledGemm w;
  w.tiles = o.tiles;
  w.steps = o.steps;
  w.tm = o.tm;
  w.tn = o.tn;
  w.tk = o.tk;
  const driver::TsimDeviceOptions defaults;
  TiledGemm serial = w;
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
