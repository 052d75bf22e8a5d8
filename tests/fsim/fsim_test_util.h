// Helpers for the fsim tests: configs, instruction builders, a token serializer, program placement, and
// the ProgramExecutor interface through which the instruction tests (fsim_instruction_tests.h) run their
// programs, so the same tests run on fsim (FsimExecutor, here) and on a driver::Device such as tsim
// (tests/hardware/tsim_instruction_test.cpp).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "vta/fsim/functional_simulator.h"
#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/sim/device_memory.h"

namespace vta::fsim::test {

using isa::AluInsn;
using isa::AluOpcode;
using isa::FinishInsn;
using isa::GemmInsn;
using isa::Instruction;
using isa::MemInsn;
using isa::MemoryType;
using isa::MicroOp;
using isa::Opcode;

inline isa::HwConfig load_config(const std::string& name) {
  return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/" + name + ".json");
}

struct Pad {
  uint32_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;
};

inline MemInsn load(MemoryType type, uint32_t sram, uint32_t dram, uint32_t y_size, uint32_t x_size,
                    uint32_t x_stride, Pad pad = {}) {
  return isa::make_mem(Opcode::kLoad, type, sram, dram, y_size, x_size, x_stride, pad.y0, pad.y1, pad.x0, pad.x1);
}

inline MemInsn store(uint32_t sram, uint32_t dram, uint32_t y_size, uint32_t x_size, uint32_t x_stride,
                     MemoryType type = MemoryType::kOut) {
  return isa::make_mem(Opcode::kStore, type, sram, dram, y_size, x_size, x_stride);
}

struct Loop {
  uint32_t uop_bgn = 0, uop_end = 1;
  uint32_t iter_out = 1, iter_in = 1;
  uint32_t dst_out = 0, dst_in = 0, src_out = 0, src_in = 0, wgt_out = 0, wgt_in = 0;
};

inline GemmInsn gemm(Loop l, bool reset = false) {
  GemmInsn g;
  g.loop.reset = reset;
  g.loop.uop_bgn = l.uop_bgn;
  g.loop.uop_end = l.uop_end;
  g.loop.iter_out = l.iter_out;
  g.loop.iter_in = l.iter_in;
  g.loop.dst_factor_out = l.dst_out;
  g.loop.dst_factor_in = l.dst_in;
  g.loop.src_factor_out = l.src_out;
  g.loop.src_factor_in = l.src_in;
  g.wgt_factor_out = l.wgt_out;
  g.wgt_factor_in = l.wgt_in;
  return g;
}

inline AluInsn alu(AluOpcode op, Loop l, bool use_imm = false, int32_t imm = 0, bool reset = false) {
  AluInsn a;
  a.alu_opcode = op;
  a.use_imm = use_imm;
  a.imm = imm;
  a.loop.reset = reset;
  a.loop.uop_bgn = l.uop_bgn;
  a.loop.uop_end = l.uop_end;
  a.loop.iter_out = l.iter_out;
  a.loop.iter_in = l.iter_in;
  a.loop.dst_factor_out = l.dst_out;
  a.loop.dst_factor_in = l.dst_in;
  a.loop.src_factor_out = l.src_out;
  a.loop.src_factor_in = l.src_in;
  return a;
}

// Sets dependency flags so that the concurrent schedule executes the instructions in program order:
// at every change of module the earlier instruction pushes a token the later one pops. Load <-> store
// transitions go through a token-only compute no-op (LOAD UOP, x_size 0). Existing flags are cleared.
// Appends FINISH if the program does not end with it.
inline std::vector<Instruction> serialize_tokens(const std::vector<Instruction>& in) {
  std::vector<Instruction> out;
  std::vector<Instruction> body = in;
  if (body.empty() || !std::holds_alternative<FinishInsn>(body.back())) body.push_back(FinishInsn{});
  for (auto& insn : body) isa::dep_flags(insn) = {};
  for (auto& insn : body) {
    if (!out.empty()) {
      const isa::Module prev = isa::module_of(out.back());
      const isa::Module cur = isa::module_of(insn);
      if ((prev == isa::Module::kLoad && cur == isa::Module::kStore) ||
          (prev == isa::Module::kStore && cur == isa::Module::kLoad)) {
        MemInsn bridge = load(MemoryType::kUop, 0, 0, 0, 0, 0);
        // pop from the previous module, then push to the next one.
        if (prev == isa::Module::kLoad) {
          isa::dep_flags(out.back()).push_next = true;
          bridge.dep.pop_prev = true;
          bridge.dep.push_next = true;
        } else {
          isa::dep_flags(out.back()).push_prev = true;
          bridge.dep.pop_next = true;
          bridge.dep.push_prev = true;
        }
        out.push_back(bridge);
      }
    }
    if (!out.empty()) {
      const isa::Module prev = isa::module_of(out.back());
      const isa::Module cur = isa::module_of(insn);
      isa::DepFlags& p = isa::dep_flags(out.back());
      isa::DepFlags& c = isa::dep_flags(insn);
      if (prev == isa::Module::kLoad && cur == isa::Module::kCompute) {
        p.push_next = true;
        c.pop_prev = true;
      } else if (prev == isa::Module::kCompute && cur == isa::Module::kLoad) {
        p.push_prev = true;
        c.pop_next = true;
      } else if (prev == isa::Module::kCompute && cur == isa::Module::kStore) {
        p.push_next = true;
        c.pop_prev = true;
      } else if (prev == isa::Module::kStore && cur == isa::Module::kCompute) {
        p.push_prev = true;
        c.pop_next = true;
      }
    }
    out.push_back(insn);
  }
  return out;
}

inline std::vector<uint8_t> encode_program(const isa::InstructionCodec& codec, const std::vector<Instruction>& prog) {
  std::vector<isa::RawInstruction> raw;
  raw.reserve(prog.size());
  for (const auto& insn : prog) raw.push_back(codec.encode(insn));
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  return bytes;
}

// Where a test program runs: device memory (allocate, write, read by device address) and a run.
class ProgramExecutor {
 public:
  virtual ~ProgramExecutor() = default;
  virtual const isa::HwConfig& config() const = 0;
  // A fresh region of `bytes` (> 0) bytes aligned to `alignment` (a power of two); returns its address.
  virtual uint64_t allocate(uint64_t bytes, uint64_t alignment) = 0;
  virtual void write(uint64_t address, const void* src, uint64_t bytes) = 0;
  virtual void read(uint64_t address, void* dst, uint64_t bytes) = 0;
  // Runs `insn_count` instructions at `insn_address`; throws vta::Error (fsim: ProgramError) when the
  // program fails.
  virtual void run(uint64_t insn_address, uint32_t insn_count) = 0;
  // The counters of the last run; cycle_count is timing, not semantics: executors may report 0.
  virtual isa::ExecutionCounters counters() const = 0;
};

// fsim: a FunctionalSimulator over a DeviceMemory (shared by several executors when given one).
class FsimExecutor final : public ProgramExecutor {
 public:
  FsimExecutor(const isa::HwConfig& config, sim::DeviceMemory& memory, Options options)
      : mem_(memory), sim_(config, memory, options) {}
  const isa::HwConfig& config() const override { return sim_.config(); }
  uint64_t allocate(uint64_t bytes, uint64_t alignment) override { return mem_.allocate(bytes, alignment); }
  void write(uint64_t address, const void* src, uint64_t bytes) override { mem_.write(address, src, bytes); }
  void read(uint64_t address, void* dst, uint64_t bytes) override { mem_.read(address, dst, bytes); }
  void run(uint64_t insn_address, uint32_t insn_count) override { sim_.run(insn_address, insn_count); }
  isa::ExecutionCounters counters() const override { return sim_.counters(); }
  FunctionalSimulator& simulator() { return sim_; }

