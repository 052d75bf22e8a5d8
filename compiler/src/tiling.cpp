#include "vta/compiler/tiling.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "conv_lowering.h"
#include "isa_limits.h"
#include "vta/isa/error.h"

namespace vta::compiler {

namespace detail {

uint64_t real_extent(uint32_t o0, uint32_t t, uint32_t stride, uint32_t pad, uint32_t k, uint32_t in) {
  const int64_t start = int64_t{o0} * stride - pad;
  const int64_t end = int64_t{o0 + t - 1} * stride - pad + k;
  const int64_t lo = std::max<int64_t>(start, 0), hi = std::min<int64_t>(end, in);
  return hi > lo ? static_cast<uint64_t>(hi - lo) : 0;
}

}  // namespace detail
namespace {

constexpr uint64_t kMaxLoopExtent = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
constexpr uint64_t kMaxSize = detail::kMaxDim;
constexpr uint64_t kInsnBytes = isa::FixedFieldWidths::kInstructionBits / 8;

using detail::cdiv;

// Distinct tile sizes worth trying along a dimension of `d`: ceil(d / n) for every tile count n.
std::vector<uint32_t> tile_candidates(uint32_t d) {
  std::vector<uint32_t> out;
  for (uint32_t n = 1; n <= d; ++n) {
    const uint32_t t = cdiv(d, n);
    if (out.empty() || out.back() != t) out.push_back(t);
  }
  return out;
}

// Sum of real_extent over the tiles of an output dimension.
uint64_t sum_real(uint32_t out, uint32_t t, uint32_t stride, uint32_t pad, uint32_t k, uint32_t in) {
  uint64_t s = 0;
  for (uint32_t o0 = 0; o0 < out; o0 += t) s += detail::real_extent(o0, std::min(t, out - o0), stride, pad, k, in);
  return s;
}

}  // namespace

const char* to_string(LoopOrder o) { return o == LoopOrder::kOcOuter ? "oc_outer" : "spatial_outer"; }

const char* to_string(WeightMode m) {
  switch (m) {
    case WeightMode::kSlice: return "slice";
    case WeightMode::kOcTile: return "oc_tile";
    case WeightMode::kAll: return "all";
  }
  return "?";
}

Conv2dTiling parse_tiling(const std::string& spec) {
  Conv2dTiling t;
  const auto fail = [&](const std::string& why) { throw Error(fmt::format("tiling '{}': {}", spec, why)); };
  size_t pos = 0;
  while (pos <= spec.size()) {
    const size_t comma = std::min(spec.find(',', pos), spec.size());
    const std::string pair = spec.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t eq = pair.find('=');
    if (eq == std::string::npos) fail(fmt::format("'{}' is not key=value", pair));
    const std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    const auto number = [&]() -> uint32_t {
      uint32_t v = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size() || v == 0)
        fail(fmt::format("{} must be a positive integer, not '{}'", key, value));
      return v;
    };
    const auto flag = [&]() -> bool {
      if (value != "0" && value != "1") fail(fmt::format("{} must be 0 or 1, not '{}'", key, value));
      return value == "1";
    };
    if (key == "oc") t.oc_blocks = number();
    else if (key == "rows") t.out_rows = number();
    else if (key == "cols") t.out_cols = number();
    else if (key == "ic") t.ic_blocks = number();
    else if (key == "pieces") t.first_pieces = number();
    else if (key == "resident") t.inp_resident = flag();
    else if (key == "split") t.split_last = flag();
    else if (key == "buffers") {
      t.weight_buffers = number();
      if (t.weight_buffers > 2) fail("buffers must be 1 or 2");
    } else if (key == "order") {
      if (value == to_string(LoopOrder::kOcOuter)) t.order = LoopOrder::kOcOuter;
      else if (value == to_string(LoopOrder::kSpatialOuter)) t.order = LoopOrder::kSpatialOuter;
      else fail(fmt::format("order must be oc_outer or spatial_outer, not '{}'", value));
    } else if (key == "weights") {
      bool found = false;
      for (WeightMode m : {WeightMode::kSlice, WeightMode::kOcTile, WeightMode::kAll})
        if (value == to_string(m)) t.weight_mode = m, found = true;
      if (!found) fail(fmt::format("weights must be slice, oc_tile or all, not '{}'", value));
    } else {
      fail(fmt::format("unknown key '{}' (oc, rows, cols, ic, order, weights, buffers, pieces, split, resident)", key));
    }
    if (comma == spec.size()) break;
  }
  return t;
}

