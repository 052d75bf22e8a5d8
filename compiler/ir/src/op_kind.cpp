#include "vta/ir/op_kind.h"

#include <array>

namespace vta::ir {
namespace {

constexpr std::array<std::string_view, kNumOpKinds> kNames = {
    "Conv",        "Gemm",          "MatMul",  "Relu",           "Clip",     "Add",
    "Mul",         "MaxPool",       "AveragePool", "GlobalAveragePool", "BatchNormalization",
    "Flatten",     "Reshape",       "Concat",  "Softmax",        "QuantizeLinear", "DequantizeLinear",
    "Identity",    "Dropout",       "Pad",
};

}  // namespace

std::string_view op_name(OpKind op) { return kNames.at(static_cast<size_t>(op)); }

std::optional<OpKind> op_from_name(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<OpKind>(i);
  }
  return std::nullopt;
}

}  // namespace vta::ir
