#include "vta/compiler/tensor.h"

#include <fmt/format.h>

namespace vta::compiler {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kInt8:
    case DType::kUint8: return 1;
    case DType::kInt32:
    case DType::kFloat32: return 4;
  }
  return 1;
}

std::string_view to_string(DType t) {
  switch (t) {
    case DType::kInt8: return "int8";
    case DType::kUint8: return "uint8";
    case DType::kInt32: return "int32";
    case DType::kFloat32: return "float32";
  }
  return "?";
}

Tensor::Tensor(DType dtype, std::vector<int64_t> shape) : dtype_(dtype), shape_(std::move(shape)) {
  size_t n = 1;
  for (int64_t d : shape_) {
    if (d < 0) throw Error(fmt::format("tensor shape {} has a negative dimension", shape_string()));
    n *= static_cast<size_t>(d);
  }
  size_ = n;
  bytes_.assign(n * dtype_size(dtype_), std::byte{0});
}

std::string Tensor::shape_string() const { return shape_to_string(shape_); }

std::string Tensor::shape_to_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

void Tensor::check_dtype(DType want) const {
  if (want != dtype_) {
    throw Error(fmt::format("tensor of dtype {} accessed as {}", to_string(dtype_), to_string(want)));
  }
}

}  // namespace vta::compiler
