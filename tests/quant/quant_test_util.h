// Helpers shared by the quantization tests: small QModels built by hand, graphs, tensors.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "vta/ir/graph.h"
#include "vta/quant/calibration.h"
#include "vta/quant/qmodel.h"
#include "vta/test/graph_helpers.h"

namespace vta::quant::test {

using ir::Attributes;
using ir::AttrValue;

inline Tensor i8(std::vector<int64_t> shape, const std::vector<int8_t>& v) { return Tensor::from_values<int8_t>(std::move(shape), v); }
inline Tensor i32(std::vector<int64_t> shape, const std::vector<int32_t>& v) { return Tensor::from_values<int32_t>(std::move(shape), v); }
inline Tensor f32(std::vector<int64_t> shape, const std::vector<float>& v) { return Tensor::from_values<float>(std::move(shape), v); }

inline Tensor random_f32(std::vector<int64_t> shape, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (size_t i = 0; i < t.size(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

inline Tensor random_normal(std::vector<int64_t> shape, uint32_t seed, float stddev = 1.0f) {
  Tensor t(DType::kFloat32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, stddev);
  for (size_t i = 0; i < t.size(); ++i) t.data<float>()[i] = d(rng);
  return t;
}

inline Tensor random_i8(std::vector<int64_t> shape, uint32_t seed) {
  Tensor t(DType::kInt8, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-128, 127);
  for (size_t i = 0; i < t.size(); ++i) t.data<int8_t>()[i] = static_cast<int8_t>(d(rng));
  return t;
}

inline std::vector<int> ints(const Tensor& t) {
  std::vector<int> v;
  for (size_t i = 0; i < t.size(); ++i) v.push_back(t.data<int8_t>()[i]);
  return v;
}

// A QModel built step by step.
struct ModelBuilder {
  QModel m;
  TensorId tensor(std::string name, DType dtype, std::vector<int64_t> shape, int32_t exp = 0) {
    m.tensors.push_back(QTensor{std::move(name), dtype, std::move(shape), exp});
    return static_cast<TensorId>(m.tensors.size() - 1);
  }
  QStep& step(QOp op, std::vector<TensorId> inputs, TensorId output) {
    QStep s;
    s.op = op;
    s.name = std::string(to_string(op)) + std::to_string(m.steps.size());
    s.inputs = std::move(inputs);
    s.output = output;
    m.steps.push_back(std::move(s));
    return m.steps.back();
  }
};

using vta::test::attrs;
using vta::test::error_of;

// Calibration with given thresholds (method max), independent of the executor.
inline Calibration thresholds(std::initializer_list<std::pair<ir::ValueId, double>> t) {
  Calibration c;
  for (const auto& [v, th] : t) c.threshold[v] = th;
  c.num_samples = 1;
  return c;
}

inline double cosine(const Tensor& a, const Tensor& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa == 0 || bb == 0 ? (aa == bb ? 1.0 : 0.0) : ab / std::sqrt(aa * bb);
}

// ||a - b|| / ||b||.
inline double relative_l2(const Tensor& a, const Tensor& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = double{a.data<float>()[i]} - double{b.data<float>()[i]};
    num += d * d;
    den += double{b.data<float>()[i]} * double{b.data<float>()[i]};
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

}  // namespace vta::quant::test
