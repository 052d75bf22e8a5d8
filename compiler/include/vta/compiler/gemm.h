// A plain int8 matrix multiply C[M][N] = A[M][K] · B[K][N] (optionally requantized to int8 by ALU SHR,
// MIN, MAX) compiled to a Program: the workload of `vta demo`, `vta bench fsim`, `vta bench tsim` and
// bench/fsim_gemm_bench. It is lowered as the 1x1 conv2d it is (gemm.cpp), with conv2d's tiling by
// estimated time; A is the program's input, B a constant.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vta/compiler/requantize.h"
#include "vta/compiler/tiling.h"
#include "vta/isa/hw_config.h"
#include "vta/runtime/program.h"
#include "vta/runtime/session.h"

namespace vta::compiler {

struct GemmShape {
  uint32_t m = 256;
  uint32_t n = 256;
  uint32_t k = 256;
  uint64_t macs() const { return uint64_t{m} * n * k; }
};

// Tile sizes in blocks: tm rows of BATCH, tn columns of BLOCK_OUT, tk of BLOCK_IN (the conv2d tiling's
// output rows, output-channel blocks and input-channel blocks per step; edge tiles may be smaller).
struct GemmTiling {
  uint32_t tm = 0;
  uint32_t tn = 0;
  uint32_t tk = 0;
};

// The tiles compile_gemm uses: conv2d's choice for the GEMM's 1x1 conv2d (choose_tiling by estimated
// time, within the traffic budget). Throws vta::Error if the shape is not a multiple of the config's
// batch/block sizes or the element widths are not int8/int32.
GemmTiling choose_gemm_tiling(const isa::HwConfig& config, const GemmShape& shape, bool requantize = false);

struct CompiledGemm {
  runtime::Program program;
  GemmTiling tiling;
  Conv2dTiling conv_tiling;  // the same, as conv2d's report (weight mode, loop order, predicted bytes and cycles)
  runtime::BufferId a = 0, c = 0;  // input A ([K/BI][M/B] INP elements), output C ([N/BO][M/B] OUT elements)
};

// Without `requant` the stored value is the low byte of the int32 sum.
CompiledGemm compile_gemm(const isa::HwConfig& config, const GemmShape& shape, std::span<const int8_t> b,
                          const std::optional<Requantize>& requant);

struct GemmRun {
  std::vector<int8_t> c;  // M x N row-major
  runtime::RunStats stats;
  GemmTiling tiling;
  Conv2dTiling conv_tiling;
  uint64_t instructions = 0;  // FINISH included
  double host_seconds = 0;    // compile + load + run + copies
};

// Compiles, loads, runs once and unpacks.
GemmRun gemm(runtime::Session& session, const GemmShape& shape, std::span<const int8_t> a, std::span<const int8_t> b,
             const std::optional<Requantize>& requant);

// The latency-hiding workload of `vta bench tsim`: C[tm][tiles*tn] = A[tm][steps*tk] x W[tiles*tn][steps*tk]
// in blocks, output tile o accumulated over `steps` reduction steps. With virtual threads, INP/WGT and
// ACC are double-buffered and token-synchronized so the next step's loads overlap the current GEMM and
// the previous tile's store; without, tokens make load, compute and store take turns. A and W are
// pseudo-random constants, so the Program is self-contained (output buffer "c").
struct PipelinedGemm {
  uint32_t tm = 64, tn = 4, tk = 4;  // tile sizes in blocks (rows of BATCH, BLOCK_OUT, BLOCK_IN)
  uint32_t tiles = 16, steps = 16;
  bool virtual_threads = true;
};
runtime::Program compile_pipelined_gemm(const isa::HwConfig& config, const PipelinedGemm& w);

}  // namespace vta::compiler
