#include "vta/isa/instruction.h"

namespace vta::isa {

MemInsn make_mem(Opcode op, MemoryType type, uint32_t sram, uint32_t dram, uint32_t y, uint32_t x, uint32_t stride,
                 uint32_t y_pad_0, uint32_t y_pad_1, uint32_t x_pad_0, uint32_t x_pad_1) {
  MemInsn m;
  m.opcode = op;
  m.memory_type = type;
  m.sram_base = sram;
  m.dram_base = dram;
  m.y_size = y;
  m.x_size = x;
  m.x_stride = stride;
  m.y_pad_0 = y_pad_0;
  m.y_pad_1 = y_pad_1;
  m.x_pad_0 = x_pad_0;
  m.x_pad_1 = x_pad_1;
  return m;
}

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
