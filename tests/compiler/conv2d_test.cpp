// conv2d lowered onto the core, bit-exact against the CPU reference: small shapes (odd sizes, 1x1 and
// 7x7 kernels, strides, asymmetric padding, channels not multiple of the block) on every config, on the
// token-strict concurrent fsim and on fsim-serial; forced tilings exercising every loop order and weight
// mode; and the cost model's predicted DRAM bytes against the device counters.
#include <gtest/gtest.h>

#include <set>

#include "compiler_test_util.h"
#include "vta/compiler/compiled_op.h"
#include "vta/compiler/packing.h"

namespace vta::ctest {
namespace {

std::vector<ConvCase> small_cases() {
  std::vector<ConvCase> v;
  auto add = [&](ConvCase k) { v.push_back(k); };
  {
    ConvCase k;
    k.name = "basic3x3";
    add(k);
  }
  {
    ConvCase k;
    k.name = "odd_channels";
    k.c = 3, k.o = 10, k.h = 7, k.w = 9;
    add(k);
  }
  {
    ConvCase k;
    k.name = "one_by_one";
    k.c = 20, k.o = 24, k.h = 5, k.w = 6, k.kh = k.kw = 1, k.pt = k.pl = k.pb = k.pr = 0;
    add(k);
  }
  {
    ConvCase k;
    k.name = "seven_stride2";
    k.c = 3, k.o = 8, k.h = 15, k.w = 13, k.kh = k.kw = 7, k.sh = k.sw = 2, k.pt = k.pl = k.pb = k.pr = 3;
    add(k);
  }
  {
    ConvCase k;
    k.name = "stride2_3x3";
    k.c = 32, k.o = 33, k.h = 9, k.w = 10, k.sh = k.sw = 2;
    add(k);
  }
  {
    ConvCase k;
    k.name = "one_by_one_stride2";
    k.c = 17, k.o = 16, k.h = 9, k.w = 8, k.kh = k.kw = 1, k.sh = k.sw = 2, k.pt = k.pl = k.pb = k.pr = 0;
    add(k);
  }
  {
    // a pointwise kernel with unequal strides: the LOADs skip rows and columns (every third column)
    ConvCase k;
    k.name = "one_by_one_rect_stride";
    k.c = 24, k.o = 16, k.h = 10, k.w = 11, k.kh = k.kw = 1, k.sh = 2, k.sw = 3, k.pt = k.pl = k.pb = k.pr = 0;
    add(k);
  }
  {
    ConvCase k;
    k.name = "asymmetric_pads";
    k.c = 5, k.o = 7, k.h = 6, k.w = 11, k.kh = 5, k.kw = 3, k.pt = 0, k.pl = 2, k.pb = 3, k.pr = 0;
    add(k);
  }
  {
    ConvCase k;
    k.name = "rect_stride";
    k.c = 16, k.o = 16, k.h = 10, k.w = 12, k.kh = 3, k.kw = 2, k.sh = 1, k.sw = 3, k.pt = 2, k.pl = 1, k.pb = 0,
    k.pr = 1;
    add(k);
  }
  {
    ConvCase k;
    k.name = "batch3_relu";
    k.n = 3, k.c = 8, k.o = 20, k.h = 5, k.w = 5, k.relu = true;
    add(k);
  }
  {
    ConvCase k;
    k.name = "nobias_clip";
    k.c = 12, k.o = 9, k.h = 4, k.w = 7, k.bias = false, k.lo = -20, k.hi = 50;
    add(k);
  }
  {
    ConvCase k;
    k.name = "single_pixel";
    k.c = 40, k.o = 30, k.h = 1, k.w = 1, k.kh = k.kw = 1, k.pt = k.pl = k.pb = k.pr = 0;
    add(k);
  }
  {
    ConvCase k;
    k.name = "shift0_relu";
    k.c = 2, k.o = 3, k.h = 4, k.w = 5, k.kh = k.kw = 2, k.pt = k.pl = k.pb = k.pr = 0, k.shift = 0, k.relu = true;
    k.data_max = 5;  // sums of 8 products stay within the int8 range: shift 0 does not saturate everything
    add(k);
  }
  return v;
}

class ConvSmall : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ConvSmall, MatchesReference) {
  const auto& [config, target] = GetParam();
  uint32_t seed = 1;
  for (const ConvCase& k : small_cases()) expect_conv_matches(k, target, config, seed++);
}

INSTANTIATE_TEST_SUITE_P(Configs, ConvSmall,
                         ::testing::Combine(::testing::Values("default", "batch2", "block8", "block32", "in16_out32"),
                                            ::testing::Values("fsim-strict", "fsim-serial")),
                         [](const auto& param_info) {
                           std::string s = std::get<0>(param_info.param) + "_" + std::get<1>(param_info.param);
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// A mid-sized layer under many forced tilings: every loop order x weight mode, multi-step reductions,
// uneven edge tiles. Each must be bit-exact on fsim-strict, and the cost model's bytes must equal the
// device's counters.
TEST(ConvTiling, ForcedTilingsMatchReferenceAndCostModel) {
  ConvCase k;
  k.name = "forced";
  k.c = 48, k.o = 40, k.h = 11, k.w = 9;
  const isa::HwConfig cfg = load_config("default");
  const ConvData data = make_data(k, 3);
  const compiler::Conv2dShape shape = compiler::check_conv2d(data.tx, data.tw, &data.tb, k.params());
  const compiler::ConvProblem prob = compiler::make_conv_problem(shape, k.params(), true, cfg);
  int ran = 0;
  for (auto order : {compiler::LoopOrder::kOcOuter, compiler::LoopOrder::kSpatialOuter})
    for (auto mode : {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile, compiler::WeightMode::kAll})
      for (uint32_t wbufs : {2u, 1u})
      for (uint32_t ob : {1u, 2u, 3u})
        for (uint32_t ib : {1u, 2u, 3u})
          for (auto [th, tw] : {std::pair{4u, 9u}, std::pair{3u, 4u}, std::pair{11u, 2u}, std::pair{1u, 1u}}) {
            compiler::Conv2dTiling t;
            t.oc_blocks = ob, t.ic_blocks = ib, t.out_rows = th, t.out_cols = tw, t.order = order;
            t.weight_mode = mode;
            t.weight_buffers = wbufs;
            if (mode == compiler::WeightMode::kAll && wbufs == 1) continue;
            if (!compiler::check_tiling(prob, cfg, t).empty()) continue;
            // Keep the test fast: a subset of the (th, tw) shapes for the 1x1-tile case.
            if (th == 1 && (ob != 1 || ib != 3)) continue;
            compiler::LoweringOptions opts;
            opts.tiling = t;
            SCOPED_TRACE(t.to_string());
            const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 3, opts);
            ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
            const auto& c = o.run.tiling.cost;
            EXPECT_EQ(o.run.counters.inp_load_nbytes, c.inp_bytes);
            EXPECT_EQ(o.run.counters.wgt_load_nbytes, c.wgt_bytes);
            EXPECT_EQ(o.run.counters.acc_load_nbytes, c.acc_bytes);
            EXPECT_EQ(o.run.counters.out_store_nbytes, c.out_bytes);
            ++ran;
          }
  EXPECT_GT(ran, 40);
}

// GEMM micro-op executions equal the ideal count (MACs of the channel-padded problem / block MACs).
TEST(ConvTiling, GemmCountIsIdeal) {
  ConvCase k;
  k.name = "ideal";
  k.c = 32, k.o = 48, k.h = 14, k.w = 14;
  const isa::HwConfig cfg = load_config("default");
  const ConvOutcome o = run_conv_case(k, "fsim", cfg);
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
  const uint64_t ideal = uint64_t{2} * 3 * 14 * 14 * 9;  // ic blocks x oc blocks x out pixels x taps
  EXPECT_EQ(o.run.counters.gemm_counter, ideal);
  EXPECT_GT(o.run.kernel_cache_hits, 0u);
}


// Lowering options that force an oc_outer tiling with weight slices (oc_blocks x out_rows x out_cols
// output tiles, ic_blocks per step).
compiler::LoweringOptions forced_tiling(uint32_t oc_blocks, uint32_t ic_blocks, uint32_t out_rows, uint32_t out_cols) {
  compiler::Conv2dTiling t;
  t.oc_blocks = oc_blocks, t.ic_blocks = ic_blocks, t.out_rows = out_rows, t.out_cols = out_cols;
  t.order = compiler::LoopOrder::kOcOuter;
  t.weight_mode = compiler::WeightMode::kSlice;
  compiler::LoweringOptions opts;
  opts.tiling = t;
  return opts;
}
// A variant of a forced tiling and the tiling it varies, both run on the token-strict fsim; the variant's
// result must be exact (the callers compare the two runs' counters).
struct VariantRuns {
  ConvOutcome variant, base;
};
VariantRuns run_variant(const ConvCase& k, const isa::HwConfig& cfg, uint32_t seed,
                        const compiler::LoweringOptions& variant, const compiler::LoweringOptions& base) {
  SCOPED_TRACE(variant.tiling->to_string());
  VariantRuns r{run_conv_case(k, "fsim-strict", cfg, seed, variant), run_conv_case(k, "fsim-strict", cfg, seed, base)};
  EXPECT_EQ(first_mismatch(r.variant.run.output.to_vector<int8_t>(), r.variant.expect), -1);
  return r;
}
// The same with a weight mode, double-buffered for slices and single-buffered otherwise (rolling oc-tile
// units, the whole tensor).
compiler::LoweringOptions forced_weights(uint32_t oc_blocks, uint32_t ic_blocks, uint32_t out_rows, uint32_t out_cols,
                                         compiler::WeightMode mode) {
  compiler::LoweringOptions opts = forced_tiling(oc_blocks, ic_blocks, out_rows, out_cols);
  opts.tiling->weight_mode = mode;
  opts.tiling->weight_buffers = mode == compiler::WeightMode::kSlice ? 2 : 1;
  return opts;
}
// The layer's last output tile is requantized and stored in chunks of output-channel blocks (each chunk's
// store overlaps the next one's requantization): two spatial tiles of three channel blocks store once for
// the first tile and three times for the last, and the result stays exact.
TEST(ConvTiling, LastTileIsStoredInChunks) {
  ConvCase k;
  k.name = "chunks";
  k.c = 32, k.o = 48, k.h = 14, k.w = 14;
  const isa::HwConfig cfg = load_config("default");
  const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 3, forced_tiling(3, 2, 7, 14));
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
  EXPECT_EQ(o.run.tiling.cost.output_tiles, 2u);
  EXPECT_EQ(o.run.counters.store_insn_count, 1u + 3u);
  EXPECT_EQ(o.run.counters.out_store_nbytes, o.run.tiling.cost.out_bytes);
}

// Every tile after the first has its accumulators set to its bias by two ALU passes (MIN bias, MAX bias)
// that run beside the previous tile's last GEMMs instead of by a reset on the GEMM engine: before its last
// step with several steps per tile (here four), between the two halves of its only step's GEMM with one
// (the GEMM split in two). Two tiles of 3 channel blocks x 98 pixels: four requantization passes for the
// first, three for the second (its bias is already in), the two passes that set it, and the reset and ADD
// that copy half 0's three bias vectors to half 1; a tile whose step leaves the store no time keeps the
// reset (ConvTiling.ShortTilesKeepTheirReset).
TEST(ConvTiling, LaterTilesAreZeroedOnTheAluEngine) {
  ConvCase k;
  k.name = "zeroing";
  k.c = 64, k.o = 48, k.h = 14, k.w = 14;
  const isa::HwConfig cfg = load_config("default");
  for (const uint32_t ic_blocks : {1u, 4u}) {
    SCOPED_TRACE(ic_blocks);
    const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 3, forced_tiling(3, ic_blocks, 7, 14));
    ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
    const uint64_t tile_rows = 3 * 7 * 14, requant = (4 + 3) * tile_rows, bias_copy = 2 * 3;
    EXPECT_EQ(o.run.counters.alu_counter, requant + 2 * tile_rows + bias_copy);
  }
}

