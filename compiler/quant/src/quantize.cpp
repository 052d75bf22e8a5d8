#include "vta/quant/quantize.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "vta/ir/float_executor.h"

namespace vta::quant {
namespace {

using ir::Graph;
using ir::kNoValue;
using ir::Node;
using ir::NodeId;
using ir::OpKind;
using ir::ValueId;

size_t sz(int64_t v) { return static_cast<size_t>(v); }

[[noreturn]] void cannot(const Node& n, const std::string& why) {
  throw Error(fmt::format("cannot quantize {}: {}", n.describe(), why));
}

std::string fmt_scale(double s) { return fmt::format("{:.6g}", s); }

// A power-of-two view of a positive scale: the nearest 2^-exp (in log2), and whether it is exact.
struct Pow2 {
  int32_t exp = 0;
  bool exact = false;
};
Pow2 pow2_of(double scale) {
  Pow2 p;
  p.exp = static_cast<int32_t>(std::lround(-std::log2(scale)));
  p.exact = std::fabs(std::ldexp(scale, p.exp) - 1.0) <= 1e-6;
  return p;
}

int32_t exp_for_max(double max_abs) { return max_abs > 0 ? exp_for_threshold(max_abs) : 0; }

int64_t round_sat(double v, int64_t lo, int64_t hi) {
  if (std::isnan(v)) return 0;
  return static_cast<int64_t>(std::clamp(std::round(v), static_cast<double>(lo), static_cast<double>(hi)));
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (size_t i = 0; i < t.size(); ++i) m = std::max(m, std::fabs(double{t.data<float>()[i]}));
  return m;
}

// ------------------------------------------------------------------------------------------------
// QDQ preprocessing: a copy of the graph without QuantizeLinear/DequantizeLinear, plus what they said.

struct ExactWeight {
  Tensor q;  // int8
  int32_t exp = 0;
};

struct Prepared {
  Graph g;
  std::map<ValueId, int32_t> forced_exp;            // activations fixed by a Q -> DQ pair
  std::map<ValueId, std::string> forced_note;       // ... with a non-power-of-two scale
  std::map<ValueId, ExactWeight> exact_weights;     // DQ(int8 constant, 2^-k)
  // DQ weights requantized: the note for per-tensor and per-channel requantization (the exps are appended
  // later).
  struct WeightNote {
    std::string per_tensor, per_channel;
  };
  std::map<ValueId, WeightNote> weight_note;
};

const Tensor& qparam(const Graph& g, const Node& n, size_t i, const char* what) {
  const ValueId v = n.input(i);
  if (v == kNoValue || !g.is_constant(v)) cannot(n, fmt::format("the {} must be a constant", what));
  return *g.value(v).constant;
}

// Checks the scale (positive float) and zero point (int8, all zero) of a Q or DQ node about `tensor`.
void check_qparams(const Graph& g, const Node& n, const std::string& tensor) {
  const Tensor& scale = qparam(g, n, 1, "scale");
  if (scale.dtype() != DType::kFloat32 || scale.size() == 0) cannot(n, "the scale must be a float32 constant");
  for (size_t i = 0; i < scale.size(); ++i) {
    if (!(scale.data<float>()[i] > 0) || !std::isfinite(scale.data<float>()[i])) cannot(n, "scales must be positive");
  }
  // The quantized type: QuantizeLinear's zero point type (uint8 when absent), DequantizeLinear's input type.
  DType qtype = DType::kUint8;
  if (n.op == OpKind::kQuantizeLinear) {
    if (n.input(2) != kNoValue) qtype = qparam(g, n, 2, "zero point").dtype();
  } else {
    qtype = g.value(n.input(0)).dtype;
  }
  if (qtype == DType::kUint8) {
    cannot(n, fmt::format("uint8 quantization of tensor '{}' is not supported (only symmetric int8{})", tensor,
                          n.op == OpKind::kQuantizeLinear && n.input(2) == kNoValue ? "; without a zero point ONNX means uint8" : ""));
  }
  if (n.input(2) == kNoValue) return;
  const Tensor& zp = qparam(g, n, 2, "zero point");
  for (size_t i = 0; i < zp.size(); ++i) {
    int64_t z = 0;
    if (zp.dtype() == DType::kInt8) z = zp.data<int8_t>()[i];
    if (zp.dtype() == DType::kInt32) z = zp.data<int32_t>()[i];
    if (zp.dtype() == DType::kFloat32) z = static_cast<int64_t>(zp.data<float>()[i]);
    if (z != 0) {
      throw Error(fmt::format("cannot quantize {}: asymmetric quantization is not supported: zero point {} on tensor '{}'",
                              n.describe(), z, tensor));
    }
  }
}

Prepared prepare_qdq(const Graph& src) {
  Prepared p{src, {}, {}, {}, {}};
  Graph& g = p.g;
  for (NodeId id : g.topological_order()) {
    if (!g.is_live(id) || g.node(id).op != OpKind::kDequantizeLinear) continue;
    const Node dq = g.node(id);  // a copy: the graph changes below
    const ValueId src_v = dq.input(0);
    const auto prod = g.producer(src_v);
    const Node* q = prod && g.node(*prod).op == OpKind::kQuantizeLinear ? &g.node(*prod) : nullptr;
    const ValueId origin = q ? q->input(0) : src_v;
    const std::string origin_name = g.value(origin).name;
    check_qparams(g, dq, origin_name);
    if (q) check_qparams(g, *q, origin_name);
    const Tensor& scale = qparam(g, dq, 1, "scale");
    const ValueId out = dq.outputs.at(0);

    if (g.is_constant(src_v) || (q && g.is_constant(q->input(0)))) {
      // A constant (weight or bias): evaluate Q and DQ.
      Tensor ints;
      if (g.is_constant(src_v)) {
        ints = *g.value(src_v).constant;
      } else {
        std::vector<const Tensor*> qin;
        for (ValueId v : q->inputs) qin.push_back(v == kNoValue ? nullptr : &*g.value(v).constant);
        ints = ir::evaluate_node(*q, qin).at(0);
      }
      std::vector<const Tensor*> din{&ints};
      for (size_t i = 1; i < dq.inputs.size(); ++i) din.push_back(dq.inputs[i] == kNoValue ? nullptr : &*g.value(dq.inputs[i]).constant);
      Tensor real = ir::evaluate_node(dq, din).at(0);
      g.remove_node(id);
      g.set_constant(out, std::move(real));
      if (ints.dtype() == DType::kInt8) {
        if (scale.size() != 1) {
          const std::string what = fmt::format("per-channel QDQ scales of weight '{}' requantized", origin_name);
          p.weight_note[out] = {what + " per tensor", what + " per channel"};
        } else if (const Pow2 p2 = pow2_of(scale.data<float>()[0]); p2.exact) {
          p.exact_weights[out] = ExactWeight{ints, p2.exp};
        } else {
          const std::string what = fmt::format("QDQ scale {} of weight '{}' is not a power of two; requantized",
                                               fmt_scale(scale.data<float>()[0]), origin_name);
          p.weight_note[out] = {what, what};
        }
      }
      continue;
    }
    if (!q) cannot(dq, "its input is neither a constant nor the output of a QuantizeLinear");
    // An activation: Q -> DQ fixes its scale.
    const Tensor& qscale = qparam(g, *q, 1, "scale");
    if (scale.size() != 1 || qscale.size() != 1) cannot(dq, "per-axis scales on an activation are not supported");
    if (qscale.data<float>()[0] != scale.data<float>()[0]) {
      cannot(dq, fmt::format("its scale {} differs from the QuantizeLinear's {}", fmt_scale(scale.data<float>()[0]),
                             fmt_scale(qscale.data<float>()[0])));
    }
    const double s = scale.data<float>()[0];
    const Pow2 p2 = pow2_of(s);
    p.forced_exp[origin] = p2.exp;
    if (!p2.exact) {
      p.forced_note[origin] = fmt::format("QDQ scale {} of tensor '{}' is not a power of two; using 2^-{}", fmt_scale(s),
                                          origin_name, p2.exp);
    }
    g.replace_all_uses(out, origin);
    g.remove_node(id);
  }
  g.eliminate_dead_nodes();  // QuantizeLinear nodes whose DequantizeLinear went away
  return p;
}

// ------------------------------------------------------------------------------------------------

struct ClipBounds {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};

// The float bounds of a Relu or Clip node; nullopt when a Clip bound is not a constant.
std::optional<ClipBounds> clip_bounds(const Graph& g, const Node& n) {
  ClipBounds b;
  if (n.op == OpKind::kRelu) {
    b.lo = 0;
    return b;
  }
  b.lo = n.get_float("min", -std::numeric_limits<float>::infinity());
  b.hi = n.get_float("max", std::numeric_limits<float>::infinity());
  for (size_t i = 1; i <= 2; ++i) {
    const ValueId v = n.input(i);
    if (v == kNoValue) continue;
    if (!g.is_constant(v) || g.value(v).constant->dtype() != DType::kFloat32 || g.value(v).constant->size() != 1) {
      return std::nullopt;
    }
    (i == 1 ? b.lo : b.hi) = g.value(v).constant->data<float>()[0];
  }
  return b;
}

// [lo, hi] in units of 2^-exp, within int8.
std::pair<int32_t, int32_t> quantized_bounds(const ClipBounds& b, int32_t exp) {
  const auto lo = static_cast<int32_t>(round_sat(std::ldexp(b.lo, exp), -128, 127));
  const auto hi = static_cast<int32_t>(round_sat(std::ldexp(b.hi, exp), -128, 127));
  return {lo, hi};
}

struct PendingPad {
  ValueId input = kNoValue;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

class Quantizer {
 public:
  Quantizer(const Graph& original, Prepared& p, const Calibration& cal) : orig_(original), p_(p), g_(p.g), cal_(cal) {}

