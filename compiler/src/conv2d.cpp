// conv2d lowering: packing, tiling, tensorization into GEMM micro-op kernels, requantization on the
// ALU, and two virtual threads synchronized with dependency tokens. See docs/compiler.md.
#include "vta/compiler/conv2d.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "conv_lowering.h"
#include "isa_limits.h"
#include "vta/compiler/compiled_op.h"
#include "vta/compiler/packing.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::compiler {

using isa::AluOpcode;
using isa::MemoryType;
using runtime::KernelMode;
using runtime::Stage;
using runtime::UopKernelBuilder;

namespace {

using detail::cdiv;
using detail::kMaxDim;
using detail::kMaxPad;
using detail::u32;

}  // namespace

Conv2dShape check_conv2d(const Tensor& input, const Tensor& weight, const Tensor* bias, const Conv2dParams& p) {
  if (input.dtype() != DType::kInt8)
    throw Error(fmt::format("conv2d: input must be int8, got {}", to_string(input.dtype())));
  return check_conv2d(input.shape(), weight, bias, p);
}

Conv2dShape check_conv2d(const std::vector<int64_t>& input_shape, const Tensor& weight, const Tensor* bias,
                         const Conv2dParams& p) {
  const std::string in_shape = Tensor::shape_to_string(input_shape);
  if (input_shape.size() != 4) throw Error(fmt::format("conv2d: input must be 4-D NCHW, got shape {}", in_shape));
  if (weight.dtype() != DType::kInt8)
    throw Error(fmt::format("conv2d: weight must be int8, got {}", to_string(weight.dtype())));
  if (weight.rank() != 4)
    throw Error(fmt::format("conv2d: weight must be 4-D OIHW, got shape {}", weight.shape_string()));
  if (p.groups < 1) throw Error("conv2d: groups must be >= 1");
  if (p.dilation_h != 1 || p.dilation_w != 1)
    throw Error(fmt::format("conv2d: dilation {}x{} is not supported (only 1)", p.dilation_h, p.dilation_w));
  if (p.stride_h < 1 || p.stride_w < 1) throw Error("conv2d: stride must be >= 1");
  Conv2dShape s;
  s.n = input_shape[0];
  s.c = input_shape[1];
  s.h = input_shape[2];
  s.w = input_shape[3];
  s.o = weight.dim(0);
  s.kh = weight.dim(2);
  s.kw = weight.dim(3);
  if (s.n < 1 || s.c < 1 || s.h < 1 || s.w < 1)
    throw Error(fmt::format("conv2d: input shape {} has an empty dimension", in_shape));
  if (s.o < 1 || s.kh < 1 || s.kw < 1)
    throw Error(fmt::format("conv2d: weight shape {} has an empty dimension", weight.shape_string()));
  if (s.c % p.groups != 0 || s.o % p.groups != 0) {
    throw Error(fmt::format("conv2d: groups = {} must divide the {} input and {} output channels", p.groups, s.c,
                            s.o));
  }
  if (weight.dim(1) * p.groups != s.c) {
    throw Error(fmt::format("conv2d: weight {} has {} input channels per group but the input {} with groups = {} "
                            "has {}",
                            weight.shape_string(), weight.dim(1), in_shape, p.groups, s.c / p.groups));
  }
  if (bias) {
    if (bias->dtype() != DType::kInt32)
      throw Error(fmt::format("conv2d: bias must be int32, got {}", to_string(bias->dtype())));
    if (bias->rank() != 1 || bias->dim(0) != s.o)
      throw Error(fmt::format("conv2d: bias must have shape ({},), got {}", s.o, bias->shape_string()));
  }
  const std::array<std::pair<uint32_t, int64_t>, 4> pads = {
      std::pair{p.pad_top, s.kh}, {p.pad_bottom, s.kh}, {p.pad_left, s.kw}, {p.pad_right, s.kw}};
  for (const auto& [pad, k] : pads) {
    if (pad >= k || pad > kMaxPad) {
      throw Error(fmt::format("conv2d: padding {} is not supported for a {}x{} kernel (each pad must be smaller "
                              "than the kernel and at most {})",
                              pad, s.kh, s.kw, kMaxPad));
    }
  }
  if (s.h + p.pad_top + p.pad_bottom < s.kh || s.w + p.pad_left + p.pad_right < s.kw) {
    throw Error(fmt::format("conv2d: kernel {}x{} is larger than the padded input {}x{}", s.kh, s.kw,
                            s.h + p.pad_top + p.pad_bottom, s.w + p.pad_left + p.pad_right));
  }
  s.oh = (s.h + p.pad_top + p.pad_bottom - s.kh) / p.stride_h + 1;
  s.ow = (s.w + p.pad_left + p.pad_right - s.kw) / p.stride_w + 1;
  if (s.h > kMaxDim || s.w > kMaxDim || s.oh * s.ow > kMaxDim * 16)
    throw Error(fmt::format("conv2d: input {} is too large for the 16-bit LOAD strides", in_shape));
  const Requantize& rq = p.requant;
  if (rq.shift < 0 || rq.shift > 31) throw Error(fmt::format("conv2d: shift {} not in [0, 31]", rq.shift));
  if (rq.clip_lo < -128 || rq.clip_hi > 127 || rq.clip_lo > rq.clip_hi) {
    throw Error(fmt::format("conv2d: clip [{}, {}] must satisfy -128 <= lo <= hi <= 127", rq.clip_lo, rq.clip_hi));
  }
  if (rq.lo() > rq.clip_hi) throw Error(fmt::format("conv2d: relu with clip hi {} < 0 leaves no range", rq.clip_hi));
  if (!p.channel_shift.empty()) {
    if (static_cast<int64_t>(p.channel_shift.size()) != s.o) {
      throw Error(fmt::format("conv2d: {} channel shifts for {} output channels", p.channel_shift.size(), s.o));
    }
    for (size_t o = 0; o < p.channel_shift.size(); ++o) {
      if (p.channel_shift[o] < 0 || p.channel_shift[o] > 31)
        throw Error(fmt::format("conv2d: channel shift {} of output channel {} not in [0, 31]", p.channel_shift[o], o));
    }
  }
  if (p.residual) {
    const ResidualAdd& r = *p.residual;
    if (r.shift_conv < 0 || r.shift_conv > 6 || r.shift_res < 0 || r.shift_res > 6) {
      throw Error(fmt::format("conv2d: residual input shifts {} and {} must be in [0, 6]", r.shift_conv, r.shift_res));
    }
    if (r.requant.shift < 0 || r.requant.shift > 15) {
      throw Error(fmt::format("conv2d: residual shift {} not in [0, 15] (its rounding term is a 16-bit ALU immediate)",
                              r.requant.shift));
    }
    if (r.requant.clip_lo < -128 || r.requant.clip_hi > 127 || r.requant.lo() > r.requant.clip_hi) {
      throw Error(fmt::format("conv2d: residual clip [{}, {}] must satisfy -128 <= lo <= hi <= 127", r.requant.lo(),
                              r.requant.clip_hi));
    }
  }
  return s;
}

