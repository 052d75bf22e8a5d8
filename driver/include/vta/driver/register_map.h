// The control/status register map shared by tsim and the boards (and emulated by fsim), so that the
// board protocol is exercised in simulation. All registers are 32 bits; 64-bit values are lo/hi pairs.
#pragma once

#include <cstdint>

namespace vta::driver::reg {

inline constexpr uint32_t kControl = 0x00;       // write bit 0 = start (clears done)
inline constexpr uint32_t kStatus = 0x04;        // bit 0 = done, bit 1 = error
inline constexpr uint32_t kInsnAddrLo = 0x08;
inline constexpr uint32_t kInsnAddrHi = 0x0c;
inline constexpr uint32_t kInsnCount = 0x10;
inline constexpr uint32_t kErrorCode = 0x14;     // 0 = none; backend-specific otherwise

inline constexpr uint32_t kControlStart = 1u << 0;
inline constexpr uint32_t kStatusDone = 1u << 0;
inline constexpr uint32_t kStatusError = 1u << 1;

// Counters: 64-bit lo/hi pairs starting here, in the order of isa::ExecutionCounters::items().
inline constexpr uint32_t kCounterBase = 0x40;
inline constexpr uint32_t counter_lo(uint32_t index) { return kCounterBase + 8 * index; }
inline constexpr uint32_t counter_hi(uint32_t index) { return kCounterBase + 8 * index + 4; }

}  // namespace vta::driver::reg
