// The int8 model: what quantization produces and what the int8 CPU reference executor, the partitioner
// and the lowering onto the core all consume. Every tensor is int8 with a power-of-two scale
// (real = q * 2^-exp), except the float tensors at the model's edges (the input before Quantize, the
// output after Dequantize or Softmax). Each step's integer semantics are defined here, once; every
// executor must reproduce them bit for bit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vta/compiler/requantize.h"
#include "vta/compiler/tensor.h"

namespace vta::quant {

using compiler::DType;
using compiler::Requantize;
using compiler::Tensor;
using TensorId = int32_t;

struct QTensor {
  std::string name;
  DType dtype = DType::kInt8;  // kInt8, or kFloat32 at the model's edges
  std::vector<int64_t> shape;  // NCHW for images, (N, K) for dense inputs
  int32_t exp = 0;             // int8 only: real value = q * 2^-exp
};

enum class QOp : uint8_t {
  kQuantize,       // float x -> int8: q = clamp(round_half_even(x * 2^exp_out), -128, 127)
  kDequantize,     // int8 -> float: x = q * 2^-exp_in
  kConv2d,         // see QStep::conv; groups allowed (depthwise: groups == C == O); optionally with a fused
                   // residual add (a second input, see "Residual" below)
  kDense,          // x (N, K) int8, weight (M, K) int8, bias (M) int32 -> (N, M)
  kAdd,            // out = clamp(((a << shift_a) + (b << shift_b) + round) >> requant.shift, lo, hi)
  kMaxPool,        // max over the window's real pixels (padding never wins); exp unchanged
  kAvgPool,        // out = clamp(round_half_away(sum / count)); count = kernel area, or the real pixels
                   // when !count_include_pad; exp unchanged
  kGlobalAvgPool,  // out (N, C, 1, 1) = clamp(round_half_away(sum / (H * W))); exp unchanged
  kReshape,        // same bytes, new shape (Flatten, Reshape); exp unchanged
  kConcat,         // along `axis`: each input requantized to exp_out: q >> d with rounding (add 2^(d-1)
                   // first) when d = exp_in - exp_out > 0, q << -d when d < 0; then clamp
  kRelu,           // standalone (nothing to fuse into): out = max(q, 0)
  kClip,           // standalone: out = clamp(q, clip_lo, clip_hi) (in the quantized domain)
  kSoftmax,        // int8 -> float: softmax over `axis` of q * 2^-exp_in (float32 output)
};
std::string_view to_string(QOp op);

// conv2d: acc = sum(q_in * q_w) over the window (int32, wrapping) + bias[o]; out = clamp(acc >> shift,
// lo, hi) with lo raised to 0 by relu. `bias` already holds the rounding term 2^(shift-1) (shift > 0),
// so the arithmetic shift rounds to nearest (ties up). The same rule serves kDense and kAdd (kAdd has no
// bias: its `round` is 2^(requant.shift-1) when requant.shift > 0, else 0).
//
// Per-output-channel requantization (kConv2d, kDense; QStep::channel_shift not empty): output channel c
// (conv: o, dense: m) has its own shift,
//   out[c] = clamp((acc + bias[c]) >> channel_shift[c], lo, hi),
// with bias[c] holding 2^(channel_shift[c]-1) when channel_shift[c] > 0. This is what per-channel weight
// scales need: channel c's weights are in units of 2^-(exp_out - exp_in + channel_shift[c]), so the
// shift carries the per-channel scale and the output keeps one power-of-two scale.
//
// Residual (kConv2d with two inputs {x, r}: a conv2d fused with the kAdd that was its output's only
// reader, see fuse_residual_adds): the conv output c above (int8, never materialized) is added to the
// shortcut r (int8, the conv output's shape) exactly like kAdd,
//   out = clamp(((c << shift_a) + (r << shift_b) + round) >> residual_requant.shift, lo, hi),
// round = 2^(residual_requant.shift-1) when residual_requant.shift > 0, else 0; shift_a applies to the conv
// output and shift_b to the residual whichever side of the add each was on (the sum is commutative).
// The step's output is the add's output; `requant` and `channel_shift` stay the conv's.
struct ConvAttrs {
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  uint32_t groups = 1;
};

struct PoolAttrs {
  uint32_t kernel_h = 1, kernel_w = 1;
  uint32_t stride_h = 1, stride_w = 1;
  uint32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;  // kAvgPool only
};

struct QStep {
  QOp op = QOp::kReshape;
  std::string name;                // the source node's name (for profiles and errors)
  std::vector<TensorId> inputs;
  TensorId output = -1;
  // kConv2d (OIHW, I = C / groups), kDense (M, K): int8 weights; int32 bias (O or M), rounding included.
  std::optional<Tensor> weight, bias;
  int32_t weight_exp = 0;          // kConv2d, kDense: real weight = q * 2^-weight_exp (for reports)
  Requantize requant;              // kConv2d, kDense, kAdd: shift and clip (relu/clip fused)
  // kConv2d, kDense: one right shift (0..31) per output channel, replacing requant.shift (which then
  // holds the smallest of them, for reports); empty: requant.shift for every channel. See above.
  // weight_exp is then the coarsest channel's exp; channel c's is weight_exp + channel_shift[c] - min.
  std::vector<int32_t> channel_shift;
  // The shift of output channel c (kConv2d, kDense).
  int32_t shift_of(size_t c) const { return channel_shift.empty() ? requant.shift : channel_shift.at(c); }
  ConvAttrs conv;                  // kConv2d
  PoolAttrs pool;                  // kMaxPool, kAvgPool
  int32_t shift_a = 0, shift_b = 0;  // kAdd: left shifts aligning the inputs (0..6 each); kConv2d with a
                                     // residual: shift_a for the conv output, shift_b for the residual
  Requantize residual_requant;     // kConv2d with a residual: the fused add's shift and clip
  // kConv2d whose second input is a fused residual (see above).
  bool has_residual() const { return op == QOp::kConv2d && inputs.size() == 2; }
  int32_t axis = 1;                // kConcat, kSoftmax
  int32_t clip_lo = -128, clip_hi = 127;  // kClip
  std::vector<std::string> notes;  // decisions worth reporting (e.g. a QDQ scale rounded to 2^-k)
};

struct QModel {
  std::string name;
  std::vector<QTensor> tensors;
  std::vector<QStep> steps;        // in execution order
  TensorId input = -1;             // float32 (or int8 for a model whose input is already quantized)
  TensorId output = -1;            // float32 normally
  std::vector<std::string> notes;  // model-level notes (calibration method, QDQ handling)