  QModel run(const QuantizeOptions& opt) {
    per_channel_ = opt.per_channel;
    m_.name = opt.name.empty() ? orig_.name() : opt.name;
    if (g_.inputs().size() != 1 || g_.outputs().size() != 1) {
      throw Error(fmt::format("cannot quantize graph '{}': it has {} inputs and {} outputs (one of each supported)",
                              orig_.name(), g_.inputs().size(), g_.outputs().size()));
    }
    m_.notes.push_back(fmt::format("calibration: {} over {} sample(s){}", to_string(cal_.method), cal_.num_samples,
                                   cal_.method == CalibrationMethod::kPercentile ? fmt::format(" ({}th percentile)", cal_.percentile) : ""));
    for (const auto& [v, note] : p_.forced_note) m_.notes.push_back(note);

    const ValueId in = g_.inputs()[0];
    const ir::Value& iv = g_.value(in);
    if (iv.dtype != DType::kFloat32) {
      throw Error(fmt::format("cannot quantize graph '{}': input '{}' is {}, expected f32", orig_.name(), iv.name,
                              ir::short_dtype(iv.dtype)));
    }
    m_.input = add_tensor(iv.name, DType::kFloat32, iv.shape, 0);
    tid_[in] = m_.input;

    for (NodeId id : g_.topological_order()) {
      if (consumed_.count(id)) continue;
      quantize_node(g_.node(id));
    }

    const ValueId out = g_.outputs()[0];
    if (!tid_.count(out)) throw Error(fmt::format("cannot quantize graph '{}': its output is a constant", orig_.name()));
    const TensorId t = tid_.at(out);
    if (m_.tensor(t).dtype == DType::kFloat32 && t != m_.input) {
      m_.output = t;  // the graph ends in Softmax
    } else {
      const TensorId qt = int8_of(out);
      const QTensor q = m_.tensor(qt);
      QStep s;
      s.op = QOp::kDequantize;
      s.name = q.name + ".dequantize";
      s.inputs = {qt};
      s.output = add_tensor(q.name + ".dq", DType::kFloat32, q.shape, 0);
      m_.output = s.output;
      m_.steps.push_back(std::move(s));
    }
    return std::move(m_);
  }

