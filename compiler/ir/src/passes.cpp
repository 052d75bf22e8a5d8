#include "vta/ir/passes.h"

#include <fmt/format.h>

#include <cmath>

#include "vta/ir/float_executor.h"

namespace vta::ir {
namespace {

bool all_constant_inputs(const Graph& g, const Node& n) {
  bool any = false;
  for (ValueId v : n.inputs) {
    if (v == kNoValue) continue;
    if (!g.is_constant(v)) return false;
    any = true;
  }
  return any;
}

// The only live user of `v`, when `v` is not a graph output and exactly one node reads it.
std::optional<NodeId> sole_user(const Graph& g, ValueId v) {
  if (g.is_graph_output(v)) return std::nullopt;
  const auto users = g.users(v);
  if (users.size() != 1) return std::nullopt;
  return users[0];
}

std::vector<float> floats_of(const Tensor& t) { return t.to_vector<float>(); }

// Per-channel scale s = gamma / sqrt(var + eps) and shift t = beta - mean * s of an inference BN, or
// nullopt when a parameter is not a constant.
struct BnAffine {
  std::vector<double> scale, shift;
};
std::optional<BnAffine> bn_affine(const Graph& g, const Node& bn) {
  for (size_t i = 1; i < 5; ++i) {
    if (!g.is_constant(bn.input(i))) return std::nullopt;
  }
  const auto gamma = floats_of(*g.value(bn.inputs[1]).constant);
  const auto beta = floats_of(*g.value(bn.inputs[2]).constant);
  const auto mean = floats_of(*g.value(bn.inputs[3]).constant);
  const auto var = floats_of(*g.value(bn.inputs[4]).constant);
  const double eps = bn.get_float("epsilon", 1e-5f);
  BnAffine a;
  for (size_t c = 0; c < gamma.size(); ++c) {
    const double s = gamma[c] / std::sqrt(double{var[c]} + eps);
    a.scale.push_back(s);
    a.shift.push_back(beta[c] - mean[c] * s);
  }
  return a;
}

// Replaces input `slot` of node `id` by a new constant named after `base`.
void set_constant_input(Graph& g, NodeId id, size_t slot, const std::string& base, Tensor t) {
  const ValueId v = g.add_constant(g.unique_name(base), std::move(t));
  Node& n = g.node(id);
  if (n.inputs.size() <= slot) n.inputs.resize(slot + 1, kNoValue);
  n.inputs[slot] = v;
}

bool fold_into_conv(Graph& g, NodeId conv_id, const BnAffine& a) {
  const Node& conv = g.node(conv_id);
  if (!g.is_constant(conv.input(1))) return false;
  if (conv.input(2) != kNoValue && !g.is_constant(conv.input(2))) return false;
  Tensor w = *g.value(conv.inputs[1]).constant;
  const auto m = static_cast<size_t>(w.dim(0));
  if (a.scale.size() != m) return false;
  const size_t per_oc = w.size() / m;
  float* wp = w.data<float>();
  for (size_t oc = 0; oc < m; ++oc) {
    for (size_t i = 0; i < per_oc; ++i) wp[oc * per_oc + i] = static_cast<float>(wp[oc * per_oc + i] * a.scale[oc]);
  }
  Tensor b(DType::kFloat32, {static_cast<int64_t>(m)});
  const float* old_b = conv.input(2) != kNoValue ? g.value(conv.inputs[2]).constant->data<float>() : nullptr;
  for (size_t oc = 0; oc < m; ++oc) {
    b.data<float>()[oc] = static_cast<float>((old_b ? old_b[oc] : 0.0) * a.scale[oc] + a.shift[oc]);
  }
  const std::string name = conv.name;
  set_constant_input(g, conv_id, 1, name + ".weight_folded", std::move(w));
  set_constant_input(g, conv_id, 2, name + ".bias_folded", std::move(b));
  return true;
}

bool fold_into_gemm(Graph& g, NodeId gemm_id, const BnAffine& a) {
  const Node& gemm = g.node(gemm_id);
  if (!g.is_constant(gemm.input(1))) return false;
  if (gemm.input(2) != kNoValue && !g.is_constant(gemm.input(2))) return false;
  Tensor w = *g.value(gemm.inputs[1]).constant;
  const bool tb = gemm.get_int("transB", 0) != 0;
  const auto n_out = static_cast<size_t>(tb ? w.dim(0) : w.dim(1));
  const auto k = static_cast<size_t>(tb ? w.dim(1) : w.dim(0));
  if (a.scale.size() != n_out) return false;
  std::vector<float> c(n_out, 0.0f);
  if (gemm.input(2) != kNoValue) {
    const Tensor& ct = *g.value(gemm.inputs[2]).constant;
    if (ct.size() != n_out && ct.size() != 1) return false;  // a C that varies across rows cannot fold
    if (ct.size() == n_out && ct.rank() == 2 && ct.dim(0) != 1) return false;
    for (size_t j = 0; j < n_out; ++j) c[j] = ct.data<float>()[ct.size() == 1 ? 0 : j];
  }
  const double beta = gemm.get_float("beta", 1.0f);
  float* wp = w.data<float>();
  for (size_t j = 0; j < n_out; ++j) {
    for (size_t kk = 0; kk < k; ++kk) {
      float& e = tb ? wp[j * k + kk] : wp[kk * n_out + j];
      e = static_cast<float>(e * a.scale[j]);
    }
  }
  Tensor b(DType::kFloat32, {static_cast<int64_t>(n_out)});
  for (size_t j = 0; j < n_out; ++j) b.data<float>()[j] = static_cast<float>(beta * c[j] * a.scale[j] + a.shift[j]);
  const std::string name = gemm.name;
  set_constant_input(g, gemm_id, 1, name + ".weight_folded", std::move(w));
  set_constant_input(g, gemm_id, 2, name + ".bias_folded", std::move(b));
  if (g.node(gemm_id).attrs.has("beta")) g.node(gemm_id).attrs.set("beta", 1.0f);
  return true;
}

Tensor transpose_2d(const Tensor& t) {
  const int64_t r = t.dim(0), c = t.dim(1);
  Tensor out(t.dtype(), {c, r});
  const float* src = t.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < r; ++i) {
    for (int64_t j = 0; j < c; ++j) dst[j * r + i] = src[i * c + j];
  }
  return out;
}

Tensor scaled(Tensor t, float s) {
  for (float* p = t.data<float>(); p != t.data<float>() + t.size(); ++p) *p *= s;
  return t;
}

// MatMul(x, W) [+ Add(b)] -> Gemm.
bool matmul_to_gemm(Graph& g, NodeId id) {
  const Node& mm = g.node(id);
  const ValueId x = mm.inputs[0], w = mm.inputs[1];
  if (!g.is_constant(w) || g.value(w).shape.size() != 2 || g.value(x).shape.size() != 2) return false;
  const int64_t n_out = g.value(w).shape[1];
  ValueId out = mm.outputs[0];
  ValueId bias = kNoValue;
  if (auto user = sole_user(g, out); user && g.node(*user).op == OpKind::kAdd) {
    const Node& add = g.node(*user);
    const ValueId other = add.inputs[0] == out ? add.inputs[1] : add.inputs[0];
    const Value& b = g.value(other);
    if (b.is_constant() && b.dtype == DType::kFloat32 &&
        (b.shape == Shape{n_out} || b.shape == Shape{1, n_out})) {
      bias = other;
      out = add.outputs[0];
      g.remove_node(*user);
    }
  }
  const std::string name = mm.name;
  Attributes attrs;
  attrs.set("alpha", 1.0f);
  attrs.set("beta", 1.0f);
  attrs.set("transA", int64_t{0});
  attrs.set("transB", int64_t{0});
  std::vector<ValueId> inputs{x, w};
  if (bias != kNoValue) inputs.push_back(bias);
  g.remove_node(id);
  g.add_node(OpKind::kGemm, name, std::move(inputs), {out}, std::move(attrs));
  return true;
}

size_t normalize_gemm(Graph& g, NodeId id) {
  size_t changes = 0;
  Node& n = g.node(id);
  const std::string name = n.name;
  if (g.is_constant(n.input(1))) {
    const float alpha = n.get_float("alpha", 1.0f);
    const bool tb = n.get_int("transB", 0) != 0;
    if (alpha != 1.0f || !tb) {
      Tensor w = *g.value(n.inputs[1]).constant;
      if (alpha != 1.0f) w = scaled(std::move(w), alpha);
      if (!tb) w = transpose_2d(w);
      set_constant_input(g, id, 1, g.value(g.node(id).inputs[1]).name + (tb ? ".scaled" : ".t"), std::move(w));
      g.node(id).attrs.set("alpha", 1.0f);
      g.node(id).attrs.set("transB", int64_t{1});
      ++changes;
    }
  }
  Node& m = g.node(id);
  if (g.is_constant(m.input(2))) {
    const float beta = m.get_float("beta", 1.0f);
    const Tensor& c = *g.value(m.inputs[2]).constant;
    const int64_t n_out = g.value(m.outputs[0]).shape.at(1);
    const bool row = c.shape() == Shape{1, n_out};
    if (beta != 1.0f || row) {
      Tensor nc = scaled(c, beta);
      if (row) nc = Tensor::from_values<float>({n_out}, nc.to_vector<float>());
      set_constant_input(g, id, 2, g.value(m.inputs[2]).name + ".bias", std::move(nc));
      g.node(id).attrs.set("beta", 1.0f);
      ++changes;
    }
  }
  return changes;
}

// Reshape/Flatten producing [d0, rest] from [d0, ...] into Gemm's A -> Flatten(axis=1).
bool flatten_before_gemm(Graph& g, NodeId gemm_id) {
  const ValueId a = g.node(gemm_id).inputs[0];
  const auto prod = g.producer(a);
  if (!prod) return false;
  Node& p = g.node(*prod);
  if (p.op != OpKind::kReshape && p.op != OpKind::kFlatten) return false;
  if (p.op == OpKind::kFlatten && p.get_int("axis", 1) == 1 && p.attrs.has("axis")) return false;
  const Value& x = g.value(p.inputs[0]);
  const Value& y = g.value(a);
  if (x.shape.size() < 2 || y.shape.size() != 2 || x.shape[0] != y.shape[0]) return false;
  p.op = OpKind::kFlatten;
  p.inputs.resize(1);
  p.attrs = Attributes{};
  p.attrs.set("axis", int64_t{1});
  return true;
}

}  // namespace

