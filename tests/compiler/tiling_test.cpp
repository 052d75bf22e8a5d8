// The tiling search respects every buffer on every config, and its report is complete.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <tuple>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vta/compiler/compiled_op.h"
#include "vta/compiler/tiling.h"
#include "vta/compiler/workloads.h"
#include "vta/isa/instruction_codec.h"
#include "vta/runtime/program.h"

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
  p.resident_constants = resident_constant_elements(p, cfg);  // as make_conv_problem decides
  return p;
}

// What an emitted program uses of each on-chip buffer, found by walking its instructions and micro-ops
// (independent of the compiler's own footprint() and check_tiling()).
struct BufferUse {
  std::array<uint64_t, 5> load_tile{};  // largest LOAD tile (pads included) per memory type
  std::array<uint64_t, 5> end{};        // one past the highest index any LOAD, GEMM or ALU touches
  uint64_t gemm_acc_span = 0;           // most ACC entries one GEMM spans (highest - lowest + 1)
  uint64_t gemm_uops = 0;               // largest micro-op range of a GEMM
};

BufferUse buffer_use(const runtime::Program& prog) {
  const isa::HwConfig& cfg = prog.config;
  const isa::InstructionCodec codec(cfg);
  std::map<uint32_t, runtime::BufferId> reloc;
  for (const runtime::Relocation& r : prog.relocations) reloc[r.insn] = r.buffer;
  std::vector<isa::MicroOp> uop_sram(cfg.uop().depth);
  BufferUse use;
  const auto touch = [&use](isa::MemoryType t, uint64_t end) {
    auto& e = use.end[static_cast<size_t>(t)];
    e = std::max(e, end);
  };
  for (uint32_t i = 0; i < prog.instructions.size(); ++i) {
    const isa::Instruction& insn = prog.instructions[i];
    if (const auto* m = std::get_if<isa::MemInsn>(&insn)) {
      if (m->opcode != isa::Opcode::kLoad || m->x_size == 0) continue;
      const uint64_t cols = uint64_t{m->x_pad_0} + m->x_size + m->x_pad_1;
      const uint64_t tile = (uint64_t{m->y_pad_0} + m->y_size + m->y_pad_1) * cols;
      auto& t = use.load_tile[static_cast<size_t>(m->memory_type)];
      t = std::max(t, tile);
      touch(m->memory_type, m->sram_base + tile);
      if (m->memory_type != isa::MemoryType::kUop) continue;
      const std::vector<uint8_t>& data = prog.buffers.at(reloc.at(i)).data;
      for (uint32_t y = 0; y < m->y_size; ++y)
        for (uint32_t x = 0; x < m->x_size; ++x) {
          const uint64_t at = (uint64_t{m->dram_base} + uint64_t{y} * m->x_stride + x) * 4;
          uint32_t raw = 0;
          if (at + 4 > data.size()) throw std::out_of_range("micro-op load past its buffer");
          std::memcpy(&raw, data.data() + at, 4);
          uop_sram.at(m->sram_base + (uint64_t{m->y_pad_0} + y) * cols + m->x_pad_0 + x) = codec.decode_uop(raw);
        }
    } else if (const auto* g = std::get_if<isa::GemmInsn>(&insn)) {
      const isa::LoopNest& l = g->loop;
      if (l.iter_out == 0 || l.iter_in == 0 || l.uop_bgn == l.uop_end) continue;
      use.gemm_uops = std::max<uint64_t>(use.gemm_uops, l.uop_end - l.uop_bgn);
      uint64_t lo = UINT64_MAX, hi = 0;
      for (uint32_t k = l.uop_bgn; k < l.uop_end; ++k) {
        const isa::MicroOp& u = uop_sram.at(k);
        // Factors are unsigned: the lowest index is at i = j = 0, the highest at the last iteration.
        const uint64_t dst = u.dst_idx + uint64_t{l.iter_out - 1} * l.dst_factor_out + uint64_t{l.iter_in - 1} * l.dst_factor_in;
        lo = std::min<uint64_t>(lo, u.dst_idx);
        hi = std::max(hi, dst);
        touch(isa::MemoryType::kAcc, dst + 1);
        if (l.reset) continue;
        touch(isa::MemoryType::kInp, u.src_idx + uint64_t{l.iter_out - 1} * l.src_factor_out +
                                         uint64_t{l.iter_in - 1} * l.src_factor_in + 1);
        touch(isa::MemoryType::kWgt, u.wgt_idx + uint64_t{l.iter_out - 1} * g->wgt_factor_out +
                                         uint64_t{l.iter_in - 1} * g->wgt_factor_in + 1);
      }
      use.gemm_acc_span = std::max(use.gemm_acc_span, hi - lo + 1);
    } else if (const auto* a = std::get_if<isa::AluInsn>(&insn)) {
      const isa::LoopNest& l = a->loop;
      if (l.iter_out == 0 || l.iter_in == 0) continue;
      for (uint32_t k = l.uop_bgn; k < l.uop_end; ++k) {
        const isa::MicroOp& u = uop_sram.at(k);
        touch(isa::MemoryType::kAcc, u.dst_idx + uint64_t{l.iter_out - 1} * l.dst_factor_out +
                                         uint64_t{l.iter_in - 1} * l.dst_factor_in + 1);
        if (!a->use_imm && !l.reset)
          touch(isa::MemoryType::kAcc, u.src_idx + uint64_t{l.iter_out - 1} * l.src_factor_out +
                                           uint64_t{l.iter_in - 1} * l.src_factor_in + 1);
      }
    }
  }
  return use;
}

