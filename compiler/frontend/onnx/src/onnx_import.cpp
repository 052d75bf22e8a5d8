#include "vta/frontend/onnx_import.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/onnx_pb.h>  // defines ONNX_API, then includes onnx-ml.pb.h

#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "vta/ir/passes.h"

namespace vta::frontend {
namespace {

using ir::AttrValue;
using ir::Attributes;
using ir::DType;
using ir::OpKind;
using ir::Shape;
using ir::Tensor;

std::string node_label(const onnx::NodeProto& n) {
  return fmt::format("ONNX op '{}{}' (node '{}')", n.domain().empty() || n.domain() == "ai.onnx" ? "" : n.domain() + "::",
                     n.op_type(), n.name());
}

// ---- tensors ----

size_t onnx_elem_size(int type) {
  switch (type) {
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32: return 4;
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8: return 1;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::DOUBLE: return 8;
    default: return 0;
  }
}

std::string onnx_type_name(int type) {
  if (onnx::TensorProto_DataType_IsValid(type)) {
    return onnx::TensorProto_DataType_Name(static_cast<onnx::TensorProto_DataType>(type));
  }
  return fmt::format("type {}", type);
}

template <class T>
T read_le(const std::string& raw, size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  return v;
}

Tensor to_tensor(const onnx::TensorProto& t, const std::string& what) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    throw Error(fmt::format("{}: external tensor data is not supported", what));
  }
  Shape shape;
  int64_t count = 1;
  for (int64_t d : t.dims()) {
    if (d < 0) throw Error(fmt::format("{}: negative dimension in [{}]", what, fmt::join(t.dims(), ",")));
    shape.push_back(d);
    if (d != 0 && count > (int64_t{1} << 40) / d) {
      throw Error(fmt::format("{}: shape [{}] is too large", what, fmt::join(t.dims(), ",")));
    }
    count *= d;
  }
  const int type = t.data_type();
  const size_t elem = onnx_elem_size(type);
  if (elem == 0) throw Error(fmt::format("{}: data type {} is not supported", what, onnx_type_name(type)));
  const auto n = static_cast<size_t>(count);
  const bool raw = t.has_raw_data();
  // The data must match the shape before anything is allocated (a corrupt file may claim any shape).
  if (raw && t.raw_data().size() != n * elem) {
    throw Error(fmt::format("{}: raw_data has {} bytes, shape [{}] of {} needs {}", what, t.raw_data().size(),
                            fmt::join(shape, ","), onnx_type_name(type), n * elem));
  }
  if (!raw) {
    int have = 0;
    switch (type) {
      case onnx::TensorProto::FLOAT: have = t.float_data_size(); break;
      case onnx::TensorProto::DOUBLE: have = t.double_data_size(); break;
      case onnx::TensorProto::INT64: have = t.int64_data_size(); break;
      default: have = t.int32_data_size(); break;  // int8, uint8 and int32 are stored widened in int32_data
    }
    if (static_cast<size_t>(have) != n) {
      throw Error(fmt::format("{}: {} values for shape [{}]", what, have, fmt::join(shape, ",")));
    }
  }
  switch (type) {
    case onnx::TensorProto::FLOAT: {
      Tensor out(DType::kFloat32, shape);
      if (raw) {
        if (n) std::memcpy(out.raw(), t.raw_data().data(), n * 4);
      } else {
        for (size_t i = 0; i < n; ++i) out.data<float>()[i] = t.float_data(static_cast<int>(i));
      }
      return out;
    }
    case onnx::TensorProto::DOUBLE: {
      Tensor out(DType::kFloat32, shape);
      for (size_t i = 0; i < n; ++i) {
        const double v = raw ? read_le<double>(t.raw_data(), i) : t.double_data(static_cast<int>(i));
        out.data<float>()[i] = static_cast<float>(v);
      }
      return out;
    }
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT32: {
      const DType dt = type == onnx::TensorProto::INT32 ? DType::kInt32
                       : type == onnx::TensorProto::INT8 ? DType::kInt8
                                                         : DType::kUint8;
      Tensor out(dt, shape);
      if (raw) {
        if (n) std::memcpy(out.raw(), t.raw_data().data(), n * elem);
        return out;
      }
      for (size_t i = 0; i < n; ++i) {
        const int32_t v = t.int32_data(static_cast<int>(i));
        if (dt == DType::kInt32) {
          out.data<int32_t>()[i] = v;
        } else if (dt == DType::kInt8) {
          out.data<int8_t>()[i] = static_cast<int8_t>(v);
        } else {
          out.data<uint8_t>()[i] = static_cast<uint8_t>(v);
        }
      }
      return out;
    }
    case onnx::TensorProto::INT64: {
      Tensor out(DType::kInt32, shape);
      for (size_t i = 0; i < n; ++i) {
        const int64_t v = raw ? read_le<int64_t>(t.raw_data(), i) : t.int64_data(static_cast<int>(i));
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
          throw Error(fmt::format("{}: int64 value {} does not fit int32", what, v));
        }
        out.data<int32_t>()[i] = static_cast<int32_t>(v);
      }
      return out;
    }
    default: break;
  }
  throw Error(fmt::format("{}: data type {} is not supported", what, onnx_type_name(type)));
}

