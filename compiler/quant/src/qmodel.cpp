#include "vta/quant/qmodel.h"

#include "vta/ir/graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

namespace vta::quant {
namespace {

// The graph IR's spellings ("i8", "[1,64,56,56]"), so both text forms read alike.
std::string_view dtype_short(DType t) { return ir::short_dtype(t); }
std::string shape_text(const std::vector<int64_t>& shape) { return ir::shape_str(shape); }

std::string tensor_text(const QModel& m, TensorId id) {
  if (id < 0 || static_cast<size_t>(id) >= m.tensors.size()) return fmt::format("%<bad tensor {}>", id);
  const QTensor& t = m.tensor(id);
  std::string s = fmt::format("%{}:{}{}", t.name, dtype_short(t.dtype), shape_text(t.shape));
  if (t.dtype == DType::kInt8) s += fmt::format("@e{}", t.exp);
  return s;
}

std::string requant_text(const Requantize& r) { return fmt::format("shift={}, clip=[{},{}]", r.shift, r.lo(), r.clip_hi); }

// Per-channel shifts: every value up to 8 channels, else the range.
std::string requant_text(const Requantize& r, const std::vector<int32_t>& channel_shift) {
  if (channel_shift.empty()) return requant_text(r);
  std::string v;
  if (channel_shift.size() <= 8) {
    for (size_t i = 0; i < channel_shift.size(); ++i) v += fmt::format("{}{}", i ? "," : "", channel_shift[i]);
  } else {
    const auto [lo, hi] = std::minmax_element(channel_shift.begin(), channel_shift.end());
    v = fmt::format("{}..{}", *lo, *hi);
  }
  return fmt::format("shift=ch{{{}}}, clip=[{},{}]", v, r.lo(), r.clip_hi);
}

std::string window_text(uint32_t kh, uint32_t kw, uint32_t sh, uint32_t sw, uint32_t t, uint32_t l, uint32_t b,
                        uint32_t r) {
  return fmt::format("kernel={}x{}, stride={}x{}, pad={},{},{},{}", kh, kw, sh, sw, t, l, b, r);
}

std::string weights_text(const QStep& s) {
  std::string out;
  if (s.weight) out += fmt::format("w={}{}@e{}", dtype_short(s.weight->dtype()), shape_text(s.weight->shape()), s.weight_exp);
  if (s.bias) out += fmt::format(", bias={}{}", dtype_short(s.bias->dtype()), shape_text(s.bias->shape()));
  return out;
}

std::string attrs_text(const QStep& s) {
  switch (s.op) {
    case QOp::kConv2d: {
      const ConvAttrs& c = s.conv;
      std::string t = fmt::format("{}, stride={}x{}, pad={},{},{},{}, groups={}, {}", weights_text(s), c.stride_h,
                                  c.stride_w, c.pad_top, c.pad_left, c.pad_bottom, c.pad_right, c.groups,
                                  requant_text(s.requant, s.channel_shift));
      if (s.has_residual()) {
        t += fmt::format(", residual={{shift_a={}, shift_b={}, {}}}", s.shift_a, s.shift_b, requant_text(s.residual_requant));
      }
      return t;
    }
    case QOp::kDense: return fmt::format("{}, {}", weights_text(s), requant_text(s.requant, s.channel_shift));
    case QOp::kAdd: return fmt::format("shift_a={}, shift_b={}, {}", s.shift_a, s.shift_b, requant_text(s.requant));
    case QOp::kMaxPool:
    case QOp::kAvgPool: {
      const PoolAttrs& p = s.pool;
      std::string t = window_text(p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.pad_bottom,
                                  p.pad_right);
      if (s.op == QOp::kAvgPool) t += fmt::format(", count_include_pad={}", p.count_include_pad ? 1 : 0);
      return t;
    }
    case QOp::kConcat:
    case QOp::kSoftmax: return fmt::format("axis={}", s.axis);
    case QOp::kClip: return fmt::format("clip=[{},{}]", s.clip_lo, s.clip_hi);
    case QOp::kQuantize:
    case QOp::kDequantize:
    case QOp::kGlobalAvgPool:
    case QOp::kReshape:
    case QOp::kRelu: return "";
  }
  return "";
}

}  // namespace

std::string_view to_string(QOp op) {
  switch (op) {
    case QOp::kQuantize: return "Quantize";
    case QOp::kDequantize: return "Dequantize";
    case QOp::kConv2d: return "Conv2d";
    case QOp::kDense: return "Dense";
    case QOp::kAdd: return "Add";
    case QOp::kMaxPool: return "MaxPool";
    case QOp::kAvgPool: return "AvgPool";
    case QOp::kGlobalAvgPool: return "GlobalAvgPool";
    case QOp::kReshape: return "Reshape";
    case QOp::kConcat: return "Concat";
    case QOp::kRelu: return "Relu";
    case QOp::kClip: return "Clip";
    case QOp::kSoftmax: return "Softmax";
  }
  return "?";
}

// qmodel "net": %input:f32[1,2,4,4] -> %y.dq:f32[1,3]
// # note: model notes, one per line
// %y:i8[...]@e4 = Conv2d(%input.q:i8[...]@e6) {w=..., ...}   one line per step
//   # note: step notes, after their step
std::string QModel::to_text() const {
  std::ostringstream os;
  os << fmt::format("qmodel \"{}\": {} -> {}\n", name, input >= 0 ? tensor_text(*this, input) : "?",
                    output >= 0 ? tensor_text(*this, output) : "?");
  for (const std::string& n : notes) os << "# note: " << n << "\n";
  for (const QStep& s : steps) {
    std::string args;
    for (size_t i = 0; i < s.inputs.size(); ++i) args += (i ? ", " : "") + tensor_text(*this, s.inputs[i]);
    const std::string attrs = attrs_text(s);
    os << fmt::format("{} = {}({}){}\n", tensor_text(*this, s.output), to_string(s.op), args,
                      attrs.empty() ? "" : " {" + attrs + "}");
    for (const std::string& n : s.notes) os << "  # note: " << n << "\n";
  }
  return os.str();
}

}  // namespace vta::quant
