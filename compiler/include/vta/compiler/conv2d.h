// conv2d (int8 NCHW input, int8 OIHW weight, optional int32 bias) lowered onto the core through the
// runtime's ProgramBuilder and run on a Session, with requantization on the ALU:
//   out = clip((conv(x, w) + bias) >> shift, lo, hi)   (relu: lo = max(lo, 0)), int8 NCHW,
// with one shift per output channel when Conv2dParams::channel_shift is given.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vta/compiler/requantize.h"
#include "vta/compiler/tensor.h"
#include "vta/compiler/tiling.h"
#include "vta/isa/counters.h"
#include "vta/runtime/session.h"

namespace vta::compiler {

// A residual add fused into the conv2d's kernel (see Conv2dParams::residual):
//   out = clip(((c << shift_conv) + (r << shift_res) + round) >> requant.shift, lo, hi),
// c the conv2d's requantized int8 output, r the int8 shortcut tensor (the output's shape), round =
// 2^(requant.shift-1) when requant.shift > 0.
struct ResidualAdd {
  int32_t shift_conv = 0;  // 0..6: an ALU SHR by -shift_conv (a left shift)
  int32_t shift_res = 0;   // 0..6: the identity WGT element holds 2^shift_res (int8)
  Requantize requant;      // shift 0..15: the rounding term is a signed 16-bit ALU immediate
};

struct Conv2dParams {
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  uint32_t dilation_h = 1, dilation_w = 1;  // only 1 is supported
  // Grouped conv2d (weight OIHW with I = C / groups; depthwise: groups = C = O): group g's output
  // channels read only its input channels. On the core as super-groups, see super_groups().
  uint32_t groups = 1;
  Requantize requant;
  // Per-output-channel shifts (0..31, one per output channel) replacing requant.shift:
  //   out[o] = clip((acc + bias[o]) >> channel_shift[o], lo, hi).
  // Empty: requant.shift for every channel. On the core the shifts are a second ACC vector next to the
  // bias (packed like it) and the ALU SHR reads them (use_imm = 0); a conv2d without bias gets a zero one.
  std::vector<int32_t> channel_shift;
  // A fused residual add. On the core, after the requantization of each output tile (c in ACC): ALU SHR
  // by -shift_conv, LOAD of the residual tile (int8 INP, program buffer "residual" in the output's
  // packed layout, which needs BLOCK_IN == BLOCK_OUT) into its own INP region, a GEMM with one identity
  // WGT element scaled by 2^shift_res accumulating into the tile, then ALU ADD round, SHR, MIN, MAX.
  std::optional<ResidualAdd> residual;

