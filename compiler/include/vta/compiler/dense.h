// dense (fully connected): int8 x (N, K), int8 weight (M, K) (PyTorch Linear layout), optional int32
// bias (M) -> int8 (N, M) with the same requantization as conv2d. Lowered as a 1x1 conv2d whose
// spatial rows are the batch rows (N = BATCH x rows), so the core's batch lanes and the GEMM loops
// both work on the rows of x.
#pragma once

#include "vta/compiler/conv2d.h"

namespace vta::compiler {

struct DenseShape {
  int64_t n = 0, k = 0, m = 0;
};

DenseShape check_dense(const Tensor& x, const Tensor& weight, const Tensor* bias, const Requantize& rq);
DenseShape check_dense(const std::vector<int64_t>& x_shape, const Tensor& weight, const Tensor* bias,
                       const Requantize& rq);

OpRun dense(runtime::Session& session, const Tensor& x, const Tensor& weight, const Tensor* bias,
            const Requantize& requant, const LoweringOptions& options = {});

}  // namespace vta::compiler