std::string InputRepack::to_string() const {
  if (direct()) return "direct";
  std::string s = space_to_depth > 1 ? fmt::format("s2d{}", space_to_depth) : "";
  if (fold_kx || fold_ky) {
    if (!s.empty()) s += "+";
    s += fmt::format("fold(ic{}{})", fold_ky ? ",ky" : "", fold_kx ? ",kx" : "");
  }
  return s;
}

std::string Conv2dTiling::to_string() const {
  return fmt::format(
      "{}tile oc {} blk x rows {} x cols {}, ic step {} blk, order {}, weights {}{}{}; predicted DRAM {} B "
      "(inp {}, wgt {}, acc {}, out {}; {:.3f}x the lower bound {}), {} output tiles, {} steps, "
      "GEMM kernel {} uops{}",
      repack.direct() ? std::string() : "input repack " + repack.to_string() + "; ", oc_blocks, out_rows, out_cols,
      ic_blocks, compiler::to_string(order), compiler::to_string(weight_mode),
      single_weight_buffer() ? " (single buffer)" : "",
      fmt::format("{}{}{}", first_pieces > 1 ? fmt::format(", first step in {} pieces", first_pieces) : std::string(),
                  split_last ? ", last tile split in two" : "", inp_resident ? ", input resident" : ""), cost.total_bytes(), cost.inp_bytes, cost.wgt_bytes, cost.acc_bytes, cost.out_bytes,
      cost.lower_bound_bytes ? static_cast<double>(cost.total_bytes()) / static_cast<double>(cost.lower_bound_bytes)
                             : 0.0,
      cost.lower_bound_bytes, cost.output_tiles, cost.steps, cost.gemm_kernel_uops,
      cost.estimated_cycles > 0 ? fmt::format(", estimated {:.0f} cycles", cost.estimated_cycles) : std::string());
}

nlohmann::json Conv2dTiling::to_json() const {
  return {{"repack", repack.to_string()},
          {"oc_blocks", oc_blocks},
          {"out_rows", out_rows},
          {"out_cols", out_cols},
          {"ic_blocks", ic_blocks},
          {"order", compiler::to_string(order)},
          {"weight_mode", compiler::to_string(weight_mode)},
          {"weight_buffers", single_weight_buffer() ? 1 : 2},
          {"first_pieces", first_pieces},
          {"split_last", split_last},
          {"inp_resident", inp_resident},
          {"predicted",
           {{"inp_bytes", cost.inp_bytes},
            {"wgt_bytes", cost.wgt_bytes},
            {"acc_bytes", cost.acc_bytes},
            {"out_bytes", cost.out_bytes},
            {"total_bytes", cost.total_bytes()},
            {"lower_bound_bytes", cost.lower_bound_bytes},
            {"output_tiles", cost.output_tiles},
            {"steps", cost.steps},
            {"gemm_kernel_uops", cost.gemm_kernel_uops},
            {"estimated_cycles", cost.estimated_cycles}}}};
}

uint32_t gemm_inner_axis(uint32_t oc_blocks, uint32_t rows, uint32_t cols) {
  // A GEMM micro-op waits in S1 while either of the two ahead of it still has to write its accumulator
  // (docs/hardware.md, Microarchitecture), so an inner extent of two alternates into a stall every
  // other micro-op: the smallest extent that reaches kGemmHazardFreeExtent keeps the kernel short and
  // stall-free; oc first, then columns, then rows on ties. Without one, the longest extent >= 2.
  const std::array<uint32_t, 3> ext = {oc_blocks, rows, cols};
  const std::array<uint32_t, 3> pref = {0, 2, 1};
  uint32_t best = 2;  // columns when every extent is 1
  uint32_t best_ext = 0;
  const auto better = [&](uint32_t e) {
    if (e < 2) return false;
    if (best_ext == 0) return true;
    const bool free = e >= kGemmHazardFreeExtent, best_free = best_ext >= kGemmHazardFreeExtent;
    if (free != best_free) return free;
    return free ? e < best_ext : e > best_ext;
  };
  for (uint32_t a : pref) {
    if (better(ext[a])) {
      best = a;
      best_ext = ext[a];
    }
  }
  return best;
}