std::optional<DType> value_dtype(int elem_type) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT: return DType::kFloat32;
    case onnx::TensorProto::INT8: return DType::kInt8;
    case onnx::TensorProto::UINT8: return DType::kUint8;
    case onnx::TensorProto::INT32: return DType::kInt32;
    default: return std::nullopt;
  }
}

// ---- attributes ----

// Reads a node's attributes by name, remembering which were read so the rest can be reported.
class AttrReader {
 public:
  AttrReader(const onnx::NodeProto& node, std::vector<std::string>& problems) : node_(node), problems_(problems) {
    for (const auto& a : node.attribute()) attrs_[a.name()] = &a;
  }

  bool has(const std::string& name) const { return attrs_.count(name) != 0; }

  int64_t i(const std::string& name, int64_t dflt) { return get(name, onnx::AttributeProto::INT, dflt, [](auto& a) { return a.i(); }); }
  float f(const std::string& name, float dflt) { return get(name, onnx::AttributeProto::FLOAT, dflt, [](auto& a) { return a.f(); }); }
  std::string s(const std::string& name, std::string dflt) {
    return get(name, onnx::AttributeProto::STRING, std::move(dflt), [](auto& a) { return a.s(); });
  }
  std::vector<int64_t> ints(const std::string& name, std::vector<int64_t> dflt) {
    return get(name, onnx::AttributeProto::INTS, std::move(dflt),
               [](auto& a) { return std::vector<int64_t>(a.ints().begin(), a.ints().end()); });
  }
  std::vector<float> floats(const std::string& name, std::vector<float> dflt) {
    return get(name, onnx::AttributeProto::FLOATS, std::move(dflt),
               [](auto& a) { return std::vector<float>(a.floats().begin(), a.floats().end()); });
  }
  const onnx::TensorProto* tensor(const std::string& name) {
    auto it = attrs_.find(name);
    if (it == attrs_.end()) return nullptr;
    used_.insert(name);
    if (it->second->type() != onnx::AttributeProto::TENSOR) {
      bad_type(name);
      return nullptr;
    }
    return &it->second->t();
  }

  void unsupported_value(const std::string& name, const std::string& value) {
    problems_.push_back(fmt::format("unsupported attribute {}={} of {}", name, value, node_label(node_)));
  }

  // Every attribute not read is unsupported.
  void finish() {
    for (const auto& [name, a] : attrs_) {
      if (!used_.count(name)) problems_.push_back(fmt::format("unsupported attribute '{}' of {}", name, node_label(node_)));
    }
  }

 private:
  template <class T, class F>
  T get(const std::string& name, onnx::AttributeProto::AttributeType type, T dflt, F read) {
    auto it = attrs_.find(name);
    if (it == attrs_.end()) return dflt;
    used_.insert(name);
    if (it->second->type() != type) {
      bad_type(name);
      return dflt;
    }
    return read(*it->second);
  }
  void bad_type(const std::string& name) {
    problems_.push_back(fmt::format("attribute '{}' of {} has an unexpected type ({})", name, node_label(node_),
                                    onnx::AttributeProto_AttributeType_Name(attrs_.at(name)->type())));
  }

  const onnx::NodeProto& node_;
  std::vector<std::string>& problems_;
  std::map<std::string, const onnx::AttributeProto*> attrs_;
  std::set<std::string> used_;
};

std::string ints_str(const std::vector<int64_t>& v) { return fmt::format("[{}]", fmt::join(v, ",")); }

void require_ones(AttrReader& r, const std::string& name) {
  const auto v = r.ints(name, {});
  for (int64_t d : v) {
    if (d != 1) {
      r.unsupported_value(name, ints_str(v));
      return;
    }
  }
}

void require_int(AttrReader& r, const std::string& name, int64_t want) {
  const int64_t v = r.i(name, want);
  if (v != want) r.unsupported_value(name, std::to_string(v));
}