// Input tiles and weight slices rotate through as many equal slots of their buffer as fit (up to four),
// so the load module runs up to three steps ahead of the GEMMs: a tile of 4 x 16 input elements takes
// INP slots 0, 512, 1024, 1536 (of 2048) in turn and 16-element weight slices WGT slots 0, 256, 512, 768
// (of 1024); the result stays exact on the token-strict fsim with the core's queue depths.
TEST(ConvTiling, SmallUnitsRotateThroughFourSlots) {
  ConvCase k;
  k.name = "four_slots";
  k.c = 32, k.o = 48, k.h = 8, k.w = 14;
  const isa::HwConfig cfg = load_config("default");
  const compiler::LoweringOptions opts = forced_tiling(3, 1, 2, 14);
  const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 5, opts);
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
  const ConvData d = make_data(k, 5);
  const compiler::CompiledOp op =
      compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, &d.tb, k.params(), opts);
  std::set<uint32_t> inp_slots, wgt_slots;
  for (const isa::Instruction& insn : op.program.instructions) {
    const auto* m = std::get_if<isa::MemInsn>(&insn);
    if (m == nullptr || m->opcode != isa::Opcode::kLoad) continue;
    if (m->memory_type == isa::MemoryType::kInp) inp_slots.insert(m->sram_base);
    if (m->memory_type == isa::MemoryType::kWgt) wgt_slots.insert(m->sram_base);
  }
  EXPECT_EQ(inp_slots, (std::set<uint32_t>{0, 512, 1024, 1536}));
  EXPECT_EQ(wgt_slots, (std::set<uint32_t>{0, 256, 512, 768}));
}