 private:
  TensorId add_tensor(std::string name, DType dtype, std::vector<int64_t> shape, int32_t exp) {
    m_.tensors.push_back(QTensor{std::move(name), dtype, std::move(shape), exp});
    return static_cast<TensorId>(m_.tensors.size() - 1);
  }

  // The exp of activation `v`: from a QDQ pair, else from calibration.
  int32_t act_exp(ValueId v) const {
    if (auto it = p_.forced_exp.find(v); it != p_.forced_exp.end()) return it->second;
    return exp_for_threshold(cal_.threshold_of(orig_, v));
  }

  void add_step(QStep s, ValueId out_value) {
    if (auto it = p_.forced_note.find(out_value); it != p_.forced_note.end()) s.notes.push_back(it->second);
    m_.steps.push_back(std::move(s));
  }

  // The int8 tensor of `v` (a float tensor, i.e. a Softmax output or the graph input, gets a Quantize step).
  TensorId int8_of(ValueId v) {
    const TensorId t = tid_.at(v);
    if (m_.tensor(t).dtype == DType::kInt8) return t;
    if (auto it = quantized_.find(v); it != quantized_.end()) return it->second;
    const QTensor src = m_.tensor(t);
    QStep s;
    s.op = QOp::kQuantize;
    s.name = src.name + ".quantize";
    s.inputs = {t};
    s.output = add_tensor(src.name + ".q", DType::kInt8, src.shape, act_exp(v));
    quantized_[v] = s.output;
    add_step(std::move(s), v);
    return quantized_[v];
  }

  // Input i of `n` as an int8 activation (with a pending Pad folded into `pad` when given).
  TensorId input(const Node& n, size_t i, PendingPad* pad = nullptr) {
    ValueId v = n.input(i);
    if (v == kNoValue) cannot(n, fmt::format("input {} is missing", i));
    if (auto it = pads_.find(v); it != pads_.end()) {
      if (!pad) cannot(n, "reads a Pad that cannot be folded into it");
      *pad = it->second;
      v = it->second.input;
    }
    if (g_.is_constant(v)) {
      cannot(n, fmt::format("input {} ('{}') is a constant; only weights and biases may be", i, g_.value(v).name));
    }
    if (!tid_.count(v)) cannot(n, fmt::format("input '{}' has not been quantized", g_.value(v).name));
    return int8_of(v);
  }

  const Tensor& weight_constant(const Node& n, size_t i, const char* what) {
    const ValueId v = n.input(i);
    if (v == kNoValue || !g_.is_constant(v)) cannot(n, fmt::format("the {} must be a constant", what));
    const Tensor& t = *g_.value(v).constant;
    if (t.dtype() != DType::kFloat32) cannot(n, fmt::format("the {} must be float32", what));
    return t;
  }