// A 1x1 kernel with stride 2 (ResNet's downsampling shortcuts) reads every other input row only: its
// input LOADs step two rows in DRAM and move half of the rows a tile spans, not all of them.
TEST(Tiling, StridedPointwiseLoadsOnlyTheRowsItReads) {
  const isa::HwConfig cfg = config("default");
  const int64_t h = 28, ic = 64, oc = 128;
  const Tensor weight(DType::kInt8, {oc, ic, 1, 1});
  const Tensor bias(DType::kInt32, {oc});
  const CompiledOp op = compile_conv2d(cfg, {1, ic, h, h}, weight, &bias, Conv2dParams::with(2, 0, 8), {});
  uint64_t loaded = 0, loads = 0;
  for (const isa::Instruction& insn : op.program.instructions) {
    const auto* m = std::get_if<isa::MemInsn>(&insn);
    if (m == nullptr || m->opcode != isa::Opcode::kLoad || m->memory_type != isa::MemoryType::kInp) continue;
    if (m->x_size == 0) continue;  // a token-only LOAD
    EXPECT_EQ(m->x_stride, 2 * h);
    EXPECT_EQ(m->y_pad_0 + m->y_pad_1 + m->x_pad_0 + m->x_pad_1, 0u);
    loaded += uint64_t{m->x_size} * m->y_size;
    ++loads;
  }
  EXPECT_GT(loads, 0u);
  // every output-channel tile reads at most the 14 rows used of each of the 4 channel blocks
  const uint64_t oc_tiles = (oc / cfg.block_out() + op.tiling.oc_blocks - 1) / op.tiling.oc_blocks;
  EXPECT_LE(loaded, oc_tiles * (ic / cfg.block_in()) * (h / 2) * h) << op.tiling.to_string();
}

