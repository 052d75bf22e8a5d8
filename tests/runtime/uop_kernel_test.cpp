// UopKernelBuilder: recording, validation, content equality and hashing (no device needed).
#include <gtest/gtest.h>

#include "vta/isa/error.h"
#include "vta/runtime/uop_kernel.h"

namespace vta::runtime {
namespace {

TEST(UopKernelBuilder, RecordsLoopsAndMicroOps) {
  UopKernel k = UopKernelBuilder(KernelMode::kGemm)
                    .loop_begin(4, 8, 2, 0)
                    .loop_begin(2, 1, 0, 3)
                    .push(1, 2, 3)
                    .push(4, 5, 6)
                    .loop_end()
                    .loop_end()
                    .build();
  EXPECT_EQ(k.mode, KernelMode::kGemm);
  EXPECT_FALSE(k.reset);
  ASSERT_EQ(k.loops.size(), 2u);
  EXPECT_EQ(k.loops[0], (UopLoop{4, 8, 2, 0}));
  EXPECT_EQ(k.loops[1], (UopLoop{2, 1, 0, 3}));
  ASSERT_EQ(k.uops.size(), 2u);
  EXPECT_EQ(k.uops[1], (isa::MicroOp{4, 5, 6}));
}

TEST(UopKernelBuilder, AluAttributes) {
  UopKernel k = UopKernelBuilder(KernelMode::kAlu).alu(isa::AluOpcode::kShr, true, -3).push(0, 1).build();
  EXPECT_EQ(k.mode, KernelMode::kAlu);
  EXPECT_EQ(k.alu_opcode, isa::AluOpcode::kShr);
  EXPECT_TRUE(k.use_imm);
  EXPECT_EQ(k.imm, -3);
}

TEST(UopKernelBuilder, RejectsMalformedKernels) {
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).build(), vta::Error);  // empty
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).loop_begin(2, 1, 1, 1).push(0, 0, 0).build(),
               vta::Error);  // unclosed loop
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).loop_end(), vta::Error);
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).loop_begin(2, 1, 1, 1).loop_begin(2, 1, 1, 1).loop_begin(2, 1, 1, 1),
               vta::Error);  // three loops
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).loop_begin(0, 1, 1, 1), vta::Error);        // zero extent
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).loop_begin(1u << 14, 1, 1, 1), vta::Error);  // > 14 bits
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).push(0, 0, 0).loop_begin(2, 1, 1, 1),
               vta::Error);  // loop after a micro-op
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).loop_begin(2, 1, 1, 1).push(0, 0, 0).loop_end().push(1, 1, 1),
               vta::Error);  // micro-op outside the loop
  EXPECT_THROW(UopKernelBuilder(KernelMode::kGemm).alu(isa::AluOpcode::kAdd), vta::Error);
  EXPECT_THROW(UopKernelBuilder(KernelMode::kAlu).alu(static_cast<isa::AluOpcode>(5)), vta::Error);
  EXPECT_THROW(UopKernelBuilder(KernelMode::kAlu).alu(isa::AluOpcode::kAdd, true, 40000), vta::Error);
}

TEST(UopKernelBuilder, EqualityAndHashFollowContent) {
  auto make = [](uint32_t src) {
    return UopKernelBuilder(KernelMode::kGemm).loop_begin(3, 1, 1, 0).push(0, src, 0).loop_end().build();
  };
  EXPECT_EQ(make(1), make(1));
  EXPECT_EQ(make(1).hash(), make(1).hash());
  EXPECT_NE(make(1), make(2));
  EXPECT_NE(make(1).hash(), make(2).hash());
  UopKernel reset = UopKernelBuilder(KernelMode::kGemm, true).loop_begin(3, 1, 1, 0).push(0, 1, 0).loop_end().build();
  EXPECT_NE(reset, make(1));
  EXPECT_NE(reset.hash(), make(1).hash());
}

}  // namespace
}  // namespace vta::runtime
