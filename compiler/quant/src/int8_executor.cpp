#include "vta/quant/int8_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace vta::quant {
namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "[";
  for (size_t i = 0; i < s.size(); ++i) t += fmt::format("{}{}", i ? "," : "", s[i]);
  return t + "]";
}

[[noreturn]] void fail(const QStep& s, const std::string& what) {
  throw Error(fmt::format("step '{}' ({}): {}", s.name, to_string(s.op), what));
}

// Wrapping int32 arithmetic (the accumulator of the core).
int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

int8_t clamp8(int64_t v, int32_t lo, int32_t hi) { return static_cast<int8_t>(std::clamp<int64_t>(v, lo, hi)); }

// clamp(acc >> shift, lo, hi): arithmetic shift of the (already rounded) accumulator.
int8_t requant(int32_t acc, int32_t shift, const Requantize& r) {
  const int32_t shifted = acc >> shift;  // arithmetic for signed values (C++20)
  return clamp8(shifted, r.lo(), r.clip_hi);
}
int8_t requant(int32_t acc, const Requantize& r) { return requant(acc, r.shift, r); }

// The shift of each of `channels` output channels (kConv2d, kDense), checked.
std::vector<int32_t> channel_shifts(const QStep& s, int64_t channels) {
  if (s.channel_shift.empty()) {
    if (s.requant.shift < 0 || s.requant.shift > 31) fail(s, fmt::format("shift {} not in [0, 31]", s.requant.shift));
    return std::vector<int32_t>(sz(channels), s.requant.shift);
  }
  if (s.channel_shift.size() != sz(channels)) {
    fail(s, fmt::format("{} channel shifts for {} output channels", s.channel_shift.size(), channels));
  }
  for (int32_t v : s.channel_shift) {
    if (v < 0 || v > 31) fail(s, fmt::format("channel shift {} not in [0, 31]", v));
  }
  return s.channel_shift;
}

// round_half_away(sum / count), count > 0.
int64_t div_round_away(int64_t sum, int64_t count) {
  const int64_t mag = (2 * (sum < 0 ? -sum : sum) + count) / (2 * count);
  return sum < 0 ? -mag : mag;
}

const QTensor& out_tensor(const QModel& m, const QStep& s) { return m.tensor(s.output); }

void check_input(const QModel& m, const QStep& s, const std::vector<const Tensor*>& in, size_t i) {
  if (i >= in.size() || in[i] == nullptr) fail(s, fmt::format("missing input {}", i));
  if (i >= s.inputs.size()) fail(s, fmt::format("takes {} inputs, got {}", s.inputs.size(), in.size()));
  const QTensor& t = m.tensor(s.inputs[i]);
  if (in[i]->dtype() != t.dtype || in[i]->shape() != t.shape) {
    fail(s, fmt::format("input {} ('{}') expects {}{}, got {}{}", i, t.name, compiler::to_string(t.dtype),
                        shape_text(t.shape), compiler::to_string(in[i]->dtype()), shape_text(in[i]->shape())));
  }
}

Tensor quantize_step(const QModel& m, const QStep& s, const Tensor& x) {
  const QTensor& o = out_tensor(m, s);
  Tensor y(DType::kInt8, o.shape);
  const float* xp = x.data<float>();
  int8_t* yp = y.data<int8_t>();
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = std::ldexp(static_cast<double>(xp[i]), o.exp);  // exact
    // nearbyint: round half to even in the default rounding mode; NaN becomes 0.
    const double r = std::isnan(v) ? 0.0 : std::nearbyint(std::clamp(v, -1e9, 1e9));
    yp[i] = clamp8(static_cast<int64_t>(r), -128, 127);
  }
  return y;
}

