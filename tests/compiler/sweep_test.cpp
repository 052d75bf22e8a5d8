// Randomized conv2d shapes on every config: odd sizes, kernels 1..7, strides 1..3, asymmetric pads,
// channels not multiple of the block, batches not multiple of BATCH. 40 cases per config (label slow);
// the first 5 of each also run in CI (SweepFirst, registered as compiler.sweep_first with label unit).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "compiler_test_util.h"

namespace vta::ctest {
namespace {

// A seed of its own for each config (FNV-1a of the name: stable across platforms, unlike std::hash, and
// unlike the name's length it tells batch2 from block8 and default from block32).
uint32_t seed_of(const std::string& name) {
  uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

constexpr int kCases = 40;
constexpr int kFirstCases = 5;  // run in CI (ctest compiler.sweep_first, label unit); the rest is label slow

// Runs cases [first, last) of the config's sequence (the earlier ones are drawn and skipped, so a case
// is the same whichever range runs it).
void sweep(const std::string& config, int first, int last) {
  std::mt19937 rng(seed_of(config));
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int i = 0; i < last; ++i) {
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
    if (i < first) continue;
    expect_conv_matches(k, i % 2 ? "fsim-strict" : "fsim-ref", config, static_cast<uint32_t>(100 + i));
  }
}

TEST(SweepSeeds, DifferPerConfig) {
  const char* names[] = {"default", "batch2", "block8", "block32", "in16_out32"};
  for (const char* a : names) {
    for (const char* b : names) {
      if (std::string(a) != b) {
        EXPECT_NE(seed_of(a), seed_of(b)) << a << " " << b;
      }
    }
  }
}

class Sweep : public ::testing::TestWithParam<std::string> {};
class SweepFirst : public ::testing::TestWithParam<std::string> {};

TEST_P(Sweep, RandomShapesMatchReference) { sweep(GetParam(), kFirstCases, kCases); }
TEST_P(SweepFirst, RandomShapesMatchReference) { sweep(GetParam(), 0, kFirstCases); }

INSTANTIATE_TEST_SUITE_P(Configs, SweepFirst, ::testing::Values("default", "batch2", "block8", "block32", "in16_out32"));
INSTANTIATE_TEST_SUITE_P(Configs, Sweep, ::testing::Values("default", "batch2", "block8", "block32", "in16_out32"));

}  // namespace
}  // namespace vta::ctest
