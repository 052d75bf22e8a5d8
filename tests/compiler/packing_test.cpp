#include <gtest/gtest.h>

#include <random>

#include "vta/compiler/packing.h"

namespace vta::compiler {
namespace {

Tensor random_i8(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t(DType::kInt8, std::move(shape));
  std::mt19937 rng(seed);
  for (size_t i = 0; i < t.size(); ++i) t.data<int8_t>()[i] = static_cast<int8_t>(rng());
  return t;
}

TEST(Packing, ActivationLayoutAndRoundTrip) {
  const Tensor x = random_i8({3, 5, 2, 3}, 1);  // N 3 (batch 2 -> 2 groups), C 5 (block 4 -> 2 blocks)
  const auto p = pack_activations(x, 2, 4);
  ASSERT_EQ(p.size(), size_t{2 * 2 * 2 * 3 * 2 * 4});
  // Element (n=2, c=4, h=1, w=2): group 1, block 1, lane (batch 0, channel 0).
  const size_t elem = ((1 * 2 + 1) * 2 + 1) * 3 + 2;
  EXPECT_EQ(p[elem * 8 + 0 * 4 + 0], x.data<int8_t>()[((2 * 5 + 4) * 2 + 1) * 3 + 2]);
  // Padding (n = 3 does not exist, c = 5..7 do not exist) is zero.
  EXPECT_EQ(p[elem * 8 + 1 * 4 + 0], 0);
  EXPECT_EQ(p[elem * 8 + 0 * 4 + 1], 0);
  EXPECT_EQ(unpack_activations(p, 3, 5, 2, 3, 2, 4), x);
}

TEST(Packing, WeightLayoutAndRoundTrip) {
  const Tensor w = random_i8({10, 3, 3, 2}, 2);
  const auto p = pack_weights(w, 8, 4);
  ASSERT_EQ(p.size(), size_t{2 * 1 * 3 * 2 * 8 * 4});
  // (o=9, i=2, kh=1, kw=0): element ((1*1+0)*3+1)*2+0, lane (1, 2).
  EXPECT_EQ(p[size_t{((1 * 1 + 0) * 3 + 1) * 2 + 0} * 32 + 1 * 4 + 2], w.data<int8_t>()[((9 * 3 + 2) * 3 + 1) * 2 + 0]);
  EXPECT_EQ(unpack_weights(p, 10, 3, 3, 2, 8, 4), w);
}

TEST(Packing, BiasReplicatedOverBatch) {
  const Tensor b = Tensor::from_values<int32_t>({3}, {5, -6, 7});
  const auto p = pack_bias(b, 2, 2);
  EXPECT_EQ(p, (std::vector<int32_t>{5, -6, 5, -6, 7, 0, 7, 0}));
}

}  // namespace
}  // namespace vta::compiler
