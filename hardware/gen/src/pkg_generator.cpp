// The SystemVerilog package `vta_pkg` of one hardware config (vta/hw/pkg_generator.h).
//
// Every width, depth and instruction-field position in the package comes from vta::isa (HwConfig and
// InstructionCodec::layout / uop_layout); nothing is copied by hand, so the RTL always decodes exactly
// what the software encodes at that config.
#include "vta/hw/pkg_generator.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "vta/hw/acc_rows.h"
#include "vta/hw/gemm_packing.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction_codec.h"
#include "vta/isa/memory_type.h"
#include "vta/isa/register_map.h"

namespace {

using vta::isa::AluOpcode;
using vta::isa::BufferGeometry;
using vta::isa::FieldLayout;
using vta::isa::HwConfig;
using vta::isa::InstructionCodec;
using vta::isa::MemoryType;
using vta::isa::Opcode;

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

class PkgWriter {
 public:
  void comment(const std::string& text) { out_ << "\n  // " << text << "\n"; }
  void param(const std::string& name, uint64_t value) {
    out_ << "  localparam int unsigned " << name << " = " << value << ";\n";
  }
  void fields(const std::string& prefix, const std::vector<FieldLayout>& layout) {
    for (const auto& f : layout) {
      const std::string n = prefix + "_" + upper(f.name);
      param(n + "_LSB", f.offset);
      param(n + "_W", f.width);
    }
  }
  // `typedef struct packed` of an instruction (or micro-op) word: the fields MSB first, unused bits as
  // unused_<lsb> padding, so modules cast the word and name its fields instead of slicing by position.
  void word_struct(const std::string& type, std::vector<FieldLayout> layout, uint32_t bits) {
    std::sort(layout.begin(), layout.end(), [](const FieldLayout& a, const FieldLayout& b) { return a.offset > b.offset; });
    out_ << "  typedef struct packed {\n";
    uint32_t top = bits;  // the next bit down to fill
    for (const auto& f : layout) {
      const uint32_t end = f.offset + f.width;
      if (end < top) out_ << "    logic [" << (top - end - 1) << ":0] unused_" << end << ";\n";
      // (the opcode stays plain bits: a word may hold an unassigned opcode, which the core reports)
      if (f.width == 1) out_ << "    logic " << f.name << ";\n";
      else out_ << "    logic " << (f.is_signed ? "signed " : "") << "[" << (f.width - 1) << ":0] " << f.name << ";\n";
      top = f.offset;
    }
    if (top > 0) out_ << "    logic [" << (top - 1) << ":0] unused_0;\n";
    out_ << "  } " << type << ";\n";
  }
  // A localparam of a given SystemVerilog type, e.g. logic [11:0] with value 12'h040.
  void typed(const std::string& type, const std::string& name, const std::string& value) {
    out_ << "  localparam " << type << " " << name << " = " << value << ";\n";
  }
  std::ostringstream& raw() { return out_; }