uint32_t resident_constant_elements(const ConvProblem& p, const isa::HwConfig& cfg) {
  const uint64_t n = uint64_t{p.acc_vectors()} * p.oc_blocks * p.groups;
  return n <= cfg.acc().depth / 8 ? static_cast<uint32_t>(n) : 0;
}

std::array<std::pair<uint32_t, uint32_t>, 2> resident_constant_ranges(const ConvProblem& p, const Conv2dTiling& t) {
  const uint64_t n_oc = cdiv(p.oc_blocks, t.oc_blocks);
  const uint64_t per_ot = uint64_t{p.batch_groups} * cdiv(p.out_h, t.out_rows) * cdiv(p.out_w, t.out_cols);
  const uint64_t grid = uint64_t{p.groups} * n_oc * per_ot;
  // a split last tile is one tile more, with the last one's blocks
  const uint64_t n = grid + (detail::split_last_tile(p, t) ? 1 : 0);
  std::array<std::pair<uint32_t, uint32_t>, 2> r{};
  for (uint64_t h = 0; h < 2 && h < n; ++h) {
    if (t.order != LoopOrder::kOcOuter) {
      r[h] = {0, p.oc_blocks * p.groups};
      continue;
    }
    // tile i: super-group and oc tile k = i / per_ot, blocks from g * OB + ot * oc_blocks (non-decreasing in i)
    const auto blocks = [&](uint64_t i) {
      const uint64_t k = std::min(i, grid - 1) / per_ot, g = k / n_oc, ot = k % n_oc;
      const auto b0 = static_cast<uint32_t>(g * p.oc_blocks + ot * t.oc_blocks);
      return std::pair<uint32_t, uint32_t>{b0, b0 + std::min<uint32_t>(t.oc_blocks, p.oc_blocks - static_cast<uint32_t>(ot) * t.oc_blocks)};
    };
    const uint64_t last = (n - 1) % 2 == h ? n - 1 : n - 2;
    r[h] = {blocks(h).first, blocks(last).second};
  }
  return r;
}

TileFootprint footprint(const ConvProblem& p, const Conv2dTiling& t) {
  const uint64_t kk = uint64_t{p.kernel_h} * p.kernel_w;
  TileFootprint f;
  f.inp = uint64_t{t.ic_blocks} * (uint64_t{t.out_rows - 1} * p.stride_h + p.kernel_h) *
          (uint64_t{t.out_cols - 1} * p.stride_w + p.kernel_w);
  switch (t.weight_mode) {
    case WeightMode::kSlice: f.wgt = uint64_t{t.oc_blocks} * t.ic_blocks * kk; break;
    case WeightMode::kOcTile: f.wgt = uint64_t{t.oc_blocks} * p.ic_blocks * kk; break;
    case WeightMode::kAll: f.wgt = uint64_t{p.oc_blocks} * p.ic_blocks * kk; break;
  }
  if (p.has_residual) {
    // The residual tile follows the input tile in each INP half; the identity element takes the last WGT
    // element, so each weight unit (half or whole buffer) has one element less.
    f.residual = uint64_t{t.oc_blocks} * t.out_rows * t.out_cols;
    f.inp += f.residual;
    f.wgt += 1;
  }
  f.acc = uint64_t{t.oc_blocks} * t.out_rows * t.out_cols;
  if (p.resident_constants == 0) f.acc += uint64_t{t.oc_blocks} * p.acc_vectors();
  // Largest GEMM kernel over the full and edge tile shapes.
  // output-channel blocks of a kernel: a whole tile's, the last oc tile's, and a first-step piece's
  // (first_pieces split the first tile's blocks into pieces of the floor or ceiling of their share)
  const uint32_t first_tob = std::min(t.oc_blocks, p.oc_blocks), pieces = std::max(1u, std::min(t.first_pieces, first_tob));
  const std::array<uint32_t, 4> obs = {t.oc_blocks, p.oc_blocks % t.oc_blocks ? p.oc_blocks % t.oc_blocks : t.oc_blocks,
                                       std::max(1u, first_tob / pieces), cdiv(first_tob, pieces)};
  const std::array<uint32_t, 2> rs = {t.out_rows, p.out_h % t.out_rows ? p.out_h % t.out_rows : t.out_rows};
  const std::array<uint32_t, 2> cs = {t.out_cols, p.out_w % t.out_cols ? p.out_w % t.out_cols : t.out_cols};
  for (uint32_t o : obs)
    for (uint32_t r : rs)
      for (uint32_t c : cs) {
        const uint32_t axis = gemm_inner_axis(o, r, c);
        const uint32_t e = axis == 0 ? o : axis == 1 ? r : c;
        f.uops = std::max<uint64_t>(f.uops, uint64_t{t.ic_blocks} * kk * e);
      }
  return f;
}

