// The GEMM row's dot products that tsim's fast models take from C (DPI-C, vta_compute_pipe.sv).
#pragma once

#include <cstdint>

namespace vta::tsim {

// dots[o] = sum over x < bin of inp[x] * wgt[o * bin + x], modulo 2^acc_w, for o < bout: the elements are
// signed fields of inp_w / wgt_w bits packed from bit 0 of word 0 up, and so are the acc_w-bit results.
void gemm_dots(unsigned bin, unsigned bout, unsigned inp_w, unsigned wgt_w, unsigned acc_w,
               const uint32_t* inp, const uint32_t* wgt, uint32_t* dots);

}  // namespace vta::tsim
