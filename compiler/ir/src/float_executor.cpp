#include "vta/ir/float_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "op_shapes.h"

namespace vta::ir {
namespace {

using detail::ValueType;

size_t to_size(int64_t v) { return static_cast<size_t>(v); }

// For each element of `out` (row-major), the index of the element of a tensor of shape `in` that
// broadcasts to it.
std::vector<size_t> broadcast_map(const Shape& out, const Shape& in) {
  const size_t rank = out.size();
  std::vector<size_t> in_stride(rank, 0);
  size_t stride = 1;
  for (size_t i = 0; i < in.size(); ++i) {
    const size_t d = in.size() - 1 - i;  // dim of `in`, aligned to the right
    const size_t od = rank - 1 - i;
    in_stride[od] = in[d] == 1 ? 0 : stride;
    stride *= to_size(in[d]);
  }
  const auto total = to_size(num_elements(out));
  std::vector<size_t> map(total);
  std::vector<int64_t> idx(rank, 0);
  size_t offset = 0;
  for (size_t flat = 0; flat < total; ++flat) {
    map[flat] = offset;
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < out[d]) {
        offset += in_stride[d];
        break;
      }
      offset -= in_stride[d] * to_size(out[d] - 1);
      idx[d] = 0;
    }
  }
  return map;
}

const Tensor& in_at(const Node& n, const std::vector<const Tensor*>& in, size_t i) {
  if (i >= in.size() || in[i] == nullptr) throw Error(fmt::format("{}: missing input {}", n.describe(), i));
  return *in[i];
}

const float* fdata(const Tensor& t) { return t.data<float>(); }

Tensor conv2d(const Node& n, const Tensor& x, const Tensor& w, const Tensor* b) {
  const detail::Window win = detail::window_geometry(n, x.shape(), w.dim(2), w.dim(3));
  const int64_t batch = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), m = w.dim(0);
  const int64_t group = n.get_int("group", 1);
  const int64_t cg = c / group, mg = m / group;
  Tensor y(DType::kFloat32, {batch, m, win.oh, win.ow});
  const float* xp = fdata(x);
  const float* wp = fdata(w);
  const float* bp = b ? fdata(*b) : nullptr;
  float* yp = y.data<float>();
  for (int64_t ni = 0; ni < batch; ++ni) {
    for (int64_t oc = 0; oc < m; ++oc) {
      const int64_t g = oc / mg;
      for (int64_t oy = 0; oy < win.oh; ++oy) {
        for (int64_t ox = 0; ox < win.ow; ++ox) {
          double acc = bp ? bp[oc] : 0.0;
          for (int64_t ic = 0; ic < cg; ++ic) {
            const int64_t ci = g * cg + ic;
            for (int64_t ky = 0; ky < win.kh; ++ky) {
              const int64_t iy = oy * win.sh - win.pad_top + ky;
              if (iy < 0 || iy >= h) continue;
              for (int64_t kx = 0; kx < win.kw; ++kx) {
                const int64_t ix = ox * win.sw - win.pad_left + kx;
                if (ix < 0 || ix >= wd) continue;
                acc += double{xp[((ni * c + ci) * h + iy) * wd + ix]} *
                       double{wp[((oc * cg + ic) * win.kh + ky) * win.kw + kx]};
              }
            }
          }
          yp[((ni * m + oc) * win.oh + oy) * win.ow + ox] = static_cast<float>(acc);
        }
      }
    }
  }
  return y;
}