// The resident bias of each ACC half holds the channel blocks of the tiles that use it: in oc_outer order
// with one spatial tile, tiles of blocks 0-1 (half 0) and 2-3 (half 1) load two blocks' bias each (256 B
// in all, not 512: the layer's first GEMM waits for fewer bytes); spatial_outer, whose tiles alternate their
// blocks, loads all four into half 0 and copies them to half 1 on the ALU engine (256 B too).
TEST(ConvTiling, ResidentBiasHoldsTheBlocksOfItsHalf) {
  ConvCase k;
  k.name = "bias_halves";
  k.c = 16, k.o = 64, k.h = 6, k.w = 6, k.kh = k.kw = 1;
  k.pt = k.pl = k.pb = k.pr = 0;
  const isa::HwConfig cfg = load_config("default");
  for (const compiler::LoopOrder order : {compiler::LoopOrder::kOcOuter, compiler::LoopOrder::kSpatialOuter}) {
    compiler::LoweringOptions opts = forced_tiling(2, 1, 6, 6);
    opts.tiling->order = order;
    const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 2, opts);
    ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
    const uint64_t vec = cfg.acc().element_bytes;  // one bias vector per channel block
    EXPECT_EQ(o.run.counters.acc_load_nbytes, 4 * vec);
    EXPECT_EQ(o.run.counters.acc_load_nbytes, o.run.tiling.cost.acc_bytes);
  }
}