Tensor conv2d_step(const QModel& m, const QStep& s, const Tensor& x) {
  if (!s.weight || s.weight->dtype() != DType::kInt8 || s.weight->rank() != 4) fail(s, "needs an int8 OIHW weight");
  const Tensor& w = *s.weight;
  const QTensor& o = out_tensor(m, s);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  const int64_t oc = w.dim(0), kh = w.dim(2), kw = w.dim(3);
  const int64_t groups = s.conv.groups;
  if (groups < 1 || c % groups != 0 || oc % groups != 0 || w.dim(1) != c / groups) {
    fail(s, fmt::format("weight {} does not fit input {} with groups={}", w.shape_string(), x.shape_string(), groups));
  }
  const int64_t sh = s.conv.stride_h, sw = s.conv.stride_w;
  const int64_t pt = s.conv.pad_top, pl = s.conv.pad_left;
  const int64_t oh = (h + pt + s.conv.pad_bottom - kh) / sh + 1, ow = (wd + pl + s.conv.pad_right - kw) / sw + 1;
  if (o.shape != std::vector<int64_t>{n, oc, oh, ow}) {
    fail(s, fmt::format("output {} but the geometry gives {}", shape_text(o.shape), shape_text({n, oc, oh, ow})));
  }
  const int32_t* bp = s.bias ? s.bias->data<int32_t>() : nullptr;
  if (bp && s.bias->size() != sz(oc)) fail(s, "bias size differs from the output channels");
  const int64_t cg = c / groups, og = oc / groups;
  const std::vector<int32_t> shift = channel_shifts(s, oc);
  const int8_t* xp = x.data<int8_t>();
  const int8_t* wp = w.data<int8_t>();
  Tensor y(DType::kInt8, o.shape);
  int8_t* yp = y.data<int8_t>();
  for (int64_t ni = 0; ni < n; ++ni) {
    for (int64_t co = 0; co < oc; ++co) {
      const int64_t g = co / og;
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          int32_t acc = 0;
          for (int64_t ic = 0; ic < cg; ++ic) {
            const int64_t ci = g * cg + ic;
            for (int64_t ky = 0; ky < kh; ++ky) {
              const int64_t iy = oy * sh - pt + ky;
              if (iy < 0 || iy >= h) continue;
              for (int64_t kx = 0; kx < kw; ++kx) {
                const int64_t ix = ox * sw - pl + kx;
                if (ix < 0 || ix >= wd) continue;
                acc = wrap_add(acc, wrap_mul(xp[sz(((ni * c + ci) * h + iy) * wd + ix)],
                                             wp[sz(((co * cg + ic) * kh + ky) * kw + kx)]));
              }
            }
          }
          if (bp) acc = wrap_add(acc, bp[co]);
          yp[sz(((ni * oc + co) * oh + oy) * ow + ox)] = requant(acc, shift[sz(co)], s.requant);
        }
      }
    }
  }
  return y;
}

Tensor dense_step(const QModel& m, const QStep& s, const Tensor& x) {
  if (!s.weight || s.weight->dtype() != DType::kInt8 || s.weight->rank() != 2) fail(s, "needs an int8 (M, K) weight");
  if (x.rank() != 2) fail(s, fmt::format("input {} must have rank 2", x.shape_string()));
  const Tensor& w = *s.weight;
  const int64_t n = x.dim(0), k = x.dim(1), mm = w.dim(0);
  if (w.dim(1) != k) fail(s, fmt::format("weight {} does not fit input {}", w.shape_string(), x.shape_string()));
  const int32_t* bp = s.bias ? s.bias->data<int32_t>() : nullptr;
  if (bp && s.bias->size() != sz(mm)) fail(s, "bias size differs from the output features");
  const QTensor& o = out_tensor(m, s);
  if (o.shape != std::vector<int64_t>{n, mm}) fail(s, fmt::format("output {} but expected [{},{}]", shape_text(o.shape), n, mm));
  const std::vector<int32_t> shift = channel_shifts(s, mm);
  Tensor y(DType::kInt8, o.shape);
  const int8_t* xp = x.data<int8_t>();
  const int8_t* wp = w.data<int8_t>();
  int8_t* yp = y.data<int8_t>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < mm; ++j) {
      int32_t acc = 0;
      for (int64_t t = 0; t < k; ++t) acc = wrap_add(acc, wrap_mul(xp[sz(i * k + t)], wp[sz(j * k + t)]));
      if (bp) acc = wrap_add(acc, bp[j]);
      yp[sz(i * mm + j)] = requant(acc, shift[sz(j)], s.requant);
    }
  }
  return y;
}

// kAdd's arithmetic on two int8 tensors of the same size (also the residual of a fused kConv2d).
void add_into(const QStep& s, const int8_t* ap, const int8_t* bp, int32_t shift_a, int32_t shift_b, const Requantize& rq,
              size_t n, int8_t* yp) {
  if (shift_a < 0 || shift_a > 24 || shift_b < 0 || shift_b > 24) fail(s, "input shifts out of range");
  if (rq.shift < 0 || rq.shift > 31) fail(s, fmt::format("shift {} not in [0, 31]", rq.shift));
  const int32_t round = rq.shift > 0 ? int32_t{1} << (rq.shift - 1) : 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t acc = wrap_add(wrap_add(ap[i] * (int32_t{1} << shift_a), bp[i] * (int32_t{1} << shift_b)), round);
    yp[i] = requant(acc, rq);
  }
}