 private:
  sim::DeviceMemory& mem_;
  FunctionalSimulator sim_;
};

// Places a program in freshly allocated device memory; returns its address.
inline uint64_t place_program(sim::DeviceMemory& mem, const isa::InstructionCodec& codec,
                              const std::vector<Instruction>& prog) {
  const std::vector<uint8_t> bytes = encode_program(codec, prog);
  const uint64_t addr = mem.allocate(bytes.empty() ? 16 : bytes.size(), 16);
  mem.write(addr, bytes.data(), bytes.size());
  return addr;
}

inline uint64_t place_raw(sim::DeviceMemory& mem, const std::vector<isa::RawInstruction>& raw) {
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  const uint64_t addr = mem.allocate(bytes.size(), 16);
  mem.write(addr, bytes.data(), bytes.size());
  return addr;
}

// Writes micro-ops into device memory; returns the element index (dram_base) for a LOAD UOP.
inline uint32_t place_uops(sim::DeviceMemory& mem, const isa::InstructionCodec& codec, const std::vector<MicroOp>& uops) {
  const uint64_t addr = mem.allocate(uops.size() * 4, 64);
  for (size_t i = 0; i < uops.size(); ++i) {
    const uint32_t raw = codec.encode_uop(uops[i]);
    mem.write(addr + i * 4, &raw, 4);
  }
  return static_cast<uint32_t>(addr / 4);
}

// The same through an executor.
inline uint64_t place_program(ProgramExecutor& exec, const isa::InstructionCodec& codec,
                              const std::vector<Instruction>& prog) {
  const std::vector<uint8_t> bytes = encode_program(codec, prog);
  const uint64_t addr = exec.allocate(bytes.empty() ? 16 : bytes.size(), 16);
  exec.write(addr, bytes.data(), bytes.size());
  return addr;
}

inline uint32_t place_uops(ProgramExecutor& exec, const isa::InstructionCodec& codec, const std::vector<MicroOp>& uops) {
  const uint64_t addr = exec.allocate(uops.size() * 4, 64);
  for (size_t i = 0; i < uops.size(); ++i) {
    const uint32_t raw = codec.encode_uop(uops[i]);
    exec.write(addr + i * 4, &raw, 4);
  }
  return static_cast<uint32_t>(addr / 4);
}

}  // namespace vta::fsim::test
