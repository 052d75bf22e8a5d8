#include "vta/ir/printer.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace vta::ir {
namespace {

std::string type_text(const Value& v) {
  if (!v.typed) return "?";
  return fmt::format("{}{}", short_dtype(v.dtype), shape_str(v.shape));
}

std::string constant_values(const Tensor& t) {
  std::vector<std::string> items;
  for (size_t i = 0; i < t.size(); ++i) {
    switch (t.dtype()) {
      case DType::kFloat32: items.push_back(fmt::format("{}", t.data<float>()[i])); break;
      case DType::kInt32: items.push_back(fmt::format("{}", t.data<int32_t>()[i])); break;
      case DType::kInt8: items.push_back(fmt::format("{}", int{t.data<int8_t>()[i]})); break;
      case DType::kUint8: items.push_back(fmt::format("{}", int{t.data<uint8_t>()[i]})); break;
    }
  }
  return fmt::format("{{{}}}", fmt::join(items, ","));
}

std::string operand(const Graph& g, ValueId id) {
  if (id == kNoValue) return "_";
  const Value& v = g.value(id);
  if (!v.constant) return "%" + v.name;
  std::string s = "@" + v.name;
  if (v.dtype != DType::kFloat32) s += fmt::format(":{}", short_dtype(v.dtype));
  s += shape_str(v.shape);
  if (v.constant->size() <= 8) s += constant_values(*v.constant);
  return s;
}

struct AttrPrinter {
  std::string operator()(int64_t v) const { return fmt::format("{}", v); }
  std::string operator()(float v) const { return fmt::format("{}", v); }
  std::string operator()(const std::vector<int64_t>& v) const { return fmt::format("[{}]", fmt::join(v, ",")); }
  std::string operator()(const std::vector<float>& v) const { return fmt::format("[{}]", fmt::join(v, ",")); }
  std::string operator()(const std::string& v) const { return fmt::format("\"{}\"", v); }
};

}  // namespace

std::string to_text(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  std::vector<std::string> outs, ins, attrs, types;
  for (ValueId v : n.outputs) {
    outs.push_back("%" + g.value(v).name);
    types.push_back(type_text(g.value(v)));
  }
  for (ValueId v : n.inputs) ins.push_back(operand(g, v));
  for (const auto& [name, value] : n.attrs.items()) attrs.push_back(name + "=" + std::visit(AttrPrinter{}, value));
  std::string s = fmt::format("{} = {}({})", fmt::join(outs, ", "), op_name(n.op), fmt::join(ins, ", "));
  if (!attrs.empty()) s += fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  return s + fmt::format(" : {}", fmt::join(types, ", "));
}

std::string to_text(const Graph& g) {
  std::vector<std::string> ins;
  for (ValueId v : g.inputs()) ins.push_back(fmt::format("%{}: {}", g.value(v).name, type_text(g.value(v))));
  std::string s = fmt::format("graph \"{}\"({}) {{\n", g.name(), fmt::join(ins, ", "));
  for (NodeId id : g.topological_order()) s += "  " + to_text(g, id) + "\n";
  std::vector<std::string> outs;
  for (ValueId v : g.outputs()) outs.push_back(operand(g, v));
  s += fmt::format("  return {}\n}}\n", fmt::join(outs, ", "));
  return s;
}

}  // namespace vta::ir
