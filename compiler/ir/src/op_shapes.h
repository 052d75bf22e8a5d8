// Internal: the output types of one node from its input types (shared by infer_shapes and the float
// executor, so both agree and both report a bad graph the same way), and 2-D window geometry.
#pragma once

#include <optional>
#include <vector>

#include "vta/ir/graph.h"

namespace vta::ir::detail {

struct ValueType {
  DType dtype = DType::kFloat32;
  Shape shape;
};

// A 2-D sliding window (Conv, MaxPool, AveragePool) on an NCHW input, with auto_pad resolved.
struct Window {
  int64_t kh = 1, kw = 1;
  int64_t sh = 1, sw = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int64_t oh = 0, ow = 0;
};
Window window_geometry(const Node& n, const Shape& x, int64_t kh, int64_t kw);
// The pooling kernel (kernel_shape, two entries).
std::pair<int64_t, int64_t> pool_kernel(const Node& n);

// `in[i]` is the type of input i (nullopt when absent); `consts[i]` its value when it is a constant
// (nullptr otherwise). Throws vta::Error naming the node on any mismatch.
std::vector<ValueType> infer_node(const Node& n, const std::vector<std::optional<ValueType>>& in,
                                  const std::vector<const Tensor*>& consts);

// Multidirectional (NumPy) broadcasting of two shapes.
Shape broadcast_shapes(const Node& n, const Shape& a, const Shape& b);
// axis in [-rank, rank) (or [-rank, rank] when `inclusive`) to [0, rank).
int64_t normalize_axis(const Node& n, int64_t axis, size_t rank, bool inclusive = false);
// The pads of a Pad node ([begin..., end...], one pair per dim of an input of rank `rank`).
std::vector<int64_t> pad_amounts(const Node& n, const Tensor& pads, size_t rank);
// The target shape of a Reshape with 0 and -1 resolved.
Shape reshape_target(const Node& n, const Shape& in, const Tensor& shape);

}  // namespace vta::ir::detail
