// A float32 reference executor for the graph IR: plain loops over NCHW tensors, written for clarity and
// independence from every other executor (quantized, CPU backend, device). Accumulates in double.
// QuantizeLinear/DequantizeLinear follow ONNX: q = saturate(round_half_to_even(x / scale) + zero_point),
// x = (q - zero_point) * scale, with int8 or uint8 q (per tensor or per axis).
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "vta/ir/graph.h"

namespace vta::ir {

// Runs `graph` on `inputs` (one per graph input, in order, each with the declared dtype and shape; a
// mismatch is a vta::Error naming the input and both shapes). Returns the graph outputs in order.
std::vector<Tensor> run_float(const Graph& graph, const std::vector<Tensor>& inputs);

// As run_float, calling `on_value(id, tensor)` for every value a node computes, in execution order (for
// calibration and debugging).
using ValueCallback = std::function<void(ValueId, const Tensor&)>;
std::vector<Tensor> run_float(const Graph& graph, const std::vector<Tensor>& inputs, const ValueCallback& on_value);

// Every graph input and node output by value id.
std::map<ValueId, Tensor> run_float_all(const Graph& graph, const std::vector<Tensor>& inputs);

// One node on given input tensors (nullptr for an absent optional input); used by fold_constants.
std::vector<Tensor> evaluate_node(const Node& node, const std::vector<const Tensor*>& inputs);

}  // namespace vta::ir