Tensor pool2d(const Node& n, const Tensor& x) {
  const auto [kh, kw] = detail::pool_kernel(n);
  const detail::Window win = detail::window_geometry(n, x.shape(), kh, kw);
  const bool is_max = n.op == OpKind::kMaxPool;
  const bool include_pad = n.get_int("count_include_pad", 0) != 0;
  const int64_t batch = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  Tensor y(DType::kFloat32, {batch, c, win.oh, win.ow});
  const float* xp = fdata(x);
  float* yp = y.data<float>();
  for (int64_t p = 0; p < batch * c; ++p) {
    for (int64_t oy = 0; oy < win.oh; ++oy) {
      for (int64_t ox = 0; ox < win.ow; ++ox) {
        double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
        int64_t count = 0;
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t iy = oy * win.sh - win.pad_top + ky;
          if (iy < 0 || iy >= h) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t ix = ox * win.sw - win.pad_left + kx;
            if (ix < 0 || ix >= wd) continue;
            const double v = xp[(p * h + iy) * wd + ix];
            acc = is_max ? std::max(acc, v) : acc + v;
            ++count;
          }
        }
        if (!is_max) acc /= static_cast<double>(include_pad ? kh * kw : std::max<int64_t>(count, 1));
        yp[(p * win.oh + oy) * win.ow + ox] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

Tensor gemm(const Node& n, const Tensor& a, const Tensor& b, const Tensor* c, const Shape& out) {
  const bool ta = n.get_int("transA", 0) != 0, tb = n.get_int("transB", 0) != 0;
  const double alpha = n.get_float("alpha", 1.0f), beta = n.get_float("beta", 1.0f);
  const int64_t m = out[0], nn = out[1], k = ta ? a.dim(0) : a.dim(1);
  Tensor y(DType::kFloat32, out);
  const float* ap = fdata(a);
  const float* bp = fdata(b);
  float* yp = y.data<float>();
  std::vector<size_t> cmap;
  if (c) cmap = broadcast_map(out, c->shape());
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < nn; ++j) {
      double acc = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const float av = ta ? ap[kk * m + i] : ap[i * k + kk];
        const float bv = tb ? bp[j * k + kk] : bp[kk * nn + j];
        acc += double{av} * double{bv};
      }
      double v = alpha * acc;
      if (c) v += beta * double{fdata(*c)[cmap[to_size(i * nn + j)]]};
      yp[i * nn + j] = static_cast<float>(v);
    }
  }
  return y;
}

Tensor matmul(const Tensor& a, const Tensor& b, const Shape& out) {
  const size_t ra = a.rank(), rb = b.rank();
  const int64_t m = a.dim(ra - 2), k = a.dim(ra - 1), nn = b.dim(rb - 1);
  const Shape batch(out.begin(), out.end() - 2);
  // Batch offsets of A and B for every output batch, by broadcasting their batch shapes.
  const auto amap = broadcast_map(batch, Shape(a.shape().begin(), a.shape().end() - 2));
  const auto bmap = broadcast_map(batch, Shape(b.shape().begin(), b.shape().end() - 2));
  Tensor y(DType::kFloat32, out);
  const float* ap = fdata(a);
  const float* bp = fdata(b);
  float* yp = y.data<float>();
  for (size_t bi = 0; bi < amap.size(); ++bi) {
    const float* am = ap + amap[bi] * to_size(m * k);
    const float* bm = bp + bmap[bi] * to_size(k * nn);
    float* ym = yp + bi * to_size(m * nn);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < nn; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) acc += double{am[i * k + kk]} * double{bm[kk * nn + j]};
        ym[i * nn + j] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

Tensor binary(const Node& n, const Tensor& a, const Tensor& b, const Shape& out) {
  const auto amap = broadcast_map(out, a.shape());
  const auto bmap = broadcast_map(out, b.shape());
  Tensor y(DType::kFloat32, out);
  const float* ap = fdata(a);
  const float* bp = fdata(b);
  float* yp = y.data<float>();
  const bool add = n.op == OpKind::kAdd;
  for (size_t i = 0; i < y.size(); ++i) yp[i] = add ? ap[amap[i]] + bp[bmap[i]] : ap[amap[i]] * bp[bmap[i]];
  return y;
}

float scalar_of(const Tensor& t) { return fdata(t)[0]; }

Tensor clip(const Node& n, const std::vector<const Tensor*>& in) {
  const Tensor& x = in_at(n, in, 0);
  float lo = n.get_float("min", -std::numeric_limits<float>::infinity());
  float hi = n.get_float("max", std::numeric_limits<float>::infinity());
  if (in.size() > 1 && in[1]) lo = scalar_of(*in[1]);
  if (in.size() > 2 && in[2]) hi = scalar_of(*in[2]);
  Tensor y(DType::kFloat32, x.shape());
  const float* xp = fdata(x);
  float* yp = y.data<float>();
  for (size_t i = 0; i < x.size(); ++i) yp[i] = std::min(std::max(xp[i], lo), hi);
  return y;
}

Tensor batch_norm(const Node& n, const std::vector<const Tensor*>& in) {
  const Tensor& x = in_at(n, in, 0);
  const float* scale = fdata(in_at(n, in, 1));
  const float* bias = fdata(in_at(n, in, 2));
  const float* mean = fdata(in_at(n, in, 3));
  const float* var = fdata(in_at(n, in, 4));
  const double eps = n.get_float("epsilon", 1e-5f);
  const int64_t c = x.dim(1);
  const int64_t inner = num_elements(Shape(x.shape().begin() + 2, x.shape().end()));
  Tensor y(DType::kFloat32, x.shape());
  const float* xp = fdata(x);
  float* yp = y.data<float>();
  for (size_t i = 0; i < x.size(); ++i) {
    const auto ch = to_size((static_cast<int64_t>(i) / inner) % c);
    const double s = double{scale[ch]} / std::sqrt(double{var[ch]} + eps);
    yp[i] = static_cast<float>((double{xp[i]} - mean[ch]) * s + bias[ch]);
  }
  return y;
}

Tensor softmax(const Node& n, const Tensor& x) {
  const int64_t axis = detail::normalize_axis(n, n.get_int("axis", -1), x.rank());
  const bool coerce = n.get_int("coerce_2d", 0) != 0;
  const Shape& s = x.shape();
  const int64_t outer = num_elements(Shape(s.begin(), s.begin() + axis));
  const int64_t len = coerce ? num_elements(Shape(s.begin() + axis, s.end())) : s[to_size(axis)];
  const int64_t inner = coerce ? 1 : num_elements(Shape(s.begin() + axis + 1, s.end()));
  Tensor y(DType::kFloat32, s);
  const float* xp = fdata(x);
  float* yp = y.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < len; ++j) mx = std::max(mx, double{xp[base + j * inner]});
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(double{xp[base + j * inner]} - mx);
      for (int64_t j = 0; j < len; ++j) {
        yp[base + j * inner] = static_cast<float>(std::exp(double{xp[base + j * inner]} - mx) / sum);
      }
    }
  }
  return y;
}