// strides, pads and (when not NOTSET) auto_pad of Conv and the pools.
void window_attrs(AttrReader& r, Attributes& a) {
  a.set("strides", r.ints("strides", {1, 1}));
  a.set("pads", r.ints("pads", {0, 0, 0, 0}));
  const std::string auto_pad = r.s("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || auto_pad == "VALID") {
    a.set("auto_pad", auto_pad);
  } else if (auto_pad != "NOTSET" && !auto_pad.empty()) {
    r.unsupported_value("auto_pad", "'" + auto_pad + "'");
  }
}

struct Converted {
  OpKind op = OpKind::kIdentity;
  Attributes attrs;
  size_t max_inputs = 0;  // inputs kept (Dropout drops ratio and training_mode)
};

// The IR op and attributes of one ONNX node; appends to `problems` what is not supported.
std::optional<Converted> convert_node(const onnx::NodeProto& n, int opset, std::vector<std::string>& problems) {
  const bool default_domain = n.domain().empty() || n.domain() == "ai.onnx";
  const std::optional<OpKind> op = default_domain ? ir::op_from_name(n.op_type()) : std::nullopt;
  if (!op) {
    problems.push_back("unsupported " + node_label(n));
    return std::nullopt;
  }
  AttrReader r(n, problems);
  Converted c;
  c.op = *op;
  c.max_inputs = static_cast<size_t>(n.input_size());
  Attributes& a = c.attrs;
  switch (*op) {
    case OpKind::kConv:
      r.ints("kernel_shape", {});  // implied by the weight
      require_ones(r, "dilations");
      window_attrs(r, a);
      a.set("group", r.i("group", 1));
      break;
    case OpKind::kMaxPool:
    case OpKind::kAveragePool:
      a.set("kernel_shape", r.ints("kernel_shape", {}));
      if (!r.has("kernel_shape")) problems.push_back(fmt::format("missing attribute 'kernel_shape' of {}", node_label(n)));
      window_attrs(r, a);
      require_int(r, "ceil_mode", 0);
      require_ones(r, "dilations");
      if (*op == OpKind::kMaxPool) {
        require_int(r, "storage_order", 0);
        if (n.output_size() > 1 && !n.output(1).empty()) {
          problems.push_back(fmt::format("unsupported Indices output of {}", node_label(n)));
        }
      } else {
        a.set("count_include_pad", r.i("count_include_pad", 0));
      }
      break;
    case OpKind::kGemm:
      a.set("alpha", r.f("alpha", 1.0f));
      a.set("beta", r.f("beta", 1.0f));
      a.set("transA", r.i("transA", 0));
      a.set("transB", r.i("transB", 0));
      break;
    case OpKind::kBatchNormalization:
      a.set("epsilon", r.f("epsilon", 1e-5f));
      r.f("momentum", 0.9f);  // training only
      require_int(r, "training_mode", 0);
      for (int i = 1; i < n.output_size(); ++i) {
        if (!n.output(i).empty()) {
          problems.push_back(fmt::format("unsupported training outputs of {}", node_label(n)));
          break;
        }
      }
      break;
    case OpKind::kFlatten: a.set("axis", r.i("axis", 1)); break;
    case OpKind::kConcat:
      if (!r.has("axis")) problems.push_back(fmt::format("missing attribute 'axis' of {}", node_label(n)));
      a.set("axis", r.i("axis", 0));
      break;
    case OpKind::kSoftmax:
      a.set("axis", r.i("axis", opset < 13 ? 1 : -1));
      if (opset < 13) a.set("coerce_2d", int64_t{1});
      break;
    case OpKind::kReshape: require_int(r, "allowzero", 0); break;
    case OpKind::kQuantizeLinear:
    case OpKind::kDequantizeLinear:
      if (r.has("axis")) a.set("axis", r.i("axis", 1));
      break;
    case OpKind::kDropout:
      r.f("ratio", 0.5f);
      r.i("seed", 0);
      c.max_inputs = 1;
      break;
    case OpKind::kPad: {
      const std::string mode = r.s("mode", "constant");
      if (mode != "constant") r.unsupported_value("mode", "'" + mode + "'");
      if (n.input_size() > 3 && !n.input(3).empty()) {
        problems.push_back(fmt::format("unsupported axes input of {}", node_label(n)));
      }
      break;
    }
    case OpKind::kMatMul:
    case OpKind::kRelu:
    case OpKind::kClip:
    case OpKind::kAdd:
    case OpKind::kMul:
    case OpKind::kGlobalAveragePool:
    case OpKind::kIdentity: break;
  }
  r.finish();
  return c;
}