SuperGroups super_groups(const Conv2dShape& s, const Conv2dParams& p, const isa::HwConfig& cfg) {
  SuperGroups g;
  if (p.groups <= 1) return g;
  const uint64_t G = p.groups, cg = u32(s.c) / G, og = u32(s.o) / G, BI = cfg.block_in(), BO = cfg.block_out();
  // The fewest consecutive groups whose channels fill whole blocks on both sides.
  const uint64_t k = std::lcm(BI / std::gcd(cg, BI), BO / std::gcd(og, BO));
  if (G % k != 0) {
    throw Error(fmt::format("conv2d: grouped conv2d (groups={}, {} -> {} channels per group) does not tile the "
                            "{}x{} channel blocks of config {}: a block needs super-groups of {} groups, which do "
                            "not divide {}",
                            G, cg, og, BI, BO, cfg.name(), k, G));
  }
  g.groups_per = static_cast<uint32_t>(k);
  g.count = static_cast<uint32_t>(G / k);
  return g;
}

ConvProblem make_conv_problem(const Conv2dShape& s, const Conv2dParams& p, bool has_bias, const isa::HwConfig& cfg) {
  if (cfg.inp_width() != 8 || cfg.wgt_width() != 8 || cfg.acc_width() != 32) {
    throw Error(fmt::format("conv2d: config {} has inp/wgt/acc widths {}/{}/{}; the lowering needs 8/8/32",
                            cfg.name(), cfg.inp_width(), cfg.wgt_width(), cfg.acc_width()));
  }
  ConvProblem c;
  c.batch_groups = cdiv(u32(s.n), cfg.batch());
  c.ic_blocks = cdiv(u32(s.c), cfg.block_in());
  c.oc_blocks = cdiv(u32(s.o), cfg.block_out());
  if (p.groups > 1) {
    // Each super-group is a dense conv2d of whole blocks (block-diagonal weights).
    const SuperGroups g = super_groups(s, p, cfg);
    c.groups = g.count;
    c.ic_blocks = u32(s.c) / g.count / cfg.block_in();
    c.oc_blocks = u32(s.o) / g.count / cfg.block_out();
  }
  c.in_h = u32(s.h);
  c.in_w = u32(s.w);
  c.out_h = u32(s.oh);
  c.out_w = u32(s.ow);
  c.kernel_h = u32(s.kh);
  c.kernel_w = u32(s.kw);
  c.stride_h = p.stride_h;
  c.stride_w = p.stride_w;
  c.pad_top = p.pad_top;
  c.pad_left = p.pad_left;
  c.pad_bottom = p.pad_bottom;
  c.pad_right = p.pad_right;
  // A 1x1 kernel with a vertical stride and no padding: the input LOADs skip the rows it never reads
  // (moving a stride_h-th of the rows a tile spans), and the core convolves the rows read with stride 1.
  const bool unpadded = c.pad_top == 0 && c.pad_left == 0 && c.pad_bottom == 0 && c.pad_right == 0;
  if (c.kernel_h == 1 && c.kernel_w == 1 && c.stride_h > 1 && unpadded && int64_t{c.stride_h} * c.in_w <= kMaxDim) {
    c.dram_h = c.in_h;
    c.in_step_h = c.stride_h;
    c.in_h = c.out_h;
    c.stride_h = 1;
  }
  c.has_channel_shift = !p.channel_shift.empty();
  c.has_residual = p.residual.has_value();
  if (c.has_residual && cfg.block_in() != cfg.block_out()) {
    throw Error(fmt::format("conv2d: a fused residual add needs BLOCK_IN == BLOCK_OUT (the residual is loaded as INP "
                            "elements in the output's layout); config {} has {} and {}",
                            cfg.name(), cfg.block_in(), cfg.block_out()));
  }
  c.has_bias = has_bias || c.has_channel_shift;  // the shifts are loaded together with a (zero) bias
  c.resident_constants = resident_constant_elements(c, cfg);
  return c;
}

nlohmann::json OpRun::to_json() const {
  nlohmann::json j;
  j["output_shape"] = output.shape();
  j["tiling"] = tiling.to_json();
  j["counters"] = counters.to_json();
  j["instructions"] = instructions;
  j["kernel_cache"] = {{"hits", kernel_cache_hits}, {"misses", kernel_cache_misses}};
  j["compile_seconds"] = compile_seconds;
  j["run_seconds"] = run_seconds;
  j["device_seconds"] = device_seconds;
  return j;
}

