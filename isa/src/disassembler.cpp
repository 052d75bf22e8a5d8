#include "vta/isa/disassembler.h"

#include <fmt/format.h>

namespace vta::isa {
namespace {

std::string deps(const DepFlags& d) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (on) out += fmt::format("{}{}", out.empty() ? "" : ",", name);
  };
  add(d.pop_prev, "pop_prev");
  add(d.pop_next, "pop_next");
  add(d.push_prev, "push_prev");
  add(d.push_next, "push_next");
  return out.empty() ? "" : " dep(" + out + ")";
}

std::string loop(const LoopNest& l) {
  return fmt::format("uop=[{},{}) iter=({},{}) dst_f=({},{}) src_f=({},{})", l.uop_bgn, l.uop_end, l.iter_out,
                     l.iter_in, l.dst_factor_out, l.dst_factor_in, l.src_factor_out, l.src_factor_in);
}

struct Printer {
  std::string operator()(const MemInsn& m) const {
    if (m.x_size == 0)
      return fmt::format("{} {} NOP{}", to_string(m.opcode), to_string(m.memory_type), deps(m.dep));
    std::string s = fmt::format("{} {} sram={} dram={} y={} x={} stride={}", to_string(m.opcode),
                                to_string(m.memory_type), m.sram_base, m.dram_base, m.y_size, m.x_size, m.x_stride);
    if (m.y_pad_0 || m.y_pad_1 || m.x_pad_0 || m.x_pad_1)
      s += fmt::format(" pad=(y:{},{} x:{},{})", m.y_pad_0, m.y_pad_1, m.x_pad_0, m.x_pad_1);
    return s + deps(m.dep);
  }
  std::string operator()(const GemmInsn& g) const {
    return fmt::format("GEMM{} {} wgt_f=({},{}){}", g.loop.reset ? " reset" : "", loop(g.loop), g.wgt_factor_out,
                       g.wgt_factor_in, deps(g.dep));
  }
  std::string operator()(const AluInsn& a) const {
    return fmt::format("ALU {}{} {}{}{}", to_string(a.alu_opcode), a.loop.reset ? " reset" : "", loop(a.loop),
                       a.use_imm ? fmt::format(" imm={}", a.imm) : std::string(), deps(a.dep));
  }
  std::string operator()(const FinishInsn& f) const { return "FINISH" + deps(f.dep); }
};

}  // namespace

std::string disassemble(const Instruction& insn) { return std::visit(Printer{}, insn); }

std::string disassemble(const MicroOp& uop) {
  return fmt::format("uop dst={} src={} wgt={}", uop.dst_idx, uop.src_idx, uop.wgt_idx);
}

}  // namespace vta::isa
