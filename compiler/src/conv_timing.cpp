// A step-level timing estimate of a conv2d tiling: the program's step plan (plan_conv_steps) walked
// through the core's units as the lowering will emit it. See conv_lowering.h.
#include <algorithm>
#include <array>
#include <deque>
#include <set>
#include <vector>

#include "conv_lowering.h"
#include "vta/compiler/tiling.h"

namespace vta::compiler::detail {

namespace {

// What a GEMM instruction costs beyond its micro-ops (decode, the pipeline's drain): measured on tsim.
constexpr double kGemmOverhead = 7;
// ALU passes take two rows of a bank word a cycle.
constexpr double kAluRowsPerCycle = 2;
constexpr double kInsnBytes = 16;
// The compute module's front end issues an ALU instruction in about this many cycles (tsim), in program
// order with the GEMMs.
constexpr double kAluIssue = 8;

// The DRAM's busy time as disjoint intervals: a transfer asked for at r takes the first d free cycles
// after r (bursts interleave), whether the load module or the store asked first in program order.
class DramCalendar {
 public:
  double reserve(double r, double d) {
    size_t i = static_cast<size_t>(
        std::lower_bound(busy_.begin(), busy_.end(), r, [](const auto& iv, double x) { return iv.second <= x; }) -
        busy_.begin());
    const size_t first = i;
    double t = r;
    while (d > 0) {
      const double gap_end = i < busy_.size() ? busy_[i].first : t + d;
      if (gap_end > t) {  // the free time before interval i (or after the last)
        const double take = std::min(d, gap_end - t);
        busy_.insert(busy_.begin() + static_cast<std::ptrdiff_t>(i), {t, t + take});
        ++i;
        t += take;
        d -= take;
        continue;
      }
      t = std::max(t, busy_[i].second);
      ++i;
    }
    // join what touches around the intervals just written
    size_t k = first > 0 ? first - 1 : 0;
    while (k + 1 < busy_.size() && k <= i) {
      if (busy_[k + 1].first <= busy_[k].second) {
        busy_[k].second = std::max(busy_[k].second, busy_[k + 1].second);
        busy_.erase(busy_.begin() + static_cast<std::ptrdiff_t>(k) + 1);
        --i;
      } else {
        ++k;
      }
    }
    return t;
  }

