// The control/status register map shared by tsim and the boards (and emulated by fsim), so that the
// board protocol is exercised in simulation. The definition is isa/include/vta/isa/register_map.h (one
// source for the driver, tsim's harness and the RTL's generated package); this header keeps the driver's
// names for it. All registers are 32 bits; 64-bit values are lo/hi pairs.
#pragma once

#include <cstdint>

#include "vta/isa/register_map.h"

namespace vta::driver::reg {

using namespace vta::isa::reg;  // kControl, kStatus, ..., kErrorCode, kErrorIndex, kErrorInfo, kErrorAddr

// Counters: 64-bit lo/hi pairs from kCounterBase, in the order of isa::ExecutionCounters::items() (then
// the core's own counters, isa::reg::kCounters).
using vta::isa::reg::counter_hi;
using vta::isa::reg::counter_lo;

}  // namespace vta::driver::reg
