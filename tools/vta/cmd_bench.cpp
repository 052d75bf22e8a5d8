// vta bench fsim: an int8 GEMM (M = N = K = --size) through the runtime on a simulator backend, checked
// against a CPU matmul, with the device's throughput figures. Prints figures only; never judges timing.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "random_data.h"
#include "vta/compiler/gemm.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"
#include "vta/isa/error.h"

namespace vta::cli {
namespace {

struct BenchOptions {
  std::string config;
  std::string target = "fsim";
  uint32_t size = 256;
  uint32_t repeat = 1;
  uint64_t seed = 1;
  bool json = false;
};

int run_bench_fsim(const BenchOptions& o) {
  const isa::HwConfig config = load_config(o.config);
  if (o.repeat == 0) throw Error("--repeat must be at least 1");
  const compiler::GemmShape shape{o.size, o.size, o.size};
  const auto a = tools::random_int8(uint64_t{shape.m} * shape.k, o.seed);
  const auto b = tools::random_int8(uint64_t{shape.k} * shape.n, o.seed + 1);
  const auto expected = reference::matmul(a, b, int(o.size), int(o.size), int(o.size), nullptr);

  runtime::Session session(o.target, config);
  compiler::GemmRun best;
  bool all_match = true;
  for (uint32_t r = 0; r < o.repeat; ++r) {
    compiler::GemmRun run = compiler::gemm(session, shape, a, b, std::nullopt);
    all_match = all_match && run.c == expected;
    if (r == 0 || run.stats.wall_seconds < best.stats.wall_seconds) best = std::move(run);
  }
  uint64_t mismatches = 0;
  for (size_t i = 0; i < expected.size(); ++i) mismatches += best.c[i] != expected[i] ? 1 : 0;

  const auto& c = best.stats.counters;
  const double secs = best.stats.wall_seconds;
  const uint64_t executed = c.load_insn_count + c.compute_insn_count + c.store_insn_count;
  const double macs_per_s = secs > 0 ? static_cast<double>(shape.macs()) / secs : 0.0;
  const double insn_per_s = secs > 0 ? static_cast<double>(executed) / secs : 0.0;
  const double uops_per_s = secs > 0 ? static_cast<double>(c.gemm_counter) / secs : 0.0;
  const auto& t = best.tiling;

  if (o.json) {
    nlohmann::json j;
    j["benchmark"] = "gemm";
    j["target"] = session.device_name();
    j["config"] = config.name();
    j["m"] = shape.m;
    j["n"] = shape.n;
    j["k"] = shape.k;
    j["macs"] = shape.macs();
    j["tiling_blocks"] = {{"tm", t.tm}, {"tn", t.tn}, {"tk", t.tk}};
    j["check_passed"] = all_match;
    j["repeat"] = o.repeat;
    j["device_seconds"] = secs;
    j["host_seconds"] = best.host_seconds;
    j["instructions_in_stream"] = best.instructions;
    j["macs_per_second"] = macs_per_s;
    j["instructions_per_second"] = insn_per_s;
    j["gemm_uops_per_second"] = uops_per_s;
    j["counters"] = c.to_json();
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("int8 GEMM {}x{}x{} ({} MACs) on {}, config {}\n", shape.m, shape.n, shape.k, shape.macs(),
               session.device_name(), config.name());
    fmt::print("  tiles (blocks)   tm={} tn={} tk={}  ({} output tiles x {} reduction steps)\n", t.tm, t.tn, t.tk,
               uint64_t{shape.m / config.batch() / t.tm} * (shape.n / config.block_out() / t.tn),
               shape.k / config.block_in() / t.tk);
    fmt::print("  result check     {} (low 8 bits of the int32 accumulators vs a CPU matmul{})\n",
               all_match ? "PASS" : "FAIL", all_match ? "" : fmt::format("; {} elements differ", mismatches));
    fmt::print("  instructions     {} in the stream, {} executed\n", best.instructions, executed);
    fmt::print("  device time      {:.6f} s{}\n", secs, o.repeat > 1 ? fmt::format(" (best of {})", o.repeat) : "");
    fmt::print("  host time        {:.6f} s (queue building, run, copies)\n", best.host_seconds);
    fmt::print("  MAC/s            {}\n", si(macs_per_s));
    fmt::print("  instructions/s   {}\n", si(insn_per_s));
    fmt::print("  GEMM micro-ops/s {}\n", si(uops_per_s));
    fmt::print("  counters:\n");
    print_counters(stdout, c, "    ");
  }
  return all_match ? 0 : 1;
}

}  // namespace

void register_bench(CLI::App& app, Action& action) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks that print figures (they never fail on timing)");
  bench->require_subcommand(1);
  CLI::App* fsim = bench->add_subcommand("fsim", "Throughput of an int8 GEMM on the functional simulator");
  set_footer(*fsim,
      "Builds an int8 GEMM (M = N = K = --size, tiles sized to the config's buffers) through the runtime, runs "
      "it on the simulator, checks the result against a CPU matmul and prints MAC/s, instructions/s and GEMM "
      "micro-ops/s of the device run (the device's own wall time). Exits 1 only if the result is wrong.");
  add_config_option(*fsim, opts->config);
  add_target_option(*fsim, opts->target);
  fsim->add_option("--size,-s", opts->size, "M = N = K of the GEMM (a multiple of the config's batch and block)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 8192u));
  fsim->add_option("--repeat,-r", opts->repeat, "Runs to make; the fastest device run is reported")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  fsim->add_option("--seed", opts->seed, "Seed of the random int8 matrices")->capture_default_str();
  fsim->add_flag("--json", opts->json, "Print the figures as JSON");
  fsim->callback([opts, &action] { action = [opts] { return run_bench_fsim(*opts); }; });
  register_bench_conv2d(*bench, action);
  register_bench_tsim(*bench, action);
  register_bench_tlm(*bench, action);
}

}  // namespace vta::cli