// The chosen tiling of each workload, compiled (direct, no repack) at every config: the program's LOADs,
// GEMMs and ALUs stay inside the buffers, an input tile fits half the INP buffer and an output tile half
// the ACC buffer (double buffering), a weight tile its share of WGT, a GEMM kernel a quarter of UOP; and
// the cost model's footprint() is an upper bound of what the program really uses.
TEST(Tiling, ChosenTilingFitsEveryConfig) {
  for (const char* name : {"default", "batch2", "block8", "block32", "in16_out32"}) {
    const isa::HwConfig cfg = config(name);
    if (cfg.inp_width() != 8 || cfg.wgt_width() != 8 || cfg.acc_width() != 32) {
      // conv2d lowers only int8 x int8 -> int32; the search alone must still fit.
      for (auto [h, ic, oc, k, pad, stride] : {std::tuple{56u, 64u, 64u, 3u, 1u, 1u}, {13u, 40u, 24u, 5u, 2u, 1u}}) {
        const ConvProblem p = problem(cfg, h, ic, oc, k, pad, stride);
        EXPECT_EQ(check_tiling(p, cfg, choose_tiling(p, cfg)), "") << name;
      }
      continue;
    }
    for (auto [h, ic, oc, k, pad, stride] :
         {std::tuple{224u, 3u, 64u, 7u, 3u, 2u}, {56u, 64u, 64u, 3u, 1u, 1u}, {28u, 128u, 256u, 1u, 0u, 2u},
          {7u, 512u, 512u, 3u, 1u, 1u}, {13u, 40u, 24u, 5u, 2u, 1u}}) {
      // the problem the lowering solves (a strided 1x1 kernel reads every stride-th row only)
      const int64_t hw = (int64_t{h} + 2 * pad - k) / stride + 1;
      const ConvProblem p = make_conv_problem(Conv2dShape{cfg.batch(), ic, h, h, oc, k, k, hw, hw},
                                              Conv2dParams::with(stride, pad, 8), true, cfg);
      const Conv2dTiling chosen = choose_tiling(p, cfg);
      SCOPED_TRACE(fmt::format("{}: {}x{} {}->{} k{} pad{} s{}: {}", name, h, h, ic, oc, k, pad, stride,
                               chosen.to_string()));
      const int64_t batch = cfg.batch();
      const Tensor weight(DType::kInt8, {oc, ic, k, k});
      const Tensor bias(DType::kInt32, {oc});
      LoweringOptions options;
      options.repack = InputRepack{};
      const CompiledOp op = compile_conv2d(cfg, {batch, ic, h, h}, weight, &bias, Conv2dParams::with(stride, pad, 8), options);
      EXPECT_EQ(op.tiling.to_string(), chosen.to_string());
      const BufferUse use = buffer_use(op.program);
      for (isa::MemoryType t : {isa::MemoryType::kUop, isa::MemoryType::kInp, isa::MemoryType::kWgt, isa::MemoryType::kAcc})
        EXPECT_LE(use.end[static_cast<size_t>(t)], cfg.buffer(t).depth) << isa::to_string(t);
      const uint64_t inp_tile = use.load_tile[static_cast<size_t>(isa::MemoryType::kInp)];
      const uint64_t wgt_tile = use.load_tile[static_cast<size_t>(isa::MemoryType::kWgt)];
      EXPECT_GT(inp_tile, 0u);
      EXPECT_GT(use.gemm_uops, 0u);
      EXPECT_LE(inp_tile, cfg.inp().depth / 2);
      EXPECT_LE(use.gemm_acc_span, cfg.acc().depth / 2);
      EXPECT_LE(wgt_tile, op.tiling.single_weight_buffer() ? cfg.wgt().depth : cfg.wgt().depth / 2);
      EXPECT_LE(use.gemm_uops, cfg.uop().depth / 4);
      const TileFootprint f = footprint(p, op.tiling);
      EXPECT_GE(f.inp, inp_tile);
      EXPECT_GE(f.wgt, wgt_tile);
      EXPECT_GE(f.acc, use.gemm_acc_span);
      EXPECT_GE(f.uops, use.gemm_uops);
      EXPECT_GE(chosen.cost.total_bytes(), chosen.cost.out_bytes);
      EXPECT_GT(chosen.cost.lower_bound_bytes, 0u);
    }
  }
}

// The per-layer traffic target holds for every ResNet-18 conv (C2-C11; C1 goes through the repack
// search), and a single weight buffer that is reloaded pays for the reloads it cannot overlap: C8 (256
// -> 256, 3x3 on 14x14) used to pick one and wait 46k cycles per run on tsim for its weights.
TEST(Tiling, ResNet18LayersStayWithinTheTrafficBudget) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  for (const Conv2dWorkload& l : kResNet18Conv2d) {
    if (l.ic < 16) continue;
    const ConvProblem p = problem(cfg, l.h, l.ic, l.oc, l.k, l.pad, l.stride);
    const Conv2dTiling t = choose_tiling(p, cfg);
    SCOPED_TRACE(std::string(l.name) + ": " + t.to_string());
    EXPECT_LE(static_cast<double>(t.cost.total_bytes()), kLayerTrafficBudget * static_cast<double>(t.cost.lower_bound_bytes));
    if (std::string(l.name) == "C8") {
      EXPECT_FALSE(t.single_weight_buffer());
    }
  }
}

