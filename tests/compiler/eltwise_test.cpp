// Elementwise add and max pooling on the core, bit-exact against the plain CPU reference on every
// config and both fsim modes, plus shape errors.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "vta/compiler/eltwise.h"

namespace vta::ctest {
namespace {

const char* const kConfigs[] = {"default", "block8", "block32", "batch2", "in16_out32"};

struct AddCase {
  std::vector<int64_t> shape;
  int shift;
  bool relu;
  int lo, hi;
};

TEST(Add, MatchesReferenceOnEveryConfig) {
  const AddCase cases[] = {{{1, 64, 56, 56}, 1, true, -128, 127},
                           {{3, 5, 7}, 0, false, -128, 127},
                           {{1000}, 2, false, -20, 90},
                           {{2, 17, 9, 11}, 31, false, -128, 127},
                           {{1}, 0, true, -128, 127}};
  for (const char* cfg : kConfigs) {
    for (const auto& c : cases) {
      for (const char* target : {"fsim-strict", "fsim-serial"}) {
        SCOPED_TRACE(fmt::format("{} {} shape size {} shift {}", cfg, target, c.shape.size(), c.shift));
        std::mt19937 rng(5);
        size_t n = 1;
        for (auto d : c.shape) n *= static_cast<size_t>(d);
        const auto a = random_i8(n, rng), b = random_i8(n, rng);
        compiler::Requantize rq;
        rq.shift = c.shift, rq.relu = c.relu, rq.clip_lo = c.lo, rq.clip_hi = c.hi;
        auto dev = driver::open_device(target, load_config(cfg));
        runtime::Session q(*dev);
        const auto run = compiler::add(q, Tensor::from_values<int8_t>(c.shape, a), Tensor::from_values<int8_t>(c.shape, b), rq);
        const auto want = reference::add(a, b, {c.shift, c.relu, c.lo, c.hi});
        ASSERT_EQ(first_mismatch(run.output.to_vector<int8_t>(), want), -1);
        EXPECT_EQ(run.output.shape(), c.shape);
        if (std::string(cfg) == "default" && c.shape.size() == 4 && c.shape[1] == 64) {
          // a, b and the output once each, plus two identity weight blocks.
          EXPECT_EQ(run.counters.inp_load_nbytes, 2 * n);
          EXPECT_EQ(run.counters.out_store_nbytes, n);
          EXPECT_EQ(run.counters.wgt_load_nbytes, 2u * 256u);
        }
      }
    }
  }
}

TEST(Add, Errors) {
  auto dev = driver::open_device("fsim", load_config("default"));
  runtime::Session q(*dev);
  const Tensor a(DType::kInt8, {2, 3}), b(DType::kInt8, {3, 2}), c(DType::kInt32, {2, 3});
  EXPECT_THROW(compiler::add(q, a, b, {}), Error);
  EXPECT_THROW(compiler::add(q, a, c, {}), Error);
  compiler::Requantize rq;
  rq.shift = 40;
  EXPECT_THROW(compiler::add(q, a, a, rq), Error);
}

struct PoolCase {
  int n, c, h, w, k, s, pt, pl, pb, pr;
};

TEST(MaxPool, MatchesReferenceOnEveryConfig) {
  const PoolCase cases[] = {
      {1, 64, 112, 112, 3, 2, 1, 1, 1, 1},  // ResNet-18's pool
      {1, 5, 9, 10, 2, 2, 0, 0, 0, 0},  {2, 20, 13, 7, 3, 1, 1, 2, 0, 1}, {1, 3, 1, 1, 3, 1, 2, 1, 2, 1},
      {3, 17, 8, 11, 4, 3, 3, 0, 1, 2}, {1, 16, 5, 5, 1, 1, 0, 0, 0, 0},  {1, 40, 30, 200, 5, 2, 2, 2, 2, 2},
  };
  for (const char* cfg : kConfigs) {
    for (const auto& c : cases) {
      for (const char* target : {"fsim-strict", "fsim-serial"}) {
        SCOPED_TRACE(fmt::format("{} {} n{} c{} {}x{} k{} s{} pads {},{},{},{}", cfg, target, c.n, c.c, c.h, c.w, c.k,
                                 c.s, c.pt, c.pl, c.pb, c.pr));
        std::mt19937 rng(9);
        // Mostly negative values so that a zero from padding would win if it were ever read.
        const auto x = random_i8(static_cast<size_t>(c.n) * c.c * c.h * c.w, rng, -128, 20);
        compiler::MaxPoolParams p;
        p.kernel_h = p.kernel_w = static_cast<uint32_t>(c.k);
        p.stride_h = p.stride_w = static_cast<uint32_t>(c.s);
        p.pad_top = static_cast<uint32_t>(c.pt), p.pad_left = static_cast<uint32_t>(c.pl);
        p.pad_bottom = static_cast<uint32_t>(c.pb), p.pad_right = static_cast<uint32_t>(c.pr);
        reference::PoolGeometry g;
        g.n = c.n, g.c = c.c, g.h = c.h, g.w = c.w, g.kh = g.kw = c.k, g.stride_h = g.stride_w = c.s;
        g.pad_top = c.pt, g.pad_left = c.pl, g.pad_bottom = c.pb, g.pad_right = c.pr;
        auto dev = driver::open_device(target, load_config(cfg));
        runtime::Session q(*dev);
        const auto run = compiler::max_pool2d(q, Tensor::from_values<int8_t>({c.n, c.c, c.h, c.w}, x), p);
        const auto want = reference::max_pool2d(x, g);
        ASSERT_EQ(first_mismatch(run.output.to_vector<int8_t>(), want), -1);
      }
    }
  }
}

TEST(MaxPool, Errors) {
  auto dev = driver::open_device("fsim", load_config("default"));
  runtime::Session q(*dev);
  compiler::MaxPoolParams p;
  EXPECT_THROW(compiler::max_pool2d(q, Tensor(DType::kInt8, {1, 4, 4}), p), Error);       // rank
  EXPECT_THROW(compiler::max_pool2d(q, Tensor(DType::kInt32, {1, 1, 4, 4}), p), Error);   // dtype
  p.pad_top = 2;                                                                           // pad >= kernel
  EXPECT_THROW(compiler::max_pool2d(q, Tensor(DType::kInt8, {1, 1, 4, 4}), p), Error);
  p.pad_top = 0;
  p.kernel_h = p.kernel_w = 5;
  EXPECT_THROW(compiler::max_pool2d(q, Tensor(DType::kInt8, {1, 1, 4, 4}), p), Error);    // window > input
  p.kernel_h = p.kernel_w = 2;
  p.stride_h = 0;
  EXPECT_THROW(compiler::max_pool2d(q, Tensor(DType::kInt8, {1, 1, 4, 4}), p), Error);
}

}  // namespace
}  // namespace vta::ctest
