#include "vta/compiler/dense.h"

#include <fmt/format.h>

#include "vta/compiler/compiled_op.h"

namespace vta::compiler {

DenseShape check_dense(const Tensor& x, const Tensor& weight, const Tensor* bias, const Requantize& rq) {
  if (x.dtype() != DType::kInt8) throw Error(fmt::format("dense: input must be int8, got {}", to_string(x.dtype())));
  return check_dense(x.shape(), weight, bias, rq);
}

DenseShape check_dense(const std::vector<int64_t>& x_shape, const Tensor& weight, const Tensor* bias,
                       const Requantize& rq) {
  const std::string xs = Tensor::shape_to_string(x_shape);
  if (x_shape.size() != 2) throw Error(fmt::format("dense: input must be 2-D (N, K), got shape {}", xs));
  if (weight.dtype() != DType::kInt8)
    throw Error(fmt::format("dense: weight must be int8, got {}", to_string(weight.dtype())));
  if (weight.rank() != 2)
    throw Error(fmt::format("dense: weight must be 2-D (M, K), got shape {}", weight.shape_string()));
  DenseShape s{x_shape[0], x_shape[1], weight.dim(0)};
  if (s.n < 1 || s.k < 1 || s.m < 1) throw Error("dense: empty dimension");
  if (weight.dim(1) != s.k) {
    throw Error(fmt::format("dense: weight {} has {} input features but the input {} has {}", weight.shape_string(),
                            weight.dim(1), xs, s.k));
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

CompiledOp compile_dense(const isa::HwConfig& cfg, const std::vector<int64_t>& x_shape, const Tensor& weight,
                         const Tensor* bias, const Requantize& requant, const LoweringOptions& options,
                         const std::vector<int32_t>& channel_shift) {
  const DenseShape s = check_dense(x_shape, weight, bias, requant);
  if (!channel_shift.empty() && static_cast<int64_t>(channel_shift.size()) != s.m) {
    throw Error(fmt::format("dense: {} channel shifts for {} output features", channel_shift.size(), s.m));
  }
  const int64_t B = cfg.batch();
  // A 1x1 conv2d over B images of (rows x 1) pixels: row r * B + b of x is image b, pixel (r, 0).
  Tensor w4(DType::kInt8, {s.m, s.k, 1, 1});
  std::copy(weight.data<int8_t>(), weight.data<int8_t>() + weight.size(), w4.data<int8_t>());
  Conv2dParams p;
  p.requant = requant;
  p.channel_shift = channel_shift;  // range-checked by check_conv2d
  LoweringOptions opt = options;
  opt.repack = InputRepack{};
  CompiledOp op = compile_conv2d(cfg, {B, s.k, (s.n + B - 1) / B, 1}, w4, bias, p, opt);
  op.layout.kind = CoreOpKind::kDense;
  op.layout.input_shape = x_shape;
  op.layout.output_shape = {s.n, s.m};
  return op;
}

OpRun dense(runtime::Session& session, const Tensor& x, const Tensor& weight, const Tensor* bias,
            const Requantize& requant, const LoweringOptions& options) {
  check_dense(x, weight, bias, requant);
  const CompiledOp op = compile_dense(session.config(), x.shape(), weight, bias, requant, options);
  const Tensor* inputs[] = {&x};
  return run_compiled(session, op, inputs);
}

}  // namespace vta::compiler