std::string check_tiling(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t) {
  if (t.oc_blocks < 1 || t.oc_blocks > p.oc_blocks) return fmt::format("oc_blocks {} not in [1, {}]", t.oc_blocks, p.oc_blocks);
  if (t.ic_blocks < 1 || t.ic_blocks > p.ic_blocks) return fmt::format("ic_blocks {} not in [1, {}]", t.ic_blocks, p.ic_blocks);
  if (t.out_rows < 1 || t.out_rows > p.out_h) return fmt::format("out_rows {} not in [1, {}]", t.out_rows, p.out_h);
  if (t.out_cols < 1 || t.out_cols > p.out_w) return fmt::format("out_cols {} not in [1, {}]", t.out_cols, p.out_w);
  const TileFootprint f = footprint(p, t);
  if (t.inp_resident) {
    const uint64_t n_ic = cdiv(p.ic_blocks, t.ic_blocks);
    if (p.has_residual) return "inp_resident needs no fused residual (its tiles use INP regions too)";
    const uint64_t n_sp = uint64_t{cdiv(p.out_h, t.out_rows)} * cdiv(p.out_w, t.out_cols) * p.batch_groups;
    if (t.order == LoopOrder::kOcOuter && n_sp != 1)
      return "inp_resident in oc_outer order needs one spatial tile (else each oc tile reloads every unit)";
    if (t.split_last) return "inp_resident and split_last do not go together";
    if (f.inp * n_ic > cfg.inp().depth)
      return fmt::format("resident input needs {} x {} inp elements, the buffer holds {}", n_ic, f.inp, cfg.inp().depth);
  } else if (f.inp > cfg.inp().depth / 2) {
    return fmt::format("input tile needs {} inp elements, half the buffer holds {}", f.inp, cfg.inp().depth / 2);
  }
  if (t.weight_buffers != 1 && t.weight_buffers != 2) return fmt::format("weight_buffers {} not 1 or 2", t.weight_buffers);
  const uint64_t wgt_cap = t.single_weight_buffer() ? cfg.wgt().depth : cfg.wgt().depth / 2;
  if (f.wgt > wgt_cap) return fmt::format("weight tile needs {} wgt elements, the buffer holds {}", f.wgt, wgt_cap);
  if (p.resident_constants > cfg.acc().depth / 2)
    return fmt::format("{} resident constants exceed half the acc buffer", p.resident_constants);
  const uint64_t acc_cap = cfg.acc().depth / 2 - p.resident_constants;
  if (f.acc > acc_cap) {
    return fmt::format("output tile needs {} acc elements, half the buffer{} holds {}", f.acc,
                       p.resident_constants ? " beside the resident constants" : "", acc_cap);
  }
  if (f.uops > cfg.uop().depth / 4)
    return fmt::format("GEMM kernel needs {} micro-ops, the budget is {}", f.uops, cfg.uop().depth / 4);
  const uint64_t kk = uint64_t{p.kernel_h} * p.kernel_w;
  const uint64_t wgt_row = (t.weight_mode == WeightMode::kSlice ? t.ic_blocks : p.ic_blocks) * kk;
  if (wgt_row > kMaxSize) return "weight rows exceed the 16-bit LOAD x_size";
  if (uint64_t{t.out_rows} * t.out_cols > kMaxLoopExtent || t.oc_blocks > kMaxLoopExtent)
    return "tile exceeds the 14-bit loop extent";
  if (t.first_pieces < 1) return "first_pieces must be at least 1";
  if (t.first_pieces > 1) {
    // pieces of a weight slice, in a step that is not its tile's last (whose GEMM may be split otherwise)
    const bool rolling = t.weight_mode == WeightMode::kOcTile && t.single_weight_buffer();
    if (!(rolling || t.weight_mode == WeightMode::kSlice) || cdiv(p.ic_blocks, t.ic_blocks) < 2)
      return "first_pieces > 1 needs weight slices (slice or rolling oc_tile) and two or more ic steps";
    if (t.first_pieces > t.oc_blocks)
      return fmt::format("first_pieces {} exceed the tile's {} oc blocks", t.first_pieces, t.oc_blocks);
  }
  if (t.split_last && detail::last_tile_split_axis(p, t) == detail::SplitAxis::kNone)
    return "split_last needs weights that stay on chip for a tile (rolling oc_tile or all), no fused residual, a "
           "last tile that loads its own input, and two or more rows (columns) in it under a kernel no taller (wider) "
           "than its stride";
  return {};
}

