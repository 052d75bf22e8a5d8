// Node attributes: a small map from name to a typed value (int, float, ints, floats, string) that keeps
// insertion order, so a graph prints the same way every time. Typed reads with the node's name in the
// error message are on ir::Node (graph.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vta::ir {

using AttrValue = std::variant<int64_t, float, std::vector<int64_t>, std::vector<float>, std::string>;

// "int", "float", "ints", "floats", "string".
std::string_view attr_type_name(const AttrValue& v);

class Attributes {
 public:
  using Item = std::pair<std::string, AttrValue>;

  // Adds `name`, or replaces its value in place (keeping its position).
  void set(std::string_view name, AttrValue value);
  void erase(std::string_view name);
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const AttrValue* find(std::string_view name) const;
  const std::vector<Item>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  bool operator==(const Attributes&) const = default;

 private:
  std::vector<Item> items_;
};

}  // namespace vta::ir