// One-step tiles of a 1x1 layer (64 -> 64 channels, 4 x 14 pixels a tile) rotate through four ACC regions,
// two a bank (0 and 510 in bank 0, 1024 and 1534 in bank 1, beside the four resident bias vectors at each
// bank's top), so the next tile's zeroing waits for the store four tiles back and goes to the ALU engine
// before the step: every tile after the first is set to its bias (MIN, MAX) and needs three
// requantization passes, the first four; half 1's four bias vectors are copied from half 0 (a reset and
// an ADD). Exact on the token-strict fsim.
TEST(ConvTiling, ShortTilesRotateThroughFourAccRegions) {
  ConvCase k;
  k.name = "acc_regions";
  k.c = 64, k.o = 64, k.h = 28, k.w = 28, k.kh = 1, k.kw = 1;
  k.pt = k.pl = k.pb = k.pr = 0;
  const isa::HwConfig cfg = load_config("default");
  const compiler::LoweringOptions opts = forced_tiling(4, 4, 4, 14);
  const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 7, opts);
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
  const uint64_t tiles = 14, tile_rows = 4 * 4 * 14;
  EXPECT_EQ(o.run.counters.alu_counter, 4 * tile_rows + (tiles - 1) * (3 + 2) * tile_rows + 2 * 4);
  const ConvData d = make_data(k, 7);
  const compiler::CompiledOp op = compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, &d.tb, k.params(), opts);
  std::set<uint32_t> stored, expected;  // a STORE per channel block (56 elements) of each tile
  for (const isa::Instruction& insn : op.program.instructions) {
    const auto* m = std::get_if<isa::MemInsn>(&insn);
    if (m != nullptr && m->opcode == isa::Opcode::kStore) stored.insert(m->sram_base);
  }
  for (const uint32_t region : {0u, 510u, 1024u, 1534u})
    for (uint32_t block = 0; block < 4; ++block) expected.insert(region + block * 56);
  EXPECT_EQ(stored, expected);
}

