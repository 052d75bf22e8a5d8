// vta demo: a small quantized layer end to end — int8 GEMM, then requantization with ALU SHR, MIN and MAX
// (clip to int8), then STORE — built through the runtime, run on a simulator and checked against a CPU
// reference.
#include <cstdint>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "random_data.h"
#include "vta/compiler/gemm.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"

namespace vta::cli {
namespace {

struct DemoOptions {
  std::string config;
  std::string target = "fsim";
  uint32_t m = 64, n = 64, k = 128;
  int32_t shift = 10;
  uint64_t seed = 7;
};

int run_demo(const DemoOptions& o) {
  const isa::HwConfig config = load_config(o.config);
  const compiler::GemmShape shape{o.m, o.n, o.k};
  compiler::Requantize requant;
  requant.shift = o.shift;
  const auto a = tools::random_int8(uint64_t{shape.m} * shape.k, o.seed);
  const auto b = tools::random_int8(uint64_t{shape.k} * shape.n, o.seed + 1);

  runtime::Session session(o.target, config);
  fmt::print("vta demo: out = clip((A x B) >> {}, -128, 127) with A {}x{} int8, B {}x{} int8\n", requant.shift,
             shape.m, shape.k, shape.k, shape.n);
  fmt::print("device {}, config {}\n", session.device_name(), config.name());

  const compiler::GemmRun run = compiler::gemm(session, shape, a, b, requant);
  const reference::RequantParams ref_rq{requant.shift, requant.relu, requant.clip_lo, requant.clip_hi};
  const auto expected = reference::matmul(a, b, int(shape.m), int(shape.k), int(shape.n), &ref_rq);

  uint64_t differing = 0;
  size_t first = expected.size();
  uint64_t clipped = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (run.c[i] != expected[i]) {
      ++differing;
      if (first == expected.size()) first = i;
    }
    if (expected[i] == 127 || expected[i] == -128) ++clipped;
  }
  const auto& t = run.tiling;
  fmt::print("tiles (blocks): tm={} tn={} tk={}; {} instructions; device time {:.6f} s\n", t.tm, t.tn, t.tk,
             run.instructions, run.stats.wall_seconds);
  fmt::print("counters:\n");
  print_counters(stdout, run.stats.counters);
  fmt::print("{} of {} outputs saturated by the clip\n", clipped, expected.size());
  if (differing == 0) {
    fmt::print("result check: PASS ({} outputs match the CPU reference)\n", expected.size());
    return 0;
  }
  fmt::print("result check: FAIL ({} of {} outputs differ; first at row {}, column {}: device {}, expected {})\n",
             differing, expected.size(), first / shape.n, first % shape.n, run.c[first], expected[first]);
  return 1;
}

}  // namespace

void register_demo(CLI::App& app, Action& action) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* sub = app.add_subcommand("demo", "Run a small quantized GEMM layer and check it against the CPU");
  set_footer(*sub,
      "Builds out = clip((A x B) >> shift, -128, 127) through the runtime: int8 GEMM, then ALU SHR, MIN and "
      "MAX with immediates, then STORE. Runs it on the simulator and prints the counters and PASS/FAIL against "
      "a CPU reference; exits 1 on FAIL.");
  add_config_option(*sub, opts->config);
  add_target_option(*sub, opts->target);
  sub->add_option("--m", opts->m, "Rows of A and of the result")->capture_default_str()->check(CLI::Range(1u, 4096u));
  sub->add_option("--n", opts->n, "Columns of B and of the result")->capture_default_str()->check(CLI::Range(1u, 4096u));
  sub->add_option("--k", opts->k, "Reduction length")->capture_default_str()->check(CLI::Range(1u, 4096u));
  sub->add_option("--shift", opts->shift, "Right shift applied to the accumulators before the clip")
      ->capture_default_str()
      ->check(CLI::Range(0, 31));
  sub->add_option("--seed", opts->seed, "Seed of the random int8 matrices")->capture_default_str();
  sub->callback([opts, &action] { action = [opts] { return run_demo(*opts); }; });
}

}  // namespace vta::cli
