// Elementwise add with requantization as a 1x1 conv2d with identity weights (see eltwise.h).
#include <algorithm>

#include <fmt/format.h>

#include "vta/compiler/eltwise.h"

namespace vta::compiler {

void check_add(const Tensor& a, const Tensor& b, const Requantize& rq) {
  if (a.dtype() != DType::kInt8) throw Error(fmt::format("add: a must be int8, got {}", to_string(a.dtype())));
  if (b.dtype() != DType::kInt8) throw Error(fmt::format("add: b must be int8, got {}", to_string(b.dtype())));
  if (a.shape() != b.shape())
    throw Error(fmt::format("add: shapes {} and {} differ (broadcasting is not supported)", a.shape_string(),
                            b.shape_string()));
  if (a.size() == 0) throw Error(fmt::format("add: shape {} is empty", a.shape_string()));
  if (rq.shift < 0 || rq.shift > 31) throw Error(fmt::format("add: shift {} not in [0, 31]", rq.shift));
  if (rq.clip_lo < -128 || rq.clip_hi > 127 || rq.clip_lo > rq.clip_hi)
    throw Error(fmt::format("add: clip [{}, {}] must satisfy -128 <= lo <= hi <= 127", rq.clip_lo, rq.clip_hi));
  if (rq.lo() > rq.clip_hi) throw Error(fmt::format("add: relu with clip hi {} < 0 leaves no range", rq.clip_hi));
}

OpRun add(runtime::Session& session, const Tensor& a, const Tensor& b, const Requantize& rq,
          const LoweringOptions& options) {
  check_add(a, b, rq);
  const isa::HwConfig& cfg = session.config();
  // L lanes carry data in each block (the identity needs input lane l -> output lane l).
  const int64_t B = cfg.batch(), L = std::min(cfg.block_in(), cfg.block_out());
  const auto S = static_cast<int64_t>(a.size());
  const int64_t P = (S + B * L - 1) / (B * L);  // positions per image
  const int64_t cols = std::min<int64_t>(P, 256), rows = (P + cols - 1) / cols;
  // Flat element f = (n * rows * cols + pos) * L + l sits at image n, channel l (a) / L + l (b), pixel pos.
  Tensor x(DType::kInt8, {B, 2 * L, rows, cols});
  const int8_t* pa = a.data<int8_t>();
  const int8_t* pb = b.data<int8_t>();
  int8_t* px = x.data<int8_t>();
  const int64_t plane = rows * cols;
  for (int64_t f = 0; f < S; ++f) {
    const int64_t l = f % L, pos = (f / L) % plane, n = f / L / plane;
    px[(n * 2 * L + l) * plane + pos] = pa[f];
    px[(n * 2 * L + L + l) * plane + pos] = pb[f];
  }
  Tensor w(DType::kInt8, {L, 2 * L, 1, 1});
  int8_t* pw = w.data<int8_t>();
  for (int64_t o = 0; o < L; ++o) {
    pw[o * 2 * L + o] = 1;
    pw[o * 2 * L + L + o] = 1;
  }
  Conv2dParams p;
  p.requant = rq;
  LoweringOptions opt = options;
  opt.repack = InputRepack{};
  OpRun run = conv2d(session, x, w, nullptr, p, opt);
  Tensor y(DType::kInt8, a.shape());
  const int8_t* py = run.output.data<int8_t>();  // (B, L, rows, cols)
  int8_t* out = y.data<int8_t>();
  for (int64_t f = 0; f < S; ++f) {
    const int64_t l = f % L, pos = (f / L) % plane, n = f / L / plane;
    out[f] = py[(n * L + l) * plane + pos];
  }
  run.output = std::move(y);
  return run;
}

}  // namespace vta::compiler
