// GEMM through runtime -> driver -> fsim against a plain matrix multiply, for random shapes at every
// config in config/: tiles loaded per K block (single-buffered, with tokens), accumulation over the K
// blocks with a two-loop kernel, a reset kernel, and the full 32-bit results read back.
#include <gtest/gtest.h>

#include <functional>

#include "runtime_test_util.h"

namespace vta::rtest {
namespace {

using isa::MemoryType;

struct GemmParam {
  std::string config;
  std::string target;
};

class GemmConfigTest : public ::testing::TestWithParam<GemmParam> {};

TEST_P(GemmConfigTest, RandomShapesMatchMatmul) {
  const GemmParam& p = GetParam();
  Harness h(p.target, load_config(p.config));
  const Geo& g = h.geo();
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string>{}(p.config)));
  auto pick = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };

  for (int trial = 0; trial < 3; ++trial) {
    const uint32_t mt = pick(1, 4), nt = pick(1, 4), kt = pick(2, 6);
    const uint32_t kc = 2;  // K tiles per block
    const size_t m = size_t{mt} * g.batch, n = size_t{nt} * g.bout, k = size_t{kt} * g.bin;
    SCOPED_TRACE(testing::Message() << "trial " << trial << ": M " << m << " N " << n << " K " << k);
    const auto a = random_i8(m * k, static_cast<uint32_t>(rng()));
    const auto b = random_i8(n * k, static_cast<uint32_t>(rng()));
    auto a_buf = h.alloc_with(pack_tiles(a, m, k, g.batch, g.bin));  // [mt][kt] inp elements
    auto b_buf = h.alloc_with(pack_tiles(b, n, k, g.bout, g.bin));   // [nt][kt] wgt elements

    auto& q = h.q();
    // acc[i * nt + j] = 0
    UopKernelBuilder reset(KernelMode::kGemm, true);
    reset.loop_begin(mt, nt, 0, 0);
    for (uint32_t j = 0; j < nt; ++j) reset.push(j, 0, 0);
    reset.loop_end();
    q.push_gemm(reset.build());

    const uint32_t blocks = (kt + kc - 1) / kc;
    const uint64_t hits_before = q.kernel_cache_hits();
    for (uint32_t blk = 0; blk < blocks; ++blk) {
      const uint32_t k0 = blk * kc, kcur = std::min(kc, kt - k0);
      if (blk > 0) q.dep_pop(Stage::kCompute, Stage::kLoad);  // WAR: previous block consumed
      q.load_2d(a_buf, k0, kcur, mt, kt, 0, 0, 0, 0, 0, MemoryType::kInp);  // inp[i * kcur + x]
      q.load_2d(b_buf, k0, kcur, nt, kt, 0, 0, 0, 0, 0, MemoryType::kWgt);  // wgt[j * kcur + x]
      q.dep_push(Stage::kLoad, Stage::kCompute);
      q.dep_pop(Stage::kLoad, Stage::kCompute);
      // for i < mt, x < kcur, j < nt: acc[i*nt + j] += inp[i*kcur + x] . wgt[j*kcur + x]
      UopKernelBuilder kb(KernelMode::kGemm);
      kb.loop_begin(mt, nt, kcur, 0).loop_begin(kcur, 0, 1, 1);
      for (uint32_t j = 0; j < nt; ++j) kb.push(j, 0, j * kcur);
      kb.loop_end().loop_end();
      q.push_gemm(kb.build());
      if (blk + 1 < blocks) q.dep_push(Stage::kCompute, Stage::kLoad);
    }
    if (kt / kc >= 2) {
      EXPECT_GT(q.kernel_cache_hits(), hits_before);  // equal-sized K blocks share one kernel
    }
    auto bufs = emit_read_acc(h, 0, mt * nt);
    const auto counters = q.synchronize();
    EXPECT_EQ(counters.gemm_counter, uint64_t{mt} * nt * kt);

    const auto got = unpack_tiles(decode_acc_bytes(h, bufs, mt * nt), m, n, g.batch, g.bout);
    EXPECT_EQ(got, ref_matmul(a, b, m, n, k));
  }
}

std::vector<GemmParam> gemm_params() {
  std::vector<GemmParam> v;
  for (const auto& c : all_config_names()) {
    for (const char* t : {"fsim", "fsim-ref"}) v.push_back({c, t});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Configs, GemmConfigTest, ::testing::ValuesIn(gemm_params()),
                         [](const ::testing::TestParamInfo<GemmParam>& param_info) {
                           std::string name = param_info.param.config + "_" + param_info.param.target;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace vta::rtest