namespace detail {

std::vector<int8_t> pack_grouped_weights(const Tensor& weight, const Conv2dShape& s, const Conv2dParams& p,
                                         const isa::HwConfig& cfg) {
  const SuperGroups sg = super_groups(s, p, cfg);
  const int64_t G = p.groups, cg = s.c / G, og = s.o / G, k = sg.groups_per;
  const int64_t kk = s.kh * s.kw, sc = k * cg, so = k * og;  // a super-group's channels
  const int8_t* w = weight.data<int8_t>();
  std::vector<int8_t> out;
  for (int64_t g = 0; g < sg.count; ++g) {
    // Super-group g's dense (so, sc, kh, kw) weight: group j's block on the diagonal, zeros elsewhere.
    Tensor dense(DType::kInt8, {so, sc, s.kh, s.kw});
    int8_t* d = dense.data<int8_t>();
    for (int64_t o = 0; o < so; ++o) {
      const int64_t j = o / og;  // the group within the super-group
      const int8_t* src = w + (g * so + o) * cg * kk;
      std::copy(src, src + cg * kk, d + (o * sc + j * cg) * kk);
    }
    const std::vector<int8_t> packed = pack_weights(dense, cfg.block_out(), cfg.block_in());
    out.insert(out.end(), packed.begin(), packed.end());
  }
  return out;
}

ConvSlots conv_slots(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t) {
  ConvSlots s;
  s.inp_pitch = cfg.inp().depth / 2;
  s.wgt_pitch = cfg.wgt().depth / 2;
  const TileFootprint f = footprint(p, t);
  s.acc_bank_size = cfg.acc().depth / 2;
  const uint32_t acc_room = s.acc_bank_size - std::min(p.resident_constants, s.acc_bank_size);
  s.acc_pitch = acc_room;
  // Four ACC regions where two tiles fit a bank and, with two, the next tile's zeroing could not go to
  // the ALU engine before the last step (the store of the tile before would not have drained its
  // region in time). Not otherwise: each region's GEMM and ALU micro-op kernels are kernels of their
  // own (the ACC address is in the micro-op), and ResNet-18's 3x3 layers lose the UOP bytes (64x16
  // 64->64: 583 -> 1161 micro-ops, 635 cycles on tlm).
  const bool bias_per_tile = p.has_bias && p.resident_constants == 0;
  if (f.acc != 0 && 2 * f.acc <= acc_room && !tile_zeroing(p, cfg, t, s, bias_per_tile).before_last_step) {
    s.acc = 4;
    s.acc_pitch = acc_room / 2;
  }
  // Where the weights stream with the input, a slice a step (double-buffered slices), and where one
  // oc-tile unit of rolling weights is the whole layer's (loaded once, slice by slice, never replaced): the
  // input LOADs then run up to kMaxSlots - 1 steps ahead, past the DRAM bursts of a tile's store, which
  // the memory serves first (ResNet-18 C7 on tsim: 29,216 -> 27,919 cycles, its tiling 16 x 5 x 5 ->
  // 16 x 14 x 3; C4 28,183 -> 27,542). Not with weights that roll from one oc tile to the next or stay
  // resident: more input slots measured neutral on the default config and up to 8% slower on BATCH 2,
  // BLOCK 8 with a 16 KB INP buffer (ResNet-18 C5, C8 on tlm), and the time estimate ranks rolling tilings
  // with them too well (BLOCK 32 C8: 119k -> 138k cycles).
  const auto fit = [](uint64_t depth, uint64_t unit) {
    return static_cast<uint32_t>(std::clamp<uint64_t>(unit ? depth / unit : 2, 2, ConvSlots::kMaxSlots));
  };
  const bool slices = t.weight_mode == WeightMode::kSlice && !t.single_weight_buffer();
  const bool one_rolling_unit = t.weight_mode == WeightMode::kOcTile && t.single_weight_buffer() &&
                                t.oc_blocks >= p.oc_blocks;
  const bool run_ahead = !p.has_residual && (slices || one_rolling_unit);
  if (t.inp_resident || run_ahead) {
    // a resident input: a slot per ic step
    s.inp = t.inp_resident ? static_cast<uint32_t>(cdiv(p.ic_blocks, t.ic_blocks)) : fit(cfg.inp().depth, f.inp);
    s.inp_pitch = cfg.inp().depth / s.inp;
  }
  if (!run_ahead || !slices) return s;
  s.wgt = fit(cfg.wgt().depth, f.wgt);
  s.wgt_pitch = cfg.wgt().depth / s.wgt;
  return s;
}

TileZeroing tile_zeroing(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t, const ConvSlots& slots,
                         bool bias_per_tile) {
  // The zeroing goes before the last step when the tile's earlier steps leave the store of the tile before
  // its time: its requantization at a cycle per row and pass (the core takes two rows a cycle: a margin)
  // and its bytes at the DRAM's rate (else that GEMM would wait for the store: C7 of ResNet-18, two steps
  // of 896 cycles, lost 142 cycles a tile). Else between the two halves of the last step's GEMM (split
  // along one of its hardware loops), beside the second: half a step more for the store (C7, two steps of
  // 896 cycles: the store of 224 rows needs about 1.0k). The engines' handover costs about ten cycles, a
  // reset GEMM a cycle per two rows. Never when a tile loads its bias into ACC first (that LOAD waits for
  // both engines anyway).
  const uint64_t kk = uint64_t{p.kernel_h} * p.kernel_w;
  const uint64_t n_ic = cdiv(p.ic_blocks, t.ic_blocks);
  const uint64_t tile_rows = uint64_t{t.oc_blocks} * t.out_rows * t.out_cols;
  const uint64_t earlier_gemm = (n_ic - 1) * tile_rows * t.ic_blocks * kk;
  const uint64_t out_row_bytes = uint64_t{cfg.batch()} * cfg.block_out();
  const uint64_t store_time = tile_rows * out_row_bytes / std::max<uint32_t>(1, cfg.timing().dram_bytes_per_cycle) +
                              tile_rows * (p.acc_vectors() + 3);
  const uint64_t step_gemm = tile_rows * t.ic_blocks * kk;
  TileZeroing z;
  if (slots.acc > 2) {
    // With four ACC regions the next tile's was drained by the store four tiles back: the zeroing waits
    // for the ALU engine alone. It goes there (before the last step, even of a one-step tile) when the
    // engine's work a tile (requantization, zeroing: passes at two rows a cycle, ~8 cycles to issue
    // each) keeps pace with the GEMMs better than a reset on the GEMM engine does.
    const uint64_t passes = p.requantize ? 3 : 0;  // shift, min, max
    const uint64_t requant = (p.has_bias ? 1 : 0) + passes, zeroed_requant = passes + 2;  // (bias,) ...
    const uint64_t gemm = n_ic * (step_gemm + 8);
    const uint64_t with_reset = std::max(gemm + tile_rows / 2 + 8, tile_rows * requant / 2 + 8 * requant);
    const uint64_t with_zeroing = std::max(gemm, tile_rows * zeroed_requant / 2 + 8 * zeroed_requant);
    z.before_last_step = !bias_per_tile && with_zeroing <= with_reset;
    return z;
  }
  z.before_last_step = n_ic >= 2 && earlier_gemm >= store_time && !bias_per_tile;
  z.within_last_step = !z.before_last_step && earlier_gemm + step_gemm / 2 >= store_time && !bias_per_tile;
  return z;
}

SplitAxis last_tile_split_axis(const ConvProblem& p, const Conv2dTiling& t) {
  if (p.has_residual || t.weight_mode == WeightMode::kSlice) return SplitAxis::kNone;
  // the last tile loads its own input (not the tile before's, as the oc tiles of one input tile do):
  // its halves then load the same bytes
  const uint64_t n_sp = uint64_t{p.batch_groups} * cdiv(p.out_h, t.out_rows) * cdiv(p.out_w, t.out_cols);
  if (cdiv(p.oc_blocks, t.oc_blocks) > 1 && (t.order == LoopOrder::kSpatialOuter || n_sp == 1)) return SplitAxis::kNone;
  // rows where that axis allows it (each half keeps the tile's DRAM row bursts), else columns
  const uint32_t th = p.out_h - (cdiv(p.out_h, t.out_rows) - 1) * t.out_rows;
  const uint32_t tw = p.out_w - (cdiv(p.out_w, t.out_cols) - 1) * t.out_cols;
  if (th >= 2 && p.kernel_h <= p.stride_h) return SplitAxis::kRows;
  if (tw >= 2 && p.kernel_w <= p.stride_w) return SplitAxis::kCols;
  return SplitAxis::kNone;
}

std::vector<ConvStep> plan_conv_steps(const ConvProblem& p, const Conv2dTiling& t, const ConvSlots& slots) {
  const uint32_t n_oc = cdiv(p.oc_blocks, t.oc_blocks), n_h = cdiv(p.out_h, t.out_rows),
                 n_w = cdiv(p.out_w, t.out_cols), n_ic = cdiv(p.ic_blocks, t.ic_blocks);
  struct Tile {
    uint32_t g, ot, nb, hi, wi;
    uint32_t oh0, th, ow0, tw;
    bool half = false;  // a half of the split last tile (its input window is its own, not the grid tile's)
  };
  std::vector<Tile> tiles;
  tiles.reserve(size_t{p.groups} * n_oc * p.batch_groups * n_h * n_w + 1);
  const auto grid_tile = [&](uint32_t g, uint32_t ot, uint32_t nb, uint32_t hi, uint32_t wi) {
    const uint32_t oh0 = hi * t.out_rows, ow0 = wi * t.out_cols;
    return Tile{g, ot, nb, hi, wi, oh0, std::min(t.out_rows, p.out_h - oh0), ow0, std::min(t.out_cols, p.out_w - ow0)};
  };
  // Super-groups one after the other, each in the tiling's order.
  for (uint32_t g = 0; g < p.groups; ++g) {
    if (t.order == LoopOrder::kOcOuter) {
      for (uint32_t ot = 0; ot < n_oc; ++ot)
        for (uint32_t nb = 0; nb < p.batch_groups; ++nb)
          for (uint32_t hi = 0; hi < n_h; ++hi)
            for (uint32_t wi = 0; wi < n_w; ++wi) tiles.push_back(grid_tile(g, ot, nb, hi, wi));
    } else {
      for (uint32_t nb = 0; nb < p.batch_groups; ++nb)
        for (uint32_t hi = 0; hi < n_h; ++hi)
          for (uint32_t wi = 0; wi < n_w; ++wi)
            for (uint32_t ot = 0; ot < n_oc; ++ot) tiles.push_back(grid_tile(g, ot, nb, hi, wi));
    }
  }
  if (split_last_tile(p, t)) {
    // the second half is the new last tile
    Tile a = tiles.back(), b = a;
    if (last_tile_split_axis(p, t) == SplitAxis::kRows) {
      a.th = (a.th + 1) / 2;
      b.oh0 = a.oh0 + a.th, b.th -= a.th;
    } else {
      a.tw = (a.tw + 1) / 2;
      b.ow0 = a.ow0 + a.tw, b.tw -= a.tw;
    }
    a.half = b.half = true;
    tiles.back() = a;
    tiles.push_back(b);
  }

  // A rotating on-chip resource: which unit it holds, its slots and the last step reading each.
  struct Resource {
    bool loaded = false;
    uint64_t key = 0;
    uint32_t slot = 0;
    std::vector<int64_t> last_reader;
    explicit Resource(uint32_t n) : last_reader(n, -1) {}
    // Returns the step whose completion must precede the load (-1: none), or -2 when no load is needed.
    int64_t use(uint64_t k, bool single_slot) {
      if (loaded && key == k) return -2;
      const uint32_t next = !loaded || single_slot ? 0 : (slot + 1) % static_cast<uint32_t>(last_reader.size());
      const int64_t wait = last_reader[next];
      loaded = true;
      key = k;
      slot = next;
      return wait;
    }
  };
  // A place per ic step (ic step i's unit always in place i): the unit it holds and the last step reading it.
  struct PerIcStep {
    std::vector<std::optional<uint64_t>> key;
    std::vector<int64_t> last_reader;
    explicit PerIcStep(uint32_t n) : key(n), last_reader(n, -1) {}
    // Step k reads unit `unit` at place `it`: as Resource::use (-2 when it is there already).
    int64_t use(uint32_t it, uint64_t unit, int64_t k) {
      int64_t wait = -2;
      if (key[it] != unit) {
        wait = last_reader[it];
        key[it] = unit;
      }
      last_reader[it] = k;
      return wait;
    }
  };
  Resource inp(slots.inp), wgt(slots.wgt);
  // Single-buffered oc-tile weights roll: each ic slice of the next unit is loaded over the previous
  // unit's once the last step reading that slice is done, so the reload overlaps the previous unit's
  // remaining steps instead of waiting for all of them (and the first GEMM waits for one slice, not the
  // unit).
  const bool rolling = t.weight_mode == WeightMode::kOcTile && t.single_weight_buffer();
  PerIcStep wgt_slices(rolling ? n_ic : 0);
  // A resident input: ic step it's unit in INP slot it, loaded when the spatial tile changes.
  PerIcStep inp_units(t.inp_resident ? n_ic : 0);
  std::array<int64_t, 2> res_last_reader = {-1, -1};  // per residual region: the step whose GEMM reads it
  std::vector<ConvStep> steps;
  steps.reserve(tiles.size() * n_ic);
  int64_t last_wait = -1;
  for (uint32_t ti = 0; ti < tiles.size(); ++ti) {
    const Tile& tile = tiles[ti];
    for (uint32_t it = 0; it < n_ic; ++it) {
      ConvStep s;
      s.group = tile.g;
      s.ot = tile.ot;
      s.nb = tile.nb;
      s.hi = tile.hi;
      s.wi = tile.wi;
      s.oh0 = tile.oh0, s.th = tile.th, s.ow0 = tile.ow0, s.tw = tile.tw;
      s.it = it;
      s.tile = ti;
      s.first = it == 0;
      s.last = it + 1 == n_ic;
      const auto k = static_cast<int64_t>(steps.size());
      const uint64_t inp_key =
          ((((uint64_t{tile.g} * p.batch_groups + tile.nb) * p.out_h + tile.oh0) * p.out_w + tile.ow0) * n_ic + it) * 2 +
          (tile.half ? 1 : 0);
      uint64_t wgt_key = tile.g;
      if (t.weight_mode == WeightMode::kSlice) wgt_key = (uint64_t{tile.g} * n_oc + tile.ot) * n_ic + it;
      else if (t.weight_mode == WeightMode::kOcTile) wgt_key = uint64_t{tile.g} * n_oc + tile.ot;
      int64_t wait = -1;
      const int64_t wi_ = t.inp_resident ? inp_units.use(it, inp_key, k) : inp.use(inp_key, false);
      if (wi_ != -2) {
        s.load_inp = true;
        wait = std::max(wait, wi_);
      }
      const int64_t ww = rolling ? wgt_slices.use(it, wgt_key, k) : wgt.use(wgt_key, t.single_weight_buffer());
      if (ww != -2) {
        (rolling ? s.load_wgt_slice : s.load_wgt) = true;
        wait = std::max(wait, ww);
      }
      s.inp_slot = t.inp_resident ? it : inp.slot;
      s.wgt_slot = wgt.slot;
      if (!t.inp_resident) inp.last_reader[inp.slot] = k;
      wgt.last_reader[wgt.slot] = k;
      if (p.has_residual && s.last) {
        // The tile's residual goes into the region of its ACC parity, last read by tile - 2's residual GEMM.
        s.load_res = true;
        s.res_slot = ti % 2;
        wait = std::max(wait, res_last_reader[s.res_slot]);
        res_last_reader[s.res_slot] = k;
      }
      if ((s.load_inp || s.load_wgt || s.load_wgt_slice || s.load_res) && wait >= 0) {
        // Tokens are matched in FIFO order, so the steps waited for must not go backwards.
        wait = std::max(wait, last_wait);
        last_wait = wait;
        steps[static_cast<size_t>(wait)].release_pushes++;
        s.wait_compute = true;
      }
      steps.push_back(s);
    }
  }
  // The first step in pieces of its output-channel blocks, each loading its rows of the weight slice
  // with a load->compute token of its own (the input with the first): the first GEMM waits for one piece.
  if (t.first_pieces > 1 && !steps.empty()) {
    const ConvStep s0 = steps.front();
    const uint32_t tob = std::min(t.oc_blocks, p.oc_blocks - s0.ot * t.oc_blocks);
    const uint32_t n = std::min(t.first_pieces, tob);
    std::vector<ConvStep> pieces;
    for (uint32_t i = 0; i < n; ++i) {
      ConvStep s = s0;
      s.oc_lo = i * tob / n;
      s.oc_n = (i + 1) * tob / n - s.oc_lo;
      s.first = s0.first && i == 0;
      s.last = s0.last && i + 1 == n;
      s.load_inp = s0.load_inp && i == 0;
      s.load_res = s0.load_res && i + 1 == n;
      s.release_pushes = i + 1 == n ? s0.release_pushes : 0;
      pieces.push_back(s);
    }
    steps.erase(steps.begin());
    steps.insert(steps.begin(), pieces.begin(), pieces.end());
  }
  return steps;
}

void emit_conv2d(runtime::ProgramBuilder& q, const ConvProblem& p, const Conv2dTiling& t, const ConvBuffers& b,
                 const Requantize& rq, const std::optional<ResidualAdd>& residual) {
  const isa::HwConfig& cfg = q.config();
  const uint32_t inp_half = cfg.inp().depth / 2;
  // Output tile t uses ACC region t % slots.acc, in bank t % 2 (the core's ACC banks: one tile's
  // requantization overlaps the next tile's GEMMs), with the bank's copy of the resident constants at its top.
  const uint32_t acc_bank = cfg.acc().depth / 2;
  const uint32_t acc_half = acc_bank - p.resident_constants;
  const uint32_t kh = p.kernel_h, kw = p.kernel_w, kk = kh * kw;
  const uint32_t IB = p.ic_blocks, OB = p.oc_blocks, H = p.in_h, W = p.in_w, OH = p.out_h, OW = p.out_w;
  const uint32_t DH = p.dram_rows();  // the input's height in DRAM (H is what the core sees)
  // The whole tensors' channel blocks (super-groups side by side) for the DRAM offsets.
  const uint32_t IBt = IB * p.groups, OBt = OB * p.groups;
  const uint32_t bias_off = t.oc_blocks * t.out_rows * t.out_cols;

  const ConvSlots slots = conv_slots(p, cfg, t);
  const uint32_t n_acc_regions = slots.acc;
  const std::vector<ConvStep> steps = plan_conv_steps(p, t, slots);
  const uint32_t n_tiles = steps.empty() ? 0 : steps.back().tile + 1;
  const uint64_t plane_dram = uint64_t{OH} * OW;

  // A fused residual add: the residual regions follow the input tile in each INP half; the identity WGT
  // element (2^shift_res on the diagonal) sits in the last WGT element, loaded once ahead of the first
  // load group (whose load->compute token covers it) and never overwritten.
  if (p.has_residual != residual.has_value() || p.has_residual != (b.residual && b.residual_wgt)) {
    throw Error("conv2d: residual problem, parameters and buffers disagree");
  }
  const TileFootprint fp = footprint(p, t);
  const auto res_off = static_cast<uint32_t>(fp.inp - fp.residual);
  const uint32_t res_wgt = cfg.wgt().depth - 1;
  if (p.has_residual) q.load_2d(*b.residual_wgt, 0, 1, 1, 1, 0, 0, 0, 0, res_wgt, MemoryType::kWgt);
  // Resident constants: [bias; shifts] of every channel block, rows of OBt elements, as in DRAM; in each
  // ACC half the blocks of the tiles that use it (resident_constant_ranges: all of them when the tiles
  // alternate their output channels). Loaded after the first tile's reset GEMM (a compute LOAD
  // waits for the engines): the reset then runs while the load module's first bytes arrive, instead of
  // after the constants (ResNet-18 C10: 400 cycles, and 250 for loading only each half's blocks).
  // A second half whose blocks the first holds gets them from there on the ALU engine (a reset, then an
  // ADD of the first half's copy: 0 + c = c), not from DRAM: the first GEMM waits for the constants, and
  // for their bytes in the DRAM queue (ResNet-18 C7: 1 KB and a compute LOAD less before it).
  auto load_resident_constants = [&] {
    if (p.resident_constants == 0 || !b.bias) return;
    const auto ranges = resident_constant_ranges(p, t);
    for (uint32_t half = 0; half < 2; ++half) {
      const auto [lo, hi] = ranges[half];
      if (lo >= hi) continue;
      if (half == 1 && second_half_constants_copied(ranges)) {
        for (uint32_t row = 0; row < (p.has_channel_shift ? 2u : 1u); ++row) {
          const uint32_t from = acc_half + row * OBt + lo, to = acc_bank + from;
          UopKernelBuilder zero(KernelMode::kAlu, /*reset=*/true);
          zero.loop_begin(hi - lo, 1, 0, 0).push(to, to, 0).loop_end();
          q.push_alu(zero.build());
          UopKernelBuilder copy(KernelMode::kAlu);
          copy.alu(AluOpcode::kAdd).loop_begin(hi - lo, 1, 1, 0).push(to, from, 0).loop_end();
          q.push_alu(copy.build());
        }
        continue;
      }
      if (lo == 0 && hi == OBt) {  // all of them: [bias; shifts] in one LOAD
        q.load_2d(*b.bias, 0, OBt, p.has_channel_shift ? 2 : 1, OBt, 0, 0, 0, 0, half * acc_bank + acc_half,
                  MemoryType::kAcc);
        continue;
      }
      for (uint32_t row = 0; row < (p.has_channel_shift ? 2u : 1u); ++row)
        q.load_2d(*b.bias, row * OBt + lo, hi - lo, 1, hi - lo, 0, 0, 0, 0, half * acc_bank + acc_half + row * OBt + lo,
                  MemoryType::kAcc);
    }
  };

  // loops over `blocks` output-channel blocks of `plane` accumulators each, for a kernel of one micro-op
  // whose source steps src_factor_o per block and src_factor_i per accumulator
  auto block_loops = [](UopKernelBuilder& kb, uint32_t blocks, uint32_t plane, uint32_t src_factor_o,
                        uint32_t src_factor_i = 0) -> int {
    int n = 0;
    if (blocks > 1) {
      kb.loop_begin(blocks, plane, src_factor_o, 0);
      ++n;
    }
    if (plane > 1) {
      kb.loop_begin(plane, 1, src_factor_i, 0);
      ++n;
    }
    return n;
  };
  // Every tile but the first can have its accumulators zeroed on the ALU engine while the GEMM engine runs
  // the previous tile's last step (the two use different ACC halves), instead of by a reset on the GEMM
  // engine at its start: MIN 0 then MAX 0 leaves zeros whatever the half held (MIN bias, MAX bias the
  // bias, zero_on_alu). The ALU instructions go before that step's GEMM (an ALU instruction enters its
  // engine once the older GEMMs are done; a younger GEMM runs beside it), after the store of the tile
  // before has drained the half; where, tile_zeroing (shared with the time estimate).
  const bool bias_per_tile = b.bias && p.resident_constants == 0;
  const TileZeroing zeroing = tile_zeroing(p, cfg, t, slots, bias_per_tile);
  const bool alu_zeroing = zeroing.before_last_step, mid_zeroing = zeroing.within_last_step;
  bool next_zeroed = false;     // the next tile's accumulators are zeroed on the ALU engine (no reset GEMM)
  bool acc_holds_bias = false;  // ... to its bias (zero_on_alu): no bias ADD in its requantization
  auto zero_on_alu = [&](const ConvStep& next) {
    next_zeroed = true;
    const uint32_t n_tob = std::min(t.oc_blocks, OB - next.ot * t.oc_blocks);
    const uint32_t n_plane = next.th * next.tw;
    const uint32_t n_acc = slots.acc_base(next.tile);
    // Its ACC region is free once the store of the tile n_acc_regions before it has drained it.
    if (next.tile >= n_acc_regions) q.dep_pop(Stage::kStore, Stage::kCompute);
    // With a bias, MIN bias then MAX bias leave the bias itself (from the half's resident copy): the GEMMs
    // accumulate onto it (int32 sums wrap alike in any order) and the tile's requantization has one pass
    // less, which shortens the layer's tail after its last GEMM.
    const uint32_t n_bias = slots.acc_bank_base(next.tile) + acc_half + next.group * OB + next.ot * t.oc_blocks;
    for (AluOpcode op : {AluOpcode::kMin, AluOpcode::kMax}) {
      UopKernelBuilder kb(KernelMode::kAlu);
      kb.alu(op, !b.bias, 0);
      const int loops = block_loops(kb, n_tob, n_plane, b.bias ? 1 : 0);
      kb.push(n_acc, b.bias ? n_bias : n_acc, 0);
      for (int i = 0; i < loops; ++i) kb.loop_end();
      q.push_alu(kb.build());
    }
  };

  for (size_t k = 0; k < steps.size(); ++k) {
    const ConvStep& s = steps[k];
    const uint32_t ob0 = s.ot * t.oc_blocks, tob = std::min(t.oc_blocks, OB - ob0);
    // This super-group's first channel block in the input / output / bias, and its weight (one dense
    // [OB][IB][kh][kw] unit per super-group).
    const uint32_t gib = s.group * IB, gob = s.group * OB + ob0;
    const uint64_t gwgt = uint64_t{s.group} * OB * IB * kk;
    const uint32_t oh0 = s.oh0, th = s.th, ow0 = s.ow0, tw = s.tw;
    const uint32_t ib0 = s.it * t.ic_blocks, tib = std::min(t.ic_blocks, IB - ib0);
    const uint32_t ih_t = (th - 1) * p.stride_h + kh, iw_t = (tw - 1) * p.stride_w + kw;
    const uint32_t inp_base = s.inp_slot * slots.inp_pitch;
    const uint32_t wgt_base = t.single_weight_buffer() ? 0 : s.wgt_slot * slots.wgt_pitch;
    const uint32_t acc_base = slots.acc_base(s.tile);
    const uint32_t const_base = slots.acc_bank_base(s.tile) + acc_half;
    // Where this step's weights [o][tib][kh][kw] are on chip: from step_wgt, oc_pitch elements per output
    // channel block. A slice holds them densely; an oc-tile unit holds its ic slices one after the other
    // (slice-major, so each slice is one 2D LOAD and a rolling unit's first GEMM waits for one LOAD);
    // the whole tensor is [OB][IB][kh][kw] as in DRAM.
    uint32_t step_wgt = wgt_base, oc_pitch = tib * kk;
    if (t.weight_mode == WeightMode::kOcTile) {
      step_wgt = wgt_base + tob * ib0 * kk;
    } else if (t.weight_mode == WeightMode::kAll) {
      step_wgt = wgt_base + (ob0 * IB + ib0) * kk;
      oc_pitch = IB * kk;
    }
    // a piece of the layer's first step: output-channel blocks [o_lo, o_lo + o_n) of the tile
    const uint32_t o_lo = s.oc_lo, o_n = s.oc_blocks(tob);
    // one ic slice of the oc tile's unit: rows [o_lo, o_lo + o_n) of its tob rows of ib_n blocks from ic
    // block ib_0, at its slice-major place
    auto load_unit_slice = [&](uint32_t ib_0, uint32_t ib_n) {
      q.load_2d(b.wgt, gwgt + uint64_t{ob0 + o_lo} * IB * kk + uint64_t{ib_0} * kk, ib_n * kk, o_n, IB * kk, 0, 0, 0,
                0, wgt_base + tob * ib_0 * kk + o_lo * ib_n * kk, MemoryType::kWgt);
    };

    // ---- load stage ----
    const bool loads = s.load_inp || s.load_wgt || s.load_wgt_slice || s.load_res;
    if (loads) {
      if (s.wait_compute) q.dep_pop(Stage::kCompute, Stage::kLoad);
      if (s.load_wgt_slice) load_unit_slice(ib0, tib);
      if (s.load_wgt) {
        switch (t.weight_mode) {
          case WeightMode::kSlice:
            q.load_2d(b.wgt, gwgt + (uint64_t{ob0 + o_lo} * IB + ib0) * kk, tib * kk, o_n, IB * kk, 0, 0, 0, 0,
                      wgt_base + o_lo * tib * kk, MemoryType::kWgt);
            break;
          case WeightMode::kOcTile:
            for (uint32_t i0 = 0; i0 < IB; i0 += t.ic_blocks) load_unit_slice(i0, std::min(t.ic_blocks, IB - i0));
            break;
          case WeightMode::kAll:
            q.load_2d(b.wgt, gwgt, IB * kk, OB, IB * kk, 0, 0, 0, 0, wgt_base, MemoryType::kWgt);
            break;
        }
      }
      if (s.load_inp) {
        const int64_t r0 = int64_t{oh0} * p.stride_h - p.pad_top, r1 = r0 + ih_t;
        const int64_t c0 = int64_t{ow0} * p.stride_w - p.pad_left, c1 = c0 + iw_t;
        const int64_t rl = std::max<int64_t>(r0, 0), rh = std::min<int64_t>(r1, H);
        const int64_t cl = std::max<int64_t>(c0, 0), ch = std::min<int64_t>(c1, W);
        // When the tile has no padding rows and its rows cover the whole plane at their DRAM step (a strided
        // 1x1 layer's tiles of every output row), block i + 1's rows continue block i's at the same step, and
        // on chip too: one LOAD for all tib blocks instead of one each (the load module pays the DRAM latency
        // per LOAD; C7 of ResNet-18 loads four blocks a step).
        const auto rows = u32(rh - rl);
        const bool one_load = rl == r0 && rh == r1 && uint64_t{rows} * p.in_step_h == DH &&
                              uint64_t{rows} * tib <= kMaxDim;
        for (uint32_t i = 0; i < tib; i += one_load ? tib : 1) {
          // rows in_step_h apart in DRAM (1 but for a strided 1x1 kernel, which has no padding)
          const uint64_t off = ((uint64_t{s.nb} * IBt + gib + ib0 + i) * DH + static_cast<uint64_t>(rl) * p.in_step_h) * W +
                               static_cast<uint64_t>(cl);
          q.load_2d(b.inp, off, u32(ch - cl), one_load ? rows * tib : rows, p.in_step_h * W, u32(cl - c0), u32(rl - r0),
                    u32(c1 - ch), u32(r1 - rh), inp_base + i * ih_t * iw_t, MemoryType::kInp);
        }
      }
      if (s.load_res) {
        // The residual tile [tob][th][tw] (INP elements = OUT elements since BLOCK_IN == BLOCK_OUT), dense.
        const uint32_t res_base = s.res_slot * inp_half + res_off;
        const uint64_t off = ((uint64_t{s.nb} * OBt + gob) * OH + oh0) * OW + ow0;
        if (tw == OW && plane_dram <= kMaxDim && uint64_t{th} * OW <= kMaxDim) {
          q.load_2d(*b.residual, off, th * OW, tob, static_cast<uint32_t>(plane_dram), 0, 0, 0, 0, res_base,
                    MemoryType::kInp);
        } else {
          for (uint32_t o = 0; o < tob; ++o) {
            q.load_2d(*b.residual, off + o * plane_dram, tw, th, OW, 0, 0, 0, 0, res_base + o * th * tw,
                      MemoryType::kInp);
          }
        }
      }
      q.dep_push(Stage::kLoad, Stage::kCompute);
    }

    // ---- compute stage ----
    const uint32_t plane = th * tw;  // acc elements per output-channel block of this tile
    // loops over `blocks` channel blocks (the tile's by default) and their planes
    auto tile_loops = [&](UopKernelBuilder& kb, uint32_t src_factor_o, uint32_t blocks = 0) -> int {
      return block_loops(kb, blocks == 0 ? tob : blocks, plane, src_factor_o);
    };
    const bool zeroed = s.first && next_zeroed;  // by the tile before, on the ALU engine
    if (s.first) {
      next_zeroed = false;
      acc_holds_bias = zeroed && b.bias;
    }
    if (s.first && !zeroed) {
      // The ACC region is free once the store of the tile n_acc_regions before has drained it.
      if (s.tile >= n_acc_regions) q.dep_pop(Stage::kStore, Stage::kCompute);
      if (bias_per_tile) {
        // With per-channel shifts the constant is [bias; shifts], OB elements each: one 2-row LOAD puts
        // the tile's tob shifts right after its tob biases.
        q.load_2d(*b.bias, gob, tob, p.has_channel_shift ? 2 : 1, p.has_channel_shift ? OBt : tob, 0, 0, 0, 0,
                  acc_base + bias_off, MemoryType::kAcc);
      }
      UopKernelBuilder kb(KernelMode::kGemm, /*reset=*/true);
      const int n = tile_loops(kb, 0);
      kb.push(acc_base, 0, 0);
      for (int i = 0; i < n; ++i) kb.loop_end();
      q.push_gemm(kb.build());
    }
    if (k == 0) load_resident_constants();
    if (loads) q.dep_pop(Stage::kLoad, Stage::kCompute);
    if (s.last && alu_zeroing && k + 1 < steps.size()) zero_on_alu(steps[k + 1]);
    {
      // Three affine axes; the one enumerated inside the kernel varies fastest, so consecutive
      // micro-ops write different accumulators. The other two become the hardware loops.
      struct Axis {
        uint32_t ext, dst, src, wgt;
      };
      // (a piece of the first step enumerates its own oc blocks: a kernel axis of one block would put
      // consecutive micro-ops on the same accumulators)
      const uint32_t inner = gemm_inner_axis(o_n, th, tw);
      const std::array<Axis, 3> ax = {Axis{tob, plane, 0, oc_pitch}, Axis{th, tw, p.stride_h * iw_t, 0},
                                      Axis{tw, 1, p.stride_w, 0}};
      // the GEMM over [lo, lo + n) of axis `part` (the whole tile: n = its extent)
      auto gemm = [&](uint32_t part, uint32_t lo, uint32_t n_part) {
        std::array<Axis, 3> a3 = ax;
        a3[part].ext = n_part;
        UopKernelBuilder kb(KernelMode::kGemm);
        int n = 0;
        for (uint32_t a = 0; a < 3; ++a) {
          if (a == inner || a3[a].ext < 2) continue;
          kb.loop_begin(a3[a].ext, a3[a].dst, a3[a].src, a3[a].wgt);
          ++n;
        }
        const Axis& A = a3[inner];
        const uint32_t acc0 = acc_base + lo * ax[part].dst, src0 = inp_base + lo * ax[part].src,
                       wgt0 = step_wgt + lo * ax[part].wgt;
        for (uint32_t i = 0; i < tib; ++i)
          for (uint32_t y = 0; y < kh; ++y)
            for (uint32_t x = 0; x < kw; ++x) {
              const uint32_t src = src0 + i * ih_t * iw_t + y * iw_t + x;
              const uint32_t wgt = wgt0 + i * kk + y * kw + x;
              for (uint32_t e = 0; e < A.ext; ++e) kb.push(acc0 + e * A.dst, src + e * A.src, wgt + e * A.wgt);
            }
        for (int i = 0; i < n; ++i) kb.loop_end();
        q.push_gemm(kb.build());
      };
      // split along a hardware-loop axis (halving the kernel's axis would bring micro-ops on the same
      // accumulators closer, into hazards)
      uint32_t part = 3;
      for (uint32_t a = 0; a < 3 && part == 3; ++a)
        if (a != inner && ax[a].ext >= 2) part = a;
      if (s.oc_n != 0) {
        gemm(0, s.oc_lo, s.oc_n);
      } else if (s.last && mid_zeroing && k + 1 < steps.size() && part < 3) {
        const uint32_t h = ax[part].ext / 2;
        gemm(part, 0, h);
        zero_on_alu(steps[k + 1]);
        gemm(part, h, ax[part].ext - h);
      } else {
        gemm(0, 0, tob);
      }
    }
    // With a fused residual the last step's releases wait for the residual GEMM (it reads a region too).
    const bool defer_release = p.has_residual && s.last;
    if (!defer_release) {
      for (uint32_t r = 0; r < s.release_pushes; ++r) q.dep_push(Stage::kCompute, Stage::kLoad);
    }

    if (!s.last) continue;
    // ---- requantize on the ALU ----
    // The layer's last tile has no next tile's GEMMs to hide its requantization and store behind: it
    // goes in chunks of output-channel blocks, each stored while the ALU works on the next (without a
    // fused residual, whose GEMM covers the whole tile).
    const bool last_tile = s.tile + 1 == n_tiles;
    const uint32_t chunks = last_tile && !residual ? std::min(tob, kLastTileChunks) : 1;
    // this tile's first bias and shift, resident or loaded next to the accumulators
    const uint32_t bias_at = p.resident_constants ? const_base + gob : acc_base + bias_off;
    const uint32_t shift_at = p.resident_constants ? const_base + OBt + gob : acc_base + bias_off + tob;
    // STOREs of channel blocks [cb0, cb0 + cn) of the tile: one 2D store when the tile spans whole output
    // rows, else one per block
    auto store_blocks = [&](uint32_t cb0, uint32_t cn) {
      const uint64_t out_off = ((uint64_t{s.nb} * OBt + gob + cb0) * OH + oh0) * OW + ow0;
      if (tw == OW && plane_dram <= kMaxDim && uint64_t{th} * OW <= kMaxDim) {
        q.store_2d(acc_base + cb0 * plane, MemoryType::kOut, b.out, out_off, th * OW, cn,
                   static_cast<uint32_t>(plane_dram));
      } else {
        for (uint32_t o = 0; o < cn; ++o) {
          q.store_2d(acc_base + (cb0 + o) * plane, MemoryType::kOut, b.out, out_off + o * plane_dram, tw, th, OW);
        }
      }
    };
    for (uint32_t c = 0; c < chunks; ++c) {
      // output-channel blocks [cb0, cb0 + cn) of the tile
      const uint32_t cb0 = c * tob / chunks, cn = (c + 1) * tob / chunks - cb0;
      auto alu = [&](AluOpcode op, bool use_imm, int32_t imm, uint32_t src, uint32_t src_factor_o) {
        UopKernelBuilder kb(KernelMode::kAlu);
        kb.alu(op, use_imm, imm);
        const int n = tile_loops(kb, src_factor_o, cn);
        const uint32_t dst = acc_base + cb0 * plane;
        kb.push(dst, src == acc_base ? dst : src + cb0 * src_factor_o, 0);
        for (int i = 0; i < n; ++i) kb.loop_end();
        q.push_alu(kb.build());
      };
      if (b.bias && !acc_holds_bias) alu(AluOpcode::kAdd, false, 0, bias_at, 1);
      if (p.requantize) {
        if (p.has_channel_shift) alu(AluOpcode::kShr, false, 0, shift_at, 1);
        else if (rq.shift != 0) alu(AluOpcode::kShr, true, rq.shift, acc_base, 0);
        alu(AluOpcode::kMin, true, rq.clip_hi, acc_base, 0);
        alu(AluOpcode::kMax, true, rq.lo(), acc_base, 0);
      }
      if (chunks == 1) break;
      q.dep_push(Stage::kCompute, Stage::kStore);
      q.dep_pop(Stage::kCompute, Stage::kStore);
      store_blocks(cb0, cn);
    }
    if (chunks > 1) continue;  // the last tile: stored, and no tile after it needs its ACC half
    auto alu = [&](AluOpcode op, bool use_imm, int32_t imm, uint32_t src, uint32_t src_factor_o) {
      UopKernelBuilder kb(KernelMode::kAlu);
      kb.alu(op, use_imm, imm);
      const int n = tile_loops(kb, src_factor_o);
      kb.push(acc_base, src, 0);
      for (int i = 0; i < n; ++i) kb.loop_end();
      q.push_alu(kb.build());
    };
    if (residual) {
      // c (int8 range) -> (c << sa) + (r << sb) by an identity GEMM over the residual tile, then the add's
      // requantization.
      const ResidualAdd& ra = *residual;
      if (ra.shift_conv != 0) alu(AluOpcode::kShr, true, -ra.shift_conv, acc_base, 0);
      UopKernelBuilder kb(KernelMode::kGemm);
      const int n = block_loops(kb, tob, plane, plane, 1);
      kb.push(acc_base, s.res_slot * inp_half + res_off, res_wgt);
      for (int i = 0; i < n; ++i) kb.loop_end();
      q.push_gemm(kb.build());
      for (uint32_t r = 0; r < s.release_pushes; ++r) q.dep_push(Stage::kCompute, Stage::kLoad);
      if (ra.requant.shift != 0) alu(AluOpcode::kAdd, true, int32_t{1} << (ra.requant.shift - 1), acc_base, 0);
      if (ra.requant.shift != 0) alu(AluOpcode::kShr, true, ra.requant.shift, acc_base, 0);
      alu(AluOpcode::kMin, true, ra.requant.clip_hi, acc_base, 0);
      alu(AluOpcode::kMax, true, ra.requant.lo(), acc_base, 0);
    }
    q.dep_push(Stage::kCompute, Stage::kStore);

    // ---- store stage ----
    q.dep_pop(Stage::kCompute, Stage::kStore);
    store_blocks(0, tob);
    if (s.tile + n_acc_regions < n_tiles) q.dep_push(Stage::kStore, Stage::kCompute);
  }
}

runtime::Program build_conv2d_program(const isa::HwConfig& cfg, const Conv2dShape& shape, const Conv2dParams& params,
                                      const Tensor& weight, const Tensor* bias,
                                      const std::optional<Conv2dTiling>& tiling, Conv2dTiling* chosen,
                                      TilingObjective objective, uint64_t max_bytes) {
  const ConvProblem prob = make_conv_problem(shape, params, bias != nullptr, cfg);
  Conv2dTiling t;
  if (tiling) {
    t = *tiling;
    const std::string why = check_tiling(prob, cfg, t);
    if (!why.empty()) throw Error("conv2d: the requested tiling does not fit: " + why);
  } else {
    t = choose_tiling(prob, cfg, objective, max_bytes);
  }
  t.cost = estimate_cost(prob, cfg, t);
  t.cost.estimated_cycles = estimate_cycles(prob, cfg, t);

  const uint32_t B = cfg.batch(), BI = cfg.block_in(), BO = cfg.block_out();
  const std::vector<int8_t> wgt = params.groups > 1 ? pack_grouped_weights(weight, shape, params, cfg)
                                                  : pack_weights(weight, BO, BI);
  runtime::ProgramBuilder pb(cfg);
  ConvBuffers b;
  b.inp = pb.add_buffer("input", runtime::BufferRole::kInput,
                        uint64_t{prob.batch_groups} * prob.ic_blocks * prob.groups * prob.dram_rows() * prob.in_w *
                            cfg.inp().element_bytes);
  b.wgt = pb.add_constant("weight", std::vector<uint8_t>(wgt.begin(), wgt.end()));
  if (prob.has_bias) {
    // [O/BO][B][BO] int32; with per-channel shifts followed by the shifts in the same layout (a missing
    // bias is zeros).
    std::vector<int32_t> packed = pack_bias(bias ? *bias : Tensor(DType::kInt32, {shape.o}), B, BO);
    if (prob.has_channel_shift) {
      const std::vector<int32_t> shifts =
          pack_bias(Tensor::from_values<int32_t>({shape.o}, params.channel_shift), B, BO);
      packed.insert(packed.end(), shifts.begin(), shifts.end());
    }
    std::vector<uint8_t> bytes(packed.size() * sizeof(int32_t));
    std::memcpy(bytes.data(), packed.data(), bytes.size());
    b.bias = pb.add_constant("bias", std::move(bytes));
  }
  b.out = pb.add_buffer("output", runtime::BufferRole::kOutput,
                        uint64_t{prob.batch_groups} * prob.oc_blocks * prob.groups * prob.out_h * prob.out_w *
                            cfg.out().element_bytes);
  if (prob.has_residual) {
    // The shortcut in the output's packed layout [N/B][O/BO][OH][OW][B][BO] (= INP elements), and one WGT
    // element [BO][BI] with 2^shift_res on the diagonal.
    b.residual = pb.add_buffer("residual", runtime::BufferRole::kInput,
                               uint64_t{prob.batch_groups} * prob.oc_blocks * prob.groups * prob.out_h * prob.out_w *
                                   cfg.inp().element_bytes);
    std::vector<uint8_t> id(cfg.wgt().element_bytes, 0);
    for (uint32_t o = 0; o < BO; ++o) id[size_t{o} * BI + o] = static_cast<uint8_t>(1u << params.residual->shift_res);
    b.residual_wgt = pb.add_constant("residual_weight", std::move(id));
  }
  emit_conv2d(pb, prob, t, b, params.requant, params.residual);
  if (chosen) *chosen = t;
  return pb.finish();
}

}  // namespace detail

