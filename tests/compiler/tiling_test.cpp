// The tiling search respects every buffer on every config, and its report is complete.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "vta/compiler/tiling.h"

namespace vta::compiler {
namespace {

isa::HwConfig config(const std::string& name) {
  return isa::HwConfig::from_file(std::filesystem::path(VTA_CONFIG_DIR) / (name + ".json"));
}

ConvProblem problem(const isa::HwConfig& cfg, uint32_t h, uint32_t ic, uint32_t oc, uint32_t k, uint32_t pad,
                    uint32_t stride) {
  ConvProblem p;
  p.ic_blocks = (ic + cfg.block_in() - 1) / cfg.block_in();
  p.oc_blocks = (oc + cfg.block_out() - 1) / cfg.block_out();
  p.in_h = p.in_w = h;
  p.out_h = p.out_w = (h + 2 * pad - k) / stride + 1;
  p.kernel_h = p.kernel_w = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
  p.has_bias = true;
  return p;
}

TEST(Tiling, ChosenTilingFitsEveryConfig) {
  for (const char* name : {"default", "batch2", "block8", "block32", "in16_out32"}) {
    const isa::HwConfig cfg = config(name);
    for (auto [h, ic, oc, k, pad, stride] :
         {std::tuple{224u, 3u, 64u, 7u, 3u, 2u}, {56u, 64u, 64u, 3u, 1u, 1u}, {28u, 128u, 256u, 1u, 0u, 2u},
          {7u, 512u, 512u, 3u, 1u, 1u}, {13u, 40u, 24u, 5u, 2u, 1u}}) {
      const ConvProblem p = problem(cfg, h, ic, oc, k, pad, stride);
      const Conv2dTiling t = choose_tiling(p, cfg);
      SCOPED_TRACE(std::string(name) + ": " + t.to_string());
      EXPECT_EQ(check_tiling(p, cfg, t), "");
      const TileFootprint f = footprint(p, t);
      EXPECT_LE(f.inp, cfg.inp().depth / 2);
      EXPECT_LE(f.acc, cfg.acc().depth / 2);
      EXPECT_LE(f.wgt, cfg.wgt().depth);
      EXPECT_LE(f.uops, cfg.uop().depth / 4);
      EXPECT_GE(t.cost.total_bytes(), t.cost.out_bytes);
      EXPECT_GT(t.cost.lower_bound_bytes, 0u);
    }
  }
}

TEST(Tiling, RejectsOversizedTiles) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  const ConvProblem p = problem(cfg, 56, 64, 64, 3, 1, 1);
  Conv2dTiling t;
  t.oc_blocks = 4, t.ic_blocks = 4, t.out_rows = 56, t.out_cols = 56;
  EXPECT_NE(check_tiling(p, cfg, t).find("input tile"), std::string::npos);
  t.out_rows = t.out_cols = 2;
  EXPECT_EQ(check_tiling(p, cfg, t), "");
  t.oc_blocks = 5;
  EXPECT_NE(check_tiling(p, cfg, t), "");
}

TEST(Tiling, ReportAsJson) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  const Conv2dTiling t = choose_tiling(problem(cfg, 14, 256, 256, 3, 1, 1), cfg);
  const nlohmann::json j = t.to_json();
  for (const char* key : {"oc_blocks", "out_rows", "out_cols", "ic_blocks", "order", "weight_mode", "predicted"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["predicted"]["total_bytes"].get<uint64_t>(), t.cost.total_bytes());
  EXPECT_NE(t.to_string().find("lower bound"), std::string::npos);
}

TEST(Tiling, InnerAxisAvoidsBackToBackAccumulatorWrites) {
  EXPECT_EQ(gemm_inner_axis(4, 14, 14), 0u);  // oc blocks: the shortest extent >= 2
  EXPECT_EQ(gemm_inner_axis(1, 14, 7), 2u);   // columns
  EXPECT_EQ(gemm_inner_axis(1, 3, 1), 1u);    // rows when there is one column
  EXPECT_EQ(gemm_inner_axis(1, 1, 1), 2u);    // nothing to alternate
}

}  // namespace
}  // namespace vta::compiler
