// Google Benchmark of the int8 GEMM (M = N = K = 256 at VTA's default config) that `vta bench fsim` runs:
// compiled to a Program (vta::compiler::gemm), executed on the functional simulator. Iteration time is the device's own
// run time (RunResult::wall_seconds, manual timing); MAC/s, instructions/s and GEMM micro-ops/s are
// reported as counters. Every iteration's result is checked against a CPU matmul.
#include <cstdint>
#include <exception>
#include <string>

#include <benchmark/benchmark.h>

#include "random_data.h"
#include "vta/compiler/gemm.h"
#include "vta/isa/hw_config.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"

namespace {

void BM_GemmOnDevice(benchmark::State& state, const char* target) {
  const auto size = static_cast<uint32_t>(state.range(0));
  const vta::compiler::GemmShape shape{size, size, size};
  const auto a = vta::tools::random_int8(uint64_t{shape.m} * shape.k, 1);
  const auto b = vta::tools::random_int8(uint64_t{shape.k} * shape.n, 2);
  const auto expected = vta::reference::matmul(a, b, int(size), int(size), int(size), nullptr);

  double device_seconds = 0.0;
  uint64_t runs = 0, executed_insns = 0, gemm_uops = 0;
  try {
    vta::runtime::Session session(target, vta::isa::HwConfig::default_config());
    for (auto _ : state) {
      const auto run = vta::compiler::gemm(session, shape, a, b, std::nullopt);
      state.SetIterationTime(run.stats.wall_seconds);
      if (run.c != expected) {
        state.SkipWithError("device result differs from the CPU matmul");
        break;
      }
      device_seconds += run.stats.wall_seconds;
      ++runs;
      const auto& c = run.stats.counters;
      executed_insns += c.load_insn_count + c.compute_insn_count + c.store_insn_count;
      gemm_uops += c.gemm_counter;
    }
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (runs == 0 || device_seconds <= 0.0) return;
  state.counters["MACs/s"] = benchmark::Counter(static_cast<double>(shape.macs() * runs) / device_seconds);
  state.counters["insns/s"] = benchmark::Counter(static_cast<double>(executed_insns) / device_seconds);
  state.counters["gemm_uops/s"] = benchmark::Counter(static_cast<double>(gemm_uops) / device_seconds);
}

BENCHMARK_CAPTURE(BM_GemmOnDevice, fsim, "fsim")->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GemmOnDevice, fsim_ref, "fsim-ref")->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
