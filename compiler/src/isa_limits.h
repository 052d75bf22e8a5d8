// Internal: instruction-field limits and small integer helpers shared by the lowerings.
#pragma once

#include <cstdint>

#include "vta/isa/hw_config.h"

namespace vta::compiler::detail {

inline constexpr int64_t kMaxDim = (int64_t{1} << isa::FixedFieldWidths::kSize) - 1;  // LOAD/STORE sizes, strides
inline constexpr uint32_t kMaxPad = (1u << isa::FixedFieldWidths::kPad) - 1;

inline uint32_t cdiv(uint32_t a, uint32_t b) { return (a + b - 1) / b; }
inline uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

}  // namespace vta::compiler::detail
