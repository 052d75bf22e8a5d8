// Randomized conv2d shapes on every config (label: slow): odd sizes, kernels 1..7, strides 1..3,
// asymmetric pads, channels not multiple of the block, batches not multiple of BATCH.
#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace vta::ctest {
namespace {

class Sweep : public ::testing::TestWithParam<std::string> {};

TEST_P(Sweep, RandomShapesMatchReference) {
  std::mt19937 rng(20240 + static_cast<uint32_t>(GetParam().size()));
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < 40; ++i) {
    ConvCase k;
    k.name = "sweep" + std::to_string(i);
    k.n = pick(1, 3);
    k.c = pick(1, 70);
    k.o = pick(1, 70);
    k.kh = pick(1, 7);
    k.kw = pick(1, 7);
    k.sh = pick(1, 3);
    k.sw = pick(1, 3);
    k.pt = pick(0, k.kh - 1), k.pb = pick(0, k.kh - 1), k.pl = pick(0, k.kw - 1), k.pr = pick(0, k.kw - 1);
    k.h = pick(std::max(1, k.kh - k.pt - k.pb), 24);
    k.w = pick(std::max(1, k.kw - k.pl - k.pr), 24);
    k.relu = pick(0, 1) == 1;
    k.bias = pick(0, 3) != 0;
    expect_conv_matches(k, i % 2 ? "fsim-strict" : "fsim-ref", GetParam(), static_cast<uint32_t>(100 + i));
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, Sweep, ::testing::Values("default", "batch2", "block8", "block32", "in16_out32"));

}  // namespace
}  // namespace vta::ctest