 private:
  std::vector<std::pair<double, double>> busy_;
};

}  // namespace

double estimate_conv_cycles(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t) {
  const ConvSlots slots = conv_slots(p, cfg, t);
  const std::vector<ConvStep> steps = plan_conv_steps(p, t, slots);
  if (steps.empty()) return 0;
  const double bw = std::max<uint32_t>(1, cfg.timing().dram_bytes_per_cycle);
  const double lat = cfg.timing().dram_latency_cycles;
  const auto inp_eb = static_cast<double>(cfg.inp().element_bytes), wgt_eb = static_cast<double>(cfg.wgt().element_bytes),
             out_eb = static_cast<double>(cfg.out().element_bytes), acc_eb = static_cast<double>(cfg.acc().element_bytes);
  const uint32_t kk = p.kernel_h * p.kernel_w, IB = p.ic_blocks, OB = p.oc_blocks;
  // (bias,) shift (by a vector or not), min, max
  const double alu_passes = (p.has_bias ? 1 : 0) + (p.requantize ? 3 : 0);

  // The micro-op kernels and the resident constants come before the first GEMM can run.
  // Every GEMM kernel of the program is loaded before the first GEMM (the runtime's kernel cache loads
  // them together when they fit the UOP buffer): one per tile shape and slot triple (the buffer
  // addresses are in the micro-ops), each ic-step blocks x taps x the kernel axis' extent micro-ops.
  double uops = 0;
  {
    std::set<std::array<uint32_t, 8>> kernels;
    for (const ConvStep& s : steps) {
      const uint32_t tob = std::min(t.oc_blocks, OB - s.ot * t.oc_blocks);
      const uint32_t th = s.th, tw = s.tw;
      const uint32_t tib = std::min(t.ic_blocks, IB - s.it * t.ic_blocks);
      // where the step's weights start: the slot of a slice, the ic slice of an oc-tile unit, the
      // (oc tile, ic step) block of the whole tensor
      const uint32_t wgt_at = t.weight_mode == WeightMode::kSlice    ? s.wgt_slot
                              : t.weight_mode == WeightMode::kOcTile ? (s.wgt_slot << 16) + s.it
                                                                     : (s.ot << 16) + s.it;
      const uint32_t sob = s.oc_blocks(tob);  // a piece's output-channel blocks
      if (!kernels.insert({tob, th, tw, tib, s.inp_slot, wgt_at, s.tile % slots.acc, s.oc_lo}).second) continue;
      const uint32_t axis = gemm_inner_axis(sob, th, tw);
      uops += double(tib) * kk * (axis == 0 ? sob : axis == 1 ? th : tw);
    }
  }
  const double consts = p.resident_constants ? double(OB) * p.acc_vectors() * acc_eb : 0;
  double gemm_free = 0;
  double load_free = 0, store_free = 0, alu_free = 0;
  std::array<double, 2> loads_done = {0, 0};  // the last two LOADs' data in, older first
  double front = 0;  // the compute module's front end is free to issue the next instruction
  DramCalendar dram;
  // the micro-ops and the resident constants, from the start, share the DRAM with the first loads
  gemm_free = dram.reserve(0, (uops * 4 + consts) / bw) + lat;
  double total_bytes = consts + uops * 4;
  std::deque<double> tokens;  // compute -> load, in push order
  std::vector<double> region_free(slots.acc, 0);  // per ACC region: its last store done
  double end = 0;
  const uint32_t n_tiles = steps.back().tile + 1;
  const TileZeroing zeroing = tile_zeroing(p, cfg, t, slots, p.has_bias && p.resident_constants == 0);
  const bool zeroed_on_alu = zeroing.before_last_step || zeroing.within_last_step;
  double next_zeroed_at = 0;  // the next tile's zeroing on the ALU engine done
  // a tile's accumulators (output-channel blocks x plane)
  const auto tile_rows = [&](const ConvStep& s) {
    const uint32_t ob0 = s.ot * t.oc_blocks;
    return double(std::min(t.oc_blocks, OB - ob0)) * s.th * s.tw;
  };
  for (size_t k = 0; k < steps.size(); ++k) {
    const ConvStep& s = steps[k];
    const uint32_t ob0 = s.ot * t.oc_blocks, tob = std::min(t.oc_blocks, OB - ob0);
    const uint32_t oh0 = s.oh0, th = s.th, ow0 = s.ow0, tw = s.tw;
    const uint32_t ib0 = s.it * t.ic_blocks, tib = std::min(t.ic_blocks, IB - ib0);
    const double plane = double(th) * tw;
    const uint32_t sob = s.oc_blocks(tob);  // a piece's output-channel blocks
    // the group's LOADs in the order the emitter writes them: weights, input, residual
    double wgt_bytes = 0, inp_bytes = 0, res_bytes = 0;
    if (s.load_inp) {
      inp_bytes = double(tib) * inp_eb *
                  double(real_extent(oh0, th, p.stride_h, p.pad_top, p.kernel_h, p.in_h)) *
                  double(real_extent(ow0, tw, p.stride_w, p.pad_left, p.kernel_w, p.in_w));
    }
    if (s.load_wgt_slice) wgt_bytes += double(sob) * tib * kk * wgt_eb;
    if (s.load_wgt) {
      const double blocks = t.weight_mode == WeightMode::kSlice    ? double(sob) * tib
                            : t.weight_mode == WeightMode::kOcTile ? double(tob) * IB
                                                                   : double(OB) * IB;
      wgt_bytes += blocks * kk * wgt_eb;
    }
    if (s.load_res) res_bytes = double(tob) * plane * inp_eb;
    const double bytes = wgt_bytes + inp_bytes + res_bytes;
    double ready = 0;
    if (bytes == 0) {
      total_bytes += kInsnBytes;  // the GEMM instruction comes from DRAM too
    } else {
      // with its LOAD instructions (the input's, a weight LOAD) and the GEMM's
      const double insn_bytes = double(tib + 2) * kInsnBytes;
      double start = load_free;
      if (s.wait_compute && !tokens.empty()) {
        start = std::max(start, tokens.front());
        tokens.pop_front();
      }
      // The load module runs two LOADs at once: a LOAD's requests go out once the one two before it is
      // done, so a LOAD's DRAM latency hides behind the data of the one before it.
      bool first = true;
      for (const double b : {wgt_bytes, inp_bytes, res_bytes}) {
        if (b == 0) continue;
        const double st = std::max(start, loads_done[0]);
        const double done = dram.reserve(st, (b + (first ? insn_bytes : 0)) / bw) + lat;
        first = false;
        loads_done[0] = loads_done[1];
        loads_done[1] = done;
        ready = std::max(ready, done);
        start = st;
      }
      load_free = start;
      total_bytes += bytes + insn_bytes;
    }
    double start = std::max({gemm_free, ready, front});
    // a tile's accumulators: zeroed on the ALU engine beside the tile before where the emitter does so
    // (tile_zeroing; its GEMMs wait for the bank), else reset on the GEMM engine once the region is free
    if (s.first && zeroed_on_alu && s.tile > 0) {
      start = std::max(start, next_zeroed_at);
    } else if (s.first) {
      if (s.tile >= slots.acc) start = std::max(start, region_free[s.tile % slots.acc]);
      start += double(tob) * plane / 2 + kGemmOverhead;
    }
    if (s.last && zeroed_on_alu && k + 1 < steps.size()) {
      // the next tile's zeroing (MIN, MAX) goes to the ALU engine's queue before this GEMM once the next
      // tile's region is drained, and runs once the GEMM before is done; the front end issues it, then
      // this GEMM
      const ConvStep& n = steps[k + 1];
      double issue = front;
      if (n.tile >= slots.acc) issue = std::max(issue, region_free[n.tile % slots.acc]);
      next_zeroed_at = std::max({alu_free, issue, gemm_free}) + tile_rows(n) * 2 / kAluRowsPerCycle;
      alu_free = next_zeroed_at;
      start = std::max(start, issue + 2 * kAluIssue);
    }
    const double gemm = double(sob) * plane * tib * kk + kGemmOverhead;
    gemm_free = start + gemm;
    front = start + 1;
    for (uint32_t r = 0; r < s.release_pushes; ++r) tokens.push_back(gemm_free);
    end = std::max(end, gemm_free);
    if (!s.last) continue;
    // requantization on the ALU engine, then the store; the layer's last tile in chunks
    const uint32_t chunks = s.tile + 1 == n_tiles && !p.has_residual ? std::min(tob, kLastTileChunks) : 1;
    double alu = std::max(gemm_free, alu_free), st = store_free;
    // a tile zeroed to its bias needs no bias ADD
    const double passes = zeroed_on_alu && s.tile > 0 && p.has_bias ? alu_passes - 1 : alu_passes;
    for (uint32_t c = 0; c < chunks; ++c) {
      const double rows = double(tob) * plane / chunks;
      alu += rows * passes / kAluRowsPerCycle;
      const double sb = rows * out_eb;
      st = dram.reserve(std::max(st, alu), sb / bw);
      total_bytes += sb;
    }
    alu_free = alu;
    // the front end issues the requantization while the GEMM runs
    front += passes * chunks * kAluIssue;
    store_free = st;
    region_free[s.tile % slots.acc] = st + lat;
    end = std::max(end, st + lat);
  }
  return std::max(end, total_bytes / bw + lat);
}

}  // namespace vta::compiler::detail

namespace vta::compiler {

double estimate_cycles(const ConvProblem& p, const isa::HwConfig& cfg, const Conv2dTiling& t) {
  return detail::estimate_conv_cycles(p, cfg, t);
}

}  // namespace vta::compiler
