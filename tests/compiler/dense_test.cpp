// dense lowered as a 1x1 conv2d over the rows of x, bit-exact against the CPU reference on every config.
#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace vta::ctest {
namespace {

struct DenseCase {
  int n, k, m;
  bool bias;
  bool relu;
};

void expect_dense_matches(const DenseCase& c, const std::string& target, const std::string& config, uint32_t seed) {
  SCOPED_TRACE(fmt::format("dense n{} k{} m{}{}{} on {} / {}", c.n, c.k, c.m, c.bias ? " bias" : "",
                           c.relu ? " relu" : "", target, config));
  std::mt19937 rng(seed);
  const auto x = random_i8(static_cast<size_t>(c.n) * c.k, rng);
  const auto w = random_i8(static_cast<size_t>(c.m) * c.k, rng);
  std::vector<int32_t> b;
  if (c.bias) b = random_i32(static_cast<size_t>(c.m), rng, -30000, 30000);
  const Tensor tx = Tensor::from_values<int8_t>({c.n, c.k}, x);
  const Tensor tw = Tensor::from_values<int8_t>({c.m, c.k}, w);
  const Tensor tb = c.bias ? Tensor::from_values<int32_t>({c.m}, b) : Tensor();
  compiler::Requantize rq;
  rq.shift = compiler::shift_for_random_data(c.k);
  rq.relu = c.relu;
  auto device = driver::open_device(target, load_config(config));
  runtime::Session q(*device);
  const compiler::OpRun run = compiler::dense(q, tx, tw, c.bias ? &tb : nullptr, rq);
  ASSERT_EQ(run.output.shape(), (std::vector<int64_t>{c.n, c.m}));
  const auto want = reference::dense(x, w, b, c.n, c.k, c.m, {rq.shift, rq.relu, rq.clip_lo, rq.clip_hi});
  EXPECT_EQ(first_mismatch(run.output.to_vector<int8_t>(), want), -1) << run.tiling.to_string();
}

class DenseConfigs : public ::testing::TestWithParam<std::string> {};

TEST_P(DenseConfigs, MatchesReference) {
  const std::vector<DenseCase> cases = {{1, 16, 16, true, false},  {16, 512, 1008, true, false},
                                        {3, 7, 5, false, true},    {5, 100, 33, true, true},
                                        {32, 64, 10, true, false}, {1, 1000, 1, false, false}};
  uint32_t seed = 11;
  for (const auto& c : cases) {
    expect_dense_matches(c, "fsim-strict", GetParam(), seed);
    expect_dense_matches(c, "fsim-serial", GetParam(), seed++);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, DenseConfigs,
                         ::testing::Values("default", "batch2", "block8", "block32", "in16_out32"));

TEST(DenseErrors, ShapesAndDtypes) {
  auto device = driver::open_device("fsim", isa::HwConfig::default_config());
  runtime::Session q(*device);
  const Tensor x(DType::kInt8, {2, 8}), w(DType::kInt8, {4, 8});
  compiler::Requantize rq;
  EXPECT_THROW(compiler::dense(q, Tensor(DType::kInt8, {2, 9}), w, nullptr, rq), Error);
  EXPECT_THROW(compiler::dense(q, Tensor(DType::kFloat32, {2, 8}), w, nullptr, rq), Error);
  const Tensor b(DType::kInt32, {5});
  EXPECT_THROW(compiler::dense(q, x, w, &b, rq), Error);
  EXPECT_THROW(compiler::dense(q, Tensor(DType::kInt8, {2, 8, 1}), w, nullptr, rq), Error);
}

}  // namespace
}  // namespace vta::ctest
