// Post-training quantization of a float graph (after ir::run_default_passes) into a QModel.
//
// Scales are powers of two (real = q * 2^-exp):
//   activation   exp = floor(log2(127 / T)), T from calibration (or from a QDQ pair, see below);
//   weight       exp = floor(log2(127 / max|w|)) per tensor, symmetric, q = round_half_even(w * 2^exp);
//   bias         round(b * 2^(exp_in + exp_w)) + 2^(shift-1) when shift > 0 (int32, saturating);
//   shift        exp_in + exp_w - exp_out; when negative exp_out becomes exp_in + exp_w (shift 0), when
//                above 31 exp_out becomes exp_in + exp_w - 31.
// Per output channel (QuantizeOptions::per_channel, Conv and Gemm weights): exp_w[c] = floor(log2(127 /
// max|w_c|)) (an all-zero channel takes the tensor's exp); exp_out is chosen as above from the coarsest
// channel (exp_w = min exp_w[c], the per-tensor exp), then shift[c] = exp_in + exp_w[c] - exp_out (>= 0);
// exp_w[c] is lowered where shift[c] would exceed 31, and where |bias[c]| (rounding term included) plus the
// largest possible |sum of products| (128 * sum |q_w[c]|) could reach 2^31, so that acc + bias cannot wrap
// (never below the coarsest channel); both are noted on the step.
// The bias of channel c is at exp_in + exp_w[c] with rounding term 2^(shift[c]-1). When every shift is
// the same the step gets the per-tensor form (QStep::channel_shift empty).
// Fusions: Conv/Gemm/Add + Relu or Clip (the only user, not a graph output) become one step with the
// clip bounds; a zero-valued spatial Pad whose only user is a Conv folds into the conv's pads (and into an
// unpadded AveragePool as count_include_pad). Gemm becomes kDense ((M, K) weight, rank-2 input).
// Add aligns its inputs to E = max(exp_a, exp_b) with left shifts; when they differ by more than 6 (the
// largest shift the core's identity-weight add can realize), the finer input is first requantized to
// min + 6 by a one-input kConcat step (named "<add>.align", with a note) and E = min + 6.
// Concat: exp_out = the smallest input exp (nothing saturates; finer inputs are rounded).
// Pools, Reshape/Flatten, standalone Relu/Clip keep the input exp. Softmax is int8 -> float.
// The graph input gets a kQuantize step, the output a kDequantize step (none when it is already float,
// i.e. the graph ends in Softmax).
//
// QDQ models: QuantizeLinear -> DequantizeLinear on an activation fixes that activation's exp: a scale
// 2^-k (within 1e-6 relative) gives exp k exactly, any other scale the nearest power of two, with a note.
// DequantizeLinear of a constant (int8 weight, int32 bias, or QuantizeLinear of a float constant) becomes
// a constant; an int8 per-tensor weight with a power-of-two scale keeps its int8 values and exp, anything
// else (non-power-of-two or per-axis scales) is requantized per tensor by the weight rule, with a note.
// Nonzero zero points and uint8 quantization are errors.
#pragma once

#include <string>

#include "vta/ir/graph.h"
#include "vta/quant/calibration.h"
#include "vta/quant/qmodel.h"

namespace vta::quant {

struct QuantizeOptions {
  // Per-output-channel weight scales for Conv and Gemm (QStep::channel_shift); false: one exp per weight
  // tensor. A power-of-two per-tensor QDQ weight keeps its exact int8 values either way.
  bool per_channel = true;
  std::string name;  // the model's name (default: the graph's)
};

// Quantizes `g` (one input, one output) using the thresholds in `cal`. Any op that cannot be quantized is
// a vta::Error naming the op and node, e.g. "cannot quantize node 'm' (Mul): ...".
QModel quantize(const ir::Graph& g, const Calibration& cal, const QuantizeOptions& opt = {});

// floor(log2(127 / t)), the exp of an int8 tensor covering [-t, t] (t > 0).
int32_t exp_for_threshold(double t);

}  // namespace vta::quant
