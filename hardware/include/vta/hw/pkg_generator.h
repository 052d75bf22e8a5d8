// The SystemVerilog package `vta_pkg` for one hardware config: widths, depths, buffer geometries, field
// positions, opcodes, the register map, queue depths and GEMM_PACK, all from vta::isa and vta::hw. Used
// by vta-rtlgen (the build's packages) and by `vta dse --synth` (a package per swept config).
#pragma once

#include <string>

#include "vta/isa/hw_config.h"

namespace vta::hw {

std::string generate_vta_pkg(const isa::HwConfig& config);

}  // namespace vta::hw
