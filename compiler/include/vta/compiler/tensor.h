// A simple typed host tensor: a dtype, a shape (row-major, C order) and the raw little-endian bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "vta/isa/error.h"

namespace vta::compiler {

enum class DType : uint8_t { kInt8, kUint8, kInt32, kFloat32 };

size_t dtype_size(DType t);
std::string_view to_string(DType t);  // "int8", "uint8", "int32", "float32"

template <class T>
struct DTypeOf;
template <>
struct DTypeOf<int8_t> {
  static constexpr DType value = DType::kInt8;
};
template <>
struct DTypeOf<uint8_t> {
  static constexpr DType value = DType::kUint8;
};
template <>
struct DTypeOf<int32_t> {
  static constexpr DType value = DType::kInt32;
};
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::kFloat32;
};

class Tensor {
 public:
  Tensor() = default;
  // A zero-filled tensor. Throws vta::Error on a negative dimension.
  Tensor(DType dtype, std::vector<int64_t> shape);

  template <class T>
  static Tensor from_values(std::vector<int64_t> shape, const std::vector<T>& values) {
    Tensor t(DTypeOf<T>::value, std::move(shape));
    if (values.size() != t.size()) {
      throw Error("Tensor::from_values: " + std::to_string(values.size()) + " values for shape " +
                  t.shape_string());
    }
    if (!values.empty()) std::memcpy(t.bytes_.data(), values.data(), t.bytes_.size());
    return t;
  }

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  size_t rank() const { return shape_.size(); }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t size() const { return size_; }  // number of elements
  size_t nbytes() const { return bytes_.size(); }
  std::string shape_string() const;  // "(1, 3, 224, 224)"
  static std::string shape_to_string(const std::vector<int64_t>& shape);

  std::byte* raw() { return bytes_.data(); }
  const std::byte* raw() const { return bytes_.data(); }

  // Typed access; throws vta::Error when T does not match the dtype.
  template <class T>
  T* data() {
    check_dtype(DTypeOf<T>::value);
    return reinterpret_cast<T*>(bytes_.data());
  }
  template <class T>
  const T* data() const {
    check_dtype(DTypeOf<T>::value);
    return reinterpret_cast<const T*>(bytes_.data());
  }
  template <class T>
  std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + size_);
  }

  bool operator==(const Tensor& other) const {
    return dtype_ == other.dtype_ && shape_ == other.shape_ && bytes_ == other.bytes_;
  }

 private:
  void check_dtype(DType want) const;

  DType dtype_ = DType::kInt8;
  std::vector<int64_t> shape_;
  size_t size_ = 0;
  std::vector<std::byte> bytes_;
};

}  // namespace vta::compiler
