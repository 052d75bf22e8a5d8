// Internal interface between the fsim scheduler (shared by both kernels) and the two data paths.
//
// The scheduler decodes the stream, routes instructions to modules, moves dependency tokens, rejects
// structurally wrong instructions (wrong memory type for the opcode), turns x_size == 0 LOAD/STORE into
// no-ops and keeps the counters. A kernel owns the on-chip buffers and the arithmetic: it executes one
// instruction at a time and checks everything that depends on data (SRAM index ranges, micro-op ranges,
// DRAM rows, ALU opcodes). Calls are per instruction, never per element.
#pragma once

#include <cstdint>
#include <memory>

#include "vta/fsim/functional_simulator.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/sim/device_memory.h"

namespace vta::fsim::detail {

class ExecKernel {
 public:
  virtual ~ExecKernel() = default;

  // LOAD with x_size > 0 of UOP, WGT, INP or ACC.
  virtual void load(const isa::MemInsn& insn, uint64_t index) = 0;
  // STORE with x_size > 0 of OUT (reads the ACC buffer, writes the low OUT-width bits of each lane).
  virtual void store(const isa::MemInsn& insn, uint64_t index) = 0;
  virtual void gemm(const isa::GemmInsn& insn, uint64_t index) = 0;
  virtual void alu(const isa::AluInsn& insn, uint64_t index) = 0;
  // Zeroes every on-chip buffer.
  virtual void clear() = 0;
};

std::unique_ptr<ExecKernel> make_reference_kernel(const isa::HwConfig& config, sim::DeviceMemory& memory);
// `simd`: the highest instruction set the fast kernel may use (kAuto: VTA_FSIM_SIMD or the best the
// host has); see simd.h.
std::unique_ptr<ExecKernel> make_fast_kernel(const isa::HwConfig& config, sim::DeviceMemory& memory, Simd simd);

}  // namespace vta::fsim::detail
