// Tiling of a blocked conv2d over (output-channel blocks, output rows, output columns, input-channel
// blocks), the DRAM-traffic cost model that chooses it, and the capacity checks. See docs/compiler.md.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "vta/isa/hw_config.h"

namespace vta::compiler {

// A conv2d in units of the core: channel counts in blocks, batch in groups of BATCH.
struct ConvProblem {
  uint32_t batch_groups = 1;     // N / BATCH (rounded up)
  uint32_t ic_blocks = 1;        // C / BLOCK_IN (rounded up)
  uint32_t oc_blocks = 1;        // O / BLOCK_OUT (rounded up)
  uint32_t in_h = 1, in_w = 1;   // input spatial size (as the core sees it, see in_step_h)
  uint32_t out_h = 1, out_w = 1; // output spatial size
  uint32_t kernel_h = 1, kernel_w = 1;
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  // A 1x1 kernel with a vertical stride and no padding reads every stride_h-th input row only. The input
  // LOADs skip the others (their row stride is in_step_h rows), so the problem is the conv2d with
  // vertical stride 1 of the rows read (in_h = out_h), and dram_h is the input's height in DRAM
  // (0: in_h, in_step_h 1). Set by make_conv_problem.
  uint32_t in_step_h = 1;
  uint32_t dram_h = 0;
  uint32_t dram_rows() const { return dram_h != 0 ? dram_h : in_h; }
  bool has_bias = false;
  // Per-output-channel shifts: one more ACC element per oc block next to the bias (implies has_bias: the
  // lowering loads both with one 2-row LOAD).
  bool has_channel_shift = false;
  // A fused residual add: per output tile one residual tile in INP (oc_blocks x rows x cols elements,
  // two regions alternating with the ACC half) and one identity element in WGT (the buffer's last).
  bool has_residual = false;
  // A grouped conv2d: `groups` independent convs of ic_blocks -> oc_blocks each (the super-groups of
  // a grouped conv2d with block-diagonal weights), side by side in the channel blocks of one input and
  // one output tensor (ic_blocks * groups and oc_blocks * groups blocks). A tiling describes one of them;
  // the program runs them one after the other. 1 for an ordinary conv2d.
  uint32_t groups = 1;
  // ACC elements at the top of each half of the buffer that hold the layer's constants (bias, then the
  // per-channel shifts: acc_vectors x oc_blocks x groups) for the whole layer, loaded before the first
  // tile (a copy per half when the tiles use both); 0: each output tile loads its own next to its
  // accumulators. Resident constants save a LOAD ACC per tile, which runs in the compute module and
  // waits there behind the previous tile's store traffic. A copy per half: the halves are the core's ACC
  // banks, and a tile's requantization (ALU) overlaps the next tile's GEMMs only when it reads nothing
  // in the other half (hardware/rtl/vta_compute.sv). Set by make_conv_problem
  // (resident_constant_elements).
  uint32_t resident_constants = 0;
  // false: no requantization, the stored byte is the int32 sum's low byte (compile_gemm without one): no
  // ALU pass but a bias ADD
  bool requantize = true;
  uint32_t acc_vectors() const { return (has_bias ? 1 : 0) + (has_channel_shift ? 1 : 0); }
};

// The compiler's per-layer DRAM traffic target, as a multiple of the layer's lower bound: a tiling (or
// host repack) above it is chosen only when nothing fits within it.
inline constexpr double kLayerTrafficBudget = 1.3;

// The resident_constants a problem gets on a config: all of them when they take at most an eighth of
// the ACC buffer, else 0.
uint32_t resident_constant_elements(const ConvProblem& p, const isa::HwConfig& cfg);

// Loop order of the tiles: output-channel tiles outermost (weights stay on chip while the input
// streams) or spatial tiles outermost (the input tile stays on chip while the weights stream).
enum class LoopOrder : uint8_t { kOcOuter, kSpatialOuter };
// What one weight load holds: the (oc tile, ic step) slice, every input channel of the oc tile, or the
// whole weight tensor (loaded once).
enum class WeightMode : uint8_t { kSlice, kOcTile, kAll };

const char* to_string(LoopOrder o);
const char* to_string(WeightMode m);

// The model's prediction for one tiling (bytes are DRAM bytes, padding never counted).
struct Conv2dCost {
  uint64_t inp_bytes = 0, wgt_bytes = 0, acc_bytes = 0, out_bytes = 0;
  uint64_t lower_bound_bytes = 0;  // every input, weight, bias and output byte moved once
  uint64_t steps = 0;              // (output tile, input-channel step) pairs = GEMM instructions
  uint64_t output_tiles = 0;
  uint32_t gemm_kernel_uops = 0;   // micro-ops of the largest GEMM kernel
  double score = 0;                // what the search ranks by traffic
  double estimated_cycles = 0;     // estimate_cycles at the config's DRAM timing (0: not estimated)
  uint64_t total_bytes() const { return inp_bytes + wgt_bytes + acc_bytes + out_bytes; }
};

// How the host repacks a conv2d whose input channels fill few of the BLOCK_IN lanes (e.g. ResNet-18's
// first layer, 3 channels): optionally space-to-depth by the stride (each stride x stride phase becomes
// channels, the kernel shrinks to ceil(K / stride), stride 1), then fold the kernel columns (kx) and/or
// rows (ky) into the reduction dimension (an im2col along that axis). The folded problem is an ordinary
// conv2d on the core; see docs/compiler.md ("Small input channel counts").
struct InputRepack {
  uint32_t space_to_depth = 1;  // 1 (off) or the stride
  bool fold_kx = false;
  bool fold_ky = false;
  bool direct() const { return space_to_depth == 1 && !fold_kx && !fold_ky; }
  std::string to_string() const;  // "direct", "fold(ic,ky,kx)", "s2d2+fold(kx)", ...
  bool operator==(const InputRepack&) const = default;
};

struct Conv2dTiling {
  uint32_t oc_blocks = 1;  // output-channel blocks per tile
  uint32_t out_rows = 1;   // output rows per tile
  uint32_t out_cols = 1;   // output columns per tile
  uint32_t ic_blocks = 1;  // input-channel blocks per reduction step
  LoopOrder order = LoopOrder::kOcOuter;
  WeightMode weight_mode = WeightMode::kSlice;
  // 2: weight units alternate between the two halves of the wgt buffer (the next unit loads while the
  // current one computes); 1: one unit uses the whole buffer (larger oc tiles, the reload waits).
  // kAll always uses the whole buffer.
  uint32_t weight_buffers = 2;
  bool single_weight_buffer() const { return weight_mode == WeightMode::kAll || weight_buffers == 1; }
  // The layer's first step loads its weights in first_pieces pieces of its output-channel blocks, each
  // with a load->compute token and a GEMM of its own: the first GEMM waits for one piece of the weight
  // slice, not the whole slice (the same bytes).
  uint32_t first_pieces = 1;
  // The layer's last output tile is split into two tiles of half its rows (or columns), in the two ACC
  // banks, so the first half's requantization and store run beside the second half's GEMMs (a shorter
  // tail after the layer's last GEMM); needs weights that stay on chip for the tile's steps (rolling
  // oc_tile or all), a last tile that loads its own input (not one shared with the oc tiles before it)
  // and halves that read no common input (a kernel no larger than its stride along the split): the same
  // bytes. Chosen by estimated time like first_pieces.
  bool split_last = false;
  // Every ic step's input unit of a spatial tile in an INP slot of its own (as many slots as ic steps),
  // loaded once and read by every output-channel tile of that spatial tile, instead of once per oc tile
  // through two slots: for layers whose whole input window fits the INP buffer (the oc tiles of a single
  // spatial tile, or spatial_outer order).
  bool inp_resident = false;
  Conv2dCost cost;  // filled by estimate_cost / choose_tiling
  // The host repack applied before tiling (the tiling then describes the repacked problem); chosen by
  // conv2d() when the input channels are few, reported here.
  InputRepack repack;

