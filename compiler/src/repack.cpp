// Host-side repacks for conv2d layers with few input channels (see InputRepack in tiling.h and
// docs/compiler.md, "Small input channel counts").
//
// Each spatial axis (rows, columns) is mapped independently:
//  - identity: unchanged; the axis keeps its padding, which LOAD's pad fields supply;
//  - transformed: the padded axis (coordinate q = original + pad_before) is optionally split into
//    f = stride phases (space-to-depth: q = f*Y + p, kernel K1 = ceil(K / f), stride S / f), and
//    optionally the kernel taps are folded into channels (im2col along the axis: the new axis is the
//    output axis, q = f*(o*S1 + k1) + p, kernel 1, stride 1). Padding of a transformed axis is
//    materialized as zeros in the repacked tensor (it is part of what the repack costs).
// The new channel index is (((c*Fh + py)*Fw + px)*KYf + ky1)*KXf + kx1, where F is the phase count
// (f or 1) and KYf/KXf the folded tap counts (K1 or 1). The weight moves the same way; taps with
// f*k1 + p >= K are zero. The sum over the new reduction is the same set of products as the original
// conv2d, so the result (wrapping int32 accumulation) is bit-identical.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "conv_lowering.h"

namespace vta::compiler::detail {
namespace {

struct AxisMap {
  bool identity = true;
  int64_t f = 1;          // phases
  int64_t k1 = 1;         // kernel taps after the phase split
  int64_t s1 = 1;         // stride after the phase split
  bool folded = false;    // taps folded into channels
  int64_t pad0 = 0;       // original padding before
  int64_t len = 0;        // original length
  int64_t new_len = 0, new_k = 0, new_s = 0;
  int64_t fold_count() const { return folded ? k1 : 1; }
  int64_t phases() const { return identity ? 1 : f; }
  // Original coordinate read at new position y, phase p, folded tap t (may be out of range: zero).
  int64_t source(int64_t y, int64_t p, int64_t t) const {
    if (identity) return y;
    const int64_t q = folded ? f * (y * s1 + t) + p : f * y + p;
    return q - pad0;
  }
  // Original kernel tap for new kernel index kn, phase p, folded tap t (>= original K: zero weight).
  int64_t tap(int64_t kn, int64_t p, int64_t t) const {
    if (identity) return kn;
    return f * (folded ? t : kn) + p;
  }
};

AxisMap make_axis(int64_t len, int64_t k, int64_t s, int64_t out, int64_t pad0, uint32_t s2d, bool fold) {
  AxisMap a;
  a.len = len;
  a.pad0 = pad0;
  a.identity = s2d == 1 && !fold;
  if (a.identity) {
    a.new_len = len;
    a.new_k = k;
    a.new_s = s;
    return a;
  }
  a.f = s2d;
  a.k1 = (k + a.f - 1) / a.f;
  a.s1 = s / a.f;
  a.folded = fold;
  if (fold) {
    a.new_len = out;
    a.new_k = 1;
    a.new_s = 1;
  } else {
    a.new_len = (out - 1) * a.s1 + a.k1;  // only the positions the output reads
    a.new_k = a.k1;
    a.new_s = a.s1;
  }
  return a;
}

struct Plan {
  AxisMap rows, cols;
  Conv2dShape shape;
  Conv2dParams params;
};

Plan make_plan(const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r) {
  if (r.space_to_depth != 1 && (p.stride_h % r.space_to_depth != 0 || p.stride_w % r.space_to_depth != 0)) {
    throw Error(fmt::format("conv2d: space-to-depth by {} needs strides that are multiples of it (got {}x{})",
                            r.space_to_depth, p.stride_h, p.stride_w));
  }
  Plan pl;
  pl.rows = make_axis(s.h, s.kh, p.stride_h, s.oh, p.pad_top, r.space_to_depth, r.fold_ky);
  pl.cols = make_axis(s.w, s.kw, p.stride_w, s.ow, p.pad_left, r.space_to_depth, r.fold_kx);
  pl.shape = s;
  pl.shape.c = s.c * pl.rows.phases() * pl.cols.phases() * pl.rows.fold_count() * pl.cols.fold_count();
  pl.shape.h = pl.rows.new_len;
  pl.shape.w = pl.cols.new_len;
  pl.shape.kh = pl.rows.new_k;
  pl.shape.kw = pl.cols.new_k;
  pl.params = p;
  pl.params.stride_h = static_cast<uint32_t>(pl.rows.new_s);
  pl.params.stride_w = static_cast<uint32_t>(pl.cols.new_s);
  if (!pl.rows.identity) pl.params.pad_top = pl.params.pad_bottom = 0;
  if (!pl.cols.identity) pl.params.pad_left = pl.params.pad_right = 0;
  return pl;
}

}  // namespace

Conv2dShape repacked_shape(const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r,
                           Conv2dParams* new_params) {
  const Plan pl = make_plan(s, p, r);
  if (new_params) *new_params = pl.params;
  return pl.shape;
}

namespace {

// Repacks the input and/or the weight (either may be null).
void repack(const Tensor* input, const Tensor* weight, const Conv2dShape& s, const Conv2dParams& p,
            const InputRepack& r, Tensor* new_input, Tensor* new_weight) {
  const Plan pl = make_plan(s, p, r);
  const AxisMap& R = pl.rows;
  const AxisMap& C = pl.cols;
  const int64_t Fh = R.phases(), Fw = C.phases(), Ty = R.fold_count(), Tx = C.fold_count();
  const int64_t nc = pl.shape.c, nh = pl.shape.h, nw = pl.shape.w, nkh = pl.shape.kh, nkw = pl.shape.kw;
  if (input) *new_input = Tensor(DType::kInt8, {s.n, nc, nh, nw});
  if (weight) *new_weight = Tensor(DType::kInt8, {s.o, nc, nkh, nkw});
  const int8_t* x = input ? input->data<int8_t>() : nullptr;
  const int8_t* w = weight ? weight->data<int8_t>() : nullptr;
  int8_t* X = input ? new_input->data<int8_t>() : nullptr;
  int8_t* Wt = weight ? new_weight->data<int8_t>() : nullptr;
  for (int64_t c = 0; c < s.c; ++c)
    for (int64_t py = 0; py < Fh; ++py)
      for (int64_t px = 0; px < Fw; ++px)
        for (int64_t ty = 0; ty < Ty; ++ty)
          for (int64_t tx = 0; tx < Tx; ++tx) {
            const int64_t ch = (((c * Fh + py) * Fw + px) * Ty + ty) * Tx + tx;
            for (int64_t n = 0; x && n < s.n; ++n)
              for (int64_t y = 0; y < nh; ++y) {
                const int64_t sy = R.source(y, py, ty);
                int8_t* row = X + ((n * nc + ch) * nh + y) * nw;
                if (sy < 0 || sy >= s.h) continue;  // zero (the tensor starts zero-filled)
                const int8_t* src = x + ((n * s.c + c) * s.h + sy) * s.w;
                for (int64_t xx = 0; xx < nw; ++xx) {
                  const int64_t sx = C.source(xx, px, tx);
                  if (sx >= 0 && sx < s.w) row[xx] = src[sx];
                }
              }
            for (int64_t o = 0; w && o < s.o; ++o)
              for (int64_t ky = 0; ky < nkh; ++ky) {
                const int64_t oy = R.tap(ky, py, ty);
                if (oy >= s.kh) continue;
                for (int64_t kx = 0; kx < nkw; ++kx) {
                  const int64_t ox = C.tap(kx, px, tx);
                  if (ox >= s.kw) continue;
                  Wt[((o * nc + ch) * nkh + ky) * nkw + kx] = w[((o * s.c + c) * s.kh + oy) * s.kw + ox];
                }
              }
          }
}

}  // namespace

Tensor repack_input(const Tensor& input, const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r) {
  Tensor out;
  repack(&input, nullptr, s, p, r, &out, nullptr);
  return out;
}

Tensor repack_weight(const Tensor& weight, const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r) {
  Tensor out;
  repack(nullptr, &weight, s, p, r, nullptr, &out);
  return out;
}

}  // namespace vta::compiler::detail

