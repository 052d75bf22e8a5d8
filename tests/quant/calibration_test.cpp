// Calibration: method names, histogram bookkeeping, thresholds on known distributions, sample loading.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include <unistd.h>

#include "quant_test_util.h"
#include "vta/compiler/npy.h"
#include "vta/quant/calibration.h"

namespace vta::quant {
namespace {

using test::error_of;
using test::f32;

TEST(Calibration, ParsesMethodNames) {
  EXPECT_EQ(parse_calibration_method("max"), CalibrationMethod::kMax);
  EXPECT_EQ(parse_calibration_method("percentile"), CalibrationMethod::kPercentile);
  EXPECT_EQ(parse_calibration_method("kl"), CalibrationMethod::kKl);
  EXPECT_EQ(to_string(CalibrationMethod::kKl), "kl");
  EXPECT_EQ(error_of([] { parse_calibration_method("entropy"); }),
            "unknown calibration method 'entropy' (expected max, percentile or kl)");
}

TEST(Calibration, HistogramGrowsByMergingBins) {
  ValueStats s;
  accumulate(s, f32({3}, {0.5f, -1.0f, 0.0f}));
  EXPECT_EQ(s.range, 1.0);
  EXPECT_EQ(s.histogram[1024], 1u);            // 0.5
  EXPECT_EQ(s.histogram[kHistogramBins - 1], 1u);  // 1.0, the top edge
  EXPECT_EQ(s.histogram[0], 0u);  // 0 is counted apart
  EXPECT_EQ(s.zeros, 1u);
  accumulate(s, f32({1}, {-3.0f}));  // range 1 -> 2 -> 4
  EXPECT_EQ(s.range, 4.0);
  EXPECT_EQ(s.max_abs, 3.0);
  EXPECT_EQ(s.count, 4u);
  EXPECT_EQ(s.histogram[256], 1u);   // 0.5 of 4 -> bin 256
  EXPECT_EQ(s.histogram[511], 1u);   // old top bin 2047 -> 511
  EXPECT_EQ(s.histogram[1536], 1u);  // 3.0
  uint64_t total = 0;
  for (uint64_t c : s.histogram) total += c;
  EXPECT_EQ(total, 3u);
}

TEST(Calibration, AlwaysZeroGivesOne) {
  ValueStats s;
  accumulate(s, f32({4}, {0, 0, 0, 0}));
  for (auto m : {CalibrationMethod::kMax, CalibrationMethod::kPercentile, CalibrationMethod::kKl}) {
    EXPECT_EQ(threshold_from_stats(s, m), 1.0);
  }
}

ValueStats heavy_tailed(uint32_t seed) {
  // Laplace(0, 1) plus a few large outliers: most mass below 5, max 40.
  std::mt19937 rng(seed);
  std::exponential_distribution<float> e(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v;
  for (int i = 0; i < 200000; ++i) v.push_back(sign(rng) ? e(rng) : -e(rng));
  for (float o : {25.0f, -30.0f, 40.0f}) v.push_back(o);
  ValueStats s;
  accumulate(s, f32({static_cast<int64_t>(v.size())}, v));
  return s;
}

TEST(Calibration, PercentileAndKlClipHeavyTails) {
  const ValueStats s = heavy_tailed(3);
  EXPECT_EQ(threshold_from_stats(s, CalibrationMethod::kMax), 40.0);
  // P(|x| > t) = e^-t for Laplace(0,1): the 99.9th percentile is ln(1000) = 6.9.
  const double p999 = threshold_from_stats(s, CalibrationMethod::kPercentile, 99.9);
  EXPECT_NEAR(p999, 6.9, 0.4);
  const double p9999 = threshold_from_stats(s, CalibrationMethod::kPercentile, 99.99);
  EXPECT_GT(p9999, p999);
  EXPECT_LT(p9999, 12.0);
  const double kl = threshold_from_stats(s, CalibrationMethod::kKl);
  EXPECT_LT(kl, 20.0);  // well below the max of 40
  EXPECT_GT(kl, 3.0);   // but keeps the bulk of the distribution
}

TEST(Calibration, KlKeepsAUniformDistribution) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  std::vector<float> v;
  for (int i = 0; i < 100000; ++i) v.push_back(u(rng));
  ValueStats s;
  accumulate(s, f32({static_cast<int64_t>(v.size())}, v));
  // Nothing to clip: clipping a uniform distribution moves real mass into the last bin.
  EXPECT_GT(threshold_from_stats(s, CalibrationMethod::kKl), 1.8);
  EXPECT_NEAR(threshold_from_stats(s, CalibrationMethod::kPercentile, 99.0), 1.98, 0.01);
}

TEST(Calibration, CalibratesEveryFloatValueOfAGraph) {
  ir::Graph g("g");
  const ir::ValueId x = g.add_input("x", DType::kFloat32, {1, 4});
  const ir::ValueId r = g.add_value("r"), c = g.add_value("c");
  g.add_node(ir::OpKind::kRelu, "relu", {x}, {r});
  g.add_node(ir::OpKind::kClip, "clip", {x}, {c}, test::attrs({{"min", -0.5f}, {"max", 0.5f}}));
  g.add_output(r);
  const std::vector<Tensor> samples{f32({1, 4}, {-3, 1, 2, 0}), f32({1, 4}, {0.25f, -1, 0, 0})};
  const Calibration cal = calibrate(g, samples, CalibrationMethod::kMax);
  EXPECT_EQ(cal.num_samples, 2u);
  EXPECT_EQ(cal.threshold_of(g, x), 3.0);
  EXPECT_EQ(cal.threshold_of(g, r), 2.0);
  EXPECT_EQ(cal.threshold_of(g, c), 0.5);
  EXPECT_EQ(error_of([&] { calibrate(g, {}, CalibrationMethod::kMax); }), "graph 'g': calibration needs at least one sample");
  EXPECT_EQ(error_of([&] { calibrate(g, {f32({1, 3}, {0, 0, 0})}, CalibrationMethod::kMax); }),
            "graph 'g': input 'x' expects f32[1,4], got f32[1,3]");
}

class LoadSamples : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vta_quant_samples_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(LoadSamples, SplitsTheBatchDimension) {
  std::vector<float> v(3 * 4);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  compiler::write_npy(dir_ / "a.npy", f32({3, 1, 2, 2}, v));
  const auto s = load_samples(dir_ / "a.npy", {1, 1, 2, 2});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[2].shape(), (std::vector<int64_t>{1, 1, 2, 2}));
  EXPECT_EQ(s[2].to_vector<float>(), (std::vector<float>{8, 9, 10, 11}));
  // (N, H, W) for an input (1, 1, H, W) works too, and a file of exactly the input shape is one sample
  compiler::write_npy(dir_ / "b.npy", f32({2, 2, 2}, std::vector<float>(8, 1.0f)));
  EXPECT_EQ(load_samples(dir_ / "b.npy", {1, 1, 2, 2}).size(), 2u);
  compiler::write_npy(dir_ / "c.npy", f32({1, 1, 2, 2}, std::vector<float>(4, 2.0f)));
  EXPECT_EQ(load_samples(dir_ / "c.npy", {1, 1, 2, 2}).size(), 1u);
  // a directory: every file, sorted by name
  const auto all = load_samples(dir_, {1, 1, 2, 2});
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].data<float>()[0], 0.0f);
  EXPECT_EQ(all[3].data<float>()[0], 1.0f);
  EXPECT_EQ(all[5].data<float>()[0], 2.0f);
}

TEST_F(LoadSamples, RejectsMismatches) {
  compiler::write_npy(dir_ / "bad.npy", f32({2, 3, 2}, std::vector<float>(12, 0.0f)));
  EXPECT_EQ(error_of([&] { load_samples(dir_ / "bad.npy", {1, 1, 2, 2}); }),
            "calibration samples '" + (dir_ / "bad.npy").string() +
                "': shape (2, 3, 2) does not hold samples of the input shape [1,1,2,2] (expected (N, ...) with ... = [2,2])");
  compiler::write_npy(dir_ / "int.npy", Tensor(DType::kInt8, {1, 1, 2, 2}));
  EXPECT_EQ(error_of([&] { load_samples(dir_ / "int.npy", {1, 1, 2, 2}); }),
            "calibration samples '" + (dir_ / "int.npy").string() + "': dtype int8, expected float32");
  EXPECT_EQ(error_of([&] { load_samples(dir_ / "missing.npy", {1}); }),
            "calibration samples: '" + (dir_ / "missing.npy").string() + "' does not exist");
}

}  // namespace
}  // namespace vta::quant
