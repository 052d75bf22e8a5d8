#include "vta/compiler/dense.h"

#include <fmt/format.h>

#include "conv_lowering.h"
#include "vta/compiler/packing.h"

namespace vta::compiler {

DenseShape check_dense(const Tensor& x, const Tensor& weight, const Tensor* bias, const Requantize& rq) {
  if (x.dtype() != DType::kInt8) throw Error(fmt::format("dense: input must be int8, got {}", to_string(x.dtype())));
  if (x.rank() != 2) throw Error(fmt::format("dense: input must be 2-D (N, K), got shape {}", x.shape_string()));
  if (weight.dtype() != DType::kInt8)
    throw Error(fmt::format("dense: weight must be int8, got {}", to_string(weight.dtype())));
  if (weight.rank() != 2)
    throw Error(fmt::format("dense: weight must be 2-D (M, K), got shape {}", weight.shape_string()));
  DenseShape s{x.dim(0), x.dim(1), weight.dim(0)};
  if (s.n < 1 || s.k < 1 || s.m < 1) throw Error("dense: empty dimension");
  if (weight.dim(1) != s.k) {
    throw Error(fmt::format("dense: weight {} has {} input features but the input {} has {}", weight.shape_string(),
                            weight.dim(1), x.shape_string(), s.k));
  }
  if (bias) {
    if (bias->dtype() != DType::kInt32)
      throw Error(fmt::format("dense: bias must be int32, got {}", to_string(bias->dtype())));
    if (bias->rank() != 1 || bias->dim(0) != s.m)
      throw Error(fmt::format("dense: bias must have shape ({},), got {}", s.m, bias->shape_string()));
  }
  if (rq.shift < 0 || rq.shift > 31) throw Error(fmt::format("dense: shift {} not in [0, 31]", rq.shift));
  if (rq.clip_lo < -128 || rq.clip_hi > 127 || rq.clip_lo > rq.clip_hi)
    throw Error(fmt::format("dense: clip [{}, {}] must satisfy -128 <= lo <= hi <= 127", rq.clip_lo, rq.clip_hi));
  if (rq.lo() > rq.clip_hi) throw Error(fmt::format("dense: relu with clip hi {} < 0 leaves no range", rq.clip_hi));
  return s;
}

OpRun dense(runtime::Session& session, const Tensor& x, const Tensor& weight, const Tensor* bias,
            const Requantize& requant, const LoweringOptions& options) {
  const DenseShape s = check_dense(x, weight, bias, requant);
  const int64_t B = session.config().batch();
  const int64_t rows = (s.n + B - 1) / B;
  // Row r * B + b of x becomes image b, pixel (r, 0): the batch lanes and the spatial loop share N.
  Tensor xin(DType::kInt8, {B, s.k, rows, 1});
  {
    const int8_t* src = x.data<int8_t>();
    int8_t* dst = xin.data<int8_t>();
    for (int64_t n = 0; n < s.n; ++n) {
      const int64_t r = n / B, b = n % B;
      for (int64_t k = 0; k < s.k; ++k) dst[(b * s.k + k) * rows + r] = src[n * s.k + k];
    }
  }
  Tensor w4(DType::kInt8, {s.m, s.k, 1, 1});
  std::copy(weight.data<int8_t>(), weight.data<int8_t>() + weight.size(), w4.data<int8_t>());
  Conv2dParams p;
  p.requant = requant;
  Conv2dShape cs;
  cs.n = B;
  cs.c = s.k;
  cs.h = rows;
  cs.w = 1;
  cs.o = s.m;
  cs.kh = cs.kw = 1;
  cs.oh = rows;
  cs.ow = 1;
  OpRun run = detail::run_conv2d(session, xin, w4, bias, cs, p, options);
  Tensor y(DType::kInt8, {s.n, s.m});
  const int8_t* src = run.output.data<int8_t>();  // (B, M, rows, 1)
  int8_t* dst = y.data<int8_t>();
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t r = n / B, b = n % B;
    for (int64_t m = 0; m < s.m; ++m) dst[n * s.m + m] = src[(b * s.m + m) * rows + r];
  }
  run.output = std::move(y);
  return run;
}

}  // namespace vta::compiler