// A tile whose GEMMs are short against its requantization (a 1x1 kernel over one input-channel block)
// keeps its reset on the GEMM engine: zeroing it on the ALU engine would make that engine the slower one.
TEST(ConvTiling, ShortTilesKeepTheirReset) {
  ConvCase k;
  k.name = "short_tiles";
  k.c = 16, k.o = 48, k.h = 14, k.w = 14, k.kh = 1, k.kw = 1;
  k.pt = k.pl = k.pb = k.pr = 0;
  const isa::HwConfig cfg = load_config("default");
  const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 3, forced_tiling(3, 1, 7, 14));
  ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
  const uint64_t tile_rows = 3 * 7 * 14;
  EXPECT_EQ(o.run.counters.alu_counter, 2 * 4 * tile_rows + 2 * 3);  // the requantization, the bias copy
}

// The layer's first step in pieces of its output-channel blocks (rolling oc-tile weights and weight
// slices, 2 to 4 pieces, uneven too): the result stays exact, the bytes are those of the same tiling in
// one piece, the first step's weights come in one LOAD a piece, and there is a GEMM more for each piece.
TEST(ConvTiling, FirstStepInPiecesIsExactAndMovesTheSameBytes) {
  ConvCase k;
  k.name = "pieces";
  k.c = 64, k.o = 80, k.h = 12, k.w = 12;
  const isa::HwConfig cfg = load_config("default");
  const ConvData d = make_data(k, 5);
  for (const compiler::WeightMode mode : {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile})
    for (const uint32_t pieces : {2u, 3u, 4u}) {
      const compiler::LoweringOptions one = forced_weights(5, 1, 6, 12, mode);
      compiler::LoweringOptions split = one;
      split.tiling->first_pieces = pieces;
      const auto [o, base] = run_variant(k, cfg, 5, split, one);
      EXPECT_EQ(o.run.counters.wgt_load_nbytes, base.run.counters.wgt_load_nbytes);
      EXPECT_EQ(o.run.counters.inp_load_nbytes, base.run.counters.inp_load_nbytes);
      EXPECT_EQ(o.run.counters.wgt_load_nbytes, o.run.tiling.cost.wgt_bytes);
      EXPECT_EQ(o.run.counters.gemm_counter, base.run.counters.gemm_counter);
      const auto count = [&](const compiler::LoweringOptions& opts) {
        const compiler::CompiledOp op = compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, &d.tb, k.params(), opts);
        size_t gemms = 0, first_wgt_loads = 0;
        bool before_first_gemm = true;
        for (const isa::Instruction& insn : op.program.instructions) {
          if (const auto* g = std::get_if<isa::GemmInsn>(&insn); g != nullptr && !g->loop.reset) {
            ++gemms;
            before_first_gemm = false;
          }
          const auto* m = std::get_if<isa::MemInsn>(&insn);
          if (before_first_gemm && m != nullptr && m->opcode == isa::Opcode::kLoad && m->memory_type == isa::MemoryType::kWgt)
            ++first_wgt_loads;
        }
        return std::pair{gemms, first_wgt_loads};
      };
      const auto [gemms_one, wgt_one] = count(one);
      const auto [gemms_split, wgt_split] = count(split);
      EXPECT_EQ(gemms_split, gemms_one + pieces - 1);
      EXPECT_EQ(wgt_one, 1u);
      EXPECT_EQ(wgt_split, 1u);  // the first GEMM waits for the first piece only
    }
}

