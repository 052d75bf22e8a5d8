// The text form of a graph, one deterministic line per node in topological order, for golden tests:
//
//   graph "tiny"(%input: f32[1,3,8,8]) {
//     %conv1 = Conv(%input, @conv1.weight[4,3,3,3], @conv1.bias[4]) {strides=[1,1], pads=[1,1,1,1], group=1} : f32[1,4,8,8]
//     %y = Relu(%conv1) : f32[1,4,8,8]
//     return %y
//   }
//
// %name is a computed value (or graph input), @name a constant with its shape (prefixed by its dtype
// when not f32, e.g. @shape:i32[2], and followed by its values when it has at most 8 elements:
// @shape:i32[2]{1,-1}); _ is an absent optional input; `: ?` marks a value not typed yet. Attributes print
// in the node's order; floats in their shortest round-trip form.
#pragma once

#include <string>

#include "vta/ir/graph.h"

namespace vta::ir {

std::string to_text(const Graph& graph);
// One node's line (without indentation or newline).
std::string to_text(const Graph& graph, NodeId node);

}  // namespace vta::ir
