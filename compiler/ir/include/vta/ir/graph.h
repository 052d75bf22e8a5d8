// The graph IR: values (typed tensors, some of them constants) and nodes (an operator with inputs,
// outputs and attributes). Device independent: quantization and lowering work on this form.
//
// Ids are stable: removing a node leaves a hole (node_ids() skips it), so a pass can hold ids while it
// edits the graph. An optional input that is absent is kNoValue. Shapes are row-major (NCHW for images).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vta/compiler/tensor.h"
#include "vta/ir/attributes.h"
#include "vta/ir/op_kind.h"

namespace vta::ir {

using compiler::DType;
using compiler::Tensor;
using Shape = std::vector<int64_t>;

using ValueId = int32_t;
using NodeId = int32_t;
inline constexpr ValueId kNoValue = -1;

struct Value {
  std::string name;
  bool typed = false;  // dtype and shape are known (graph inputs, constants, after infer_shapes)
  DType dtype = DType::kFloat32;
  Shape shape;
  std::optional<Tensor> constant;  // set for weights, biases and folded values (dtype/shape match it)

  bool is_constant() const { return constant.has_value(); }
};

struct Node {
  OpKind op = OpKind::kIdentity;
  std::string name;
  std::vector<ValueId> inputs;  // kNoValue for an absent optional input
  std::vector<ValueId> outputs;
  Attributes attrs;

  // "node 'conv1' (Conv)", the prefix of every error about this node.
  std::string describe() const;
  // Typed attribute reads: a missing attribute (without a default) or one of another type is a vta::Error
  // naming the node and the attribute. An int attribute also reads as a float.
  int64_t get_int(std::string_view attr) const;
  int64_t get_int(std::string_view attr, int64_t dflt) const;
  float get_float(std::string_view attr) const;
  float get_float(std::string_view attr, float dflt) const;
  std::vector<int64_t> get_ints(std::string_view attr) const;
  std::vector<int64_t> get_ints(std::string_view attr, std::vector<int64_t> dflt) const;
  std::vector<float> get_floats(std::string_view attr) const;
  std::string get_string(std::string_view attr) const;
  std::string get_string(std::string_view attr, std::string dflt) const;
  // inputs[i] when present, else kNoValue.
  ValueId input(size_t i) const { return i < inputs.size() ? inputs[i] : kNoValue; }
};

class Graph {
 public:
  explicit Graph(std::string name = "graph") : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // ---- values ----
  // Names are unique: adding a name that exists is a vta::Error (see unique_name()).
  ValueId add_value(std::string name);  // untyped, e.g. a node output before shape inference
  ValueId add_value(std::string name, DType dtype, Shape shape);
  ValueId add_constant(std::string name, Tensor tensor);
  ValueId add_input(std::string name, DType dtype, Shape shape);  // a typed value appended to inputs()
  void add_output(ValueId v);
  void set_outputs(std::vector<ValueId> outputs) { outputs_ = std::move(outputs); }

  size_t num_values() const { return values_.size(); }
  const Value& value(ValueId v) const;
  Value& value(ValueId v);
  std::optional<ValueId> find_value(std::string_view name) const;
  // `base`, or `base.1`, `base.2`, ... whichever is not taken yet.
  std::string unique_name(std::string_view base) const;
  void rename_value(ValueId v, std::string name);
  bool is_constant(ValueId v) const { return v != kNoValue && value(v).is_constant(); }
  // The constant tensor of `v`; a vta::Error naming `what` (e.g. "node 'c' (Conv) weight") otherwise.
  const Tensor& constant(ValueId v, std::string_view what) const;
  void set_constant(ValueId v, Tensor tensor);

  const std::vector<ValueId>& inputs() const { return inputs_; }
  const std::vector<ValueId>& outputs() const { return outputs_; }
  bool is_graph_input(ValueId v) const;
  bool is_graph_output(ValueId v) const;

  // ---- nodes ----
  NodeId add_node(OpKind op, std::string name, std::vector<ValueId> inputs, std::vector<ValueId> outputs,
                  Attributes attrs = {});
  void remove_node(NodeId n);
  bool is_live(NodeId n) const { return n >= 0 && static_cast<size_t>(n) < nodes_.size() && live_[n]; }
  const Node& node(NodeId n) const;
  Node& node(NodeId n);
  std::vector<NodeId> node_ids() const;  // live nodes, in insertion order
  size_t num_nodes() const;              // live nodes

  // The live node producing `v`, if any (graph inputs and constants have none).
  std::optional<NodeId> producer(ValueId v) const;
  // Live nodes reading `v` (each listed once, in insertion order).
  std::vector<NodeId> users(ValueId v) const;
  // Every read of `from` (node inputs and graph outputs) now reads `to`.
  void replace_all_uses(ValueId from, ValueId to);
  // Live nodes with every producer before its users; ties keep insertion order. Throws on a cycle or
  // on a node reading a value nothing defines.
  std::vector<NodeId> topological_order() const;
  // Removes nodes none of whose outputs reaches a graph output; returns how many.
  size_t eliminate_dead_nodes();

 private:
  void check_value(ValueId v) const;
  ValueId push_value(Value v);

  std::string name_;
  std::vector<Value> values_;
  std::unordered_map<std::string, ValueId> by_name_;
  std::vector<Node> nodes_;
  std::vector<bool> live_;
  std::vector<ValueId> inputs_;
  std::vector<ValueId> outputs_;
};

// "f32", "i8", "u8", "i32".
std::string_view short_dtype(DType t);
// "[1,3,224,224]".
std::string shape_str(const Shape& s);
int64_t num_elements(const Shape& s);

}  // namespace vta::ir
