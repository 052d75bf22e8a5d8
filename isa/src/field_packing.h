// Internal: computes bit positions of instruction and micro-op fields from their widths, following the
// C bit-field rule of VTA's runtime (a field that would cross bit 64 starts at bit 64).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/isa/instruction_codec.h"

namespace vta::isa::detail {

struct FieldSpec {
  const char* name;
  uint32_t width;
  bool is_signed = false;
};

// Places fields in order; returns the layouts and sets `total_bits` to the end of the last field.
std::vector<FieldLayout> pack_fields(const std::vector<FieldSpec>& specs, uint32_t word_bits, uint32_t* total_bits);

// Field lists, in encoding order, for each instruction kind at a config.
std::vector<FieldSpec> mem_fields();
std::vector<FieldSpec> gemm_fields(const HwConfig& c);
std::vector<FieldSpec> alu_fields(const HwConfig& c);
std::vector<FieldSpec> finish_fields();
std::vector<FieldSpec> uop_fields(const HwConfig& c);

}  // namespace vta::isa::detail
