// Micro-op kernels: a list of micro-ops plus the two-level affine loop (and, for ALU kernels, the ALU
// operation), recorded with a small builder. Kernels compare and hash by content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "vta/isa/instruction.h"

namespace vta::runtime {

struct UopLoop {
  uint32_t extent = 0;
  uint32_t dst_factor = 0, src_factor = 0, wgt_factor = 0;
  bool operator==(const UopLoop&) const = default;
};

enum class KernelMode { kGemm, kAlu };

struct UopKernel {
  KernelMode mode = KernelMode::kGemm;
  bool reset = false;
  std::vector<isa::MicroOp> uops;
  std::vector<UopLoop> loops;  // outer first; at most two
  // ALU kernels only.
  isa::AluOpcode alu_opcode = isa::AluOpcode::kAdd;
  bool use_imm = false;
  int32_t imm = 0;

  bool operator==(const UopKernel&) const = default;
  size_t hash() const;
};

// Records a kernel the way VTA's runtime does: loop_begin/loop_end around uop pushes.
class UopKernelBuilder {
 public:
  explicit UopKernelBuilder(KernelMode mode, bool reset = false);
  UopKernelBuilder& loop_begin(uint32_t extent, uint32_t dst_factor, uint32_t src_factor, uint32_t wgt_factor);
  UopKernelBuilder& loop_end();
  UopKernelBuilder& push(uint32_t dst_idx, uint32_t src_idx, uint32_t wgt_idx = 0);
  UopKernelBuilder& alu(isa::AluOpcode op, bool use_imm = false, int32_t imm = 0);
  // Throws vta::Error on unbalanced loops, more than two loops, or an empty kernel.
  UopKernel build() const;

 private:
  UopKernel kernel_;
  int open_loops_ = 0;
};

}  // namespace vta::runtime
