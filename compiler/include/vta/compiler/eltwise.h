// Elementwise add of two int8 tensors with requantization, and 2-D max pooling, on the core.
//
// add: out = clip((a + b) >> shift, lo, hi) (relu: lo = max(lo, 0)), a and b int8 of the same shape
//   (any rank). Lowered as a 1x1 conv2d whose two input-channel groups are a and b and whose weight is
//   a pair of identity matrices, so the GEMM core does the adds on int8 INP data (DRAM traffic: a, b
//   and the output once, plus 2 identity WGT blocks) and the ALU does the requantization. The obvious
//   ALU-only mapping would have to LOAD both operands into ACC as int32 (4x the input bytes).
//
// max_pool2d: int8 NCHW, kernel KHxKW, stride, per-side padding (each pad < kernel); out = max over the
//   window of the real input pixels (padding never wins). The input tile comes in through INP (int8)
//   and an identity GEMM copies it into ACC; the max is one ALU MAX instruction per kernel tap over the
//   output rectangle where that tap reads real pixels (borders handled explicitly), after the output
//   was set to -128. LOAD's pad fields only fill positions no MAX reads.
#pragma once

#include <cstdint>

#include "vta/compiler/conv2d.h"

namespace vta::compiler {

// Checks dtypes (int8), equal shapes and the requantization; throws vta::Error naming the problem.
void check_add(const Tensor& a, const Tensor& b, const Requantize& rq);
void check_add(const std::vector<int64_t>& shape, const Requantize& rq);
OpRun add(runtime::Session& session, const Tensor& a, const Tensor& b, const Requantize& rq,
          const LoweringOptions& options = {});

struct MaxPoolParams {
  uint32_t kernel_h = 2, kernel_w = 2;
  uint32_t stride_h = 2, stride_w = 2;
  uint32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

struct MaxPoolShape {
  int64_t n = 0, c = 0, h = 0, w = 0, oh = 0, ow = 0;
};

MaxPoolShape check_max_pool2d(const Tensor& x, const MaxPoolParams& p);
MaxPoolShape check_max_pool2d(const std::vector<int64_t>& x_shape, const MaxPoolParams& p);
// The run's `tiling` reports the tile as oc_blocks (channel blocks, always 1) x out_rows x out_cols.
OpRun max_pool2d(runtime::Session& session, const Tensor& x, const MaxPoolParams& p);

}  // namespace vta::compiler
