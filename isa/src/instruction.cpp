#include "vta/isa/instruction.h"

namespace vta::isa {

Opcode opcode_of(const Instruction& insn) {
  struct Visitor {
    Opcode operator()(const MemInsn& m) const { return m.opcode; }
    Opcode operator()(const GemmInsn&) const { return Opcode::kGemm; }
    Opcode operator()(const AluInsn&) const { return Opcode::kAlu; }
    Opcode operator()(const FinishInsn&) const { return Opcode::kFinish; }
  };
  return std::visit(Visitor{}, insn);
}

const DepFlags& dep_flags(const Instruction& insn) {
  return std::visit([](const auto& i) -> const DepFlags& { return i.dep; }, insn);
}

DepFlags& dep_flags(Instruction& insn) {
  return std::visit([](auto& i) -> DepFlags& { return i.dep; }, insn);
}

Module module_of(const Instruction& insn) {
  if (const auto* m = std::get_if<MemInsn>(&insn)) {
    if (m->opcode == Opcode::kStore) return Module::kStore;
    if (m->memory_type == MemoryType::kInp || m->memory_type == MemoryType::kWgt) return Module::kLoad;
  }
  return Module::kCompute;
}

}  // namespace vta::isa