namespace vta::compiler {

RepackChoice evaluate_repack(const Conv2dShape& s, const Conv2dParams& p, bool has_bias, const isa::HwConfig& cfg,
                             const InputRepack& r) {
  RepackChoice c;
  c.repack = r;
  Conv2dParams np;
  const Conv2dShape ns = detail::repacked_shape(s, p, r, &np);
  const ConvProblem prob = make_conv_problem(ns, np, has_bias, cfg);
  // by traffic: the repack's bytes are what its budget weighs (the time pick stays within them)
  c.tiling = choose_tiling(prob, cfg, TilingObjective::kTraffic);  // throws when nothing fits
  c.tiling.repack = r;
  c.gemm_uops = uint64_t{prob.batch_groups} * prob.oc_blocks * prob.out_h * prob.out_w * prob.ic_blocks *
                prob.kernel_h * prob.kernel_w;
  c.dram_bytes = c.tiling.cost.total_bytes();
  // One GEMM micro-op per cycle against the DRAM bytes per cycle of the config's timing model: the
  // larger of the two bounds the run time; the smaller one breaks ties (it cannot be hidden fully).
  const double compute = static_cast<double>(c.gemm_uops);
  const double memory = static_cast<double>(c.dram_bytes) / std::max<uint32_t>(1, cfg.timing().dram_bytes_per_cycle);
  c.score = std::max(compute, memory) + 0.25 * std::min(compute, memory);
  return c;
}

std::vector<RepackChoice> repack_candidates(const Conv2dShape& s, const Conv2dParams& p, bool has_bias,
                                            const isa::HwConfig& cfg) {
  std::vector<RepackChoice> out;
  std::vector<uint32_t> factors = {1};
  if (p.stride_h == p.stride_w && p.stride_h > 1) factors.push_back(p.stride_h);
  for (uint32_t f : factors)
    for (bool fy : {false, true})
      for (bool fx : {false, true}) {
        InputRepack r;
        r.space_to_depth = f;
        r.fold_ky = fy && s.kh > 1;
        r.fold_kx = fx && s.kw > 1;
        if ((fy && s.kh == 1) || (fx && s.kw == 1)) continue;  // nothing to fold
        try {
          out.push_back(evaluate_repack(s, p, has_bias, cfg, r));
        } catch (const Error&) {
          // No tiling fits this repack (e.g. too many channels for the buffers): not a candidate.
        }
      }
  return out;
}


uint64_t repack_lower_bound_bytes(const Conv2dShape& s, const Conv2dParams& p, bool has_bias) {
  return static_cast<uint64_t>(s.n * s.c * s.h * s.w + s.o * s.c * s.kh * s.kw + s.n * s.o * s.oh * s.ow +
                               (has_bias ? 4 * s.o : 0) + (p.residual ? s.n * s.o * s.oh * s.ow : 0));
}

InputRepack choose_repack(const Conv2dShape& s, const Conv2dParams& p, bool has_bias, const isa::HwConfig& cfg,
                          double traffic_budget) {
  // Only when the input channels leave most of the BLOCK_IN lanes empty and there is a window to fold.
  if (s.c >= cfg.block_in() || s.kh * s.kw == 1) return {};
  const auto cands = repack_candidates(s, p, has_bias, cfg);
  // Repacks trade DRAM traffic (a larger host-repacked input) for MAC-lane utilization. Keep traffic
  // within traffic_budget (default kRepackTrafficBudget) x the logical lower bound (every raw input,
  // weight, bias and output byte once) when any candidate can; among those, the best time score wins.
  const uint64_t bound = repack_lower_bound_bytes(s, p, has_bias);
  auto within_budget = [&](const RepackChoice& c) {
    return static_cast<double>(c.dram_bytes) <= traffic_budget * static_cast<double>(bound);
  };
  const bool any_within = std::any_of(cands.begin(), cands.end(), within_budget);
  InputRepack best;
  double best_score = -1;
  for (const auto& c : cands) {
    if (any_within && !within_budget(c)) continue;
    if (best_score < 0 || c.score < best_score) {
      best_score = c.score;
      best = c.repack;
    }
  }
  return best;
}

}  // namespace vta::compiler
