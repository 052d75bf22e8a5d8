// Golden text of the compile stages of a tiny fixed model (hand-built QModel, seeded int8 weights): the
// step plan with placements and tilings (CompiledModel::plan_text, `vta compile --emit plan`) and one
// core step's instruction stream (Program::to_asm, `vta compile --emit asm`). A change in partitioning,
// tiling or lowering shows up here as a readable diff; update the strings only after checking it.
#include <gtest/gtest.h>

#include "model_test_util.h"

namespace vta::model {
namespace {

using test::tiny_qmodel;

TEST(ModelGolden, PlanText) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  EXPECT_EQ(cm.plan_text(), R"(plan tiny for config 1x16_i8w8a32_15_15_18_17 (6 steps)
  0 cpu  Quantize       x.quantize               ([1,16,4,4]) -> [1,16,4,4]: quantize: float input
  1 core Conv2d         conv                     ([1,16,4,4]) -> [1,16,4,4]: conv2d 3x3/1 on the core
      tiling tile oc 1 blk x rows 4 x cols 2, ic step 1 blk, order oc_outer, weights slice; predicted DRAM 3008 B (inp 384, wgt 2304, acc 64, out 256; 1.044x the lower bound 2880), 2 output tiles, 2 steps, GEMM kernel 36 uops, estimated 687 cycles; 26 instructions, 312 micro-op bytes
  2 core MaxPool        pool                     ([1,16,4,4]) -> [1,16,2,2]: max pool on the core (ALU MAX)
      tiling tile oc 1 blk x rows 2 x cols 2, ic step 1 blk, order oc_outer, weights slice; predicted DRAM 576 B (inp 256, wgt 256, acc 0, out 64; 1.800x the lower bound 320), 1 output tiles, 1 steps, GEMM kernel 0 uops; 16 instructions, 24 micro-op bytes
  3 cpu  Reshape        flatten                  ([1,16,2,2]) -> [1,64]: reshape: a host-side view, no data moves
  4 core Dense          fc                       ([1,64]) -> [1,16]: dense on the core
      tiling tile oc 1 blk x rows 1 x cols 1, ic step 4 blk, order oc_outer, weights slice; predicted DRAM 1168 B (inp 64, wgt 1024, acc 64, out 16; 1.000x the lower bound 1168), 1 output tiles, 1 steps, GEMM kernel 4 uops, estimated 308 cycles; 15 instructions, 24 micro-op bytes
  5 cpu  Softmax        softmax                  ([1,16]) -> [1,16]: softmax: exponentials have no core operator
)");
}

TEST(ModelGolden, MaxPoolAsm) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  ASSERT_TRUE(cm.steps.at(2).op.has_value());
  EXPECT_EQ(cm.steps[2].op->program.to_asm(), R"(buffer 0 input input 256 bytes align 64
buffer 1 identity constant 256 bytes align 256
buffer 2 output output 64 bytes align 64
buffer 3 uops uops 24 bytes align 64
     0  LOAD UOP sram=0 dram=0 y=1 x=6 stride=6 dep(push_prev)  @uops
     1  LOAD WGT sram=0 dram=0 y=1 x=1 stride=1 dep(pop_next)  @identity
     2  LOAD INP sram=0 dram=0 y=4 x=4 stride=4 dep(push_next)  @input
     3  LOAD UOP NOP dep(pop_prev)
     4  GEMM reset uop=[0,1) iter=(4,4) dst_f=(4,1) src_f=(0,0) wgt_f=(0,0)
     5  GEMM uop=[0,1) iter=(4,4) dst_f=(4,1) src_f=(4,1) wgt_f=(0,0)
     6  GEMM reset uop=[1,2) iter=(2,2) dst_f=(2,1) src_f=(0,0) wgt_f=(0,0)
     7  ALU ADD uop=[2,3) iter=(2,2) dst_f=(2,1) src_f=(2,1) imm=-128
     8  ALU MAX uop=[1,2) iter=(2,2) dst_f=(2,1) src_f=(8,2)
     9  ALU MAX uop=[3,4) iter=(2,2) dst_f=(2,1) src_f=(8,2)
    10  ALU MAX uop=[4,5) iter=(2,2) dst_f=(2,1) src_f=(8,2)
    11  ALU MAX uop=[5,6) iter=(2,2) dst_f=(2,1) src_f=(8,2) dep(push_next)
    12  STORE OUT sram=16 dram=0 y=2 x=2 stride=2 dep(pop_prev,push_prev)  @output
    13  LOAD INP NOP dep(push_next)
    14  LOAD UOP NOP dep(pop_prev,pop_next)
    15  FINISH
)");
}

TEST(ModelGolden, DenseAsm) {
  const CompiledModel cm = compile_model(tiny_qmodel(), isa::HwConfig::default_config());
  ASSERT_TRUE(cm.steps.at(4).op.has_value());
  EXPECT_EQ(cm.steps[4].op->program.to_asm(), R"(buffer 0 input input 64 bytes align 64
buffer 1 weight constant 1024 bytes align 256
buffer 2 bias constant 64 bytes align 64
buffer 3 output output 16 bytes align 64
buffer 4 uops uops 24 bytes align 64
     0  LOAD UOP sram=0 dram=0 y=1 x=6 stride=6 dep(push_prev)  @uops
     1  LOAD WGT sram=0 dram=0 y=1 x=4 stride=4 dep(pop_next)  @weight
     2  LOAD INP sram=0 dram=0 y=4 x=1 stride=1 dep(push_next)  @input
     3  GEMM reset uop=[0,1) iter=(1,1) dst_f=(0,0) src_f=(0,0) wgt_f=(0,0)
     4  LOAD ACC sram=1023 dram=0 y=1 x=1 stride=1  @bias
     5  LOAD UOP NOP dep(pop_prev)
     6  GEMM uop=[1,5) iter=(1,1) dst_f=(0,0) src_f=(0,0) wgt_f=(0,0)
     7  ALU ADD uop=[5,6) iter=(1,1) dst_f=(0,0) src_f=(0,0)
     8  ALU SHR uop=[0,1) iter=(1,1) dst_f=(0,0) src_f=(0,0) imm=8
     9  ALU MIN uop=[0,1) iter=(1,1) dst_f=(0,0) src_f=(0,0) imm=127
    10  ALU MAX uop=[0,1) iter=(1,1) dst_f=(0,0) src_f=(0,0) imm=-128 dep(push_next)
    11  STORE OUT sram=0 dram=0 y=1 x=1 stride=1 dep(pop_prev,push_prev)  @output
    12  LOAD INP NOP dep(push_next)
    13  LOAD UOP NOP dep(pop_prev,pop_next)
    14  FINISH
)");
}

}  // namespace
}  // namespace vta::model