Tensor add_step(const QModel& m, const QStep& s, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) fail(s, fmt::format("shapes {} and {} differ", a.shape_string(), b.shape_string()));
  if (!s.channel_shift.empty()) fail(s, "per-channel shifts apply to Conv2d and Dense only");
  Tensor y(DType::kInt8, out_tensor(m, s).shape);
  add_into(s, a.data<int8_t>(), b.data<int8_t>(), s.shift_a, s.shift_b, s.requant, a.size(), y.data<int8_t>());
  return y;
}

Tensor pool_step(const QModel& m, const QStep& s, const Tensor& x) {
  if (x.rank() != 4) fail(s, fmt::format("input {} must be NCHW", x.shape_string()));
  const PoolAttrs& p = s.pool;
  const int64_t h = x.dim(2), wd = x.dim(3), kh = p.kernel_h, kw = p.kernel_w, sh = p.stride_h, sw = p.stride_w;
  const int64_t oh = (h + p.pad_top + p.pad_bottom - kh) / sh + 1, ow = (wd + p.pad_left + p.pad_right - kw) / sw + 1;
  const QTensor& o = out_tensor(m, s);
  if (o.shape != std::vector<int64_t>{x.dim(0), x.dim(1), oh, ow}) {
    fail(s, fmt::format("output {} but the geometry gives [{},{},{},{}]", shape_text(o.shape), x.dim(0), x.dim(1), oh, ow));
  }
  const bool is_max = s.op == QOp::kMaxPool;
  Tensor y(DType::kInt8, o.shape);
  const int8_t* xp = x.data<int8_t>();
  int8_t* yp = y.data<int8_t>();
  for (int64_t plane = 0; plane < x.dim(0) * x.dim(1); ++plane) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        int64_t acc = is_max ? std::numeric_limits<int64_t>::min() : 0;
        int64_t count = 0;
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t iy = oy * sh - p.pad_top + ky;
          if (iy < 0 || iy >= h) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t ix = ox * sw - p.pad_left + kx;
            if (ix < 0 || ix >= wd) continue;
            const int64_t v = xp[sz((plane * h + iy) * wd + ix)];
            acc = is_max ? std::max(acc, v) : acc + v;
            ++count;
          }
        }
        int64_t r;
        if (is_max) {
          r = count ? acc : -128;  // a window of padding only (pad >= kernel) has no real pixel
        } else {
          const int64_t div = p.count_include_pad ? kh * kw : count;
          r = div ? div_round_away(acc, div) : 0;
        }
        yp[sz((plane * oh + oy) * ow + ox)] = clamp8(r, -128, 127);
      }
    }
  }
  return y;
}

Tensor global_avg_pool_step(const QModel& m, const QStep& s, const Tensor& x) {
  if (x.rank() < 3) fail(s, fmt::format("input {} must have rank >= 3", x.shape_string()));
  const QTensor& o = out_tensor(m, s);
  const auto planes = sz(x.dim(0) * x.dim(1));
  const size_t inner = x.size() / std::max<size_t>(planes, 1);
  Tensor y(DType::kInt8, o.shape);
  if (y.size() != planes) fail(s, fmt::format("output {} must hold one value per channel", shape_text(o.shape)));
  const int8_t* xp = x.data<int8_t>();
  for (size_t p = 0; p < planes; ++p) {
    int64_t sum = 0;
    for (size_t i = 0; i < inner; ++i) sum += xp[p * inner + i];
    y.data<int8_t>()[p] = clamp8(div_round_away(sum, static_cast<int64_t>(inner)), -128, 127);
  }
  return y;
}