size_t fold_constants(Graph& g, bool fold_qdq) {
  size_t folded = 0;
  for (NodeId id : g.topological_order()) {
    const Node& n = g.node(id);
    if (!all_constant_inputs(g, n)) continue;
    if (!fold_qdq && (n.op == OpKind::kQuantizeLinear || n.op == OpKind::kDequantizeLinear)) continue;
    std::vector<const Tensor*> in;
    for (ValueId v : n.inputs) in.push_back(v == kNoValue ? nullptr : &*g.value(v).constant);
    std::vector<Tensor> out = evaluate_node(n, in);
    const std::vector<ValueId> outputs = n.outputs;
    g.remove_node(id);
    for (size_t i = 0; i < outputs.size(); ++i) g.set_constant(outputs[i], std::move(out[i]));
    ++folded;
  }
  return folded;
}

size_t eliminate_identity(Graph& g) {
  size_t removed = 0;
  for (NodeId id : g.node_ids()) {
    const Node& n = g.node(id);
    if (n.op != OpKind::kIdentity && n.op != OpKind::kDropout) continue;
    if (n.outputs.size() != 1 || n.inputs.empty()) continue;
    const ValueId in = n.inputs[0], out = n.outputs[0];
    g.remove_node(id);
    // Keep a graph output's name when the input is an intermediate value that nothing else names.
    const bool keep_name = g.is_graph_output(out) && g.producer(in) && !g.is_graph_output(in);
    g.replace_all_uses(out, in);
    if (keep_name) {
      const std::string name = g.value(out).name;
      g.rename_value(out, g.unique_name(name + ".removed"));
      g.rename_value(in, name);
    }
    ++removed;
  }
  return removed;
}