// The value of a Constant node.
std::optional<Tensor> constant_value(const onnx::NodeProto& n, std::vector<std::string>& problems) {
  AttrReader r(n, problems);
  std::optional<Tensor> t;
  const std::string what = fmt::format("Constant node '{}'", n.name());
  if (const onnx::TensorProto* p = r.tensor("value")) {
    t = to_tensor(*p, what);
  } else if (r.has("value_float")) {
    t = Tensor::from_values<float>({}, {r.f("value_float", 0)});
  } else if (r.has("value_floats")) {
    const auto v = r.floats("value_floats", {});
    t = Tensor::from_values<float>({static_cast<int64_t>(v.size())}, v);
  } else if (r.has("value_int")) {
    t = Tensor::from_values<int32_t>({}, {static_cast<int32_t>(r.i("value_int", 0))});
  } else if (r.has("value_ints")) {
    std::vector<int32_t> v;
    for (int64_t x : r.ints("value_ints", {})) v.push_back(static_cast<int32_t>(x));
    t = Tensor::from_values<int32_t>({static_cast<int64_t>(v.size())}, v);
  }
  r.finish();
  if (!t && problems.empty()) problems.push_back(fmt::format("{} has no supported value attribute", what));
  return t;
}

// ---- graph ----

struct Importer {
  const std::string& model_name;
  std::vector<std::string>* notes;

  ir::Graph run(const onnx::ModelProto& model) {
    if (!model.has_graph()) throw Error("the model has no graph");
    const int opset = default_opset(model);
    const onnx::GraphProto& gp = model.graph();
    ir::Graph g(gp.name().empty() ? model_name : gp.name());

    std::set<std::string> initializers;
    for (const auto& init : gp.initializer()) {
      if (init.name().empty()) throw Error("an initializer has no name");
      g.add_constant(init.name(), to_tensor(init, fmt::format("initializer '{}'", init.name())));
      initializers.insert(init.name());
    }
    for (const auto& in : gp.input()) {
      if (!initializers.count(in.name())) add_input(g, in);
    }

    // Every unsupported op and attribute first, all at once.
    std::vector<std::string> problems;
    std::vector<std::optional<Converted>> converted;
    std::vector<std::optional<Tensor>> constants;
    std::vector<std::string> names;
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& n = gp.node(i);
      names.push_back(n.name().empty() ? fmt::format("{}_{}", n.op_type(), i) : n.name());
      const bool is_constant = n.op_type() == "Constant" && (n.domain().empty() || n.domain() == "ai.onnx");
      constants.push_back(is_constant ? constant_value(n, problems) : std::nullopt);
      converted.push_back(is_constant ? std::nullopt : convert_node(n, opset, problems));
    }
    if (!problems.empty()) throw Error(fmt::format("{}", fmt::join(problems, "; ")));

