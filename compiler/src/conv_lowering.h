// Internal: the conv2d program emitter shared by conv2d() and dense().
#pragma once

#include <optional>
#include <vector>

#include "vta/compiler/conv2d.h"
#include "vta/runtime/program.h"
#include "vta/runtime/program_builder.h"

namespace vta::compiler::detail {

// The program buffers a conv2d reads and writes.
struct ConvBuffers {
  runtime::BufferId inp = 0, wgt = 0, out = 0;
  std::optional<runtime::BufferId> bias;
};

// One reduction step of one output tile, in program order, with the buffer slots it uses and the
// dependency tokens it needs.
struct ConvStep {
  uint32_t ot = 0, nb = 0, hi = 0, wi = 0, it = 0;  // tile coordinates (oc tile, batch group, row, col, ic)
  uint32_t tile = 0;                                 // output tile index (acc slot = tile % 2)
  bool first = false, last = false;                  // first/last ic step of the tile
  bool load_inp = false, load_wgt = false;
  uint32_t inp_slot = 0, wgt_slot = 0;
  bool wait_compute = false;     // the load group pops compute->load (its slots' last reader is done)
  uint32_t release_pushes = 0;   // compute->load tokens pushed after this step's GEMM
};

std::vector<ConvStep> plan_conv_steps(const ConvProblem& p, const Conv2dTiling& t);

// Emits the whole conv2d into the program (no FINISH).
void emit_conv2d(runtime::ProgramBuilder& q, const ConvProblem& p, const Conv2dTiling& t, const ConvBuffers& b,
                 const Requantize& rq);

// ---- host repacks for few input channels (repack.cpp) ----
struct RepackedConv {
  Tensor input, weight;
  Conv2dShape shape;
  Conv2dParams params;
};
// The conv2d the core runs after the repack `r` (shape and parameters only).
Conv2dShape repacked_shape(const Conv2dShape& s, const Conv2dParams& p, const InputRepack& r,
                           Conv2dParams* new_params);
// Builds the repacked input and weight (bit-identical result, see repack.cpp).
RepackedConv repack_conv2d(const Tensor& input, const Tensor& weight, const Conv2dShape& s, const Conv2dParams& p,
                           const InputRepack& r);
// Packs, compiles, runs and unpacks a checked conv2d.
OpRun run_conv2d(runtime::Session& session, const Tensor& input, const Tensor& weight, const Tensor* bias,
                 const Conv2dShape& shape, const Conv2dParams& params, const LoweringOptions& options);

}  // namespace vta::compiler::detail
