// How many rows one word of the core's ACC and OUT buffers holds. The ALU has a lane set per row and takes
// the rows of one word in one cycle when an instruction allows it (a group of rows, hardware/rtl/
// vta_compute.sv), so requantization costs a fraction of a cycle per row. vta-rtlgen writes the value into
// vta_pkg as ACC_ROWS and the tlm model issues groups with it, so the two cannot disagree.
#pragma once

#include <algorithm>

#include "vta/isa/hw_config.h"

namespace vta::hw {

inline constexpr unsigned kMaxAccRowsPerWord = 4;

// A power of two: the row index's low bits pick the row of the word. At least two (the RTL slices the row
// bits out of the index); no config has fewer ACC rows than that.
inline unsigned acc_rows_per_word(const isa::HwConfig& c) {
  return std::clamp(c.acc().depth, 2u, kMaxAccRowsPerWord);
}

}  // namespace vta::hw