    std::set<std::string> read;  // names some node or the graph output reads
    for (const auto& n : gp.node()) read.insert(n.input().begin(), n.input().end());
    for (const auto& out : gp.output()) read.insert(out.name());

    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& n = gp.node(i);
      if (constants[i]) {
        if (n.output_size() != 1) throw Error(fmt::format("Constant node '{}' must have one output", names[i]));
        g.add_constant(n.output(0), std::move(*constants[i]));
        continue;
      }
      const Converted& c = *converted[i];
      std::vector<ir::ValueId> inputs;
      for (int k = 0; k < n.input_size() && static_cast<size_t>(k) < c.max_inputs; ++k) {
        if (n.input(k).empty()) {
          inputs.push_back(ir::kNoValue);
          continue;
        }
        const auto v = g.find_value(n.input(k));
        if (!v) {
          throw Error(fmt::format("node '{}' ({}) reads undefined tensor '{}'", names[i], n.op_type(), n.input(k)));
        }
        inputs.push_back(*v);
      }
      while (!inputs.empty() && inputs.back() == ir::kNoValue) inputs.pop_back();
      std::vector<ir::ValueId> outputs;
      for (int k = 0; k < n.output_size(); ++k) {
        const std::string& out = n.output(k);
        if (k > 0 && (out.empty() || !read.count(out))) continue;  // optional outputs nobody reads
        if (k > 0) throw Error(fmt::format("output '{}' of node '{}' ({}) is not supported", out, names[i], n.op_type()));
        if (g.find_value(out)) throw Error(fmt::format("tensor '{}' is defined twice (node '{}')", out, names[i]));
        outputs.push_back(g.add_value(out));
      }
      if (outputs.empty()) throw Error(fmt::format("node '{}' ({}) has no output", names[i], n.op_type()));
      g.add_node(c.op, names[i], std::move(inputs), std::move(outputs), c.attrs);
    }

    for (const auto& out : gp.output()) {
      const auto v = g.find_value(out.name());
      if (!v) throw Error(fmt::format("graph output '{}' is not defined", out.name()));
      g.add_output(*v);
    }
    if (g.outputs().empty()) throw Error("the graph has no outputs");
    ir::infer_shapes(g);
    for (const auto& out : gp.output()) check_output(g, out);
    return g;
  }

  int default_opset(const onnx::ModelProto& model) {
    std::optional<int64_t> version;
    for (const auto& op : model.opset_import()) {
      if (op.domain().empty() || op.domain() == "ai.onnx") version = op.version();
    }
    if (!version) throw Error("the model imports no opset of the default ONNX domain");
    if (*version < kMinOnnxOpset || *version > kMaxOnnxOpset) {
      throw Error(fmt::format("opset version {} is not supported (supported: {} to {})", *version, kMinOnnxOpset,
                              kMaxOnnxOpset));
    }
    return static_cast<int>(*version);
  }

  void add_input(ir::Graph& g, const onnx::ValueInfoProto& in) {
    if (!in.type().has_tensor_type()) throw Error(fmt::format("graph input '{}' is not a tensor", in.name()));
    const auto& tt = in.type().tensor_type();
    const auto dtype = value_dtype(tt.elem_type());
    if (!dtype) {
      throw Error(fmt::format("graph input '{}' has unsupported type {}", in.name(), onnx_type_name(tt.elem_type())));
    }
    if (!tt.has_shape()) throw Error(fmt::format("graph input '{}' has no shape", in.name()));
    Shape shape;
    for (int d = 0; d < tt.shape().dim_size(); ++d) {
      const auto& dim = tt.shape().dim(d);
      if (dim.has_dim_value() && dim.dim_value() > 0) {
        shape.push_back(dim.dim_value());
        continue;
      }
      const std::string what = dim.has_dim_param() ? fmt::format("symbolic ('{}')", dim.dim_param()) : "unknown";
      if (d != 0) {
        throw Error(fmt::format("graph input '{}': dimension {} is {}; only the batch dimension may be", in.name(), d, what));
      }
      if (notes) notes->push_back(fmt::format("graph input '{}': {} batch dimension set to 1", in.name(), what));
      shape.push_back(1);
    }
    g.add_input(in.name(), *dtype, shape);
  }

  // A declared output type must match the inferred one (symbolic dimensions excepted).
  void check_output(const ir::Graph& g, const onnx::ValueInfoProto& out) {
    if (!out.type().has_tensor_type() || !out.type().tensor_type().has_shape()) return;
    const ir::Value& v = g.value(*g.find_value(out.name()));
    const auto& shape = out.type().tensor_type().shape();
    bool ok = shape.dim_size() == static_cast<int>(v.shape.size());
    for (int d = 0; ok && d < shape.dim_size(); ++d) {
      ok = !shape.dim(d).has_dim_value() || shape.dim(d).dim_value() == v.shape[static_cast<size_t>(d)];
    }
    if (!ok) {
      std::vector<std::string> dims;
      for (const auto& dim : shape.dim()) dims.push_back(dim.has_dim_value() ? std::to_string(dim.dim_value()) : "?");
      throw Error(fmt::format("graph output '{}' is declared [{}] but infers to {}", out.name(), fmt::join(dims, ","),
                              ir::shape_str(v.shape)));
    }
  }
};

}  // namespace

ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& name, std::vector<std::string>* notes) {
  if (bytes.empty()) throw Error(fmt::format("cannot parse ONNX model '{}': the file is empty", name));
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw Error(fmt::format("cannot parse ONNX model '{}': not a valid ONNX protobuf (truncated or corrupt?)", name));
  }
  if (!model.has_graph()) throw Error(fmt::format("cannot parse ONNX model '{}': the model has no graph", name));
  try {
    return Importer{name, notes}.run(model);
  } catch (const Error& e) {
    throw Error(fmt::format("ONNX model '{}': {}", name, e.what()));
  }
}

ir::Graph import_onnx(const std::filesystem::path& path, std::vector<std::string>* notes) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(fmt::format("cannot parse ONNX model '{}': cannot open the file", path.string()));
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string name = path.string();
  ir::Graph g = import_onnx_bytes(ss.str(), name, notes);
  return g;
}

}  // namespace vta::frontend
