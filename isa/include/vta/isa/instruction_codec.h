// Encode/decode of instructions and micro-ops with explicit shift/mask packing, bit-compatible with
// Apache VTA 0.0.2 at the same config. Field positions follow the C bit-field rule of VTA's runtime:
// fields go from bit 0 upward in two 64-bit words and a field that would cross bit 64 starts at bit 64.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"

namespace vta::isa {

struct FieldLayout {
  std::string name;
  uint32_t offset = 0;  // bit position in the 128-bit word
  uint32_t width = 0;
  bool is_signed = false;
};

class InstructionCodec {
 public:
  explicit InstructionCodec(const HwConfig& config);

  // Throws ProgramError if a field value does not fit its width.
  RawInstruction encode(const Instruction& insn) const;
  // Throws ProgramError on an unknown opcode or memory type.
  Instruction decode(const RawInstruction& raw) const;

  uint32_t encode_uop(const MicroOp& uop) const;
  MicroOp decode_uop(uint32_t raw) const;

  // Field layouts, for documentation, `vta info` and golden tests.
  std::vector<FieldLayout> layout(Opcode op) const;
  std::vector<FieldLayout> uop_layout() const;

  const HwConfig& config() const { return config_; }

 private:
  const std::vector<FieldLayout>& layout_ref(Opcode op) const;

  HwConfig config_;
  // Cached layouts, indexed by opcode value (LOAD and STORE share one).
  std::vector<FieldLayout> mem_layout_, gemm_layout_, alu_layout_, finish_layout_, uop_layout_;
};

// Raw instruction stream <-> bytes (16 bytes per instruction, little-endian).
std::vector<RawInstruction> raw_instructions_from_bytes(std::span<const uint8_t> bytes);
void raw_instructions_to_bytes(std::span<const RawInstruction> insns, std::vector<uint8_t>& out);

}  // namespace vta::isa