  // The Relu or Clip that is the only user of `v` and can be fused, if any.
  std::optional<NodeId> fusable_activation(ValueId v) const {
    if (g_.is_graph_output(v)) return std::nullopt;
    const auto users = g_.users(v);
    if (users.size() != 1) return std::nullopt;
    const Node& u = g_.node(users[0]);
    if (u.op != OpKind::kRelu && u.op != OpKind::kClip) return std::nullopt;
    if (!clip_bounds(g_, u)) return std::nullopt;
    return users[0];
  }

  struct Requant {
    Requantize rq;
    int32_t exp_out = 0;
    ValueId out_value = kNoValue;
  };

  // The requantization of an accumulator in units of 2^-acc_exp into the output of `n` (or of the fused
  // activation after it, which is then consumed).
  Requant requant_for(const Node& n, int32_t acc_exp, QStep& s) {
    Requant r;
    r.out_value = n.outputs.at(0);
    std::optional<ClipBounds> clip;
    bool relu = false;
    if (auto act = fusable_activation(r.out_value)) {
      const Node& a = g_.node(*act);
      relu = a.op == OpKind::kRelu;
      if (!relu) clip = clip_bounds(g_, a);
      r.out_value = a.outputs.at(0);
      consumed_.insert(*act);
    }
    const int32_t wanted = act_exp(r.out_value);
    r.exp_out = wanted;
    int32_t shift = acc_exp - r.exp_out;
    if (shift < 0) {
      r.exp_out = acc_exp;
      shift = 0;
    } else if (shift > 31) {
      r.exp_out = acc_exp - 31;
      shift = 31;
    }
    if (r.exp_out != wanted && p_.forced_exp.count(r.out_value)) {
      s.notes.push_back(fmt::format("QDQ exp {} of tensor '{}' not reachable; using {}", wanted,
                                    g_.value(r.out_value).name, r.exp_out));
    }
    r.rq.shift = shift;
    r.rq.relu = relu;
    if (clip) std::tie(r.rq.clip_lo, r.rq.clip_hi) = quantized_bounds(*clip, r.exp_out);
    return r;
  }

  TensorId output_tensor(ValueId v, DType dtype, int32_t exp) {
    const ir::Value& val = g_.value(v);
    const TensorId t = add_tensor(val.name, dtype, val.shape, exp);
    tid_[v] = t;
    return t;
  }