size_t fold_batch_norm(Graph& g) {
  size_t folded = 0;
  for (NodeId id : g.topological_order()) {
    if (!g.is_live(id)) continue;
    const Node& bn = g.node(id);
    if (bn.op != OpKind::kBatchNormalization || bn.outputs.size() != 1) continue;
    const auto prod = g.producer(bn.inputs[0]);
    if (!prod || sole_user(g, bn.inputs[0]) != id) continue;
    const OpKind op = g.node(*prod).op;
    if (op != OpKind::kConv && op != OpKind::kGemm) continue;
    const auto affine = bn_affine(g, bn);
    if (!affine) continue;
    const bool ok = op == OpKind::kConv ? fold_into_conv(g, *prod, *affine) : fold_into_gemm(g, *prod, *affine);
    if (!ok) continue;
    const ValueId bn_out = g.node(id).outputs[0];
    g.remove_node(id);
    g.node(*prod).outputs[0] = bn_out;
    ++folded;
  }
  return folded;
}

size_t canonicalize(Graph& g) {
  size_t changes = 0;
  for (NodeId id : g.topological_order()) {
    if (g.is_live(id) && g.node(id).op == OpKind::kMatMul && matmul_to_gemm(g, id)) ++changes;
  }
  for (NodeId id : g.topological_order()) {
    if (g.node(id).op != OpKind::kGemm) continue;
    changes += normalize_gemm(g, id);
    if (flatten_before_gemm(g, id)) ++changes;
  }
  return changes;
}

void run_default_passes(Graph& g) {
  infer_shapes(g);
  eliminate_identity(g);
  fold_constants(g);
  fold_batch_norm(g);
  canonicalize(g);
  g.eliminate_dead_nodes();
  infer_shapes(g);
}

}  // namespace vta::ir
