// Elementwise add with requantization as a 1x1 conv2d with identity weights (see eltwise.h).
#include <algorithm>

#include <fmt/format.h>

#include "vta/compiler/compiled_op.h"
#include "vta/compiler/eltwise.h"

namespace vta::compiler {

void check_add(const Tensor& a, const Tensor& b, const Requantize& rq) {
  if (a.dtype() != DType::kInt8) throw Error(fmt::format("add: a must be int8, got {}", to_string(a.dtype())));
  if (b.dtype() != DType::kInt8) throw Error(fmt::format("add: b must be int8, got {}", to_string(b.dtype())));
  if (a.shape() != b.shape())
    throw Error(fmt::format("add: shapes {} and {} differ (broadcasting is not supported)", a.shape_string(),
                            b.shape_string()));
  check_add(a.shape(), rq);
}

void check_add(const std::vector<int64_t>& shape, const Requantize& rq) {
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  if (shape.empty() || size <= 0) throw Error(fmt::format("add: shape {} is empty", Tensor::shape_to_string(shape)));
  if (rq.shift < 0 || rq.shift > 31) throw Error(fmt::format("add: shift {} not in [0, 31]", rq.shift));
  if (rq.clip_lo < -128 || rq.clip_hi > 127 || rq.clip_lo > rq.clip_hi)
    throw Error(fmt::format("add: clip [{}, {}] must satisfy -128 <= lo <= hi <= 127", rq.clip_lo, rq.clip_hi));
  if (rq.lo() > rq.clip_hi) throw Error(fmt::format("add: relu with clip hi {} < 0 leaves no range", rq.clip_hi));
}

CompiledOp compile_add(const isa::HwConfig& cfg, const std::vector<int64_t>& shape, const Requantize& requant,
                       const AddParams& add, const LoweringOptions& options) {
  check_add(shape, requant);
  if (add.shift_a < 0 || add.shift_a > 6 || add.shift_b < 0 || add.shift_b > 6)
    throw Error(fmt::format("add: input shifts {} and {} must be in [0, 6]", add.shift_a, add.shift_b));
  // L lanes carry data in each block (the identity needs input lane l -> output lane l).
  const int64_t B = cfg.batch(), L = std::min(cfg.block_in(), cfg.block_out());
  int64_t S = 1;
  for (int64_t d : shape) S *= d;
  const int64_t P = (S + B * L - 1) / (B * L);  // positions per image
  const int64_t cols = std::min<int64_t>(P, 256), rows = (P + cols - 1) / cols;
  Tensor w(DType::kInt8, {L, 2 * L, 1, 1});
  int8_t* pw = w.data<int8_t>();
  for (int64_t o = 0; o < L; ++o) {
    pw[o * 2 * L + o] = static_cast<int8_t>(1 << add.shift_a);
    pw[o * 2 * L + L + o] = static_cast<int8_t>(1 << add.shift_b);
  }
  std::optional<Tensor> bias;
  if (add.bias != 0) bias = Tensor::from_values<int32_t>({L}, std::vector<int32_t>(static_cast<size_t>(L), add.bias));
  Conv2dParams p;
  p.requant = requant;
  LoweringOptions opt = options;
  opt.repack = InputRepack{};
  CompiledOp op = compile_conv2d(cfg, {B, 2 * L, rows, cols}, w, bias ? &*bias : nullptr, p, opt);
  op.layout.kind = CoreOpKind::kAdd;
  op.layout.input_shape = shape;
  op.layout.output_shape = shape;
  return op;
}

OpRun add(runtime::Session& session, const Tensor& a, const Tensor& b, const Requantize& rq,
          const LoweringOptions& options) {
  check_add(a, b, rq);
  const CompiledOp op = compile_add(session.config(), a.shape(), rq, {}, options);
  const Tensor* inputs[] = {&a, &b};
  return run_compiled(session, op, inputs);
}

}  // namespace vta::compiler