  // bias[c] = round(b[c] * 2^acc_exp[c]) + rounding term 2^(shift[c]-1), saturated to int32.
  static Tensor make_bias(const std::vector<double>& b, const std::vector<int32_t>& acc_exp,
                          const std::vector<int32_t>& shift) {
    const auto count = static_cast<int64_t>(acc_exp.size());
    Tensor t(DType::kInt32, {count});
    for (size_t i = 0; i < sz(count); ++i) {
      const double round = shift[i] > 0 ? std::ldexp(1.0, shift[i] - 1) : 0.0;
      const double v = b.empty() ? 0.0 : std::ldexp(b[i], acc_exp[i]);
      const int64_t q = round_sat(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
      t.data<int32_t>()[i] = static_cast<int32_t>(std::clamp<int64_t>(q + static_cast<int64_t>(round),
                                                                      std::numeric_limits<int32_t>::min(),
                                                                      std::numeric_limits<int32_t>::max()));
    }
    return t;
  }

  // Whether acc + bias could leave int32 for a channel: |bias| (b at acc_exp plus the rounding term) plus
  // the largest possible |sum of products| (128 * sum |q_w|, with q_w = w * 2^exp_w rounded: at most
  // sum|w| * 2^exp_w + row) reaches 2^31.
  static bool bias_too_large(double b, int32_t acc_exp, int32_t shift, double sum_abs_w, int32_t exp_w, size_t row) {
    const double round = shift > 0 ? std::ldexp(1.0, shift - 1) : 0.0;
    const double products = 128.0 * (std::ldexp(sum_abs_w, exp_w) + static_cast<double>(row));
    return std::fabs(std::ldexp(b, acc_exp)) + round + products >= std::ldexp(1.0, 31);
  }

  // The weight (rows = output channels: OIHW or (M, K), float, before alpha) and bias of a Conv or Gemm:
  // quantizes both, chooses the output exp and the shifts, and fills s.weight, weight_exp, bias, requant
  // and channel_shift. Per tensor: one exp for the weight (exact int8 from a power-of-two QDQ weight, else
  // the weight rule). Per channel (QuantizeOptions::per_channel): exp e[c] per output channel (all-zero
  // channels take the tensor's), the output exp from the coarsest channel like the per-tensor rule, then
  // shift[c] = e_in + e[c] - e_out; e[c] is lowered where shift[c] would exceed 31 or where the bias would
  // not fit the accumulator (never below the coarsest channel), with a note. Equal shifts give the
  // per-tensor form.
  Requant quantize_weighted(const Node& n, QStep& s, ValueId wv, const Tensor& w, double alpha, int32_t e_in,
                            const std::vector<double>& b) {
    const int64_t oc = w.dim(0);
    const size_t row = oc > 0 ? w.size() / sz(oc) : 0;
    if (auto it = p_.exact_weights.find(wv); it != p_.exact_weights.end() && alpha == 1.0) {
      const int32_t exp_w = it->second.exp;
      const Requant r = requant_for(n, e_in + exp_w, s);
      s.weight = it->second.q;
      s.weight_exp = exp_w;
      s.bias = make_bias(b, std::vector<int32_t>(sz(oc), e_in + exp_w), std::vector<int32_t>(sz(oc), r.rq.shift));
      s.requant = r.rq;
      return r;
    }
    Tensor scaled = w;
    if (alpha != 1.0) {
      for (size_t i = 0; i < scaled.size(); ++i) scaled.data<float>()[i] = static_cast<float>(alpha * scaled.data<float>()[i]);
    }
    const int32_t tensor_exp = exp_for_max(max_abs(scaled));
    std::vector<int32_t> e(sz(oc), tensor_exp);
    if (per_channel_) {
      for (size_t c = 0; c < sz(oc); ++c) {
        double m = 0;
        for (size_t i = 0; i < row; ++i) m = std::max(m, std::fabs(double{scaled.data<float>()[c * row + i]}));
        if (m > 0) e[c] = exp_for_max(m);
      }
    }
    const int32_t e_min = oc > 0 ? *std::min_element(e.begin(), e.end()) : tensor_exp;  // == tensor_exp
    Requant r = requant_for(n, e_in + e_min, s);
    std::vector<int32_t> shift(sz(oc));
    size_t above_31 = 0, for_bias = 0;
    for (size_t c = 0; c < sz(oc); ++c) {
      shift[c] = e_in + e[c] - r.exp_out;  // >= r.rq.shift >= 0
      if (shift[c] > 31) {
        e[c] -= shift[c] - 31;
        shift[c] = 31;
        ++above_31;
      }
      bool lowered = false;
      double sum_abs = 0;
      for (size_t i = 0; i < row; ++i) sum_abs += std::fabs(double{scaled.data<float>()[c * row + i]});
      while (shift[c] > r.rq.shift && bias_too_large(b.empty() ? 0.0 : b[c], e_in + e[c], shift[c], sum_abs, e[c], row)) {
        --e[c];
        --shift[c];
        lowered = true;
      }
      for_bias += lowered ? 1 : 0;
    }
    if (above_31) {
      s.notes.push_back(fmt::format("per-channel: {} channel(s) with weights too small for shift 31 use a coarser weight "
                                    "scale (shift 31)", above_31));
    }
    if (for_bias) {
      s.notes.push_back(fmt::format("per-channel: {} channel(s) use a coarser weight scale so that the bias fits the "
                                    "int32 accumulator", for_bias));
    }
    Tensor q(DType::kInt8, scaled.shape());
    for (size_t c = 0; c < sz(oc); ++c) {
      for (size_t i = 0; i < row; ++i) {
        const double v = std::nearbyint(std::ldexp(double{scaled.data<float>()[c * row + i]}, e[c]));
        q.data<int8_t>()[c * row + i] = static_cast<int8_t>(std::clamp(v, -128.0, 127.0));
      }
    }
    const bool uniform = std::all_of(shift.begin(), shift.end(), [&](int32_t v) { return v == r.rq.shift; });
    const auto [e_lo, e_hi] = std::minmax_element(e.begin(), e.end());
    if (auto it = p_.weight_note.find(wv); it != p_.weight_note.end()) {
      const std::string exps = uniform ? fmt::format("2^-{}", oc > 0 ? e[0] : tensor_exp)
                                       : fmt::format("2^-{}..2^-{}", *e_lo, *e_hi);
      const std::string note =
          fmt::format("{} to {}", per_channel_ ? it->second.per_channel : it->second.per_tensor, exps);
      s.notes.push_back(note);
      m_.notes.push_back(note);
    }
    std::vector<int32_t> acc_exp(sz(oc));
    for (size_t c = 0; c < sz(oc); ++c) acc_exp[c] = e_in + e[c];
    s.weight = std::move(q);
    s.weight_exp = oc > 0 ? *e_lo : tensor_exp;
    s.bias = make_bias(b, acc_exp, shift);
    s.requant = r.rq;
    if (!uniform) s.channel_shift = std::move(shift);
    return r;
  }

  void quantize_conv(const Node& n) {
    PendingPad pad;
    const TensorId x = input(n, 0, &pad);
    const QTensor& xt = m_.tensor(x);
    if (xt.shape.size() != 4) cannot(n, "only 2-D convolutions (NCHW input) are supported");
    const Tensor& w = weight_constant(n, 1, "weight");
    if (w.rank() != 4) cannot(n, "only 2-D convolutions (OIHW weight) are supported");
    for (int64_t d : n.get_ints("dilations", {1, 1})) {
      if (d != 1) cannot(n, "dilations other than 1 are not supported");
    }
    const auto strides = n.get_ints("strides", {1, 1});
    const auto pads = n.get_ints("pads", {0, 0, 0, 0});
    if (strides.size() != 2 || pads.size() != 4) cannot(n, "expects 2 strides and 4 pads");
    QStep s;
    s.op = QOp::kConv2d;
    s.name = n.name;
    s.inputs = {x};
    s.conv.stride_h = static_cast<uint32_t>(strides[0]);
    s.conv.stride_w = static_cast<uint32_t>(strides[1]);
    s.conv.pad_top = static_cast<uint32_t>(pads[0] + pad.top);
    s.conv.pad_left = static_cast<uint32_t>(pads[1] + pad.left);
    s.conv.pad_bottom = static_cast<uint32_t>(pads[2] + pad.bottom);
    s.conv.pad_right = static_cast<uint32_t>(pads[3] + pad.right);
    s.conv.groups = static_cast<uint32_t>(n.get_int("group", 1));
    std::vector<double> b;
    if (n.input(2) != kNoValue) {
      const Tensor& bt = weight_constant(n, 2, "bias");
      for (size_t i = 0; i < bt.size(); ++i) b.push_back(bt.data<float>()[i]);
      if (b.size() != sz(w.dim(0))) cannot(n, "bias size differs from the output channels");
    }
    const Requant r = quantize_weighted(n, s, n.input(1), w, 1.0, xt.exp, b);
    s.output = output_tensor(r.out_value, DType::kInt8, r.exp_out);
    add_step(std::move(s), r.out_value);
  }

  void quantize_gemm(const Node& n) {
    if (n.get_int("transA", 0) != 0) cannot(n, "transA=1 is not supported");
    const TensorId x = input(n, 0);
    const QTensor& xt = m_.tensor(x);
    if (xt.shape.size() != 2) cannot(n, fmt::format("the input must have rank 2, got {}", ir::shape_str(xt.shape)));
    const Tensor& bw = weight_constant(n, 1, "weight B");
    if (bw.rank() != 2) cannot(n, "B must have rank 2");
    // (M, K) = PyTorch Linear layout (transB=1); transpose otherwise.
    Tensor w = bw;
    if (n.get_int("transB", 0) == 0) {
      w = Tensor(DType::kFloat32, {bw.dim(1), bw.dim(0)});
      for (int64_t i = 0; i < bw.dim(0); ++i) {
        for (int64_t j = 0; j < bw.dim(1); ++j) w.data<float>()[sz(j * bw.dim(0) + i)] = bw.data<float>()[sz(i * bw.dim(1) + j)];
      }
    }
    const int64_t mm = w.dim(0);
    if (w.dim(1) != xt.shape[1]) cannot(n, "the weight does not fit the input");
    const double alpha = n.get_float("alpha", 1.0f), beta = n.get_float("beta", 1.0f);
    QStep s;
    s.op = QOp::kDense;
    s.name = n.name;
    s.inputs = {x};
    std::vector<double> b;
    if (n.input(2) != kNoValue) {
      const Tensor& c = weight_constant(n, 2, "bias C");
      if (c.size() != 1 && c.size() != sz(mm)) cannot(n, fmt::format("bias C {} is not per output feature", c.shape_string()));
      for (int64_t i = 0; i < mm; ++i) b.push_back(beta * c.data<float>()[c.size() == 1 ? 0 : sz(i)]);
    }
    const Requant r = quantize_weighted(n, s, n.get_int("transB", 0) ? n.input(1) : kNoValue, w, alpha, xt.exp, b);
    s.output = output_tensor(r.out_value, DType::kInt8, r.exp_out);
    add_step(std::move(s), r.out_value);
  }

  void quantize_add(const Node& n) {
    TensorId a = input(n, 0), b = input(n, 1);
    if (m_.tensor(a).shape != m_.tensor(b).shape) {
      cannot(n, fmt::format("broadcasting ({} + {}) is not supported", ir::shape_str(m_.tensor(a).shape),
                            ir::shape_str(m_.tensor(b).shape)));
    }
    QStep s;
    s.op = QOp::kAdd;
    s.name = n.name;
    int32_t ea = m_.tensor(a).exp, eb = m_.tensor(b).exp;
    constexpr int32_t kMaxAlign = 6;
    if (std::abs(ea - eb) > kMaxAlign) {
      // Requantize the finer input to min + 6 with a one-input Concat (rounding right shift).
      TensorId& fine = ea > eb ? a : b;
      const int32_t target = std::min(ea, eb) + kMaxAlign;
      const QTensor ft = m_.tensor(fine);
      QStep align;
      align.op = QOp::kConcat;
      align.name = n.name + ".align";
      align.inputs = {fine};
      align.axis = 0;
      align.output = add_tensor(ft.name + ".align", DType::kInt8, ft.shape, target);
      const std::string note = fmt::format("Add '{}': input exps {} and {} differ by more than {}; '{}' requantized to 2^-{}",
                                           n.name, ea, eb, kMaxAlign, ft.name, target);
      align.notes.push_back(note);
      m_.notes.push_back(note);
      fine = align.output;
      m_.steps.push_back(std::move(align));
      (ea > eb ? ea : eb) = target;
    }
    const int32_t e = std::max(ea, eb);
    s.inputs = {a, b};
    s.shift_a = e - ea;
    s.shift_b = e - eb;
    const Requant r = requant_for(n, e, s);
    s.requant = r.rq;
    s.output = output_tensor(r.out_value, DType::kInt8, r.exp_out);
    add_step(std::move(s), r.out_value);
  }

  void quantize_pool(const Node& n) {
    PendingPad pad;
    const TensorId x = input(n, 0, n.op == OpKind::kAveragePool ? &pad : nullptr);
    const QTensor& xt = m_.tensor(x);
    if (xt.shape.size() != 4) cannot(n, "only 2-D pooling (NCHW input) is supported");
    const auto k = n.get_ints("kernel_shape");
    const auto strides = n.get_ints("strides", {1, 1});
    const auto pads = n.get_ints("pads", {0, 0, 0, 0});
    if (k.size() != 2 || strides.size() != 2 || pads.size() != 4) cannot(n, "expects a 2-D kernel, 2 strides, 4 pads");
    if (n.get_int("ceil_mode", 0) != 0) cannot(n, "ceil_mode=1 is not supported");
    QStep s;
    s.op = n.op == OpKind::kMaxPool ? QOp::kMaxPool : QOp::kAvgPool;
    s.name = n.name;
    s.inputs = {x};
    s.pool.kernel_h = static_cast<uint32_t>(k[0]);
    s.pool.kernel_w = static_cast<uint32_t>(k[1]);
    s.pool.stride_h = static_cast<uint32_t>(strides[0]);
    s.pool.stride_w = static_cast<uint32_t>(strides[1]);
    s.pool.pad_top = static_cast<uint32_t>(pads[0] + pad.top);
    s.pool.pad_left = static_cast<uint32_t>(pads[1] + pad.left);
    s.pool.pad_bottom = static_cast<uint32_t>(pads[2] + pad.bottom);
    s.pool.pad_right = static_cast<uint32_t>(pads[3] + pad.right);
    // A folded zero Pad is counted like real pixels (it was checked that the pool has no pads of its own).
    s.pool.count_include_pad = n.get_int("count_include_pad", 0) != 0 || pad.input != kNoValue;
    s.output = output_tensor(n.outputs.at(0), DType::kInt8, xt.exp);
    add_step(std::move(s), n.outputs.at(0));
  }

  void same_exp_step(const Node& n, QOp op) {
    const TensorId x = input(n, 0);
    QStep s;
    s.op = op;
    s.name = n.name;
    s.inputs = {x};
    const int32_t exp = m_.tensor(x).exp;
    if (op == QOp::kGlobalAvgPool && m_.tensor(x).shape.size() != 4) cannot(n, "only NCHW inputs are supported");
    if (op == QOp::kClip) {
      const auto b = clip_bounds(g_, n);
      if (!b) cannot(n, "min and max must be constant scalars");
      std::tie(s.clip_lo, s.clip_hi) = quantized_bounds(*b, exp);
    }
    s.output = output_tensor(n.outputs.at(0), DType::kInt8, exp);
    add_step(std::move(s), n.outputs.at(0));
  }

  void quantize_concat(const Node& n) {
    QStep s;
    s.op = QOp::kConcat;
    s.name = n.name;
    int32_t exp = std::numeric_limits<int32_t>::max();
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      s.inputs.push_back(input(n, i));
      exp = std::min(exp, m_.tensor(s.inputs.back()).exp);
    }
    const ir::Value& out = g_.value(n.outputs.at(0));
    const auto rank = static_cast<int64_t>(out.shape.size());
    int64_t axis = n.get_int("axis");
    if (axis < 0) axis += rank;
    s.axis = static_cast<int32_t>(axis);
    s.output = output_tensor(n.outputs.at(0), DType::kInt8, exp);
    add_step(std::move(s), n.outputs.at(0));
  }

