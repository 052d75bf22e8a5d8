// The operators of the graph IR. Names and semantics follow ONNX (opset 13) for the subset listed here;
// docs/compiler.md ("Graph IR and ONNX front end") lists the attributes each one takes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vta::ir {

enum class OpKind : uint8_t {
  kConv,                // X, W[, B]      group, kernel_shape, strides, pads (auto_pad before shape inference)
  kGemm,                // A, B[, C]      alpha, beta, transA, transB
  kMatMul,              // A, B
  kRelu,                // X
  kClip,                // X[, min, max]  min/max as constant inputs or float attributes
  kAdd,                 // A, B           multidirectional broadcasting
  kMul,                 // A, B           multidirectional broadcasting
  kMaxPool,             // X              kernel_shape, strides, pads
  kAveragePool,         // X              kernel_shape, strides, pads, count_include_pad
  kGlobalAveragePool,   // X
  kBatchNormalization,  // X, scale, B, mean, var   epsilon
  kFlatten,             // X              axis
  kReshape,             // X, shape       shape is a constant int32 tensor (0 copies, -1 infers)
  kConcat,              // X...           axis
  kSoftmax,             // X              axis, coerce_2d (1: opset < 13 semantics)
  kQuantizeLinear,      // X, scale[, zero_point]   axis (per-axis scales)
  kDequantizeLinear,    // X, scale[, zero_point]   axis
  kIdentity,            // X
  kDropout,             // X              identity at inference
  kPad,                 // X, pads[, value]  constant mode; pads a constant i32 [begin..., end...] >= 0
};

inline constexpr int kNumOpKinds = static_cast<int>(OpKind::kPad) + 1;

// The ONNX spelling: "Conv", "BatchNormalization", ...
std::string_view op_name(OpKind op);
// The inverse of op_name; nullopt for a name that is not an IR op.
std::optional<OpKind> op_from_name(std::string_view name);

}  // namespace vta::ir
