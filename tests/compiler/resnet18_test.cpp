// The ResNet-18 conv2d workloads (C1..C11), bit-exact against the CPU reference at the default config
// and at the block8 / block32 configs, on the token-strict concurrent fsim (which also models the core's
// queue depths). Prints the chosen tiling and the DRAM traffic against the lower bound.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "compiler_test_util.h"
#include "vta/compiler/workloads.h"

namespace vta::ctest {
namespace {

using Layer = compiler::Conv2dWorkload;
constexpr const auto& kLayers = compiler::kResNet18Conv2d;

ConvCase to_case(const Layer& l) {
  ConvCase k;
  k.name = l.name;
  k.c = l.ic, k.o = l.oc, k.h = l.h, k.w = l.w, k.kh = k.kw = l.k, k.sh = k.sw = l.stride;
  k.pt = k.pl = k.pb = k.pr = l.pad;
  k.relu = true;
  return k;
}

class ResNet18 : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(ResNet18, LayerMatchesReference) {
  const auto& [config, index] = GetParam();
  const Layer& l = kLayers[index];
  const ConvCase k = to_case(l);
  SCOPED_TRACE(describe(k) + " / " + config);
  const auto t0 = std::chrono::steady_clock::now();
  const ConvOutcome o = run_conv_case(k, "fsim-strict", load_config(config), 7);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1) << o.run.tiling.to_string();
  const auto& c = o.run.counters;
  const uint64_t moved = c.inp_load_nbytes + c.wgt_load_nbytes + c.acc_load_nbytes + c.out_store_nbytes;
  std::printf("%-4s %-8s %s\n     measured %llu B (%.3fx lower bound), uop loads %llu B, %llu insns, gemm %llu, "
              "run %.3f s, total %.2f s\n",
              l.name, config.c_str(), o.run.tiling.to_string().c_str(), static_cast<unsigned long long>(moved),
              static_cast<double>(moved) / static_cast<double>(o.run.tiling.cost.lower_bound_bytes),
              static_cast<unsigned long long>(c.uop_load_nbytes),
              static_cast<unsigned long long>(o.run.instructions), static_cast<unsigned long long>(c.gemm_counter),
              o.run.run_seconds, secs);
  EXPECT_EQ(c.inp_load_nbytes, o.run.tiling.cost.inp_bytes);
  EXPECT_EQ(c.wgt_load_nbytes, o.run.tiling.cost.wgt_bytes);
  EXPECT_EQ(c.out_store_nbytes, o.run.tiling.cost.out_bytes);
}

// Every layer's program at every int8 config runs on fsim-strict, which models the core's queues
// (isa::CoreQueueDepths): tokens balanced, never more in flight or queued for a module than the hardware
// holds, so the program cannot deadlock the core. Values are checked above at three configs; this one
// only runs the programs (zero data), so it is quick.
TEST(ResNet18Programs, FitTheCoreQueuesAtEveryConfig) {
  for (const char* name : {"default", "batch2", "block8", "block32"}) {
    const isa::HwConfig cfg = load_config(name);
    runtime::Session session("fsim-strict", cfg);
    for (const Layer& l : kLayers) {
      SCOPED_TRACE(std::string(name) + " " + l.name);
      const ConvCase k = to_case(l);
      const Tensor input(DType::kInt8, {1, k.c, k.h, k.w});
      const Tensor weight(DType::kInt8, {k.o, k.c, k.kh, k.kw});
      const Tensor bias(DType::kInt32, {k.o});
      compiler::OpRun r;
      ASSERT_NO_THROW(r = compiler::conv2d(session, input, weight, &bias, k.params()));
      EXPECT_GT(r.counters.gemm_counter, 0u);
      EXPECT_EQ(r.counters.load_insn_count + r.counters.compute_insn_count + r.counters.store_insn_count,
                r.instructions);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Layers, ResNet18,
                         ::testing::Combine(::testing::Values("default", "block8", "block32"),
                                            ::testing::Range(0, 11)),
                         [](const auto& param_info) {
                           return std::get<0>(param_info.param) + "_" + kLayers[std::get<1>(param_info.param)].name;
                         });

}  // namespace
}  // namespace vta::ctest