  static Conv2dParams with(uint32_t stride, uint32_t pad, int32_t shift) {
    Conv2dParams p;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    p.requant.shift = shift;
    return p;
  }
};

// The logical shapes of a checked conv2d.
struct Conv2dShape {
  int64_t n = 0, c = 0, h = 0, w = 0;  // input
  int64_t o = 0, kh = 0, kw = 0;       // weight (o, c, kh, kw)
  int64_t oh = 0, ow = 0;              // output
};

// Checks ranks, dtypes, agreement of shapes and the supported parameter range; throws vta::Error with
// a message naming the offending tensor or parameter.
Conv2dShape check_conv2d(const Tensor& input, const Tensor& weight, const Tensor* bias, const Conv2dParams& p);
Conv2dShape check_conv2d(const std::vector<int64_t>& input_shape, const Tensor& weight, const Tensor* bias,
                         const Conv2dParams& p);

// A grouped conv2d on the core: super-groups of `groups_per` consecutive groups whose input and output
// channels fill whole BLOCK_IN / BLOCK_OUT blocks, each a dense conv2d with a block-diagonal weight (zeros
// between its groups), one after the other in one program (ConvProblem::groups = count). Depthwise on
// 16x16 blocks: 16 groups per super-group, a diagonal 16x16 weight per tap, 1/16 of the MACs useful.
struct SuperGroups {
  uint32_t groups_per = 1;  // groups per super-group (the fewest that fill whole blocks)
  uint32_t count = 1;       // super-groups (= groups / groups_per)
};
// {1, 1} for groups == 1; throws vta::Error saying why when no super-group size tiles the channels
// exactly (groups_per does not divide groups), e.g. 3 groups of 8 channels on 16-channel blocks.
SuperGroups super_groups(const Conv2dShape& s, const Conv2dParams& p, const isa::HwConfig& cfg);

// The blocked problem for a config (checks that the config has int8 inp/wgt and int32 acc).
ConvProblem make_conv_problem(const Conv2dShape& s, const Conv2dParams& p, bool has_bias, const isa::HwConfig& cfg);

// DRAM traffic a host repack may cost, as a multiple of the logical lower bound, when a cheaper
// candidate exists. No cap by default: the modelled time (which counts the bytes at the config's DRAM
// bandwidth) picks, since a few-channel layer's repacked input buys MAC lanes, and so time, with bytes.
// ResNet-18 C1 on tsim (8 B/cycle, 32 cycles of latency): s2d2 (1.11x) 841k cycles, s2d2+fold(ic,kx)
// (1.49x, the choice under a 1.5x cap) 608k, fold(ic,ky,kx) (2.93x, still under its GEMM time) 508k
// (docs/compiler.md). LoweringOptions::repack_traffic_budget sets a cap.
inline constexpr double kRepackTrafficBudget = std::numeric_limits<double>::infinity();

struct LoweringOptions {
  std::optional<Conv2dTiling> tiling;  // force a tiling (checked); otherwise choose_tiling()
  // Force a host repack (InputRepack{} = direct); otherwise choose_repack(). A forced tiling applies to
  // the repacked problem and implies direct unless a repack is given too.
  std::optional<InputRepack> repack;
  // DRAM bytes a host repack may move, as a multiple of the layer's lower bound, when choose_repack()
  // picks one (default: no cap): more buys MAC-lane utilization (and time) for few input channels.
  double repack_traffic_budget = kRepackTrafficBudget;
  // What choose_tiling minimizes when no tiling is forced (TilingObjective::kTraffic: the byte score alone).
  TilingObjective tiling_objective = TilingObjective::kTime;
};

// The result of running one operator on the device.
struct OpRun {
  Tensor output;
  Conv2dTiling tiling;
  isa::ExecutionCounters counters;
  uint64_t instructions = 0;  // including the FINISH the runtime appends
  uint64_t kernel_cache_hits = 0, kernel_cache_misses = 0;
  double compile_seconds = 0;  // packing + tiling + emission
  double run_seconds = 0;      // synchronize()
  double device_seconds = 0;   // the device run alone (runtime::RunStats::wall_seconds)
  nlohmann::json to_json() const;
};

// The host repack conv2d() applies by default: direct unless the input channels fill less than one
// BLOCK_IN and the kernel is larger than 1x1; then the candidate (space-to-depth by the stride and/or
// folding kx / ky into the reduction) with the lowest modelled time: max(GEMM micro-ops, DRAM bytes /
// dram_bytes_per_cycle) + a quarter of the smaller one.
InputRepack choose_repack(const Conv2dShape& s, const Conv2dParams& p, bool has_bias, const isa::HwConfig& cfg,
                          double traffic_budget = kRepackTrafficBudget);

// The layer's DRAM lower bound before any repack (every raw input, weight, bias and output byte once):
// what a repack's traffic budget multiplies.
uint64_t repack_lower_bound_bytes(const Conv2dShape& s, const Conv2dParams& p, bool has_bias);

// One candidate repack with its modelled cost.
struct RepackChoice {
  InputRepack repack;
  Conv2dTiling tiling;      // the repacked problem's tiling by traffic (TilingObjective::kTraffic)
  uint64_t gemm_uops = 0;   // GEMM micro-ops the repacked problem needs
  uint64_t dram_bytes = 0;  // predicted DRAM bytes (inp, wgt, acc, out)
  double score = 0;
};
// Throws vta::Error when no tiling fits the repacked problem.
RepackChoice evaluate_repack(const Conv2dShape& s, const Conv2dParams& p, bool has_bias, const isa::HwConfig& cfg,
                             const InputRepack& r);
// Every repack worth considering (direct included) that fits the config.
std::vector<RepackChoice> repack_candidates(const Conv2dShape& s, const Conv2dParams& p, bool has_bias,
                                            const isa::HwConfig& cfg);

OpRun conv2d(runtime::Session& session, const Tensor& input, const Tensor& weight, const Tensor* bias,
             const Conv2dParams& params, const LoweringOptions& options = {});

}  // namespace vta::compiler
