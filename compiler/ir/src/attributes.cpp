#include "vta/ir/attributes.h"

#include <algorithm>

namespace vta::ir {

std::string_view attr_type_name(const AttrValue& v) {
  static constexpr std::string_view kNames[] = {"int", "float", "ints", "floats", "string"};
  return kNames[v.index()];
}

void Attributes::set(std::string_view name, AttrValue value) {
  for (Item& item : items_) {
    if (item.first == name) {
      item.second = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::string(name), std::move(value));
}

void Attributes::erase(std::string_view name) {
  std::erase_if(items_, [&](const Item& item) { return item.first == name; });
}

const AttrValue* Attributes::find(std::string_view name) const {
  auto it = std::find_if(items_.begin(), items_.end(), [&](const Item& item) { return item.first == name; });
  return it == items_.end() ? nullptr : &it->second;
}

}  // namespace vta::ir
