#include <fmt/format.h>

#include "op_shapes.h"
#include "vta/ir/passes.h"

namespace vta::ir {

void infer_shapes(Graph& g) {
  for (ValueId v : g.inputs()) {
    if (!g.value(v).typed) throw Error(fmt::format("graph '{}': input '{}' has no type", g.name(), g.value(v).name));
  }
  for (NodeId id : g.topological_order()) {
    Node& n = g.node(id);
    std::vector<std::optional<detail::ValueType>> in;
    std::vector<const Tensor*> consts;
    for (ValueId v : n.inputs) {
      if (v == kNoValue) {
        in.emplace_back(std::nullopt);
        consts.push_back(nullptr);
        continue;
      }
      const Value& val = g.value(v);
      if (!val.typed) throw Error(fmt::format("{}: input '{}' has no type", n.describe(), val.name));
      in.push_back(detail::ValueType{val.dtype, val.shape});
      consts.push_back(val.constant ? &*val.constant : nullptr);
    }
    const std::vector<detail::ValueType> out = detail::infer_node(n, in, consts);
    for (size_t i = 0; i < n.outputs.size() && i < out.size(); ++i) {
      Value& v = g.value(n.outputs[i]);
      v.typed = true;
      v.dtype = out[i].dtype;
      v.shape = out[i].shape;
    }
    // Explicit pads: lowering and the golden text see one form.
    if (n.attrs.has("auto_pad")) {
      const bool conv = n.op == OpKind::kConv;
      const auto [kh, kw] = conv ? std::pair{in[1]->shape[2], in[1]->shape[3]} : detail::pool_kernel(n);
      const detail::Window w = detail::window_geometry(n, in[0]->shape, kh, kw);
      n.attrs.erase("auto_pad");
      n.attrs.set("pads", std::vector<int64_t>{w.pad_top, w.pad_left, w.pad_bottom, w.pad_right});
    }
  }
}

}  // namespace vta::ir
