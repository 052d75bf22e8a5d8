// The int8 CPU reference executor of a QModel: plain loops reproducing qmodel.h's step semantics bit for
// bit (wrapping int32 accumulation, arithmetic right shifts, clamps). Other executors (the model executor
// on the core) are checked against it and use execute_step as their CPU fallback.
#pragma once

#include <functional>
#include <vector>

#include "vta/quant/qmodel.h"

namespace vta::quant {

// One step on its inputs (in step.inputs order; dtypes and shapes must match the model's tensors).
// Returns the step's output tensor (int8, or float32 for kDequantize / kSoftmax).
Tensor execute_step(const QModel& m, const QStep& s, const std::vector<const Tensor*>& inputs);

// Runs the whole model on `input` (dtype and shape of m.input, checked). Returns {output}.
std::vector<Tensor> run_int8(const QModel& m, const Tensor& input);

// As run_int8, calling on_tensor(id, tensor) for every step output, in execution order.
using TensorCallback = std::function<void(TensorId, const Tensor&)>;
std::vector<Tensor> run_int8(const QModel& m, const Tensor& input, const TensorCallback& on_tensor);

// Every tensor by id (the input and each step output; unset entries are empty tensors).
std::vector<Tensor> run_int8_all(const QModel& m, const Tensor& input);

// x = q * 2^-exp for an int8 tensor (float32 result).
Tensor dequantize(const Tensor& q, int32_t exp);

}  // namespace vta::quant