 private:
  std::ostringstream out_;
};

std::string hex_literal(unsigned bits, uint32_t value) {
  std::ostringstream o;
  o << bits << "'h" << std::hex << std::setw(static_cast<int>((bits + 3) / 4)) << std::setfill('0') << value;
  return o.str();
}

// The register map, status bits, error codes and counter indices of vta::isa::reg (the copy the driver
// and tsim's harness use), so the RTL cannot drift from them.
void register_map(PkgWriter& w) {
  namespace reg = vta::isa::reg;
  w.comment("Register map (vta/isa/register_map.h): AXI4-Lite byte offsets.");
  for (const reg::Register& r : reg::kRegisters)
    w.typed("logic [11:0]", "REG_" + std::string(r.name), hex_literal(12, r.offset));
  w.comment("CONTROL and STATUS bits.");
  for (const reg::Bit& b : reg::kControlBits) w.param("CONTROL_" + std::string(b.name) + "_BIT", b.bit);
  for (const reg::Bit& b : reg::kStatusBits) w.param("STATUS_" + std::string(b.name) + "_BIT", b.bit);
  w.comment("ERROR_CODE values.");
  for (const reg::ErrorCode& e : reg::kErrorCodes)
    w.typed("logic [7:0]", "ERR_" + std::string(e.name), "8'd" + std::to_string(e.code));
  w.comment("ERROR_INFO of an out-of-range index: the buffer operand.");
  for (const reg::IndexOperand& x : reg::kIndexOperands)
    w.typed("logic [3:0]", "IDX_" + std::string(x.name), "4'd" + std::to_string(x.code));
  w.param("AXI_INFO_WRITE_BIT", reg::kAxiInfoWriteBit);
  w.param("AXI_INFO_RESP_LSB", reg::kAxiInfoRespLsb);
  w.comment("AXI read IDs of the bus clients.");
  for (const reg::AxiId& a : reg::kAxiIds)
    w.typed("logic [1:0]", "AXI_ID_" + std::string(a.name), "2'd" + std::to_string(a.id));
  w.comment("Counter indices: counter i at REG_COUNTER_BASE + 8 i (lo), + 4 (hi).");
  for (uint32_t i = 0; i < reg::kNumCounters; ++i) w.param("CNT_" + std::string(reg::kCounters[i].sv), i);
  w.param("NUM_COUNTERS", reg::kNumCounters);
}

void buffer(PkgWriter& w, const std::string& name, const BufferGeometry& g) {
  w.param(name + "_ELEM_BITS", g.element_bits);
  w.param(name + "_ELEM_BYTES", g.element_bytes);
  w.param(name + "_DEPTH", g.depth);
  w.param("LOG_" + name + "_DEPTH", g.log_depth);
}

}  // namespace