// Weights the chosen tiling would load whole (a double-buffered oc-tile unit, or the whole tensor once in
// oc_outer order) roll in by ic slices when there are three or more: same tiles, same bytes, single buffer.
TEST(Tiling, WholeWeightUnitsRollInBySlices) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  int rolled = 0;
  for (const Conv2dWorkload& l : kResNet18Conv2d) {
    if (l.ic < 16) continue;
    const ConvProblem p = problem(cfg, l.h, l.ic, l.oc, l.k, l.pad, l.stride);
    const Conv2dTiling t = choose_tiling(p, cfg);
    SCOPED_TRACE(std::string(l.name) + ": " + t.to_string());
    const uint32_t slices = (p.ic_blocks + t.ic_blocks - 1) / t.ic_blocks;
    const bool whole = (t.weight_mode == WeightMode::kOcTile && t.weight_buffers == 2) ||
                       (t.weight_mode == WeightMode::kAll && t.order == LoopOrder::kOcOuter);
    EXPECT_FALSE(whole && slices > 2) << "a whole-unit weight load left with " << slices << " slices";
    if (t.weight_mode == WeightMode::kOcTile && t.weight_buffers == 1) {
      ++rolled;
      Conv2dTiling twice = t;  // the same tiles double-buffered move the same bytes
      twice.weight_buffers = 2;
      if (check_tiling(p, cfg, twice).empty()) {
        EXPECT_EQ(estimate_cost(p, cfg, twice).total_bytes(), t.cost.total_bytes());
      }
    }
  }
  EXPECT_GE(rolled, 4);  // C2, C3, C5, C6 on the default config
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

// The time estimate is bounded below by the GEMM micro-ops and the DRAM bytes, and not far above the
// larger (the layers are compute- or memory-bound within a few percent on tlm).
TEST(Tiling, TimeEstimateLiesBetweenTheRooflineAndTwiceIt) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  for (const Conv2dWorkload& l : kResNet18Conv2d) {
    if (l.ic < 16) continue;
    const ConvProblem p = problem(cfg, l.h, l.ic, l.oc, l.k, l.pad, l.stride);
    for (TilingObjective o : {TilingObjective::kTime, TilingObjective::kTraffic}) {
      const Conv2dTiling t = choose_tiling(p, cfg, o);
      SCOPED_TRACE(std::string(l.name) + ": " + t.to_string());
      const double gemm = double(p.oc_blocks) * p.out_h * p.out_w * p.ic_blocks * p.kernel_h * p.kernel_w;
      const double mem = double(t.cost.total_bytes()) / cfg.timing().dram_bytes_per_cycle;
      const double est = estimate_cycles(p, cfg, t);
      EXPECT_GE(est, gemm);
      EXPECT_GE(est, mem);
      EXPECT_LE(est, 2 * std::max(gemm, mem));
    }
  }
}

// The time objective picks among the traffic ranking's best: never a tiling it predicts slower than the
// traffic choice, never one over the traffic budget when the traffic choice is within it, never more
// bytes than a cap; and on ResNet-18 C7 (1x1 stride 2, 128 -> 256) a faster one than by traffic.
TEST(Tiling, TimeObjectiveKeepsTheBudgetAndPredictsNoSlower) {
  const isa::HwConfig cfg = isa::HwConfig::default_config();
  int faster = 0;
  for (const Conv2dWorkload& l : kResNet18Conv2d) {
    if (l.ic < 16) continue;
    const ConvProblem p = problem(cfg, l.h, l.ic, l.oc, l.k, l.pad, l.stride);
    const Conv2dTiling by_traffic = choose_tiling(p, cfg, TilingObjective::kTraffic);
    const Conv2dTiling by_time = choose_tiling(p, cfg, TilingObjective::kTime);
    SCOPED_TRACE(std::string(l.name) + ": " + by_time.to_string());
    EXPECT_LE(estimate_cycles(p, cfg, by_time), estimate_cycles(p, cfg, by_traffic));
    EXPECT_LE(double(by_time.cost.total_bytes()), kLayerTrafficBudget * double(by_time.cost.lower_bound_bytes));
    if (estimate_cycles(p, cfg, by_time) < estimate_cycles(p, cfg, by_traffic)) ++faster;
    if (std::string(l.name) == "C7") {
      EXPECT_LT(estimate_cycles(p, cfg, by_time), estimate_cycles(p, cfg, by_traffic));
    }
    const Conv2dTiling capped = choose_tiling(p, cfg, TilingObjective::kTime, by_traffic.cost.total_bytes());
    EXPECT_LE(capped.cost.total_bytes(), by_traffic.cost.total_bytes());
  }
  EXPECT_GE(faster, 1);
}

