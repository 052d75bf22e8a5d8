#include "op_shapes.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace vta::ir::detail {
namespace {

[[noreturn]] void fail(const Node& n, const std::string& what) { throw Error(n.describe() + ": " + what); }

std::string type_str(const ValueType& t) { return fmt::format("{}{}", short_dtype(t.dtype), shape_str(t.shape)); }

const ValueType& need(const Node& n, const std::vector<std::optional<ValueType>>& in, size_t i,
                      std::string_view what) {
  if (i >= in.size() || !in[i]) fail(n, fmt::format("missing input {} ({})", i, what));
  return *in[i];
}

void need_rank(const Node& n, const ValueType& t, size_t rank, std::string_view what) {
  if (t.shape.size() != rank) {
    fail(n, fmt::format("{} must have rank {}, got {}", what, rank, shape_str(t.shape)));
  }
}

void need_float(const Node& n, const ValueType& t, std::string_view what) {
  if (t.dtype != DType::kFloat32) fail(n, fmt::format("{} must be f32, got {}", what, type_str(t)));
}

void check_unit_dilations(const Node& n) {
  for (int64_t d : n.get_ints("dilations", {})) {
    if (d != 1) fail(n, fmt::format("dilations {} are not supported (only 1)", shape_str(n.get_ints("dilations"))));
  }
}

ValueType same_as(const ValueType& t) { return t; }

// Scale/zero-point of Quantize/DequantizeLinear: a scalar (or one element), or 1-D along `axis`.
void check_qparams(const Node& n, const ValueType& x, const ValueType& scale, const std::optional<ValueType>& zp) {
  need_float(n, scale, "scale");
  if (num_elements(scale.shape) != 1 || scale.shape.size() > 1) {
    const int64_t axis = normalize_axis(n, n.get_int("axis", 1), x.shape.size());
    if (scale.shape.size() != 1 || scale.shape[0] != x.shape[axis]) {
      fail(n, fmt::format("per-axis scale {} does not match axis {} of input {}", shape_str(scale.shape), axis,
                          shape_str(x.shape)));
    }
  }
  if (zp) {
    if (zp->shape != scale.shape && !(num_elements(zp->shape) == 1 && num_elements(scale.shape) == 1)) {
      fail(n, fmt::format("zero point {} and scale {} differ in shape", shape_str(zp->shape), shape_str(scale.shape)));
    }
    if (zp->dtype != DType::kInt8 && zp->dtype != DType::kUint8) {
      fail(n, fmt::format("zero point must be i8 or u8, got {}", type_str(*zp)));
    }
  }
}

}  // namespace

int64_t normalize_axis(const Node& n, int64_t axis, size_t rank, bool inclusive) {
  const auto r = static_cast<int64_t>(rank);
  const int64_t hi = inclusive ? r : r - 1;
  if (axis < -r || axis > hi) fail(n, fmt::format("axis {} out of range for rank {}", axis, rank));
  return axis < 0 ? axis + r : axis;
}

