// How the core lays out its ACC and OUT buffers. Each is split into ACC banks by the top bit of the row
// index (the two halves), so the compute module's GEMM engine and ALU engine can work in different banks
// in the same cycle (requantization of one tile overlaps the next tile's GEMMs, hardware/rtl/
// vta_compute.sv). A bank word holds rows_per_word rows: the ALU has a lane set per row and takes the
// rows of one word in one cycle when an instruction allows it (a group of rows), so requantization costs
// a fraction of a cycle per row. vta-rtlgen writes both values into vta_pkg (ACC_ROWS, ACC_BANKS) and the
// tlm model and the area model use them, so none can disagree.
#pragma once

#include <algorithm>

#include "vta/isa/hw_config.h"

namespace vta::hw {

inline constexpr unsigned kMaxAccRowsPerWord = 2;
inline constexpr unsigned kAccBanks = 2;

// A power of two: the row index's low bits pick the row of the word. At least two (the RTL slices the row
// bits out of the index); no config has fewer ACC rows than that.
inline unsigned acc_rows_per_word(const isa::HwConfig& c) {
  return std::clamp(c.acc().depth, 2u, kMaxAccRowsPerWord);
}

// ACC banks (halves of the row index); a config needs at least acc_banks * acc_rows_per_word ACC rows
// (vta-rtlgen refuses one with fewer).
inline unsigned acc_banks(const isa::HwConfig&) { return kAccBanks; }

// The bank a row index is in.
inline unsigned acc_bank_of(const isa::HwConfig& c, uint32_t row) { return row / (c.acc().depth / kAccBanks); }

}  // namespace vta::hw