TEST(Tiling, InnerAxisAvoidsBackToBackAccumulatorWrites) {
  EXPECT_EQ(gemm_inner_axis(4, 14, 14), 0u);  // oc blocks: the shortest extent >= 3
  EXPECT_EQ(gemm_inner_axis(2, 16, 8), 2u);   // not two oc blocks: each micro-op would wait for its write
  EXPECT_EQ(gemm_inner_axis(2, 16, 16), 2u);  // columns before rows on ties
  EXPECT_EQ(gemm_inner_axis(2, 2, 1), 0u);    // the longest when none reaches three
  EXPECT_EQ(gemm_inner_axis(1, 14, 7), 2u);   // columns
  EXPECT_EQ(gemm_inner_axis(1, 3, 1), 1u);    // rows when there is one column
  EXPECT_EQ(gemm_inner_axis(1, 1, 1), 2u);    // nothing to alternate
}


// A tiling as a user writes it: every key, defaults for the unnamed ones, and errors that name the pair.
TEST(ParseTiling, EveryKeyAndItsDefaults) {
  const Conv2dTiling t =
      parse_tiling("oc=16,rows=4,cols=14,ic=2,order=spatial_outer,weights=oc_tile,buffers=1,pieces=4,split=1");
  EXPECT_TRUE(t.split_last);
  EXPECT_FALSE(parse_tiling("split=0").split_last);
  EXPECT_EQ(t.oc_blocks, 16u);
  EXPECT_EQ(t.out_rows, 4u);
  EXPECT_EQ(t.out_cols, 14u);
  EXPECT_EQ(t.ic_blocks, 2u);
  EXPECT_EQ(t.order, LoopOrder::kSpatialOuter);
  EXPECT_EQ(t.weight_mode, WeightMode::kOcTile);
  EXPECT_EQ(t.weight_buffers, 1u);
  EXPECT_EQ(t.first_pieces, 4u);
  const Conv2dTiling d = parse_tiling("rows=2");
  const Conv2dTiling def;
  EXPECT_EQ(d.out_rows, 2u);
  EXPECT_EQ(d.oc_blocks, def.oc_blocks);
  EXPECT_EQ(d.order, def.order);
  EXPECT_EQ(d.weight_mode, def.weight_mode);
  EXPECT_EQ(d.weight_buffers, def.weight_buffers);
  EXPECT_EQ(d.first_pieces, def.first_pieces);
  EXPECT_EQ(parse_tiling("weights=all").weight_mode, WeightMode::kAll);
  EXPECT_EQ(parse_tiling("weights=slice,order=oc_outer").order, LoopOrder::kOcOuter);
}

TEST(ParseTiling, BadPairsAreErrorsNamingThem) {
  const auto error_of = [](const std::string& spec) {
    try {
      (void)parse_tiling(spec);
    } catch (const vta::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of("").find("is not key=value"), std::string::npos);
  EXPECT_NE(error_of("oc=4,").find("is not key=value"), std::string::npos);
  EXPECT_NE(error_of("oc").find("is not key=value"), std::string::npos);
  EXPECT_NE(error_of("oc=0").find("oc must be a positive integer"), std::string::npos);
  EXPECT_NE(error_of("oc=-1").find("oc must be a positive integer"), std::string::npos);
  EXPECT_NE(error_of("rows=4x").find("rows must be a positive integer"), std::string::npos);
  EXPECT_NE(error_of("buffers=3").find("buffers must be 1 or 2"), std::string::npos);
  EXPECT_NE(error_of("order=diagonal").find("order must be"), std::string::npos);
  EXPECT_NE(error_of("weights=some").find("weights must be"), std::string::npos);
  EXPECT_NE(error_of("depth=2").find("unknown key 'depth'"), std::string::npos);
  EXPECT_NE(error_of("split=yes").find("split must be 0 or 1"), std::string::npos);
}

}  // namespace
}  // namespace vta::compiler