Shape broadcast_shapes(const Node& n, const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      fail(n, fmt::format("shapes {} and {} cannot be broadcast together", shape_str(a), shape_str(b)));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape reshape_target(const Node& n, const Shape& in, const Tensor& shape) {
  if (shape.dtype() != DType::kInt32 || shape.rank() != 1) {
    fail(n, fmt::format("shape must be a 1-D i32 constant, got {} {}", to_string(shape.dtype()), shape.shape_string()));
  }
  if (n.get_int("allowzero", 0) != 0) fail(n, "allowzero=1 is not supported");
  const auto* s = shape.data<int32_t>();
  Shape out(shape.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (s[i] == 0) {
      if (i >= in.size()) fail(n, fmt::format("shape entry {} is 0 but the input {} has no dim {}", i, shape_str(in), i));
      out[i] = in[i];
    } else if (s[i] == -1) {
      if (infer >= 0) fail(n, "more than one -1 in the target shape");
      infer = static_cast<int>(i);
      continue;
    } else if (s[i] < 0) {
      fail(n, fmt::format("invalid target shape entry {}", s[i]));
    } else {
      out[i] = s[i];
    }
    known *= out[i];
  }
  const int64_t total = num_elements(in);
  if (infer >= 0) {
    if (known == 0 || total % known != 0) {
      const auto target = shape.to_vector<int32_t>();
      fail(n, fmt::format("cannot reshape {} ({} elements) to [{}]", shape_str(in), total, fmt::join(target, ",")));
    }
    out[infer] = total / known;
  } else if (known != total) {
    fail(n, fmt::format("cannot reshape {} ({} elements) to {}", shape_str(in), total, shape_str(out)));
  }
  return out;
}

std::vector<int64_t> pad_amounts(const Node& n, const Tensor& pads, size_t rank) {
  if (pads.dtype() != DType::kInt32 || pads.rank() != 1 || pads.size() != 2 * rank) {
    fail(n, fmt::format("pads must be a 1-D i32 constant of {} entries, got {} {}", 2 * rank, to_string(pads.dtype()),
                        pads.shape_string()));
  }
  std::vector<int64_t> p;
  for (int32_t v : pads.to_vector<int32_t>()) {
    if (v < 0) fail(n, fmt::format("negative pads [{}] are not supported", fmt::join(pads.to_vector<int32_t>(), ",")));
    p.push_back(v);
  }
  return p;
}

std::pair<int64_t, int64_t> pool_kernel(const Node& n) {
  const auto k = n.get_ints("kernel_shape");
  if (k.size() != 2) fail(n, fmt::format("kernel_shape {} must have 2 entries", shape_str(k)));
  return {k[0], k[1]};
}

Window window_geometry(const Node& n, const Shape& x, int64_t kh, int64_t kw) {
  Window w;
  w.kh = kh;
  w.kw = kw;
  const auto strides = n.get_ints("strides", {1, 1});
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1) fail(n, fmt::format("bad strides {}", shape_str(strides)));
  w.sh = strides[0];
  w.sw = strides[1];
  const int64_t h = x[2], wd = x[3];
  const std::string auto_pad = n.get_string("auto_pad", "NOTSET");
  if (auto_pad == "NOTSET") {
    const auto pads = n.get_ints("pads", {0, 0, 0, 0});
    if (pads.size() != 4 || std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p < 0; })) {
      fail(n, fmt::format("bad pads {}", shape_str(pads)));
    }
    w.pad_top = pads[0];
    w.pad_left = pads[1];
    w.pad_bottom = pads[2];
    w.pad_right = pads[3];
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    auto split = [&](int64_t in, int64_t k, int64_t s, int64_t& begin, int64_t& end) {
      const int64_t out = (in + s - 1) / s;
      const int64_t total = std::max<int64_t>(0, (out - 1) * s + k - in);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    split(h, kh, w.sh, w.pad_top, w.pad_bottom);
    split(wd, kw, w.sw, w.pad_left, w.pad_right);
  } else if (auto_pad != "VALID") {
    fail(n, fmt::format("auto_pad '{}' is not supported", auto_pad));
  }
  const int64_t ph = h + w.pad_top + w.pad_bottom - kh;
  const int64_t pw = wd + w.pad_left + w.pad_right - kw;
  if (kh < 1 || kw < 1 || ph < 0 || pw < 0) {
    fail(n, fmt::format("kernel {}x{} does not fit the padded input {}", kh, kw, shape_str(x)));
  }
  w.oh = ph / w.sh + 1;
  w.ow = pw / w.sw + 1;
  return w;
}