// When one rolling oc-tile unit holds all of the layer's weights (loaded once, slice by slice), the input
// LOADs rotate through more than two slots (they run ahead of the GEMMs, past the DRAM bursts of a tile's
// store); with units that roll from one oc tile to the next, through two. Exact and as predicted either way.
TEST(ConvTiling, OneRollingWeightUnitLetsTheInputRunAhead) {
  ConvCase k;
  k.name = "input_slots";
  k.c = 64, k.o = 48, k.h = 12, k.w = 12, k.kh = k.kw = 1, k.pt = k.pl = k.pb = k.pr = 0;
  const isa::HwConfig cfg = load_config("default");
  const ConvData d = make_data(k, 9);
  for (const uint32_t oc_blocks : {3u, 1u}) {
    const compiler::LoweringOptions opts = forced_weights(oc_blocks, 1, 3, 12, compiler::WeightMode::kOcTile);
    SCOPED_TRACE(opts.tiling->to_string());
    const ConvOutcome o = run_conv_case(k, "fsim-strict", cfg, 9, opts);
    ASSERT_EQ(first_mismatch(o.run.output.to_vector<int8_t>(), o.expect), -1);
    EXPECT_EQ(o.run.counters.inp_load_nbytes, o.run.tiling.cost.inp_bytes);
    EXPECT_EQ(o.run.counters.wgt_load_nbytes, o.run.tiling.cost.wgt_bytes);
    const compiler::CompiledOp op = compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, &d.tb, k.params(), opts);
    std::set<uint32_t> inp_slots;
    for (const isa::Instruction& insn : op.program.instructions)
      if (const auto* m = std::get_if<isa::MemInsn>(&insn);
          m != nullptr && m->opcode == isa::Opcode::kLoad && m->memory_type == isa::MemoryType::kInp)
        inp_slots.insert(m->sram_base);
    if (oc_blocks == 3) EXPECT_GE(inp_slots.size(), 3u);  // four input tiles, each in its own slot
    else EXPECT_EQ(inp_slots.size(), 2u);
  }
}

// The layer's last output tile split in two (Conv2dTiling::split_last: halves of its rows, in the two ACC
// banks): exact, the same bytes as unsplit, one output tile and its steps' GEMMs more; refused where the
// weights are per-step slices (each half would load them again) or the halves would share input rows (a
// kernel taller than its stride).
TEST(ConvTiling, LastTileSplitInTwoIsExactAndMovesTheSameBytes) {
  ConvCase k;
  k.name = "split_last";
  k.c = 48, k.o = 64, k.h = 10, k.w = 9, k.kh = k.kw = 1, k.pt = k.pl = k.pb = k.pr = 0;
  const isa::HwConfig cfg = load_config("default");
  for (const compiler::WeightMode mode : {compiler::WeightMode::kOcTile, compiler::WeightMode::kAll}) {
    const compiler::LoweringOptions one = forced_weights(4, 1, 4, 9, mode);
    compiler::LoweringOptions split = one;
    split.tiling->split_last = true;
    const auto [o, base] = run_variant(k, cfg, 4, split, one);
    for (const auto& [a, b] : {std::pair{o.run.counters.inp_load_nbytes, base.run.counters.inp_load_nbytes},
                               std::pair{o.run.counters.wgt_load_nbytes, base.run.counters.wgt_load_nbytes},
                               std::pair{o.run.counters.out_store_nbytes, base.run.counters.out_store_nbytes},
                               std::pair{o.run.counters.gemm_counter, base.run.counters.gemm_counter}})
      EXPECT_EQ(a, b);
    EXPECT_EQ(o.run.counters.inp_load_nbytes, o.run.tiling.cost.inp_bytes);
    EXPECT_EQ(o.run.tiling.cost.output_tiles, base.run.tiling.cost.output_tiles + 1);  // 3 row tiles -> 4
    EXPECT_EQ(o.run.tiling.cost.steps, base.run.tiling.cost.steps + 3);               // three ic steps each
  }
  const ConvData d = make_data(k, 4);
  compiler::LoweringOptions slices = forced_tiling(4, 1, 4, 9);
  slices.tiling->split_last = true;
  EXPECT_THROW(compiler::compile_conv2d(cfg, d.tx.shape(), d.tw, &d.tb, k.params(), slices), Error);
  ConvCase k3 = k;
  k3.kh = k3.kw = 3, k3.pt = k3.pl = k3.pb = k3.pr = 1;
  const ConvData d3 = make_data(k3, 4);
  compiler::LoweringOptions halo = forced_weights(4, 1, 4, 9, compiler::WeightMode::kOcTile);
  halo.tiling->split_last = true;
  EXPECT_THROW(compiler::compile_conv2d(cfg, d3.tx.shape(), d3.tw, &d3.tb, k3.params(), halo), Error);
}

