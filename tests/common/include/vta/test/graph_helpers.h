// Small helpers shared by the graph-level tests (tests/ir, tests/quant, tests/model): the message of a
// vta::Error and attribute lists for hand-built graph nodes. Include only from tests that link vta::ir.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "vta/ir/attributes.h"
#include "vta/isa/error.h"

namespace vta::test {

// The message of the vta::Error `f` throws ("" when it does not throw; other exceptions propagate and
// fail the test).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline ir::Attributes attrs(std::initializer_list<std::pair<std::string, ir::AttrValue>> items) {
  ir::Attributes a;
  for (const auto& [k, v] : items) a.set(k, v);
  return a;
}

}  // namespace vta::test