Conv2dCost estimate_cost(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t) {
  Conv2dCost c;
  const uint64_t kk = uint64_t{p.kernel_h} * p.kernel_w;
  const uint64_t n_oc = cdiv(p.oc_blocks, t.oc_blocks), n_h = cdiv(p.out_h, t.out_rows),
                 n_w = cdiv(p.out_w, t.out_cols), n_ic = cdiv(p.ic_blocks, t.ic_blocks);
  const uint64_t nb = p.batch_groups, n_sp = n_h * n_w;
  const uint64_t inp_eb = cfg.inp().element_bytes, wgt_eb = cfg.wgt().element_bytes,
                 acc_eb = cfg.acc().element_bytes, out_eb = cfg.out().element_bytes;

  const uint64_t rows = sum_real(p.out_h, t.out_rows, p.stride_h, p.pad_top, p.kernel_h, p.in_h);
  const uint64_t cols = sum_real(p.out_w, t.out_cols, p.stride_w, p.pad_left, p.kernel_w, p.in_w);
  const uint64_t inp_once = nb * p.ic_blocks * rows * cols * inp_eb;
  // The input unit (batch group, spatial tile, ic step) is reused only by consecutive steps, or, resident,
  // by every oc tile of its spatial tile.
  bool inp_reused;
  if (t.order == LoopOrder::kSpatialOuter) inp_reused = n_ic == 1 || t.inp_resident;
  else inp_reused = nb * n_sp * n_ic == 1 || (t.inp_resident && nb * n_sp == 1);
  c.inp_bytes = inp_reused ? inp_once : inp_once * n_oc;

  const uint64_t w_once = uint64_t{p.oc_blocks} * p.ic_blocks * kk * wgt_eb;
  bool wgt_once;
  switch (t.weight_mode) {
    case WeightMode::kAll: wgt_once = true; break;
    case WeightMode::kOcTile: wgt_once = t.order == LoopOrder::kOcOuter || n_oc == 1; break;
    default:
      wgt_once = t.order == LoopOrder::kOcOuter ? n_ic == 1 : (n_oc == 1 && n_ic == 1);
      break;
  }
  c.wgt_bytes = wgt_once ? w_once : w_once * nb * n_sp;
  // ACC vectors per oc block: the bias, and the per-channel shifts when present.
  const uint64_t acc_vectors = p.acc_vectors();
  // resident constants: a copy in each ACC half when tiles use both (see ConvProblem::resident_constants)
  c.acc_bytes = p.resident_constants ? 0 : nb * n_sp * p.oc_blocks * acc_vectors * acc_eb;
  c.out_bytes = nb * p.oc_blocks * p.out_h * p.out_w * out_eb;
  c.lower_bound_bytes = nb * p.ic_blocks * p.dram_rows() * p.in_w * inp_eb + w_once + c.out_bytes +
                        p.oc_blocks * acc_vectors * acc_eb;
  if (p.has_residual) {
    // Every residual element once (INP elements, the output's layout) and the identity WGT element.
    const uint64_t res = nb * p.oc_blocks * p.out_h * p.out_w * inp_eb;
    c.inp_bytes += res;
    c.wgt_bytes += wgt_eb;
    c.lower_bound_bytes += res + wgt_eb;
  }
  c.output_tiles = n_oc * nb * n_sp;
  c.steps = c.output_tiles * n_ic;
  // Super-groups of a grouped conv2d: the same traffic once per super-group (the identity element of a
  // fused residual is loaded once).
  if (p.groups > 1) {
    const uint64_t g = p.groups, id = p.has_residual ? wgt_eb : 0;
    c.inp_bytes *= g;
    c.wgt_bytes = (c.wgt_bytes - id) * g + id;
    c.acc_bytes *= g;
    c.out_bytes *= g;
    c.lower_bound_bytes = (c.lower_bound_bytes - id) * g + id;
    c.output_tiles *= g;
    c.steps *= g;
  }
  if (detail::split_last_tile(p, t)) {  // the last tile's halves: one tile, and its steps, more
    c.output_tiles += 1;
    c.steps += n_ic;
  }
  if (p.resident_constants) {
    const auto ranges = resident_constant_ranges(p, t);
    for (uint32_t half = 0; half < 2; ++half) {
      if (half == 1 && second_half_constants_copied(ranges)) continue;  // copied on chip from half 0
      c.acc_bytes += uint64_t{ranges[half].second - ranges[half].first} * acc_vectors * acc_eb;
    }
  }
  const TileFootprint fp = footprint(p, t);
  c.gemm_kernel_uops = static_cast<uint32_t>(fp.uops);
  // Instructions cost DRAM bytes too (16 B each): per step, the input loads, a weight load and the
  // GEMM; per output tile, bias load, reset, four ALU ops and the store(s).
  uint64_t insns = c.steps * (t.ic_blocks + 2) + c.output_tiles * (8 + t.oc_blocks);
  // A fused residual: its load(s), the GEMM and up to five ALU instructions per output tile.
  if (p.has_residual) insns += c.output_tiles * (6 + (t.out_cols == p.out_w ? 1 : t.oc_blocks));
  const uint64_t unit = fp.wgt * wgt_eb;
  // An oc-tile unit is one LOAD per ic slice (slice-major on chip), whether it rolls in slice by slice
  // (single-buffered, plan_conv_steps) or loads whole.
  if (t.weight_mode == WeightMode::kOcTile && unit != 0) insns += c.wgt_bytes / unit * (n_ic - 1);
  c.score = static_cast<double>(c.total_bytes() + insns * kInsnBytes);
  // A single buffer of weight slices serializes every slice load after the first behind the compute of
  // the previous step (whether or not the tensor is loaded only once): the core waits for those bytes,
  // so they count twice. (Rolling oc-tile units overlap the previous unit's steps.)
  if (t.weight_mode == WeightMode::kSlice && t.weight_buffers == 1) {
    if (c.wgt_bytes > unit) c.score += static_cast<double>(c.wgt_bytes - unit);
  }
  // The first weight unit and input tile load before anything computes: the core waits for them too, as
  // far as there is compute to wait (a layer with little of it is bound by its bytes either way). A
  // rolling unit's first GEMM waits for one slice only, but counting the whole unit keeps the model from
  // trading it for many small output tiles, whose per-tile work it does not count (ResNet-18 C10 on tsim:
  // 36k cycles with the whole unit counted, 68k with one slice).
  const uint64_t gemm_cycles = nb * p.oc_blocks * p.out_h * p.out_w * p.ic_blocks * kk * p.groups;
  const uint64_t bytes_per_cycle = std::max<uint32_t>(1, cfg.timing().dram_bytes_per_cycle);
  c.score += static_cast<double>(std::min<uint64_t>(unit + fp.inp * inp_eb, gemm_cycles * bytes_per_cycle));
  // Each output tile's requantization (ALU) overlaps the next tile's GEMMs on the core (they are in
  // different ACC halves), but the last tile's comes after all GEMMs: counted as one cycle per row and
  // ALU instruction (bias, shift, min, max), which favours several output tiles over one or two big ones
  // when the layer has little compute per output row.
  const uint64_t alu_ops = p.acc_vectors() + 3;
  c.score += static_cast<double>(fp.acc * alu_ops * bytes_per_cycle);
  return c;
}

