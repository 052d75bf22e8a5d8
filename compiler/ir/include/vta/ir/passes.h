// Graph passes, each a small function that edits a graph in place. All but infer_shapes expect a typed
// graph (run infer_shapes first) and leave it typed. Errors are vta::Error naming the node at fault.
#pragma once

#include "vta/ir/graph.h"

namespace vta::ir {

// Types every node output from its inputs (graph inputs and constants must be typed) and rewrites
// auto_pad into explicit pads. A shape mismatch (Add of shapes that do not broadcast, a Conv weight
// whose channels differ from the input's, ...) is an error naming the node and both shapes.
void infer_shapes(Graph& graph);

// Evaluates nodes whose inputs are all constants with the float executor; their outputs become
// constants. QuantizeLinear/DequantizeLinear stay unless `fold_qdq`, so a QDQ model keeps its scales for
// the quantizer. Returns how many nodes were folded.
size_t fold_constants(Graph& graph, bool fold_qdq = false);

// Removes Identity and Dropout (identity at inference), reading their input directly. A graph output
// keeps its name. Returns how many were removed.
size_t eliminate_identity(Graph& graph);

// Conv or Gemm with constant weights followed by a BatchNormalization with constant parameters that is
// the only user of its output: the scale goes into new weights, the shift into a new bias, and the BN
// goes away. Any other BatchNormalization stays. Returns how many were folded.
size_t fold_batch_norm(Graph& graph);

// Normal forms for lowering:
//  - MatMul(x[M,K], constant W[K,N]) (+ Add of a constant [N] or [1,N] bias when it is the only user)
//    becomes Gemm(x, W[, b]);
//  - Gemm with a constant B gets alpha=1 (folded into B), transB=1 (B transposed), and with a constant
//    C beta=1 (folded into C) and C of shape [N];
//  - a Reshape or Flatten feeding a Gemm and producing [d0, rest] from a [d0, ...] input becomes
//    Flatten(axis=1).
// Returns how many rewrites were made.
size_t canonicalize(Graph& graph);

// infer_shapes, eliminate_identity, fold_constants, fold_batch_norm, canonicalize, dead-node elimination
// and a final infer_shapes.
void run_default_passes(Graph& graph);

}  // namespace vta::ir
