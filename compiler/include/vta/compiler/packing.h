// Host-side layout transforms between the framework layouts and the core's blocked layouts.
//
//   activations  NCHW  <->  [N/B][C/BI][H][W][B][BI]      (NCHW{B}n{BI}c; one INP element = B x BI)
//   outputs      NCHW  <->  [N/B][C/BO][H][W][B][BO]      (one OUT element = B x BO)
//   weights      OIHW  <->  [O/BO][I/BI][KH][KW][BO][BI]  (OIHW{BO}o{BI}i; one WGT element = BO x BI)
//   bias         O     ->   [O/BO][B][BO] int32           (one ACC element, replicated over the batch)
//
// N and channel counts that are not multiples of the block are zero-padded on packing; unpacking
// trims the padding again.
#pragma once

#include <cstdint>
#include <vector>

#include "vta/compiler/tensor.h"

namespace vta::compiler {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// int8 NCHW -> packed bytes ([N/B][C/blk][H][W][B][blk]).
std::vector<int8_t> pack_activations(const Tensor& nchw, uint32_t batch, uint32_t block);
// Packed bytes -> int8 NCHW of shape (n, c, h, w), trimming the padding.
Tensor unpack_activations(const std::vector<int8_t>& packed, int64_t n, int64_t c, int64_t h, int64_t w,
                          uint32_t batch, uint32_t block);

// int8 OIHW -> packed bytes ([O/BO][I/BI][KH][KW][BO][BI]).
std::vector<int8_t> pack_weights(const Tensor& oihw, uint32_t block_out, uint32_t block_in);
Tensor unpack_weights(const std::vector<int8_t>& packed, int64_t o, int64_t i, int64_t kh, int64_t kw,
                      uint32_t block_out, uint32_t block_in);

// int32 (O) -> packed ACC elements ([O/BO][B][BO]), each channel's bias replicated over the batch.
std::vector<int32_t> pack_bias(const Tensor& bias, uint32_t batch, uint32_t block_out);

}  // namespace vta::compiler
