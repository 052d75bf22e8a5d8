// SIMD kernels of the fast fsim data path for int8 INP/WGT and int32 ACC, chosen at run time by CPU
// feature (one table of function pointers per instruction set). Each instruction set lives in its own
// translation unit compiled for that set (simd_avx2.cpp with -mavx2, simd_avx512.cpp with AVX-512 and
// VNNI), so the rest of the library stays
// baseline x86-64 and runs on any CPU; the table is only used when the CPU has the features.
//
// Layouts (set up at LOAD time by fast_kernel.cpp):
//   INP element: BATCH rows of BLOCK_IN int16 (the int8 values sign-extended).
//   WGT element: "paired": pair[kp][o] = (w[o][2kp], w[o][2kp+1]) as int16, BLOCK_IN/2 rows of
//                BLOCK_OUT pairs, so a 32-bit broadcast of two inputs times one vector of pairs gives
//                partial sums of several outputs at once (pmaddwd), with no horizontal reductions.
// pmaddwd of int8-range int16 values is exact (|a*b + c*d| <= 2^15), and the int32 adds wrap like the
// ACC does, so every path equals the reference bit for bit whatever order the sums are taken in.
#pragma once

#include <cstdint>
#include <type_traits>
#include <string>

namespace vta::fsim::detail {

enum class SimdLevel : uint8_t {
  kGeneric,  // portable C++ (typed SRAMs, plain layout): the path for every non-x86 host
  kSse2,     // paired layout, SSE2 pmaddwd (baseline x86-64)
  kAvx2,     // paired layout, AVX2 vpmaddwd over blocks of rows sharing one weight tile
  kAvx512,   // paired layout, AVX-512 VNNI vpdpwssd, the weight tile held in registers over a grid of rows
};

const char* to_string(SimdLevel level);

// The ALU opcodes the kernels implement (values as isa::AluOpcode).
enum class SimdAluOp : uint8_t { kMin = 0, kMax = 1, kAdd = 2, kShr = 3, kMul = 4 };

// Calls f(std::integral_constant<SimdAluOp, op>{}): one switch from the run-time opcode to the kernels'
// compile-time one, shared by every level.
template <typename F>
inline void with_alu_op(SimdAluOp op, F&& f) {
  switch (op) {
    case SimdAluOp::kMin: return f(std::integral_constant<SimdAluOp, SimdAluOp::kMin>{});
    case SimdAluOp::kMax: return f(std::integral_constant<SimdAluOp, SimdAluOp::kMax>{});
    case SimdAluOp::kAdd: return f(std::integral_constant<SimdAluOp, SimdAluOp::kAdd>{});
    case SimdAluOp::kShr: return f(std::integral_constant<SimdAluOp, SimdAluOp::kShr>{});
    case SimdAluOp::kMul: return f(std::integral_constant<SimdAluOp, SimdAluOp::kMul>{});
  }
}

// A 2-D grid of GEMM rows that share one weight tile, in order a < na, b < nb, e < batch: ACC row
// acc + a*acc_a + b*acc_b + e*bo, INP row inp + a*inp_a + b*inp_b + e*bi (strides in int32 / int16
// lanes; any may be 0, so rows may share an accumulator or an input).
struct GemmGrid {
  int32_t* acc;
  const int16_t* inp;
  uint64_t na, acc_a, inp_a;
  uint64_t nb, acc_b, inp_b;
  uint32_t batch;
};

struct SimdKernels {
  // For r < rows: acc[r][o] += sum_k inp[r][k] * w[o][k] (o < bo, k < bi) with w in the paired layout.
  // Rows may share an acc pointer (the sums are applied row after row) unless `distinct` says they do
  // not. bi even, bo a multiple of 8 (AVX2) or 4 (SSE2).
  void (*gemm_rows)(int32_t* const* acc, const int16_t* const* inp, uint32_t rows, const int16_t* wgt, uint32_t bi,
                    uint32_t bo, bool distinct);
  // The same for `rows` rows at a constant stride (in int32 / int16 lanes): acc + r * acc_stride,
  // inp + r * inp_stride. Strides may be 0 (rows sharing an accumulator or an input).
  void (*gemm_strided)(int32_t* acc, uint64_t acc_stride, const int16_t* inp, uint64_t inp_stride, uint32_t rows,
                       const int16_t* wgt, uint32_t bi, uint32_t bo);
  // For n < count, in order: d = dst + n*dst_stride, s = src + n*src_stride (lanes int32 each, lanes a
  // multiple of 8): d[l] = op(d[l], use_imm ? imm : s[l]). SHR follows docs/fsim.md (negative = left,
  // amounts >= 32 fill). Rows are processed strictly in order, so overlapping dst/src rows behave as
  // in the reference.
  void (*alu_rows)(SimdAluOp op, int32_t* dst, uint64_t dst_stride, const int32_t* src, uint64_t src_stride,
                   bool use_imm, int32_t imm, uint64_t count, uint32_t lanes);
  // The whole grid in one call (no row pointers to gather); nullptr: the caller uses gemm_rows and
  // gemm_strided.
  void (*gemm_grid)(const GemmGrid& grid, const int16_t* wgt, uint32_t bi, uint32_t bo);
  // LOAD WGT: `elements` elements of bo x bi int8 (row-major) into the paired layout. Returns false, having
  // written nothing, for a geometry it does not handle (the caller then transposes); nullptr: none.
  bool (*put_wgt_paired)(int16_t* dst, const uint8_t* src, uint64_t elements, uint32_t bi, uint32_t bo);
};

// Whether this host can run `level` (kGeneric always; the x86 levels by CPUID).
bool simd_supported(SimdLevel level);
// The best level this host runs, or the one named by the environment variable VTA_FSIM_SIMD
// (generic, sse2, avx2, avx512; "auto" or unset = best). Throws vta::Error for an unknown or unsupported name.
SimdLevel simd_level_from_environment();
// Kernels of an x86 level (kSse2, kAvx2 or kAvx512); nullptr when the build or the host lacks them.
const SimdKernels* simd_kernels(SimdLevel level);

const SimdKernels* avx2_kernels();    // simd_avx2.cpp (nullptr if not built for x86-64)
const SimdKernels* avx512_kernels();  // simd_avx512.cpp (nullptr if not built for x86-64)

}  // namespace vta::fsim::detail
