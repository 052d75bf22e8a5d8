// Whether the core's GEMM computes two int8 products per DSP48 multiplier (25 x 18 signed): the weights of
// outputs 2m and 2m+1 share each input, so one multiplier takes x * (w_hi * 2^P + w_lo), P = INP + WGT
// bits, and the products are taken apart by bit fields (hardware/rtl/vta_compute.sv). vta-rtlgen writes
// this rule into vta_pkg as GEMM_PACK and the area model counts DSPs with it, so they cannot disagree.
#pragma once

#include "vta/isa/hw_config.h"

namespace vta::hw {

inline constexpr unsigned kDspPortA = 25, kDspPortB = 18;

inline bool gemm_packs_pairs(const isa::HwConfig& c) {
  const unsigned product = c.inp_width() + c.wgt_width();
  return product + c.wgt_width() + 1 <= kDspPortA && c.inp_width() <= kDspPortB && c.block_out() % 2 == 0;
}

}  // namespace vta::hw
