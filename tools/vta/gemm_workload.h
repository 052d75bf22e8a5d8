// An int8 matrix multiply (optionally followed by a requantizing shift and clip) expressed through the
// runtime's CommandQueue, plus a plain CPU reference for it. Shared by `vta bench`, `vta demo` and the
// Google Benchmark binary in bench/, so all three measure exactly the same program.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"

namespace vta::tools {

// C[M][N] = A[M][K] · B[K][N]; all matrices row-major on the host side.
struct GemmShape {
  uint32_t m = 256;
  uint32_t n = 256;
  uint32_t k = 256;
  uint64_t macs() const { return uint64_t{m} * n * k; }
};

// After the GEMM: acc = max(min(acc >> shift, hi), lo), done with ALU SHR, MIN and MAX (immediates).
struct Requantize {
  int32_t shift = 8;
  int32_t lo = -128;
  int32_t hi = 127;
};

// Tile sizes in blocks: tm rows of BATCH, tn columns of BLOCK_OUT, tk of BLOCK_IN.
struct GemmTiling {
  uint32_t tm = 0;
  uint32_t tn = 0;
  uint32_t tk = 0;
};

// Picks the largest tiles that fit the INP, WGT, ACC and UOP buffers of `config`. Throws vta::Error if
// the shape is not a multiple of the config's batch/block sizes or the element widths are not int8/int32.
GemmTiling choose_gemm_tiling(const isa::HwConfig& config, const GemmShape& shape);

struct GemmDeviceRun {
  std::vector<int8_t> c;      // M x N row-major: the OUT values the device stored
  driver::RunResult run;      // the device's own report (status, counters, wall time of the run)
  GemmTiling tiling;
  uint64_t instructions = 0;  // instructions in the stream, FINISH included
  double host_seconds = 0.0;  // queue building + run + copies, as seen by the caller
};

// Packs A and B into the config's layouts, builds the tiled program through a CommandQueue on `device`,
// runs it and unpacks the result. Throws vta::Error on any failure (including a failed run).
GemmDeviceRun run_gemm_on_device(driver::Device& device, const GemmShape& shape, std::span<const int8_t> a,
                                 std::span<const int8_t> b, const std::optional<Requantize>& requant);

// The plain triple loop. Without `requant` the int32 sum is truncated to its low 8 bits, which is what a
// STORE of an unshifted accumulator writes.
std::vector<int8_t> cpu_gemm_reference(const GemmShape& shape, std::span<const int8_t> a,
                                       std::span<const int8_t> b, const std::optional<Requantize>& requant);

// Deterministic pseudo-random int8 values in [lo, hi].
std::vector<int8_t> random_int8(size_t count, uint64_t seed, int lo = -128, int hi = 127);

}  // namespace vta::tools