// Index into a per-tensor or per-axis quantization parameter for element `flat` of a tensor of shape s.
struct QParamIndex {
  int64_t inner = 1, dim = 1;
  bool per_axis = false;
  size_t operator()(size_t flat) const {
    return per_axis ? to_size((static_cast<int64_t>(flat) / inner) % dim) : 0;
  }
};

QParamIndex qparam_index(const Node& n, const Shape& s, const Tensor& scale) {
  QParamIndex q;
  if (scale.rank() == 1 && scale.size() > 1) {
    const int64_t axis = detail::normalize_axis(n, n.get_int("axis", 1), s.size());
    q.per_axis = true;
    q.dim = s[to_size(axis)];
    q.inner = num_elements(Shape(s.begin() + axis + 1, s.end()));
  }
  return q;
}

int32_t int_at(const Tensor& t, size_t i) {
  switch (t.dtype()) {
    case DType::kInt8: return t.data<int8_t>()[i];
    case DType::kUint8: return t.data<uint8_t>()[i];
    case DType::kInt32: return t.data<int32_t>()[i];
    case DType::kFloat32: break;
  }
  throw Error("int_at: float tensor");
}

Tensor quantize(const Node& n, const std::vector<const Tensor*>& in) {
  const Tensor& x = in_at(n, in, 0);
  const Tensor& scale = in_at(n, in, 1);
  const Tensor* zp = in.size() > 2 ? in[2] : nullptr;
  const DType out_type = zp ? zp->dtype() : DType::kUint8;
  const int32_t lo = out_type == DType::kInt8 ? -128 : 0, hi = out_type == DType::kInt8 ? 127 : 255;
  const QParamIndex qi = qparam_index(n, x.shape(), scale);
  Tensor y(out_type, x.shape());
  const float* xp = fdata(x);
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t p = qi(i);
    // nearbyint rounds half to even in the default rounding mode.
    const float q = std::nearbyint(xp[i] / fdata(scale)[p]) + static_cast<float>(zp ? int_at(*zp, p) : 0);
    const auto v = static_cast<int32_t>(std::clamp(q, static_cast<float>(lo), static_cast<float>(hi)));
    if (out_type == DType::kInt8) {
      y.data<int8_t>()[i] = static_cast<int8_t>(v);
    } else {
      y.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    }
  }
  return y;
}

