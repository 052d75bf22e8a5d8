// Requantization of int32 accumulators to int8 on the core's ALU, the one form every lowering, test and
// benchmark uses: out = clip(acc >> shift, lo, hi), with relu raising lo to 0.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace vta::compiler {

struct Requantize {
  int32_t shift = 0;  // arithmetic right shift, 0..31
  bool relu = false;
  int32_t clip_lo = -128, clip_hi = 127;  // within int8
  // The effective lower bound (relu raises it to 0).
  int32_t lo() const { return relu && clip_lo < 0 ? 0 : clip_lo; }
};

// The shift that spreads the sums of `reduction` products of uniform random int8 values over the int8
// range (their standard deviation is about 5476 * sqrt(reduction); keep about 40 of it per step). For
// test and benchmark data only: models get their shifts from calibration.
inline int32_t shift_for_random_data(int64_t reduction) {
  const double spread = 5476.0 * std::sqrt(static_cast<double>(std::max<int64_t>(reduction, 1))) / 40.0;
  return std::max(0, static_cast<int32_t>(std::lround(std::log2(spread))));
}

}  // namespace vta::compiler
