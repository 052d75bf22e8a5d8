// Human-readable text for instructions and micro-ops (used by `vta disasm` and error messages).
#pragma once

#include <string>

#include "vta/isa/instruction.h"

namespace vta::isa {

std::string disassemble(const Instruction& insn);
std::string disassemble(const MicroOp& uop);

}  // namespace vta::isa