Tensor dequantize(const Node& n, const std::vector<const Tensor*>& in) {
  const Tensor& x = in_at(n, in, 0);
  const Tensor& scale = in_at(n, in, 1);
  const Tensor* zp = in.size() > 2 ? in[2] : nullptr;
  const QParamIndex qi = qparam_index(n, x.shape(), scale);
  Tensor y(DType::kFloat32, x.shape());
  float* yp = y.data<float>();
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t p = qi(i);
    yp[i] = static_cast<float>(int_at(x, i) - (zp ? int_at(*zp, p) : 0)) * fdata(scale)[p];
  }
  return y;
}

Tensor relabel(const Tensor& x, const Shape& shape) {
  Tensor y(x.dtype(), shape);
  if (x.nbytes()) std::memcpy(y.raw(), x.raw(), x.nbytes());
  return y;
}

Tensor concat(const Node& n, const std::vector<const Tensor*>& in, const Shape& out) {
  const int64_t axis = detail::normalize_axis(n, n.get_int("axis"), out.size());
  const int64_t outer = num_elements(Shape(out.begin(), out.begin() + axis));
  const size_t elem = compiler::dtype_size(in_at(n, in, 0).dtype());
  const auto inner_bytes = to_size(num_elements(Shape(out.begin() + axis + 1, out.end()))) * elem;
  Tensor y(in_at(n, in, 0).dtype(), out);
  std::byte* dst = y.raw();
  for (int64_t o = 0; o < outer; ++o) {
    for (size_t i = 0; i < in.size(); ++i) {
      const Tensor& t = in_at(n, in, i);
      const size_t chunk = to_size(t.dim(to_size(axis))) * inner_bytes;
      std::memcpy(dst, t.raw() + to_size(o) * chunk, chunk);
      dst += chunk;
    }
  }
  return y;
}

// Constant padding, any dtype: the value is copied element by element as raw bytes.
Tensor pad(const Node& n, const std::vector<const Tensor*>& in, const Shape& out) {
  const Tensor& x = in_at(n, in, 0);
  const auto p = detail::pad_amounts(n, in_at(n, in, 1), x.rank());
  const size_t elem = compiler::dtype_size(x.dtype());
  Tensor y(x.dtype(), out);
  if (in.size() > 2 && in[2]) {
    for (size_t i = 0; i < y.size(); ++i) std::memcpy(y.raw() + i * elem, in[2]->raw(), elem);
  }
  const size_t rank = x.rank();
  std::vector<int64_t> idx(rank, 0);
  for (size_t flat = 0; flat < x.size(); ++flat) {
    size_t dst = 0;
    for (size_t d = 0; d < rank; ++d) dst = dst * to_size(out[d]) + to_size(idx[d] + p[d]);
    std::memcpy(y.raw() + dst * elem, x.raw() + flat * elem, elem);
    for (size_t d = rank; d-- > 0;) {
      if (++idx[d] < x.dim(d)) break;
      idx[d] = 0;
    }
  }
  return y;
}

void check_inputs(const Graph& g, const std::vector<Tensor>& inputs) {
  if (inputs.size() != g.inputs().size()) {
    throw Error(fmt::format("graph '{}' takes {} inputs, got {}", g.name(), g.inputs().size(), inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& v = g.value(g.inputs()[i]);
    if (inputs[i].dtype() != v.dtype || inputs[i].shape() != v.shape) {
      throw Error(fmt::format("graph '{}': input '{}' expects {}{}, got {}{}", g.name(), v.name, short_dtype(v.dtype),
                              shape_str(v.shape), short_dtype(inputs[i].dtype()), shape_str(inputs[i].shape())));
    }
  }
}

std::map<ValueId, Tensor> execute(const Graph& g, const std::vector<Tensor>& inputs, const ValueCallback& on_value) {
  check_inputs(g, inputs);
  std::map<ValueId, Tensor> env;
  for (size_t i = 0; i < inputs.size(); ++i) env[g.inputs()[i]] = inputs[i];
  for (NodeId id : g.topological_order()) {
    const Node& n = g.node(id);
    std::vector<const Tensor*> in;
    for (ValueId v : n.inputs) {
      if (v == kNoValue) {
        in.push_back(nullptr);
      } else if (g.is_constant(v)) {
        in.push_back(&*g.value(v).constant);
      } else {
        in.push_back(&env.at(v));
      }
    }
    std::vector<Tensor> out = evaluate_node(n, in);
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      if (on_value) on_value(n.outputs[i], out[i]);
      env[n.outputs[i]] = std::move(out[i]);
    }
  }
  return env;
}

const Tensor& output_of(const Graph& g, const std::map<ValueId, Tensor>& env, ValueId v) {
  if (g.is_constant(v)) return *g.value(v).constant;
  auto it = env.find(v);
  if (it == env.end()) throw Error(fmt::format("graph '{}': output '{}' is never computed", g.name(), g.value(v).name));
  return it->second;
}

}  // namespace