  void quantize_softmax(const Node& n) {
    const TensorId x = input(n, 0);
    const auto rank = static_cast<int64_t>(m_.tensor(x).shape.size());
    int64_t axis = n.get_int("axis", -1);
    if (axis < 0) axis += rank;
    if (n.get_int("coerce_2d", 0) != 0 && axis != rank - 1) {
      cannot(n, "softmax over several axes (opset < 13 with axis before the last) is not supported");
    }
    QStep s;
    s.op = QOp::kSoftmax;
    s.name = n.name;
    s.inputs = {x};
    s.axis = static_cast<int32_t>(axis);
    s.output = output_tensor(n.outputs.at(0), DType::kFloat32, 0);
    add_step(std::move(s), n.outputs.at(0));
  }

  // A zero Pad of H and W whose only user is a Conv, or an AveragePool without pads of its own.
  void fold_pad(const Node& n) {
    const ValueId out = n.outputs.at(0);
    const auto users = g_.users(out);
    if (g_.is_graph_output(out) || users.size() != 1) cannot(n, "only a Pad read by one Conv or AveragePool can be folded");
    const Node& u = g_.node(users[0]);
    bool ok_user = u.op == OpKind::kConv;
    if (u.op == OpKind::kAveragePool) {
      const auto up = u.get_ints("pads", {0, 0, 0, 0});
      ok_user = std::all_of(up.begin(), up.end(), [](int64_t v) { return v == 0; });
    }
    if (!ok_user || u.input(0) != out) cannot(n, "only a Pad read by one Conv or unpadded AveragePool can be folded");
    if (n.get_string("mode", "constant") != "constant") cannot(n, "only constant padding is supported");
    if (n.input(2) != kNoValue) {
      if (!g_.is_constant(n.input(2))) cannot(n, "the pad value must be a constant");
      const Tensor& v = *g_.value(n.input(2)).constant;
      if (v.dtype() != DType::kFloat32 || v.size() != 1 || v.data<float>()[0] != 0.0f) cannot(n, "only zero padding is supported");
    }
    if (!g_.is_constant(n.input(1))) cannot(n, "the pads must be a constant");
    const Tensor& pt = *g_.value(n.input(1)).constant;
    if (pt.dtype() != DType::kInt32 || pt.size() != 8) cannot(n, "only NCHW padding is supported");
    const int32_t* pv = pt.data<int32_t>();
    if (pv[0] || pv[1] || pv[4] || pv[5]) cannot(n, "padding of the batch or channel axis is not supported");
    PendingPad p;
    p.input = n.input(0);
    p.top = pv[2];
    p.left = pv[3];
    p.bottom = pv[6];
    p.right = pv[7];
    pads_[out] = p;
  }