Tensor concat_step(const QModel& m, const QStep& s, const std::vector<const Tensor*>& in) {
  const QTensor& o = out_tensor(m, s);
  const auto rank = static_cast<int64_t>(o.shape.size());
  const int64_t axis = s.axis < 0 ? s.axis + rank : s.axis;
  if (axis < 0 || axis >= rank) fail(s, fmt::format("axis {} out of range for rank {}", s.axis, rank));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= o.shape[sz(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= o.shape[sz(d)];
  int64_t total_axis = 0;
  for (const Tensor* t : in) total_axis += t->dim(sz(axis));
  if (total_axis != o.shape[sz(axis)]) fail(s, "the inputs' extents along the axis do not add up to the output's");
  Tensor y(DType::kInt8, o.shape);
  int8_t* yp = y.data<int8_t>();
  size_t dst = 0;
  for (int64_t ou = 0; ou < outer; ++ou) {
    for (size_t i = 0; i < in.size(); ++i) {
      // Beyond 40 bits every int8 value rounds to 0 (or saturates), so clamping d changes nothing.
      const int32_t d = std::clamp(m.tensor(s.inputs[i]).exp - o.exp, -40, 40);
      const int64_t chunk = in[i]->dim(sz(axis)) * inner;
      const int8_t* src = in[i]->data<int8_t>() + ou * chunk;
      for (int64_t j = 0; j < chunk; ++j) {
        int64_t v = src[j];
        if (d > 0) {
          v = (v + (int64_t{1} << (d - 1))) >> d;
        } else if (d < 0) {
          v = v * (int64_t{1} << -d);
        }
        yp[dst++] = clamp8(v, -128, 127);
      }
    }
  }
  return y;
}

Tensor softmax_step(const QModel& m, const QStep& s, const Tensor& x) {
  const int32_t exp_in = m.tensor(s.inputs[0]).exp;
  const auto& sh = x.shape();
  const auto rank = static_cast<int64_t>(sh.size());
  const int64_t axis = s.axis < 0 ? s.axis + rank : s.axis;
  if (axis < 0 || axis >= rank) fail(s, fmt::format("axis {} out of range for rank {}", s.axis, rank));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= sh[sz(d)];
  for (int64_t d = axis + 1; d < rank; ++d) inner *= sh[sz(d)];
  const int64_t len = sh[sz(axis)];
  Tensor y(DType::kFloat32, out_tensor(m, s).shape);
  const int8_t* xp = x.data<int8_t>();
  float* yp = y.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * len * inner + i;
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < len; ++j) mx = std::max(mx, std::ldexp(static_cast<double>(xp[sz(base + j * inner)]), -exp_in));
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(std::ldexp(static_cast<double>(xp[sz(base + j * inner)]), -exp_in) - mx);
      for (int64_t j = 0; j < len; ++j) {
        yp[sz(base + j * inner)] =
            static_cast<float>(std::exp(std::ldexp(static_cast<double>(xp[sz(base + j * inner)]), -exp_in) - mx) / sum);
      }
    }
  }
  return y;
}

}  // namespace

Tensor dequantize(const Tensor& q, int32_t exp) {
  Tensor y(DType::kFloat32, q.shape());
  const int8_t* qp = q.data<int8_t>();
  float* yp = y.data<float>();
  for (size_t i = 0; i < q.size(); ++i) yp[i] = static_cast<float>(std::ldexp(static_cast<double>(qp[i]), -exp));
  return y;
}

Tensor execute_step(const QModel& m, const QStep& s, const std::vector<const Tensor*>& in) {
  if (in.size() != s.inputs.size()) fail(s, fmt::format("takes {} inputs, got {}", s.inputs.size(), in.size()));
  if (s.inputs.empty()) fail(s, "has no inputs");
  for (size_t i = 0; i < in.size(); ++i) check_input(m, s, in, i);
  const QTensor& o = out_tensor(m, s);
  const DType want_in = s.op == QOp::kQuantize ? DType::kFloat32 : DType::kInt8;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i]->dtype() != want_in) fail(s, fmt::format("input {} must be {}", i, compiler::to_string(want_in)));
  }
  const DType want_out = (s.op == QOp::kDequantize || s.op == QOp::kSoftmax) ? DType::kFloat32 : DType::kInt8;
  if (o.dtype != want_out) fail(s, fmt::format("output '{}' must be {}", o.name, compiler::to_string(want_out)));
  if (s.op != QOp::kAdd && s.op != QOp::kConcat && !s.has_residual() && in.size() != 1) fail(s, "takes one input");
  switch (s.op) {
    case QOp::kQuantize: return quantize_step(m, s, *in[0]);
    case QOp::kDequantize: return dequantize(*in[0], m.tensor(s.inputs[0]).exp);
    case QOp::kConv2d: {
      Tensor c = conv2d_step(m, s, *in[0]);
      if (!s.has_residual()) return c;
      // The fused residual add: c is the conv output, in[1] the shortcut (the output's shape).
      if (in[1]->shape() != c.shape()) {
        fail(s, fmt::format("residual {} differs from the conv output {}", in[1]->shape_string(), c.shape_string()));
      }
      Tensor y(DType::kInt8, o.shape);
      add_into(s, c.data<int8_t>(), in[1]->data<int8_t>(), s.shift_a, s.shift_b, s.residual_requant, c.size(),
               y.data<int8_t>());
      return y;
    }
    case QOp::kDense: return dense_step(m, s, *in[0]);
    case QOp::kAdd:
      if (in.size() != 2) fail(s, "takes two inputs");
      return add_step(m, s, *in[0], *in[1]);
    case QOp::kMaxPool:
    case QOp::kAvgPool: return pool_step(m, s, *in[0]);
    case QOp::kGlobalAvgPool: return global_avg_pool_step(m, s, *in[0]);
    case QOp::kReshape: {
      Tensor y(DType::kInt8, o.shape);
      if (y.size() != in[0]->size()) fail(s, fmt::format("cannot reshape {} to {}", in[0]->shape_string(), shape_text(o.shape)));
      if (y.nbytes()) std::memcpy(y.raw(), in[0]->raw(), y.nbytes());
      return y;
    }
    case QOp::kConcat: return concat_step(m, s, in);
    case QOp::kRelu:
    case QOp::kClip: {
      const int32_t lo = s.op == QOp::kRelu ? 0 : s.clip_lo, hi = s.op == QOp::kRelu ? 127 : s.clip_hi;
      Tensor y(DType::kInt8, o.shape);
      for (size_t i = 0; i < y.size(); ++i) y.data<int8_t>()[i] = clamp8(in[0]->data<int8_t>()[i], lo, hi);
      return y;
    }
    case QOp::kSoftmax: return softmax_step(m, s, *in[0]);
  }
  fail(s, "unknown op");
}