std::vector<Tensor> evaluate_node(const Node& n, const std::vector<const Tensor*>& in) {
  std::vector<std::optional<ValueType>> types;
  for (const Tensor* t : in) {
    if (t) {
      types.push_back(ValueType{t->dtype(), t->shape()});
    } else {
      types.emplace_back(std::nullopt);
    }
  }
  const std::vector<ValueType> out = detail::infer_node(n, types, in);
  const Shape& shape = out.at(0).shape;
  switch (n.op) {
    case OpKind::kConv: return {conv2d(n, in_at(n, in, 0), in_at(n, in, 1), in.size() > 2 ? in[2] : nullptr)};
    case OpKind::kGemm: return {gemm(n, in_at(n, in, 0), in_at(n, in, 1), in.size() > 2 ? in[2] : nullptr, shape)};
    case OpKind::kMatMul: return {matmul(in_at(n, in, 0), in_at(n, in, 1), shape)};
    case OpKind::kRelu: {
      Tensor y = relabel(in_at(n, in, 0), shape);
      for (float* p = y.data<float>(); p != y.data<float>() + y.size(); ++p) *p = std::max(*p, 0.0f);
      return {std::move(y)};
    }
    case OpKind::kClip: return {clip(n, in)};
    case OpKind::kAdd:
    case OpKind::kMul: return {binary(n, in_at(n, in, 0), in_at(n, in, 1), shape)};
    case OpKind::kMaxPool:
    case OpKind::kAveragePool: return {pool2d(n, in_at(n, in, 0))};
    case OpKind::kGlobalAveragePool: {
      const Tensor& x = in_at(n, in, 0);
      Tensor y(DType::kFloat32, shape);
      const auto inner = to_size(num_elements(x.shape()) / std::max<int64_t>(num_elements(shape), 1));
      for (size_t p = 0; p < y.size(); ++p) {
        double acc = 0;
        for (size_t i = 0; i < inner; ++i) acc += fdata(x)[p * inner + i];
        y.data<float>()[p] = static_cast<float>(acc / static_cast<double>(inner));
      }
      return {std::move(y)};
    }
    case OpKind::kBatchNormalization: return {batch_norm(n, in)};
    case OpKind::kFlatten:
    case OpKind::kReshape:
    case OpKind::kIdentity:
    case OpKind::kDropout: return {relabel(in_at(n, in, 0), shape)};
    case OpKind::kConcat: return {concat(n, in, shape)};
    case OpKind::kSoftmax: return {softmax(n, in_at(n, in, 0))};
    case OpKind::kQuantizeLinear: return {quantize(n, in)};
    case OpKind::kDequantizeLinear: return {dequantize(n, in)};
    case OpKind::kPad: return {pad(n, in, shape)};
  }
  throw Error(n.describe() + ": not supported by the float executor");
}

std::vector<Tensor> run_float(const Graph& g, const std::vector<Tensor>& inputs, const ValueCallback& on_value) {
  const auto env = execute(g, inputs, on_value);
  std::vector<Tensor> out;
  for (ValueId v : g.outputs()) out.push_back(output_of(g, env, v));
  return out;
}

std::vector<Tensor> run_float(const Graph& g, const std::vector<Tensor>& inputs) { return run_float(g, inputs, {}); }

std::map<ValueId, Tensor> run_float_all(const Graph& g, const std::vector<Tensor>& inputs) {
  return execute(g, inputs, {});
}

}  // namespace vta::ir