// A resident input: each ic step's unit of a spatial tile in a slot of its own, loaded once and read by
// every oc tile (oc_outer with one spatial tile; spatial_outer with three): the same output and GEMMs as
// the input through two slots, the input bytes once instead of once per oc tile (three here), the
// weights and outputs unchanged, every count as the cost model predicts.
TEST(ConvTiling, ResidentInputIsExactAndLoadsTheInputOnce) {
  ConvCase k;
  k.name = "resident";
  k.c = 64, k.o = 80, k.h = 6, k.w = 7;
  const isa::HwConfig cfg = load_config("default");
  for (const auto order : {compiler::LoopOrder::kOcOuter, compiler::LoopOrder::kSpatialOuter})
  for (const auto mode : {compiler::WeightMode::kSlice, compiler::WeightMode::kOcTile}) {
    // slices, or rolling oc-tile units with the first step in two pieces (ResNet-18 C10's choice)
    compiler::LoweringOptions base = forced_weights(2, 1, order == compiler::LoopOrder::kOcOuter ? 6 : 2, 7, mode);
    base.tiling->order = order;
    if (mode == compiler::WeightMode::kOcTile) base.tiling->first_pieces = 2;
    compiler::LoweringOptions resident = base;
    resident.tiling->inp_resident = true;
    const auto [o, b] = run_variant(k, cfg, 6, resident, base);
    const auto& c = o.run.counters;
    EXPECT_EQ(c.inp_load_nbytes, o.run.tiling.cost.inp_bytes);
    EXPECT_EQ(c.wgt_load_nbytes, o.run.tiling.cost.wgt_bytes);
    EXPECT_EQ(c.out_store_nbytes, o.run.tiling.cost.out_bytes);
    EXPECT_EQ(c.wgt_load_nbytes, b.run.counters.wgt_load_nbytes);
    EXPECT_EQ(c.gemm_counter, b.run.counters.gemm_counter);
    if (order == compiler::LoopOrder::kOcOuter) {
      EXPECT_EQ(3 * c.inp_load_nbytes, b.run.counters.inp_load_nbytes);  // three oc tiles read it once
    } else {
      EXPECT_LT(c.inp_load_nbytes, b.run.counters.inp_load_nbytes);
    }
  }
}

// The problem the tiling checks below take: c -> 80 channels, 3x3, pad 1, at 12x12.
compiler::ConvProblem checked_problem(const isa::HwConfig& cfg, int64_t c) {
  compiler::Conv2dShape s;
  s.n = 1, s.c = c, s.h = s.w = 12, s.o = 80, s.kh = s.kw = 3, s.oh = s.ow = 12;
  return compiler::make_conv_problem(s, Conv2dParams::with(1, 1, 8), true, cfg);
}

