// What the compiler has landed, run on the RTL core: conv2d layers (bias, requantize, ReLU; 1x1, 3x3 and a
// 7x7 stride-2 stem with a host repack) compiled through the runtime onto "tsim" and "fsim" must give the
// same int8 output bit for bit and the same counters (except cycle_count).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vta/compiler/conv2d.h"
#include "vta/compiler/tensor.h"
#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"
#include "vta/runtime/session.h"

namespace vta::test {
namespace {

struct Layer {
  const char* name;
  uint32_t ic, oc, hw, k, stride, pad;
  int32_t shift;
};

class TsimConv2d : public ::testing::TestWithParam<Layer> {};

TEST_P(TsimConv2d, MatchesFsim) {
  const Layer& l = GetParam();
  const isa::HwConfig config = isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/default.json");
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> d8(-128, 127), db(-5000, 5000);
  std::vector<int8_t> x(size_t{l.ic} * l.hw * l.hw), w(size_t{l.oc} * l.ic * l.k * l.k);
  std::vector<int32_t> b(l.oc);
  for (auto& v : x) v = static_cast<int8_t>(d8(rng));
  for (auto& v : w) v = static_cast<int8_t>(d8(rng));
  for (auto& v : b) v = db(rng);
  compiler::Conv2dParams p = compiler::Conv2dParams::with(l.stride, l.pad, l.shift);
  p.requant.relu = true;
  const auto tx = compiler::Tensor::from_values<int8_t>({1, l.ic, l.hw, l.hw}, x);
  const auto tw = compiler::Tensor::from_values<int8_t>({l.oc, l.ic, l.k, l.k}, w);
  const auto tb = compiler::Tensor::from_values<int32_t>({l.oc}, b);

  const auto run = [&](const char* target) {
    const auto device = driver::open_device(target, config);
    runtime::Session queue(*device);
    return compiler::conv2d(queue, tx, tw, &tb, p);
  };
  const compiler::OpRun f = run("fsim");
  const compiler::OpRun t = run("tsim");
  EXPECT_EQ(f.output.to_vector<int8_t>(), t.output.to_vector<int8_t>());
  isa::ExecutionCounters fc = f.counters, tc = t.counters;
  fc.cycle_count = tc.cycle_count = 0;
  EXPECT_EQ(fc, tc) << "fsim " << f.counters.to_json().dump() << "\ntsim " << t.counters.to_json().dump();
  std::printf("[   INFO   ] %s: %llu instructions, %llu GEMM uops, %llu tsim cycles\n", l.name,
              static_cast<unsigned long long>(t.instructions), static_cast<unsigned long long>(t.counters.gemm_counter),
              static_cast<unsigned long long>(t.counters.cycle_count));
}

INSTANTIATE_TEST_SUITE_P(Layers, TsimConv2d,
                         ::testing::Values(Layer{"k3_s1_16x16", 16, 16, 8, 3, 1, 1, 8},
                                           Layer{"stem_k7_s2_ic3", 3, 16, 16, 7, 2, 3, 9},
                                           Layer{"k1_s2_32x32", 32, 32, 7, 1, 2, 0, 7},
                                           Layer{"k3_s1_64x64", 64, 64, 14, 3, 1, 1, 10},
                                           Layer{"resnet18_C2", 64, 64, 56, 3, 1, 1, 10},
                                           Layer{"resnet18_C10", 256, 512, 14, 1, 2, 0, 10}),
                         [](const ::testing::TestParamInfo<Layer>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace vta::test