  std::string to_string() const;
  nlohmann::json to_json() const;
};

// A tiling written as comma-separated key=value pairs, e.g. "oc=16,rows=4,cols=14,ic=8,order=spatial_outer,
// weights=all,buffers=1,pieces=8" (keys oc, rows, cols, ic, order oc_outer|spatial_outer, weights
// slice|oc_tile|all, buffers 1|2, pieces, split 0|1, resident 0|1; unnamed ones keep Conv2dTiling's
// defaults): how a user forces one
// (`vta bench conv2d --tiling`). Throws vta::Error naming the bad pair; whether it fits a problem is
// check_tiling's business.
Conv2dTiling parse_tiling(const std::string& spec);

// On-chip footprint of one tile in elements of each buffer.
struct TileFootprint {
  uint64_t inp = 0, wgt = 0, acc = 0, uops = 0;
  uint64_t residual = 0;  // inp elements of the residual tile (included in `inp`)
};
TileFootprint footprint(const ConvProblem& p, const Conv2dTiling& t);

// The channel blocks [first, second) (of all super-groups) whose resident constants ACC half h holds: those
// of the tiles that use the half (tile i uses half i % 2). In oc_outer order the tiles of a half cover a
// range of the blocks; in spatial_outer order they may take any, so a used half holds them all; an unused
// half is empty.
std::array<std::pair<uint32_t, uint32_t>, 2> resident_constant_ranges(const ConvProblem& p, const Conv2dTiling& t);
// Whether half 1's resident constants are copied on chip from half 0 (which holds all of its blocks), by
// two ALU instructions, instead of loaded from DRAM a second time.
inline bool second_half_constants_copied(const std::array<std::pair<uint32_t, uint32_t>, 2>& r) {
  return r[1].first < r[1].second && r[0].first <= r[1].first && r[1].second <= r[0].second;
}

// Empty when the tiling fits the config's buffers (halves of inp/wgt/acc for double buffering, a
// quarter of the micro-op buffer per GEMM kernel) and the ISA's field limits; otherwise the reason.
std::string check_tiling(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t);

// The DRAM traffic the lowering will generate for this tiling (exact for the emitted program, except
// micro-op loads, which the runtime's kernel cache decides).
Conv2dCost estimate_cost(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t);

// The cycles the tiling's program should take on the core at the config's DRAM timing: the lowering's
// step plan walked through the load module, the GEMM and ALU engines and the store (DRAM shared by
// loads and stores, tokens and slots as emitted, the last tile's chunks). A ranking of tilings, not a
// simulator: within 1% of tlm on ResNet-18's 3x3 layers, 2-4% low on its 1x1 stride-2 ones (docs/compiler.md).
double estimate_cycles(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t);

// What choose_tiling minimizes: the estimated cycles of the program (the step plan walked through the
// core's units, among the kTimedCandidates best by traffic score), or the traffic score alone.
enum class TilingObjective : uint8_t { kTime, kTraffic };
inline constexpr size_t kTimedCandidates = 1024;

// The best tiling that fits; throws vta::Error when none does (e.g. a kernel too large for the input
// buffer). Tilings within the layer's traffic budget come first; with kTime, one that moves more than
// max_bytes is not taken for its time (a host repack's budget).
Conv2dTiling choose_tiling(const ConvProblem& p, const isa::HwConfig& cfg,
                           TilingObjective objective = TilingObjective::kTime,
                           uint64_t max_bytes = std::numeric_limits<uint64_t>::max());

// The micro-op axis chosen for the GEMM kernel of a tile (the spatial/oc axis enumerated inside the
// kernel so that consecutive micro-ops write different accumulators): 0 = oc, 1 = rows, 2 = cols.
uint32_t gemm_inner_axis(uint32_t oc_blocks, uint32_t rows, uint32_t cols);

// Accumulators the GEMM kernel's inner axis cycles through so that no micro-op waits for the write of one
// of the two ahead of it in the core's pipeline.
inline constexpr uint32_t kGemmHazardFreeExtent = 3;

}  // namespace vta::compiler
