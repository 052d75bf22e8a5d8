#include "vta/ir/graph.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <queue>

namespace vta::ir {

// ---- Node ----

std::string Node::describe() const { return fmt::format("node '{}' ({})", name, op_name(op)); }

namespace {

template <class T>
const T* typed_attr(const Node& n, std::string_view attr, std::string_view want) {
  const AttrValue* v = n.attrs.find(attr);
  if (v == nullptr) return nullptr;
  const T* p = std::get_if<T>(v);
  if (p == nullptr) {
    throw Error(fmt::format("{}: attribute '{}' is {}, expected {}", n.describe(), attr, attr_type_name(*v), want));
  }
  return p;
}

[[noreturn]] void missing(const Node& n, std::string_view attr) {
  throw Error(fmt::format("{}: missing attribute '{}'", n.describe(), attr));
}

}  // namespace

int64_t Node::get_int(std::string_view attr) const {
  if (const auto* p = typed_attr<int64_t>(*this, attr, "int")) return *p;
  missing(*this, attr);
}
int64_t Node::get_int(std::string_view attr, int64_t dflt) const {
  const auto* p = typed_attr<int64_t>(*this, attr, "int");
  return p ? *p : dflt;
}
float Node::get_float(std::string_view attr) const {
  const AttrValue* v = attrs.find(attr);
  if (v == nullptr) missing(*this, attr);
  if (const auto* i = std::get_if<int64_t>(v)) return static_cast<float>(*i);
  return *typed_attr<float>(*this, attr, "float");
}
float Node::get_float(std::string_view attr, float dflt) const {
  return attrs.has(attr) ? get_float(attr) : dflt;
}
std::vector<int64_t> Node::get_ints(std::string_view attr) const {
  if (const auto* p = typed_attr<std::vector<int64_t>>(*this, attr, "ints")) return *p;
  missing(*this, attr);
}
std::vector<int64_t> Node::get_ints(std::string_view attr, std::vector<int64_t> dflt) const {
  const auto* p = typed_attr<std::vector<int64_t>>(*this, attr, "ints");
  return p ? *p : dflt;
}
std::vector<float> Node::get_floats(std::string_view attr) const {
  if (const auto* p = typed_attr<std::vector<float>>(*this, attr, "floats")) return *p;
  missing(*this, attr);
}
std::string Node::get_string(std::string_view attr) const {
  if (const auto* p = typed_attr<std::string>(*this, attr, "string")) return *p;
  missing(*this, attr);
}
std::string Node::get_string(std::string_view attr, std::string dflt) const {
  const auto* p = typed_attr<std::string>(*this, attr, "string");
  return p ? *p : dflt;
}

// ---- Graph: values ----

void Graph::check_value(ValueId v) const {
  if (v < 0 || static_cast<size_t>(v) >= values_.size()) {
    throw Error(fmt::format("graph '{}': value id {} out of range ({} values)", name_, v, values_.size()));
  }
}

ValueId Graph::push_value(Value v) {
  if (by_name_.count(v.name)) throw Error(fmt::format("graph '{}': value '{}' defined twice", name_, v.name));
  const auto id = static_cast<ValueId>(values_.size());
  by_name_.emplace(v.name, id);
  values_.push_back(std::move(v));
  return id;
}

ValueId Graph::add_value(std::string name) {
  Value v;
  v.name = std::move(name);
  return push_value(std::move(v));
}

ValueId Graph::add_value(std::string name, DType dtype, Shape shape) {
  Value v;
  v.name = std::move(name);
  v.typed = true;
  v.dtype = dtype;
  v.shape = std::move(shape);
  return push_value(std::move(v));
}

ValueId Graph::add_constant(std::string name, Tensor tensor) {
  const ValueId id = add_value(std::move(name));
  set_constant(id, std::move(tensor));
  return id;
}

ValueId Graph::add_input(std::string name, DType dtype, Shape shape) {
  const ValueId id = add_value(std::move(name), dtype, std::move(shape));
  inputs_.push_back(id);
  return id;
}

void Graph::add_output(ValueId v) {
  check_value(v);
  outputs_.push_back(v);
}

const Value& Graph::value(ValueId v) const {
  check_value(v);
  return values_[v];
}

Value& Graph::value(ValueId v) {
  check_value(v);
  return values_[v];
}

std::optional<ValueId> Graph::find_value(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::string Graph::unique_name(std::string_view base) const {
  std::string name(base);
  for (int i = 1; by_name_.count(name); ++i) name = fmt::format("{}.{}", base, i);
  return name;
}

void Graph::rename_value(ValueId v, std::string name) {
  check_value(v);
  if (values_[v].name == name) return;
  if (by_name_.count(name)) throw Error(fmt::format("graph '{}': value '{}' defined twice", name_, name));
  by_name_.erase(values_[v].name);
  by_name_.emplace(name, v);
  values_[v].name = std::move(name);
}

const Tensor& Graph::constant(ValueId v, std::string_view what) const {
  if (v == kNoValue) throw Error(fmt::format("{} is missing", what));
  const Value& val = value(v);
  if (!val.constant) throw Error(fmt::format("{} ('{}') must be a constant", what, val.name));
  return *val.constant;
}

void Graph::set_constant(ValueId v, Tensor tensor) {
  Value& val = value(v);
  val.typed = true;
  val.dtype = tensor.dtype();
  val.shape = tensor.shape();
  val.constant = std::move(tensor);
}

bool Graph::is_graph_input(ValueId v) const { return std::find(inputs_.begin(), inputs_.end(), v) != inputs_.end(); }
bool Graph::is_graph_output(ValueId v) const {
  return std::find(outputs_.begin(), outputs_.end(), v) != outputs_.end();
}

// ---- Graph: nodes ----

NodeId Graph::add_node(OpKind op, std::string name, std::vector<ValueId> inputs, std::vector<ValueId> outputs,
                       Attributes attrs) {
  for (ValueId v : inputs) {
    if (v != kNoValue) check_value(v);
  }
  for (ValueId v : outputs) check_value(v);
  Node n;
  n.op = op;
  n.name = std::move(name);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.attrs = std::move(attrs);
  nodes_.push_back(std::move(n));
  live_.push_back(true);
  return static_cast<NodeId>(nodes_.size() - 1);
}

void Graph::remove_node(NodeId n) {
  node(n);  // checks
  live_[n] = false;
}

const Node& Graph::node(NodeId n) const {
  if (!is_live(n)) throw Error(fmt::format("graph '{}': node id {} does not exist", name_, n));
  return nodes_[n];
}

Node& Graph::node(NodeId n) {
  if (!is_live(n)) throw Error(fmt::format("graph '{}': node id {} does not exist", name_, n));
  return nodes_[n];
}

std::vector<NodeId> Graph::node_ids() const {
  std::vector<NodeId> ids;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (live_[i]) ids.push_back(static_cast<NodeId>(i));
  }
  return ids;
}

size_t Graph::num_nodes() const { return static_cast<size_t>(std::count(live_.begin(), live_.end(), true)); }

std::optional<NodeId> Graph::producer(ValueId v) const {
  for (NodeId n : node_ids()) {
    const auto& outs = nodes_[n].outputs;
    if (std::find(outs.begin(), outs.end(), v) != outs.end()) return n;
  }
  return std::nullopt;
}

std::vector<NodeId> Graph::users(ValueId v) const {
  std::vector<NodeId> result;
  for (NodeId n : node_ids()) {
    const auto& ins = nodes_[n].inputs;
    if (std::find(ins.begin(), ins.end(), v) != ins.end()) result.push_back(n);
  }
  return result;
}

void Graph::replace_all_uses(ValueId from, ValueId to) {
  check_value(from);
  check_value(to);
  for (NodeId n : node_ids()) {
    for (ValueId& v : nodes_[n].inputs) {
      if (v == from) v = to;
    }
  }
  for (ValueId& v : outputs_) {
    if (v == from) v = to;
  }
}

std::vector<NodeId> Graph::topological_order() const {
  const std::vector<NodeId> ids = node_ids();
  std::vector<NodeId> producer_of(values_.size(), -1);
  for (NodeId n : ids) {
    for (ValueId v : nodes_[n].outputs) {
      if (producer_of[v] != -1) {
        throw Error(fmt::format("graph '{}': value '{}' is produced by {} and {}", name_, values_[v].name,
                                nodes_[producer_of[v]].describe(), nodes_[n].describe()));
      }
      producer_of[v] = n;
    }
  }
  // Kahn's algorithm; the smallest ready id goes first so the order is deterministic.
  std::vector<int> pending(nodes_.size(), 0);
  std::vector<std::vector<NodeId>> consumers(nodes_.size());
  std::priority_queue<NodeId, std::vector<NodeId>, std::greater<>> ready;
  for (NodeId n : ids) {
    for (ValueId v : nodes_[n].inputs) {
      if (v == kNoValue) continue;
      if (producer_of[v] == -1) {
        const Value& val = values_[v];
        if (!val.constant && !is_graph_input(v)) {
          throw Error(fmt::format("graph '{}': {} reads '{}', which no node, input or constant defines", name_,
                                  nodes_[n].describe(), val.name));
        }
        continue;
      }
      ++pending[n];
      consumers[producer_of[v]].push_back(n);
    }
    if (pending[n] == 0) ready.push(n);
  }
  std::vector<NodeId> order;
  while (!ready.empty()) {
    const NodeId n = ready.top();
    ready.pop();
    order.push_back(n);
    for (NodeId c : consumers[n]) {
      if (--pending[c] == 0) ready.push(c);
    }
  }
  if (order.size() != ids.size()) {
    for (NodeId n : ids) {
      if (pending[n] > 0) throw Error(fmt::format("graph '{}': cycle through {}", name_, nodes_[n].describe()));
    }
  }
  return order;
}

size_t Graph::eliminate_dead_nodes() {
  std::vector<bool> needed(values_.size(), false);
  for (ValueId v : outputs_) needed[v] = true;
  std::vector<NodeId> order = topological_order();
  size_t removed = 0;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& n = nodes_[*it];
    const bool used = std::any_of(n.outputs.begin(), n.outputs.end(), [&](ValueId v) { return needed[v]; });
    if (!used) {
      live_[*it] = false;
      ++removed;
      continue;
    }
    for (ValueId v : n.inputs) {
      if (v != kNoValue) needed[v] = true;
    }
  }
  return removed;
}

// ---- helpers ----

std::string_view short_dtype(DType t) {
  switch (t) {
    case DType::kInt8: return "i8";
    case DType::kUint8: return "u8";
    case DType::kInt32: return "i32";
    case DType::kFloat32: return "f32";
  }
  return "?";
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

int64_t num_elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

}  // namespace vta::ir