// A resident input needs one spatial tile in oc_outer order, no split last tile, no fused residual, and
// every ic step's unit in the INP buffer at once.
TEST(ConvTiling, ResidentInputIsChecked) {
  const isa::HwConfig cfg = load_config("default");
  const compiler::ConvProblem p = checked_problem(cfg, 64);
  compiler::Conv2dTiling t = *forced_tiling(2, 1, 12, 12).tiling;
  t.inp_resident = true;
  EXPECT_EQ(compiler::check_tiling(p, cfg, t), "");  // 4 units of 196 elements
  t.out_rows = 6;
  EXPECT_NE(compiler::check_tiling(p, cfg, t).find("one spatial tile"), std::string::npos);
  t.order = compiler::LoopOrder::kSpatialOuter;
  EXPECT_EQ(compiler::check_tiling(p, cfg, t), "");
  const compiler::ConvProblem p16 = checked_problem(cfg, 256);  // 16 units of 112 elements: 1,792 of 2,048
  EXPECT_EQ(compiler::check_tiling(p16, cfg, t), "");
  t.out_rows = 12;  // 16 units of 196 elements
  EXPECT_NE(compiler::check_tiling(p16, cfg, t).find("resident input needs 16 x 196"), std::string::npos);
  EXPECT_EQ(compiler::parse_tiling("oc=2,resident=1").inp_resident, true);
  EXPECT_THROW(compiler::parse_tiling("oc=2,resident=2"), Error);
}

// Pieces need weight slices, two ic steps and no more pieces than the tile's channel blocks.
TEST(ConvTiling, FirstStepPiecesAreChecked) {
  const isa::HwConfig cfg = load_config("default");
  const compiler::ConvProblem p = checked_problem(cfg, 64);
  compiler::Conv2dTiling t = *forced_tiling(5, 1, 6, 12).tiling;
  t.first_pieces = 5;
  EXPECT_EQ(compiler::check_tiling(p, cfg, t), "");
  t.first_pieces = 6;
  EXPECT_NE(compiler::check_tiling(p, cfg, t).find("exceed the tile's 5 oc blocks"), std::string::npos);
  t.first_pieces = 2;
  t.ic_blocks = 4;
  EXPECT_NE(compiler::check_tiling(p, cfg, t).find("two or more ic steps"), std::string::npos);
  t.ic_blocks = 1;
  t.weight_mode = compiler::WeightMode::kAll;
  EXPECT_NE(compiler::check_tiling(p, cfg, t).find("weight slices"), std::string::npos);
  t.first_pieces = 0;
  EXPECT_NE(compiler::check_tiling(p, cfg, t).find("at least 1"), std::string::npos);
}

TEST(ConvErrors, ClearMessages) {
  auto device = driver::open_device("fsim", isa::HwConfig::default_config());
  runtime::Session q(*device);
  Tensor x(DType::kInt8, {1, 4, 5, 5}), w(DType::kInt8, {8, 4, 3, 3}), b(DType::kInt32, {8});
  auto expect_error = [&](const Tensor& xi, const Tensor& wi, const Tensor* bi, Conv2dParams p, const char* needle) {
    try {
      compiler::conv2d(q, xi, wi, bi, p);
      ADD_FAILURE() << "no error, expected one mentioning '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  Conv2dParams p = Conv2dParams::with(1, 1, 4);
  expect_error(Tensor(DType::kInt32, {1, 4, 5, 5}), w, &b, p, "input must be int8");
  expect_error(x, Tensor(DType::kInt8, {8, 3, 3, 3}), &b, p, "input channels");
  expect_error(x, w, &b, [&] { auto q2 = p; q2.groups = 2; return q2; }(), "groups");
  expect_error(x, w, &b, [&] { auto q2 = p; q2.dilation_h = 2; return q2; }(), "dilation");
  const Tensor b_bad(DType::kInt32, {7});
  expect_error(x, w, &b_bad, p, "bias must have shape");
  const Tensor b_i8(DType::kInt8, {8});
  expect_error(x, w, &b_i8, p, "bias must be int32");
  expect_error(x, w, &b, Conv2dParams::with(1, 3, 4), "padding");
  expect_error(x, w, &b, [&] { auto q2 = p; q2.requant.shift = 40; return q2; }(), "shift");
  expect_error(x, w, &b, [&] { auto q2 = p; q2.requant.clip_lo = -200; return q2; }(), "clip");
  expect_error(Tensor(DType::kInt8, {1, 4, 5}), w, &b, p, "4-D");
}

}  // namespace
}  // namespace vta::ctest
