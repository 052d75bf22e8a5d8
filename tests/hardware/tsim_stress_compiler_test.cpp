// Random conv2d and dense shapes through the compiler and the runtime on fsim and on the RTL core (tsim):
// both outputs must equal the plain CPU reference (compiler/reference) bit for bit, and the two devices'
// counters must agree (except cycle_count).
//   TsimRandomOps.*      default suite (label rtl): 3 conv2d + 2 dense shapes per shipped config
//   TsimRandomOpsSlow.*  label slow (only with VTA_STRESS_SLOW=1): VTA_STRESS_OPS conv2d shapes per config (default 40) and half as many dense
// VTA_STRESS_SEED changes the shapes; a failure names the case (its seed, shape and tiling).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compiler_test_util.h"

namespace vta::ctest {
namespace {

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : fallback;
}

void expect_same_counters(const compiler::OpRun& f, const compiler::OpRun& t) {
  isa::ExecutionCounters fc = f.counters, tc = t.counters;
  fc.cycle_count = tc.cycle_count = 0;
  EXPECT_EQ(fc, tc) << "fsim " << f.counters.to_json().dump() << "\ntsim " << t.counters.to_json().dump();
}

// One random conv2d case on fsim and tsim against the reference; returns tsim cycles.
uint64_t conv_case(const std::string& config_name, std::mt19937& rng, int index) {
  ConvCase k = random_conv_case(rng, index, 12);
  const auto seed = static_cast<uint32_t>(rng());
  SCOPED_TRACE(describe(k) + fmt::format(" data seed {} on {}", seed, config_name));
  const isa::HwConfig config = load_config(config_name);
  const ConvOutcome f = run_conv_case(k, "fsim", config, seed);
  const ConvOutcome t = run_conv_case(k, "tsim", config, seed);
  const std::vector<int8_t> got_f = f.run.output.to_vector<int8_t>(), got_t = t.run.output.to_vector<int8_t>();
  EXPECT_EQ(first_mismatch(got_f, f.expect), -1) << "fsim vs reference; tiling " << f.run.tiling.to_string();
  EXPECT_EQ(first_mismatch(got_t, t.expect), -1) << "tsim vs reference; tiling " << t.run.tiling.to_string();
  expect_same_counters(f.run, t.run);
  return t.run.counters.cycle_count;
}

uint64_t dense_case(const std::string& config_name, std::mt19937& rng) {
  auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int n = r(1, 8), k = r(1, 300), m = r(1, 120);
  const bool bias = r(0, 3) != 0, relu = r(0, 1) == 1;
  SCOPED_TRACE(fmt::format("dense n{} k{} m{}{}{} on {}", n, k, m, bias ? " bias" : "", relu ? " relu" : "", config_name));
  const auto x = random_i8(static_cast<size_t>(n) * k, rng), w = random_i8(static_cast<size_t>(m) * k, rng);
  std::vector<int32_t> b;
  if (bias) b = random_i32(static_cast<size_t>(m), rng, -30000, 30000);
  const Tensor tx = Tensor::from_values<int8_t>({n, k}, x), tw = Tensor::from_values<int8_t>({m, k}, w);
  const Tensor tb = bias ? Tensor::from_values<int32_t>({m}, b) : Tensor();
  compiler::Requantize rq;
  rq.shift = compiler::shift_for_random_data(k);
  rq.relu = relu;
  const auto want = reference::dense(x, w, b, n, k, m, {rq.shift, rq.relu, rq.clip_lo, rq.clip_hi});
  const isa::HwConfig config = load_config(config_name);
  const auto run = [&](const char* target) {
    auto device = driver::open_device(target, config);
    runtime::Session q(*device);
    return compiler::dense(q, tx, tw, bias ? &tb : nullptr, rq);
  };
  const compiler::OpRun f = run("fsim"), t = run("tsim");
  EXPECT_EQ(first_mismatch(f.output.to_vector<int8_t>(), want), -1) << "fsim; " << f.tiling.to_string();
  EXPECT_EQ(first_mismatch(t.output.to_vector<int8_t>(), want), -1) << "tsim; " << t.tiling.to_string();
  expect_same_counters(f, t);
  return t.counters.cycle_count;
}

void run_ops(const std::string& config, uint64_t convs, uint64_t denses, uint64_t salt) {
  std::mt19937 rng(static_cast<uint32_t>(env_u64("VTA_STRESS_SEED", 0x57e55) * 31 + salt));
  uint64_t cycles = 0;
  for (uint64_t i = 0; i < convs && !testing::Test::HasFatalFailure(); ++i) cycles += conv_case(config, rng, static_cast<int>(i));
  for (uint64_t i = 0; i < denses && !testing::Test::HasFatalFailure(); ++i) cycles += dense_case(config, rng);
  std::printf("[   INFO   ] STRESS-OPS %s: %llu conv2d + %llu dense shapes, %llu tsim cycles\n", config.c_str(),
              static_cast<unsigned long long>(convs), static_cast<unsigned long long>(denses),
              static_cast<unsigned long long>(cycles));
}

class TsimRandomOps : public ::testing::TestWithParam<std::string> {};

TEST_P(TsimRandomOps, MatchReferenceOnFsimAndTsim) { run_ops(GetParam(), 3, 2, std::hash<std::string>{}(GetParam())); }

INSTANTIATE_TEST_SUITE_P(Configs, TsimRandomOps, ::testing::Values("default", "batch2", "block8", "block32", "in16_out32"));

class TsimRandomOpsSlow : public ::testing::TestWithParam<std::string> {};

TEST_P(TsimRandomOpsSlow, MatchReferenceOnFsimAndTsim) {
  const uint64_t n = env_u64("VTA_STRESS_OPS", 40);
  run_ops(GetParam(), n, (n + 1) / 2, std::hash<std::string>{}(GetParam()) + 1);
}

// Instantiated only with VTA_STRESS_SLOW=1 (set by the ctest entry of label slow and scripts/stress.sh).
std::vector<std::string> slow_configs() {
  if (env_u64("VTA_STRESS_SLOW", 0) == 0) return {};
  return {"default", "batch2", "block8", "block32", "in16_out32"};
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TsimRandomOpsSlow);
INSTANTIATE_TEST_SUITE_P(Configs, TsimRandomOpsSlow, ::testing::ValuesIn(slow_configs()));

}  // namespace
}  // namespace vta::ctest
