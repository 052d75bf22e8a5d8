// Decoded VTA instructions and micro-ops: plain values, independent of the binary layout.
#pragma once

#include <cstdint>
#include <variant>

#include "vta/isa/memory_type.h"

namespace vta::isa {

// The four dependency-token flags every instruction carries. "prev"/"next" follow the pipeline order
// load -> compute -> store.
struct DepFlags {
  bool pop_prev = false;
  bool pop_next = false;
  bool push_prev = false;
  bool push_next = false;
  bool operator==(const DepFlags&) const = default;
};

// LOAD or STORE of a 2D strided block.
struct MemInsn {
  Opcode opcode = Opcode::kLoad;  // kLoad or kStore
  DepFlags dep;
  MemoryType memory_type = MemoryType::kInp;
  uint32_t sram_base = 0;   // elements
  uint32_t dram_base = 0;   // elements of memory_type (byte address = dram_base * element bytes)
  uint32_t y_size = 0;
  uint32_t x_size = 0;      // 0 = token-only no-op
  uint32_t x_stride = 0;
  uint32_t y_pad_0 = 0, y_pad_1 = 0, x_pad_0 = 0, x_pad_1 = 0;
  bool operator==(const MemInsn&) const = default;
};

// Fields shared by GEMM and ALU: the micro-op range and the two-level affine loop.
struct LoopNest {
  bool reset = false;
  uint32_t uop_bgn = 0;
  uint32_t uop_end = 0;  // exclusive
  uint32_t iter_out = 0;
  uint32_t iter_in = 0;
  uint32_t dst_factor_out = 0, dst_factor_in = 0;
  uint32_t src_factor_out = 0, src_factor_in = 0;
  bool operator==(const LoopNest&) const = default;
};

struct GemmInsn {
  DepFlags dep;
  LoopNest loop;
  uint32_t wgt_factor_out = 0, wgt_factor_in = 0;
  bool operator==(const GemmInsn&) const = default;
};

struct AluInsn {
  DepFlags dep;
  LoopNest loop;
  AluOpcode alu_opcode = AluOpcode::kAdd;  // raw 3-bit value; may hold an unassigned 5..7
  bool use_imm = false;
  int32_t imm = 0;  // signed 16-bit immediate
  bool operator==(const AluInsn&) const = default;
};

struct FinishInsn {
  DepFlags dep;
  bool operator==(const FinishInsn&) const = default;
};

using Instruction = std::variant<MemInsn, GemmInsn, AluInsn, FinishInsn>;

// A LOAD or STORE of `y` rows of `x` elements with row stride `stride`, no padding and no tokens
// unless given.
MemInsn make_mem(Opcode op, MemoryType type, uint32_t sram, uint32_t dram, uint32_t y, uint32_t x, uint32_t stride,
                 uint32_t y_pad_0 = 0, uint32_t y_pad_1 = 0, uint32_t x_pad_0 = 0, uint32_t x_pad_1 = 0);

Opcode opcode_of(const Instruction& insn);
const DepFlags& dep_flags(const Instruction& insn);
DepFlags& dep_flags(Instruction& insn);
// Which module executes the instruction (ISA routing rule).
Module module_of(const Instruction& insn);

struct MicroOp {
  uint32_t dst_idx = 0;  // acc index
  uint32_t src_idx = 0;  // inp index (GEMM) or acc index (ALU)
  uint32_t wgt_idx = 0;  // wgt index (GEMM only)
  bool operator==(const MicroOp&) const = default;
};

// One raw 128-bit instruction: word 0 holds bits 0..63, word 1 bits 64..127 (little-endian in memory).
struct RawInstruction {
  uint64_t lo = 0;
  uint64_t hi = 0;
  bool operator==(const RawInstruction&) const = default;
};

}  // namespace vta::isa