std::vector<Tensor> run_int8_all(const QModel& m, const Tensor& input) {
  std::vector<Tensor> env(m.tensors.size());
  std::vector<bool> have(m.tensors.size(), false);
  const QTensor& it = m.tensor(m.input);
  if (input.dtype() != it.dtype || input.shape() != it.shape) {
    throw Error(fmt::format("qmodel '{}': input '{}' expects {}{}, got {}{}", m.name, it.name, compiler::to_string(it.dtype),
                            shape_text(it.shape), compiler::to_string(input.dtype()), shape_text(input.shape())));
  }
  env[sz(m.input)] = input;
  have[sz(m.input)] = true;
  for (const QStep& s : m.steps) {
    std::vector<const Tensor*> in;
    for (TensorId t : s.inputs) {
      if (t < 0 || sz(t) >= env.size() || !have[sz(t)]) fail(s, fmt::format("reads tensor {} before it is computed", t));
      in.push_back(&env[sz(t)]);
    }
    env[sz(s.output)] = execute_step(m, s, in);
    have[sz(s.output)] = true;
  }
  if (!have.at(sz(m.output))) throw Error(fmt::format("qmodel '{}': the output is never computed", m.name));
  return env;
}

std::vector<Tensor> run_int8(const QModel& m, const Tensor& input, const TensorCallback& on_tensor) {
  const QTensor& it = m.tensor(m.input);
  if (input.dtype() != it.dtype || input.shape() != it.shape) {
    throw Error(fmt::format("qmodel '{}': input '{}' expects {}{}, got {}{}", m.name, it.name, compiler::to_string(it.dtype),
                            shape_text(it.shape), compiler::to_string(input.dtype()), shape_text(input.shape())));
  }
  // Tensors are dropped after their last reader.
  std::vector<size_t> last_use(m.tensors.size(), 0);
  for (size_t i = 0; i < m.steps.size(); ++i) {
    for (TensorId t : m.steps[i].inputs) last_use.at(sz(t)) = i;
  }
  std::vector<Tensor> env(m.tensors.size());
  std::vector<bool> have(m.tensors.size(), false);
  env[sz(m.input)] = input;
  have[sz(m.input)] = true;
  for (size_t i = 0; i < m.steps.size(); ++i) {
    const QStep& s = m.steps[i];
    std::vector<const Tensor*> in;
    for (TensorId t : s.inputs) {
      if (t < 0 || sz(t) >= env.size() || !have[sz(t)]) fail(s, fmt::format("reads tensor {} before it is computed", t));
      in.push_back(&env[sz(t)]);
    }
    Tensor out = execute_step(m, s, in);
    if (on_tensor) on_tensor(s.output, out);
    env[sz(s.output)] = std::move(out);
    have[sz(s.output)] = true;
    for (TensorId t : s.inputs) {
      if (last_use[sz(t)] == i && t != m.output) env[sz(t)] = Tensor();
    }
  }
  if (!have.at(sz(m.output))) throw Error(fmt::format("qmodel '{}': the output is never computed", m.name));
  return {env[sz(m.output)]};
}

std::vector<Tensor> run_int8(const QModel& m, const Tensor& input) { return run_int8(m, input, {}); }

}  // namespace vta::quant