std::vector<ValueType> infer_node(const Node& n, const std::vector<std::optional<ValueType>>& in,
                                  const std::vector<const Tensor*>& consts) {
  auto const_input = [&](size_t i) -> const Tensor* { return i < consts.size() ? consts[i] : nullptr; };
  switch (n.op) {
    case OpKind::kConv: {
      const ValueType& x = need(n, in, 0, "X");
      const ValueType& w = need(n, in, 1, "W");
      need_float(n, x, "input");
      need_rank(n, x, 4, "input (only 2-D convolution)");
      need_rank(n, w, 4, "weight");
      check_unit_dilations(n);
      const int64_t group = n.get_int("group", 1);
      const int64_t c = x.shape[1], m = w.shape[0];
      if (group < 1 || c % group != 0 || m % group != 0) {
        fail(n, fmt::format("group {} does not divide input channels {} and output channels {}", group, c, m));
      }
      if (w.shape[1] * group != c) {
        fail(n, fmt::format("channel mismatch: input {} has {} channels, weight {} with group {} expects {}",
                            shape_str(x.shape), c, shape_str(w.shape), group, w.shape[1] * group));
      }
      const auto ks = n.get_ints("kernel_shape", {w.shape[2], w.shape[3]});
      if (ks.size() != 2 || ks[0] != w.shape[2] || ks[1] != w.shape[3]) {
        fail(n, fmt::format("kernel_shape {} does not match weight {}", shape_str(ks), shape_str(w.shape)));
      }
      if (in.size() > 2 && in[2] && in[2]->shape != Shape{m}) {
        fail(n, fmt::format("bias {} must be [{}]", shape_str(in[2]->shape), m));
      }
      const Window win = window_geometry(n, x.shape, w.shape[2], w.shape[3]);
      return {{x.dtype, {x.shape[0], m, win.oh, win.ow}}};
    }
    case OpKind::kGemm: {
      const ValueType& a = need(n, in, 0, "A");
      const ValueType& b = need(n, in, 1, "B");
      need_float(n, a, "A");
      need_rank(n, a, 2, "A");
      need_rank(n, b, 2, "B");
      const bool ta = n.get_int("transA", 0) != 0, tb = n.get_int("transB", 0) != 0;
      const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
      const int64_t kb = tb ? b.shape[1] : b.shape[0], nn = tb ? b.shape[0] : b.shape[1];
      if (k != kb) {
        fail(n, fmt::format("inner dimensions differ: A {} (transA={}) and B {} (transB={})", shape_str(a.shape),
                            int{ta}, shape_str(b.shape), int{tb}));
      }
      if (in.size() > 2 && in[2]) {
        const Shape out{m, nn};
        if (broadcast_shapes(n, out, in[2]->shape) != out) {
          fail(n, fmt::format("C {} does not broadcast to {}", shape_str(in[2]->shape), shape_str(out)));
        }
      }
      return {{a.dtype, {m, nn}}};
    }
    case OpKind::kMatMul: {
      const ValueType& a = need(n, in, 0, "A");
      const ValueType& b = need(n, in, 1, "B");
      need_float(n, a, "A");
      need_float(n, b, "B");
      if (a.shape.size() < 2 || b.shape.size() < 2) {
        fail(n, fmt::format("1-D operands are not supported ({} x {})", shape_str(a.shape), shape_str(b.shape)));
      }
      const size_t ra = a.shape.size(), rb = b.shape.size();
      if (a.shape[ra - 1] != b.shape[rb - 2]) {
        fail(n, fmt::format("inner dimensions differ: {} x {}", shape_str(a.shape), shape_str(b.shape)));
      }
      Shape out = broadcast_shapes(n, Shape(a.shape.begin(), a.shape.end() - 2), Shape(b.shape.begin(), b.shape.end() - 2));
      out.push_back(a.shape[ra - 2]);
      out.push_back(b.shape[rb - 1]);
      return {{a.dtype, out}};
    }
    case OpKind::kRelu:
    case OpKind::kClip: {
      const ValueType& x = need(n, in, 0, "X");
      need_float(n, x, "input");
      for (size_t i = 1; i < in.size(); ++i) {
        if (in[i] && num_elements(in[i]->shape) != 1) fail(n, fmt::format("min/max must be scalars, got {}", shape_str(in[i]->shape)));
      }
      return {same_as(x)};
    }
    case OpKind::kIdentity:
    case OpKind::kDropout: {
      if (n.outputs.size() != 1) fail(n, "only the data output is supported");
      return {same_as(need(n, in, 0, "X"))};
    }
    case OpKind::kAdd:
    case OpKind::kMul: {
      const ValueType& a = need(n, in, 0, "A");
      const ValueType& b = need(n, in, 1, "B");
      need_float(n, a, "A");
      need_float(n, b, "B");
      return {{a.dtype, broadcast_shapes(n, a.shape, b.shape)}};
    }
    case OpKind::kMaxPool:
    case OpKind::kAveragePool: {
      const ValueType& x = need(n, in, 0, "X");
      need_float(n, x, "input");
      need_rank(n, x, 4, "input (only 2-D pooling)");
      check_unit_dilations(n);
      if (n.get_int("ceil_mode", 0) != 0) fail(n, "ceil_mode=1 is not supported");
      const auto [kh, kw] = pool_kernel(n);
      const Window win = window_geometry(n, x.shape, kh, kw);
      return {{x.dtype, {x.shape[0], x.shape[1], win.oh, win.ow}}};
    }
    case OpKind::kGlobalAveragePool: {
      const ValueType& x = need(n, in, 0, "X");
      need_float(n, x, "input");
      if (x.shape.size() < 3) fail(n, fmt::format("input {} must have rank >= 3", shape_str(x.shape)));
      Shape out = x.shape;
      std::fill(out.begin() + 2, out.end(), 1);
      return {{x.dtype, out}};
    }
    case OpKind::kBatchNormalization: {
      const ValueType& x = need(n, in, 0, "X");
      need_float(n, x, "input");
      if (x.shape.size() < 2) fail(n, fmt::format("input {} must have rank >= 2", shape_str(x.shape)));
      if (n.outputs.size() != 1) fail(n, "only inference mode (one output) is supported");
      static constexpr const char* kParams[] = {"X", "scale", "B", "mean", "var"};
      for (size_t i = 1; i < 5; ++i) {
        const ValueType& p = need(n, in, i, kParams[i]);
        if (p.shape != Shape{x.shape[1]}) {
          fail(n, fmt::format("{} {} must be [{}] (the channels of {})", kParams[i], shape_str(p.shape), x.shape[1],
                              shape_str(x.shape)));
        }
      }
      return {same_as(x)};
    }
    case OpKind::kFlatten: {
      const ValueType& x = need(n, in, 0, "X");
      const int64_t axis = normalize_axis(n, n.get_int("axis", 1), x.shape.size(), true);
      const int64_t outer = num_elements(Shape(x.shape.begin(), x.shape.begin() + axis));
      return {{x.dtype, {outer, num_elements(x.shape) / std::max<int64_t>(outer, 1)}}};
    }
    case OpKind::kReshape: {
      const ValueType& x = need(n, in, 0, "X");
      const Tensor* shape = const_input(1);
      if (shape == nullptr) fail(n, "the target shape must be a constant");
      return {{x.dtype, reshape_target(n, x.shape, *shape)}};
    }
    case OpKind::kConcat: {
      if (in.empty()) fail(n, "no inputs");
      const ValueType& first = need(n, in, 0, "input 0");
      const int64_t axis = normalize_axis(n, n.get_int("axis"), first.shape.size());
      Shape out = first.shape;
      for (size_t i = 1; i < in.size(); ++i) {
        const ValueType& t = need(n, in, i, "input");
        bool ok = t.dtype == first.dtype && t.shape.size() == first.shape.size();
        for (size_t d = 0; ok && d < t.shape.size(); ++d) ok = static_cast<int64_t>(d) == axis || t.shape[d] == first.shape[d];
        if (!ok) {
          fail(n, fmt::format("input {} {} does not match input 0 {} outside axis {}", i, type_str(t), type_str(first), axis));
        }
        out[axis] += t.shape[axis];
      }
      return {{first.dtype, out}};
    }
    case OpKind::kSoftmax: {
      const ValueType& x = need(n, in, 0, "X");
      need_float(n, x, "input");
      normalize_axis(n, n.get_int("axis", -1), x.shape.size());
      return {same_as(x)};
    }
    case OpKind::kQuantizeLinear: {
      const ValueType& x = need(n, in, 0, "X");
      need_float(n, x, "input");
      const std::optional<ValueType> zp = in.size() > 2 ? in[2] : std::nullopt;
      check_qparams(n, x, need(n, in, 1, "scale"), zp);
      return {{zp ? zp->dtype : DType::kUint8, x.shape}};
    }
    case OpKind::kPad: {
      const ValueType& x = need(n, in, 0, "X");
      if (n.get_string("mode", "constant") != "constant") fail(n, "only constant padding is supported");
      const Tensor* pads = const_input(1);
      if (pads == nullptr) fail(n, "the pads must be a constant");
      if (in.size() > 2 && in[2] && (in[2]->dtype != x.dtype || num_elements(in[2]->shape) != 1)) {
        fail(n, fmt::format("the pad value {} must be a scalar of the input's dtype {}", type_str(*in[2]), type_str(x)));
      }
      const auto p = pad_amounts(n, *pads, x.shape.size());
      Shape out = x.shape;
      for (size_t d = 0; d < out.size(); ++d) out[d] += p[d] + p[d + out.size()];
      return {{x.dtype, out}};
    }
    case OpKind::kDequantizeLinear: {
      const ValueType& x = need(n, in, 0, "X");
      if (x.dtype != DType::kInt8 && x.dtype != DType::kUint8 && x.dtype != DType::kInt32) {
        fail(n, fmt::format("input must be i8, u8 or i32, got {}", type_str(x)));
      }
      const std::optional<ValueType> zp = in.size() > 2 ? in[2] : std::nullopt;
      if (zp && zp->dtype != x.dtype) fail(n, fmt::format("zero point {} and input {} differ in dtype", type_str(*zp), type_str(x)));
      if (x.dtype == DType::kInt32) {
        // ONNX: an int32 input has no zero point, or one that is 0 (exporters write the explicit 0).
        if (zp) {
          const Tensor* z = const_input(2);
          bool all_zero = z != nullptr;
          for (size_t i = 0; z && i < z->size(); ++i) all_zero = all_zero && z->data<int32_t>()[i] == 0;
          if (!all_zero) fail(n, "the zero point of an i32 input must be a constant 0");
        }
        check_qparams(n, x, need(n, in, 1, "scale"), std::nullopt);
      } else {
        check_qparams(n, x, need(n, in, 1, "scale"), zp);
      }
      return {{DType::kFloat32, x.shape}};
    }
  }
  fail(n, "unknown op");
}

}  // namespace vta::ir::detail
