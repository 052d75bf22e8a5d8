// Internal: the conv2d program emitter shared by conv2d() and dense().
#pragma once

#include <limits>
#include <optional>
#include <vector>

#include "vta/compiler/conv2d.h"
#include "vta/runtime/program.h"
#include "vta/runtime/program_builder.h"

namespace vta::compiler::detail {

// The program buffers a conv2d reads and writes.
struct ConvBuffers {
  runtime::BufferId inp = 0, wgt = 0, out = 0;
  std::optional<runtime::BufferId> bias;
  std::optional<runtime::BufferId> residual, residual_wgt;  // a fused residual add: the shortcut, the identity
};

// One reduction step of one output tile, in program order, with the buffer slots it uses and the
// dependency tokens it needs.
struct ConvStep {
  uint32_t group = 0;                                // super-group of a grouped conv2d (ConvProblem::groups)
  uint32_t ot = 0, nb = 0, hi = 0, wi = 0, it = 0;  // tile coordinates (oc tile, batch group, row, col, ic)
  uint32_t tile = 0;                                 // output tile index (ACC region = tile % ConvSlots::acc)
  // the tile's output rows [oh0, oh0 + th) and columns [ow0, ow0 + tw): the tiling's grid, but for a layer
  // whose last tile is split in two (split_last_tile)
  uint32_t oh0 = 0, th = 1, ow0 = 0, tw = 1;
  bool first = false, last = false;                  // first/last ic step of the tile
  bool load_inp = false, load_wgt = false;
  bool load_wgt_slice = false;   // single-buffered oc-tile weights: loads this step's ic slice of the unit
                                 // in place, once the previous unit's step over that slice is done
  uint32_t inp_slot = 0, wgt_slot = 0;
  bool wait_compute = false;     // the load group pops compute->load (its slots' last reader is done)
  uint32_t release_pushes = 0;   // compute->load tokens pushed after this step's GEMM (after the residual
                                 // GEMM on the last step of a tile with a fused residual add)
  bool load_res = false;         // loads the tile's residual (last step of a tile with a residual)
  uint32_t res_slot = 0;         // residual INP region (= tile % 2)
  // A piece of the layer's first step (Conv2dTiling::first_pieces): its weights and GEMM cover only the
  // tile's output-channel blocks [oc_lo, oc_lo + oc_n); oc_n = 0: the whole step.
  uint32_t oc_lo = 0, oc_n = 0;
  // the output-channel blocks this step's weights and GEMM cover, of its tile's tob
  uint32_t oc_blocks(uint32_t tob) const { return oc_n ? oc_n : tob; }
};

// The weight of a grouped conv2d (OIHW, I = C / groups) as one packed dense weight per super-group,
// concatenated: each the block-diagonal expansion (zeros between the groups) of its groups.
std::vector<int8_t> pack_grouped_weights(const Tensor& weight, const Conv2dShape& s, const Conv2dParams& p,
                                         const isa::HwConfig& cfg);

// Where the rotating on-chip units go: `inp` input tiles of inp_pitch elements each and `wgt` weight units
// of wgt_pitch elements. With double-buffered weight slices, as many as fit, up to kMaxSlots, so the load
// module runs that many steps less one ahead of the GEMMs (and the DRAM bursts of an output tile's store
// do not starve them); else two halves (and with a fused residual add, whose regions follow the input
// tile in each half).
// Output tiles rotate through `acc` ACC regions: region r is in bank r % 2 (the core's ACC banks, so
// consecutive tiles alternate), at acc_pitch * (r / 2) from the bank's start; two a bank when two tiles
// fit beside the bank's resident constants. With four, a tile's region was drained by the store of the
// tile four before it, not two: the next tile's zeroing on the ALU engine and its first GEMM no longer
// wait for the store of the tile before the current one.
struct ConvSlots {
  static constexpr uint32_t kMaxSlots = 4;
  uint32_t inp = 2, wgt = 2;
  uint32_t inp_pitch = 0, wgt_pitch = 0;
  uint32_t acc = 2, acc_pitch = 0;
  uint32_t acc_bank_size = 0;  // elements per ACC bank (the resident constants at its top)
  // the first ACC element of tile `tile`'s region, and of its bank
  uint32_t acc_base(uint32_t tile) const {
    const uint32_t r = tile % acc;
    return (r % 2) * acc_bank_size + (r / 2) * acc_pitch;
  }
  uint32_t acc_bank_base(uint32_t tile) const { return (tile % acc % 2) * acc_bank_size; }
};
ConvSlots conv_slots(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t);

std::vector<ConvStep> plan_conv_steps(const ConvProblem& p, const Conv2dTiling& t, const ConvSlots& slots);

// Input rows (or columns) really read (not padding) by an output range [o0, o0 + t) (tiling.cpp).
uint64_t real_extent(uint32_t o0, uint32_t t, uint32_t stride, uint32_t pad, uint32_t k, uint32_t in);

// Along which axis the layer's last output tile can be split in two (Conv2dTiling::split_last's
// conditions: the halves move the same bytes), none where it cannot; and whether it is split.
enum class SplitAxis : uint8_t { kNone, kRows, kCols };
SplitAxis last_tile_split_axis(const ConvProblem& p, const Conv2dTiling& t);
inline bool split_last_tile(const ConvProblem& p, const Conv2dTiling& t) {
  return t.split_last && last_tile_split_axis(p, t) != SplitAxis::kNone;
}

// Chunks of the layer's last output tile: each chunk's store overlaps the next one's requantization.
inline constexpr uint32_t kLastTileChunks = 4;

// Where every tile but the first gets its accumulators zeroed on the ALU engine, beside the tile before
// (MIN, MAX to zero or to the bias), instead of by a reset GEMM: before that tile's last step, or between
// the two halves of its GEMM.
struct TileZeroing {
  bool before_last_step = false;
  bool within_last_step = false;
};
TileZeroing tile_zeroing(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t, const ConvSlots& slots,
                         bool bias_per_tile);

// The cycles the tiling's program should take on the core: its step plan walked through the load module,
// the GEMM and ALU engines and the store at the config's DRAM rate and latency (conv_timing.cpp). A
// ranking, not a simulator: tokens, slots and the last tile's chunks as emitted, DRAM per direction.
double estimate_conv_cycles(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t);

// Emits the whole conv2d into the program (no FINISH).
void emit_conv2d(runtime::ProgramBuilder& q, const ConvProblem& p, const Conv2dTiling& t, const ConvBuffers& b,
                 const Requantize& rq, const std::optional<ResidualAdd>& residual = {});

// ---- host repacks for few input channels (repack.cpp) ----
// The conv2d the core runs after the repack `r` (shape and parameters only).
Conv2dShape repacked_shape(const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r,
                           Conv2dParams* new_params);
// The repacked input and weight (the repacked conv2d's result is bit-identical, see repack.cpp).
Tensor repack_input(const Tensor& input, const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r);
Tensor repack_weight(const Tensor& weight, const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r);

// The Program of a checked (already repacked) conv2d: buffers "input", "output", constants "weight" and
// "bias"; `tiling` is the forced tiling (checked) or empty to choose one (moving at most max_bytes when
// chosen for its time); the chosen one is returned.
runtime::Program build_conv2d_program(const isa::HwConfig& cfg, const Conv2dShape& shape, const Conv2dParams& params,
                                      const Tensor& weight, const Tensor* bias,
                                      const std::optional<Conv2dTiling>& tiling, Conv2dTiling* chosen,
                                      TilingObjective objective = TilingObjective::kTime,
                                      uint64_t max_bytes = std::numeric_limits<uint64_t>::max());

}  // namespace vta::compiler::detail