CompiledOp compile_conv2d(const isa::HwConfig& cfg, const std::vector<int64_t>& input_shape, const Tensor& weight,
                          const Tensor* bias, const Conv2dParams& params, const LoweringOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  const Conv2dShape shape = check_conv2d(input_shape, weight, bias, params);
  InputRepack repack;
  if (params.groups > 1) {
    // A grouped conv2d runs as its super-groups' dense conv2ds, direct.
    if (options.repack && !options.repack->direct())
      throw Error(fmt::format("conv2d: no host repack for a grouped conv2d (groups={})", params.groups));
    make_conv_problem(shape, params, bias != nullptr, cfg);  // throws when the groups do not tile the blocks
  } else if (options.repack) {
    repack = *options.repack;
  } else if (!options.tiling) {
    repack = choose_repack(shape, params, bias != nullptr, cfg, options.repack_traffic_budget);
  }
  CompiledOp op;
  op.layout.kind = CoreOpKind::kConv2d;
  op.layout.input_shape = input_shape;
  op.layout.output_shape = {shape.n, shape.o, shape.oh, shape.ow};
  op.layout.conv = shape;
  op.layout.params = params;
  op.layout.repack = repack;
  if (repack.direct()) {
    op.program = detail::build_conv2d_program(cfg, shape, params, weight, bias, options.tiling, &op.tiling,
                                              options.tiling_objective);
  } else {
    Conv2dParams core_params;
    const Conv2dShape core_shape = detail::repacked_shape(shape, params, repack, &core_params);
    const Tensor core_weight = detail::repack_weight(weight, shape, params, repack);
    // the repacked layer's tiling moves no more than the repack's budget allows
    const double budget_bytes = options.repack_traffic_budget *
                                static_cast<double>(repack_lower_bound_bytes(shape, params, bias != nullptr));
    const uint64_t max_bytes = budget_bytes < 1.8e19 ? static_cast<uint64_t>(budget_bytes)
                                                     : std::numeric_limits<uint64_t>::max();
    op.program = detail::build_conv2d_program(cfg, core_shape, core_params, core_weight, bias, options.tiling,
                                              &op.tiling, options.tiling_objective, max_bytes);
  }
  op.tiling.repack = repack;
  op.compile_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return op;
}

OpRun conv2d(runtime::Session& session, const Tensor& input, const Tensor& weight, const Tensor* bias,
             const Conv2dParams& params, const LoweringOptions& options) {
  check_conv2d(input, weight, bias, params);
  const CompiledOp op = compile_conv2d(session.config(), input.shape(), weight, bias, params, options);
  const Tensor* inputs[] = {&input};
  return run_compiled(session, op, inputs);
}

}  // namespace vta::compiler