  void quantize_node(const Node& n) {
    switch (n.op) {
      case OpKind::kConv: return quantize_conv(n);
      case OpKind::kGemm: return quantize_gemm(n);
      case OpKind::kAdd: return quantize_add(n);
      case OpKind::kMaxPool:
      case OpKind::kAveragePool: return quantize_pool(n);
      case OpKind::kGlobalAveragePool: return same_exp_step(n, QOp::kGlobalAvgPool);
      case OpKind::kFlatten:
      case OpKind::kReshape: return same_exp_step(n, QOp::kReshape);
      case OpKind::kRelu: return same_exp_step(n, QOp::kRelu);
      case OpKind::kClip: return same_exp_step(n, QOp::kClip);
      case OpKind::kConcat: return quantize_concat(n);
      case OpKind::kSoftmax: return quantize_softmax(n);
      case OpKind::kPad: return fold_pad(n);
      case OpKind::kIdentity:
      case OpKind::kDropout: {
        const ValueId v = n.input(0);
        if (!tid_.count(v)) cannot(n, "its input has not been quantized");
        tid_[n.outputs.at(0)] = tid_.at(v);
        return;
      }
      case OpKind::kBatchNormalization:
        cannot(n, "a BatchNormalization that was not folded into a Conv or Gemm is not supported");
      case OpKind::kQuantizeLinear:
        cannot(n, "a QuantizeLinear must be followed by a DequantizeLinear");
      case OpKind::kMatMul:
        cannot(n, "MatMul is supported only with a constant 2-D weight (canonicalized to Gemm)");
      case OpKind::kMul:
      case OpKind::kDequantizeLinear:
        break;
    }
    cannot(n, "the op is not supported by the int8 quantizer");
  }

  const Graph& orig_;
  Prepared& p_;
  Graph& g_;
  const Calibration& cal_;
  QModel m_;
  std::map<ValueId, TensorId> tid_;
  std::map<ValueId, TensorId> quantized_;  // float values (Softmax outputs) quantized again
  std::map<ValueId, PendingPad> pads_;
  std::set<NodeId> consumed_;
  bool per_channel_ = false;
};

}  // namespace

int32_t exp_for_threshold(double t) {
  if (!(t > 0) || !std::isfinite(t)) throw Error(fmt::format("exp_for_threshold: threshold {} must be positive", t));
  return static_cast<int32_t>(std::clamp(std::floor(std::log2(127.0 / t)), -64.0, 64.0));
}

QModel quantize(const ir::Graph& g, const Calibration& cal, const QuantizeOptions& opt) {
  Prepared p = prepare_qdq(g);
  Quantizer q(g, p, cal);
  return q.run(opt);
}

}  // namespace vta::quant