Conv2dTiling choose_tiling(const ConvProblem& p, const isa::HwConfig& cfg, TilingObjective objective,
                           uint64_t max_bytes) {
  std::vector<Conv2dTiling> all;
  std::string last_reason;
  for (uint32_t ob : tile_candidates(p.oc_blocks))
    for (uint32_t ib : tile_candidates(p.ic_blocks))
      for (uint32_t th : tile_candidates(p.out_h))
        for (uint32_t tw : tile_candidates(p.out_w))
          for (LoopOrder order : {LoopOrder::kOcOuter, LoopOrder::kSpatialOuter})
            for (WeightMode mode : {WeightMode::kSlice, WeightMode::kOcTile, WeightMode::kAll})
              for (uint32_t wbufs : {2u, 1u}) {
                if (mode == WeightMode::kAll && wbufs == 1) continue;
                Conv2dTiling t;
                t.weight_buffers = wbufs;
                t.oc_blocks = ob;
                t.ic_blocks = ib;
                t.out_rows = th;
                t.out_cols = tw;
                t.order = order;
                t.weight_mode = mode;
                const std::string why = check_tiling(p, cfg, t);
                if (!why.empty()) {
                  last_reason = why;
                  continue;
                }
                t.cost = estimate_cost(p, cfg, t);
                all.push_back(t);
                // With the input resident for every oc tile where that saves its reloads; also with one
                // block more a tile (as many tiles, a smaller last one: less to requantize and store after
                // the last GEMM).
                if (order != LoopOrder::kOcOuter || cdiv(p.oc_blocks, ob) < 2 || cdiv(p.ic_blocks, ib) < 2) continue;
                for (uint32_t ob2 : {ob, ob + 1}) {
                  if (ob2 > p.oc_blocks || cdiv(p.oc_blocks, ob2) != cdiv(p.oc_blocks, ob)) continue;
                  Conv2dTiling r = t;
                  r.oc_blocks = ob2;
                  r.inp_resident = true;
                  if (!check_tiling(p, cfg, r).empty()) continue;
                  r.cost = estimate_cost(p, cfg, r);
                  if (r.cost.inp_bytes < t.cost.inp_bytes) all.push_back(r);
                }
              }
  if (all.empty()) {
    throw Error(fmt::format("conv2d: no tiling fits config {} (kernel {}x{}, stride {}x{}): even the smallest "
                            "tile fails: {}",
                            cfg.name(), p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, last_reason));
  }
  const auto over_budget = [](const Conv2dCost& c) {
    return static_cast<double>(c.total_bytes()) > kLayerTrafficBudget * static_cast<double>(c.lower_bound_bytes);
  };
  // within the traffic budget first, then by score (stable: the enumeration order breaks ties)
  std::stable_sort(all.begin(), all.end(), [&](const Conv2dTiling& a, const Conv2dTiling& b) {
    const bool ao = over_budget(a.cost), bo = over_budget(b.cost);
    if (ao != bo) return !ao;
    return a.cost.score < b.cost.score;
  });
  // The score counts bytes and a few stalls; the time estimate walks the program's steps (first loads,
  // slots, tokens, the stores' share of the DRAM, the last tile's tail) and picks among the best by score
  // in the same budget class (ResNet-18 C7 on tlm: 30,987 -> 29,765 cycles). The estimate is coarse: a
  // tiling with more bytes replaces one with fewer only when it is clearly faster.
  constexpr double kTimeMargin = 0.002;
  // A tiling's estimated time with its first step in the pieces that make it fastest (docs/compiler.md:
  // the first GEMM waits for a piece of the first weight slice); sets t.first_pieces. Pieces shave the
  // layer's start only, so a tiling more than kPiecesReach slower than `to_beat` in one piece is not
  // tried in more (the search's time stays near what it was without pieces).
  constexpr double kPiecesReach = 0.01;
  // The same for a split last tile (Conv2dTiling::split_last), which shortens the layer's end only.
  const auto timed_with_pieces = [&](Conv2dTiling& t, double to_beat) {
    const uint32_t before = t.first_pieces;
    const bool split_before = t.split_last;
    t.first_pieces = 1;
    t.split_last = false;
    double best_t = detail::estimate_conv_cycles(p, cfg, t);
    if (best_t > to_beat * (1 + kPiecesReach)) {
      if (before != 1 || split_before) t.cost = estimate_cost(p, cfg, t);
      return best_t;
    }
    Conv2dTiling cand = t;
    for (uint32_t pieces : {2u, 4u, 8u}) {
      if (cdiv(p.ic_blocks, t.ic_blocks) < 2) break;
      cand.first_pieces = pieces;
      if (!check_tiling(p, cfg, cand).empty()) continue;
      const double time = detail::estimate_conv_cycles(p, cfg, cand);
      if (time < best_t * (1 - kTimeMargin)) {
        best_t = time;
        t.first_pieces = pieces;
      }
    }
    cand = t;
    cand.split_last = true;
    if (check_tiling(p, cfg, cand).empty()) {
      const double time = detail::estimate_conv_cycles(p, cfg, cand);
      if (time < best_t * (1 - kTimeMargin)) {
        best_t = time;
        t.split_last = true;
      }
    }
    // its largest kernel may be a piece's; a split adds a tile
    if (t.first_pieces != before || t.split_last != split_before) t.cost = estimate_cost(p, cfg, t);
    return best_t;
  };
  Conv2dTiling best = all.front();
  if (objective == TilingObjective::kTime) {
    double best_time = timed_with_pieces(best, std::numeric_limits<double>::infinity());
    const double bytes_per_cycle = std::max<uint32_t>(1, cfg.timing().dram_bytes_per_cycle);
    for (size_t i = 1; i < all.size() && i < kTimedCandidates; ++i) {
      if (over_budget(all[i].cost) != over_budget(best.cost)) break;
      if (all[i].cost.total_bytes() > max_bytes) continue;
      // the estimate is never below the DRAM time of the bytes: skip what cannot win
      if (static_cast<double>(all[i].cost.total_bytes()) / bytes_per_cycle >= best_time * (1 - kTimeMargin)) continue;
      Conv2dTiling cand = all[i];
      const double time = timed_with_pieces(cand, best_time);
      if (time < best_time * (1 - kTimeMargin)) {
        best_time = time;
        best = cand;
      }
    }
  }
  // Weights that are loaded whole (double-buffered oc-tile units; the whole tensor once, in oc_outer
  // order) roll in by ic slices instead when there are two or more: the same tiles and bytes, the first
  // GEMM waits for one slice rather than the unit or tensor, and each reload still overlaps the previous
  // unit's last steps (ResNet-18 on tsim: C3 254k -> 248k cycles, C2 492k -> 489k, C5 490k -> 474k; with
  // a slice one LOAD instead of one per output-channel block, C7's two slices 33.2k -> 32.6k). The score
  // above counts the whole unit either way.
  const bool whole = (best.weight_mode == WeightMode::kOcTile && best.weight_buffers == 2) ||
                     (best.weight_mode == WeightMode::kAll && best.order == LoopOrder::kOcOuter);
  if (whole && cdiv(p.ic_blocks, best.ic_blocks) >= 2) {
    Conv2dTiling rolling = best;
    rolling.weight_mode = WeightMode::kOcTile;
    rolling.weight_buffers = 1;
    if (check_tiling(p, cfg, rolling).empty()) {
      rolling.cost = estimate_cost(p, cfg, rolling);
      if (rolling.cost.total_bytes() == best.cost.total_bytes()) best = rolling;
    }
  }
  // (after the rolling conversion, which may make the first step's weights a slice)
  const double estimated = objective == TilingObjective::kTime
                               ? timed_with_pieces(best, std::numeric_limits<double>::infinity())
                               : detail::estimate_conv_cycles(p, cfg, best);
  best.cost.estimated_cycles = estimated;
  return best;
}

}  // namespace vta::compiler
