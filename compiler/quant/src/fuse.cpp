// QModel passes: fusion of a conv2d with the residual add reading it (see qmodel.h).
#include <algorithm>

#include "vta/quant/qmodel.h"

namespace vta::quant {

size_t fuse_residual_adds(QModel& m, const ResidualFusionLimits& limits) {
  const size_t nt = m.tensors.size();
  std::vector<int> readers(nt, 0), producer(nt, -1);
  for (size_t i = 0; i < m.steps.size(); ++i) {
    for (TensorId t : m.steps[i].inputs) {
      if (t >= 0 && static_cast<size_t>(t) < nt) ++readers[static_cast<size_t>(t)];
    }
    if (m.steps[i].output >= 0 && static_cast<size_t>(m.steps[i].output) < nt) {
      producer[static_cast<size_t>(m.steps[i].output)] = static_cast<int>(i);
    }
  }
  std::vector<bool> removed(m.steps.size(), false);
  size_t fused = 0;
  for (size_t j = 0; j < m.steps.size(); ++j) {
    const QStep& add = m.steps[j];
    if (add.op != QOp::kAdd || add.inputs.size() != 2 || add.inputs[0] == add.inputs[1]) continue;
    if (!add.channel_shift.empty() || add.requant.shift < 0 || add.requant.shift > limits.max_add_shift) continue;
    int best = -1, best_side = -1;
    for (int side = 0; side < 2; ++side) {
      const TensorId t = add.inputs[static_cast<size_t>(side)];
      if (t < 0 || static_cast<size_t>(t) >= nt || t == m.output || readers[static_cast<size_t>(t)] != 1) continue;
      const int p = producer[static_cast<size_t>(t)];
      if (p < 0 || static_cast<size_t>(p) >= j || removed[static_cast<size_t>(p)]) continue;
      const QStep& conv = m.steps[static_cast<size_t>(p)];
      if (conv.op != QOp::kConv2d || conv.has_residual() || conv.inputs.size() != 1) continue;
      if (limits.groups_one_only && conv.conv.groups != 1) continue;
      const int32_t sa = side == 0 ? add.shift_a : add.shift_b, sb = side == 0 ? add.shift_b : add.shift_a;
      if (sa < 0 || sb < 0 || sa > limits.max_input_shift || sb > limits.max_input_shift) continue;
      if (p > best) best = p, best_side = side;
    }
    if (best < 0) continue;
    QStep f = m.steps[static_cast<size_t>(best)];
    const auto side = static_cast<size_t>(best_side);
    f.name = f.name + "+" + add.name;
    f.inputs = {f.inputs[0], add.inputs[1 - side]};
    f.output = add.output;
    f.shift_a = side == 0 ? add.shift_a : add.shift_b;
    f.shift_b = side == 0 ? add.shift_b : add.shift_a;
    f.residual_requant = add.requant;
    f.notes.insert(f.notes.end(), add.notes.begin(), add.notes.end());
    m.steps[j] = std::move(f);
    removed[static_cast<size_t>(best)] = true;
    ++fused;
  }
  if (fused) {
    std::vector<QStep> kept;
    kept.reserve(m.steps.size() - fused);
    for (size_t i = 0; i < m.steps.size(); ++i) {
      if (!removed[i]) kept.push_back(std::move(m.steps[i]));
    }
    m.steps = std::move(kept);
  }
  return fused;
}

}  // namespace vta::quant