  const QTensor& tensor(TensorId id) const { return tensors.at(static_cast<size_t>(id)); }
  // One line per step, e.g.
  //   %conv1:i8[1,64,112,112]@e4 = Conv2d(%input.q:i8[1,3,224,224]@e6) {w=i8[64,3,7,7]@e7, stride=2x2,
  //   pad=3,3,3,3, groups=1, shift=9, clip=[0,127]}
  // the form `vta compile --emit qgraph` prints and golden tests pin. Per-channel shifts print as
  // `shift=ch{9,10,9}` (up to 8 channels) or `shift=ch{8..12}` (the range).
  std::string to_text() const;
};

// Fuses each kConv2d whose output is read only by one kAdd (and is not the model output) into that add:
// the conv step becomes a kConv2d with a residual (inputs {x, other add input}, the add's output, shifts
// and requantization; name "<conv>+<add>") at the add's position, and the add step goes away. Tensor
// ids do not change (the conv's own output tensor stays in `tensors`, produced by no step). When both
// add inputs are fusable convs, the one computed later is fused. Only pairs within `limits` fuse (the
// core realizes shift_a and shift_b as int8 identity weights / ALU shifts and the add's rounding term as
// a signed 16-bit ALU immediate). Returns the number of fused pairs.
struct ResidualFusionLimits {
  int32_t max_input_shift = 6;  // shift_a, shift_b
  int32_t max_add_shift = 15;   // residual_requant.shift (round = 2^(shift-1) <= 16384)
  bool groups_one_only = true;  // only dense convs (groups == 1), i.e. the ones the core runs
};
size_t fuse_residual_adds(QModel& m, const ResidualFusionLimits& limits = {});

}  // namespace vta::quant