namespace vta::hw {

std::string generate_vta_pkg(const HwConfig& c) {
  // The core splits ACC and OUT into banks of whole words (vta/hw/acc_rows.h): it needs a word per bank.
  const unsigned banks = acc_banks(c), rows = acc_rows_per_word(c);
  if (c.acc().depth < banks * rows) {
    throw ConfigError("LOG_ACC_BUFF_SIZE", "the core needs at least " + std::to_string(banks * rows) + " ACC rows (" +
                                               std::to_string(banks) + " banks of " + std::to_string(rows) +
                                               " rows), the config has " + std::to_string(c.acc().depth));
  }
  const InstructionCodec codec(c);
  PkgWriter w;
  auto& o = w.raw();
  o << "// Generated by vta-rtlgen from the hardware config; do not edit.\n"
    << "// config " << c.name() << ", hash " << c.hash() << "\n"
    << "// A table of constants: no module uses every one of them.\n"
    << "/* verilator lint_off UNUSEDPARAM */\n"
    << "package vta_pkg;\n";

  w.comment("Identity of the config (HwConfig::hash()), readable from the register file.");
  o << "  localparam logic [63:0] CONFIG_HASH = 64'h" << c.hash() << ";\n";

  w.comment("Lane widths and tensor shape.");
  w.param("INP_WIDTH", c.inp_width());
  w.param("WGT_WIDTH", c.wgt_width());
  w.param("ACC_WIDTH", c.acc_width());
  w.param("OUT_WIDTH", c.out_width());
  w.param("BATCH", c.batch());
  w.param("BLOCK_IN", c.block_in());
  w.param("BLOCK_OUT", c.block_out());
  w.param("LOG_BATCH", c.log_batch());
  w.param("LOG_BLOCK_IN", c.log_block_in());
  w.param("LOG_BLOCK_OUT", c.log_block_out());
  w.comment("GEMM: two products per DSP48 multiplier (vta/hw/gemm_packing.h).");
  w.param("GEMM_PACK", vta::hw::gemm_packs_pairs(c) ? 1 : 0);
  w.comment("ACC and OUT: banks (halves of the row index) and rows per bank word, one ALU lane set each");
  w.comment("(vta/hw/acc_rows.h).");
  w.param("ACC_ROWS", vta::hw::acc_rows_per_word(c));
  w.param("LOG_ACC_ROWS", static_cast<uint32_t>(std::countr_zero(vta::hw::acc_rows_per_word(c))));
  w.param("ACC_BANKS", vta::hw::acc_banks(c));
  w.param("LOG_ACC_BANKS", static_cast<uint32_t>(std::countr_zero(vta::hw::acc_banks(c))));

  w.comment("On-chip buffers: element size, depth and index bits (OUT shares the ACC index).");
  buffer(w, "UOP", c.uop());
  buffer(w, "INP", c.inp());
  buffer(w, "WGT", c.wgt());
  buffer(w, "ACC", c.acc());
  buffer(w, "OUT", c.out());

  w.comment("Queue depths of the core (isa::CoreQueueDepths, shared with fsim-strict).");
  w.param("TOKEN_QUEUE_DEPTH", vta::isa::CoreQueueDepths::kToken);
  w.param("CMD_QUEUE_DEPTH", vta::isa::CoreQueueDepths::kCommand);

  w.comment("Instruction and micro-op words.");
  w.param("INSN_BITS", vta::isa::FixedFieldWidths::kInstructionBits);
  w.param("UOP_BITS", vta::isa::FixedFieldWidths::kMicroOpBits);

  w.comment("Opcodes, memory types and ALU opcodes.");
  w.param("OPCODE_LOAD", static_cast<uint32_t>(Opcode::kLoad));
  w.param("OPCODE_STORE", static_cast<uint32_t>(Opcode::kStore));
  w.param("OPCODE_GEMM", static_cast<uint32_t>(Opcode::kGemm));
  w.param("OPCODE_FINISH", static_cast<uint32_t>(Opcode::kFinish));
  w.param("OPCODE_ALU", static_cast<uint32_t>(Opcode::kAlu));
  for (MemoryType t : vta::isa::kAllMemoryTypes)
    w.param("MEM_TYPE_" + upper(std::string(vta::isa::to_string(t))), static_cast<uint32_t>(t));
  for (uint8_t op = 0; op < vta::isa::kAluOpcodeCount; ++op)
    w.param("ALU_OP_" + upper(std::string(vta::isa::to_string(static_cast<AluOpcode>(op)))), op);
  w.param("ALU_OP_COUNT", vta::isa::kAluOpcodeCount);

  w.comment("Field positions (LSB) and widths: LOAD/STORE share MEM_*.");
  w.fields("MEM", codec.layout(Opcode::kLoad));
  w.comment("GEMM fields.");
  w.fields("GEMM", codec.layout(Opcode::kGemm));
  w.comment("ALU fields.");
  w.fields("ALU", codec.layout(Opcode::kAlu));
  w.comment("FINISH fields.");
  w.fields("FINISH", codec.layout(Opcode::kFinish));
  w.comment("Micro-op fields.");
  w.fields("UOP", codec.uop_layout());

  w.comment("The instruction and micro-op words as typed structs (same layouts as the *_LSB/_W above) and the\n"
            "  // opcodes as an enum: modules cast a word to its struct and use field names, never bit positions.");
  const uint32_t opcode_w = vta::isa::FixedFieldWidths::kOpcode;
  w.raw() << "  typedef enum logic [" << (opcode_w - 1) << ":0] {\n"
          << "    OP_LOAD = " << static_cast<uint32_t>(Opcode::kLoad) << ", OP_STORE = " << static_cast<uint32_t>(Opcode::kStore)
          << ", OP_GEMM = " << static_cast<uint32_t>(Opcode::kGemm) << ", OP_FINISH = " << static_cast<uint32_t>(Opcode::kFinish)
          << ", OP_ALU = " << static_cast<uint32_t>(Opcode::kAlu) << "\n  } opcode_e;\n";
  w.word_struct("mem_insn_t", codec.layout(Opcode::kLoad), vta::isa::FixedFieldWidths::kInstructionBits);
  w.word_struct("gemm_insn_t", codec.layout(Opcode::kGemm), vta::isa::FixedFieldWidths::kInstructionBits);
  w.word_struct("alu_insn_t", codec.layout(Opcode::kAlu), vta::isa::FixedFieldWidths::kInstructionBits);
  w.word_struct("uop_t", codec.uop_layout(), vta::isa::FixedFieldWidths::kMicroOpBits);

  register_map(w);

  o << "\nendpackage\n/* verilator lint_on UNUSEDPARAM */\n";
  return o.str();
}

}  // namespace vta::hw
