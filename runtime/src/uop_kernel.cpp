// Micro-op kernels and their builder.
#include "vta/runtime/uop_kernel.h"

#include <string>

#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::runtime {

namespace {

// 64-bit FNV-1a over a stream of 32-bit words.
class Fnv1a {
 public:
  void add(uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= (value >> (8 * i)) & 0xffu;
      h_ *= 0x100000001b3ull;
    }
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
};

constexpr uint32_t kMaxLoopExtent = (1u << isa::FixedFieldWidths::kLoopIter) - 1;

}  // namespace

size_t UopKernel::hash() const {
  Fnv1a h;
  h.add(static_cast<uint64_t>(mode));
  h.add(reset ? 1 : 0);
  h.add(static_cast<uint64_t>(alu_opcode));
  h.add(use_imm ? 1 : 0);
  h.add(static_cast<uint64_t>(static_cast<int64_t>(imm)));
  h.add(loops.size());
  for (const UopLoop& l : loops) {
    h.add(l.extent);
    h.add(l.dst_factor);
    h.add(l.src_factor);
    h.add(l.wgt_factor);
  }
  h.add(uops.size());
  for (const isa::MicroOp& u : uops) {
    h.add(u.dst_idx);
    h.add(u.src_idx);
    h.add(u.wgt_idx);
  }
  return static_cast<size_t>(h.value());
}

UopKernelBuilder::UopKernelBuilder(KernelMode mode, bool reset) {
  kernel_.mode = mode;
  kernel_.reset = reset;
}

UopKernelBuilder& UopKernelBuilder::loop_begin(uint32_t extent, uint32_t dst_factor, uint32_t src_factor,
                                               uint32_t wgt_factor) {
  if (!kernel_.uops.empty()) {
    throw Error("uop kernel: loop_begin after a micro-op was pushed; loops must enclose every micro-op");
  }
  if (kernel_.loops.size() >= 2) {
    throw Error("uop kernel: at most two loops are supported (the GEMM/ALU instruction has a two-level loop)");
  }
  if (extent == 0 || extent > kMaxLoopExtent) {
    throw Error("uop kernel: loop extent " + std::to_string(extent) + " out of range [1, " +
                std::to_string(kMaxLoopExtent) + "]");
  }
  kernel_.loops.push_back(UopLoop{extent, dst_factor, src_factor, wgt_factor});
  ++open_loops_;
  return *this;
}

UopKernelBuilder& UopKernelBuilder::loop_end() {
  if (open_loops_ == 0) throw Error("uop kernel: loop_end without a matching loop_begin");
  --open_loops_;
  return *this;
}

UopKernelBuilder& UopKernelBuilder::push(uint32_t dst_idx, uint32_t src_idx, uint32_t wgt_idx) {
  if (open_loops_ != static_cast<int>(kernel_.loops.size())) {
    throw Error("uop kernel: micro-op pushed after loop_end; loops must enclose every micro-op");
  }
  kernel_.uops.push_back(isa::MicroOp{dst_idx, src_idx, wgt_idx});
  return *this;
}

UopKernelBuilder& UopKernelBuilder::alu(isa::AluOpcode op, bool use_imm, int32_t imm) {
  if (kernel_.mode != KernelMode::kAlu) throw Error("uop kernel: alu() called on a GEMM kernel");
  if (static_cast<uint32_t>(op) >= isa::kAluOpcodeCount) {
    throw Error("uop kernel: unknown ALU opcode " + std::to_string(static_cast<uint32_t>(op)));
  }
  if (use_imm && (imm < -32768 || imm > 32767)) {
    throw Error("uop kernel: ALU immediate " + std::to_string(imm) + " does not fit in signed 16 bits");
  }
  kernel_.alu_opcode = op;
  kernel_.use_imm = use_imm;
  kernel_.imm = use_imm ? imm : 0;
  return *this;
}

UopKernel UopKernelBuilder::build() const {
  if (open_loops_ != 0) {
    throw Error("uop kernel: " + std::to_string(open_loops_) + " loop(s) not closed with loop_end");
  }
  if (kernel_.loops.size() > 2) throw Error("uop kernel: more than two loops");
  if (kernel_.uops.empty()) throw Error("uop kernel: empty kernel (no micro-ops pushed)");
  return kernel_;
}

}  // namespace vta::runtime
