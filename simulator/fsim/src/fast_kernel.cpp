// The fast kernel: typed on-chip buffers (one C++ integer type per configured width, so DRAM <-> SRAM
// moves are plain memcpy), micro-ops decoded once when they are loaded, index ranges validated once per
// instruction before the loops, and inner loops with compile-time trip counts for the common block sizes
// so the compiler vectorizes them. Results must equal the reference kernel's bit for bit.
//
// For 8-bit inputs and weights with 32-bit accumulators (every shipped config) on x86-64, the GEMM and
// ALU run on the SIMD kernels of simd.h (SSE2, AVX2 or AVX-512 + VNNI, the best the CPU has), with INP
// widened to int16 and WGT in the "paired" layout at LOAD time. A GEMM only adds products of INP and WGT
// into ACC, and int32 addition wraps associatively, so its contributions may be taken in any order: the
// kernel regroups the micro-op loop nest into grids of (acc row, inp row) that share one weight tile and
// hands each grid to the SIMD kernel, which reuses each loaded weight vector across a block of rows (or,
// AVX-512, the whole grid). With VTA_FSIM_THREADS, big GEMMs are split between threads by accumulator.
#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string>
#include <type_traits>
#include <vector>

#include "kernel.h"
#include "simd.h"
#include "worker_pool.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

namespace vta::fsim::detail {
namespace {

static_assert(std::endian::native == std::endian::little, "the fast kernel memcpy's little-endian lanes");

using isa::AluInsn;
using isa::GemmInsn;
using isa::MemInsn;
using isa::MemoryType;

// Dot product of `n` lanes modulo 2^32 (N > 0: compile-time length). Narrow operands accumulate in int32
// exactly (|a*b| <= 2^22, at most 2^8 lanes); wide ones in uint32, which wraps like the ACC does.
template <int N, typename I, typename W>
inline uint32_t dot(const I* __restrict x, const W* __restrict w, uint32_t n) {
  const uint32_t len = N > 0 ? static_cast<uint32_t>(N) : n;
  if constexpr (sizeof(I) + sizeof(W) <= 3) {
    int32_t s = 0;
    for (uint32_t k = 0; k < len; ++k) s += static_cast<int32_t>(x[k]) * static_cast<int32_t>(w[k]);
    return static_cast<uint32_t>(s);
  } else {
    uint32_t s = 0;
    for (uint32_t k = 0; k < len; ++k)
      s += static_cast<uint32_t>(static_cast<int32_t>(x[k])) * static_cast<uint32_t>(static_cast<int32_t>(w[k]));
    return s;
  }
}

template <typename AccT>
struct AluMin {
  AccT operator()(AccT a, AccT b) const { return b < a ? b : a; }
};
template <typename AccT>
struct AluMax {
  AccT operator()(AccT a, AccT b) const { return b > a ? b : a; }
};
template <typename AccT>
struct AluAdd {
  AccT operator()(AccT a, AccT b) const {
    return static_cast<AccT>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
  }
};
template <typename AccT>
struct AluMul {
  AccT operator()(AccT a, AccT b) const {
    return static_cast<AccT>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
  }
};
// Arithmetic shift right; negative amounts shift left. Amounts >= the ACC width: right -> sign fill,
// left -> 0 (the rule documented in docs/fsim.md; the reference kernel implements it independently).
template <typename AccT>
struct AluShr {
  static constexpr int64_t kBits = sizeof(AccT) * 8;
  AccT operator()(AccT a, AccT b) const {
    if (b >= 0) {
      if (b >= kBits) return static_cast<AccT>(a < 0 ? -1 : 0);
      return static_cast<AccT>(a >> b);
    }
    const int64_t left = -static_cast<int64_t>(b);
    if (left >= kBits) return 0;
    return static_cast<AccT>(static_cast<uint32_t>(a) << left);
  }
};

// kPaired: int8 INP/WGT, int32 ACC, stored in the paired layout and run on the SIMD kernels `simd`.
template <typename InpT, typename WgtT, typename AccT, bool kPaired = false>
class FastKernel final : public ExecKernel {
  using OutT = InpT;  // OUT width = INP width
  static_assert(!kPaired || (sizeof(InpT) == 1 && sizeof(WgtT) == 1 && sizeof(AccT) == 4));
  using InpS = std::conditional_t<kPaired, int16_t, InpT>;  // on-chip lane types
  using WgtS = std::conditional_t<kPaired, int16_t, WgtT>;

 public:
  FastKernel(const isa::HwConfig& config, sim::DeviceMemory& memory, const SimdKernels* simd = nullptr,
             uint32_t threads = 1)
      : simd_(simd),
        config_(config),
        memory_(memory),
        codec_(config),
        batch_(config.batch()),
        block_in_(config.block_in()),
        block_out_(config.block_out()),
        inp_lanes_(uint64_t{batch_} * block_in_),
        wgt_lanes_(uint64_t{block_out_} * block_in_),
        acc_lanes_(uint64_t{batch_} * block_out_),
        uop_depth_(config.uop().depth),
        inp_depth_(config.inp().depth),
        wgt_depth_(config.wgt().depth),
        acc_depth_(config.acc().depth) {
    if (inp_lanes_ * sizeof(InpT) != config.inp().element_bytes ||
        wgt_lanes_ * sizeof(WgtT) != config.wgt().element_bytes ||
        acc_lanes_ * sizeof(AccT) != config.acc().element_bytes ||
        acc_lanes_ * sizeof(OutT) != config.out().element_bytes || config.uop().element_bytes != 4)
      throw Error("fsim fast kernel: element geometry disagrees with the config");
    uops_.resize(uop_depth_);
    inp_.resize(inp_depth_ * inp_lanes_);
    wgt_.resize(wgt_depth_ * wgt_lanes_);
    acc_.resize(acc_depth_ * acc_lanes_);
    out_row_.resize(acc_lanes_);
    if (kPaired && simd_ == nullptr) throw Error("fsim fast kernel: the paired layout needs SIMD kernels");
    if (kPaired && threads > 1) pool_ = std::make_unique<WorkerPool>(threads);
  }

  void clear() override {
    std::fill(uops_.begin(), uops_.end(), isa::MicroOp{});
    std::fill(inp_.begin(), inp_.end(), InpS{0});
    std::fill(wgt_.begin(), wgt_.end(), WgtS{0});
    std::fill(acc_.begin(), acc_.end(), AccT{0});
  }

  void load(const MemInsn& insn, uint64_t index) override {
    const uint64_t rows = uint64_t{insn.y_pad_0} + insn.y_size + insn.y_pad_1;
    const uint64_t cols = uint64_t{insn.x_pad_0} + insn.x_size + insn.x_pad_1;
    const uint64_t tile = rows * cols;
    switch (insn.memory_type) {
      case MemoryType::kUop: {
        check_tile("UOP", insn.sram_base, tile, uop_depth_, index);
        load_uops(insn, rows, cols, index);
        return;
      }
      case MemoryType::kInp:
        check_tile("INP", insn.sram_base, tile, inp_depth_, index);
        load_tile<InpT>(insn, inp_.data(), inp_lanes_, cols, index, [](InpS* dst, const uint8_t* src, uint64_t lanes) {
          if constexpr (kPaired) {
            for (uint64_t l = 0; l < lanes; ++l) dst[l] = static_cast<int8_t>(src[l]);
          } else {
            std::memcpy(dst, src, lanes * sizeof(InpT));
          }
        });
        return;
      case MemoryType::kWgt:
        check_tile("WGT", insn.sram_base, tile, wgt_depth_, index);
        load_tile<WgtT>(insn, wgt_.data(), wgt_lanes_, cols, index, [this](WgtS* dst, const uint8_t* src, uint64_t lanes) {
          if constexpr (kPaired) {
            put_wgt_paired(dst, src, lanes);
          } else {
            std::memcpy(dst, src, lanes * sizeof(WgtT));
          }
        });
        return;
      case MemoryType::kAcc:
        check_tile("ACC", insn.sram_base, tile, acc_depth_, index);
        load_tile<AccT>(insn, acc_.data(), acc_lanes_, cols, index, [](AccT* dst, const uint8_t* src, uint64_t lanes) {
          std::memcpy(dst, src, lanes * sizeof(AccT));
        });
        return;
      case MemoryType::kOut: break;
    }
    throw ProgramError("LOAD of memory type " + std::to_string(static_cast<int>(insn.memory_type)), index);
  }

  void store(const MemInsn& insn, uint64_t index) override {
    check_tile("ACC (STORE source)", insn.sram_base, uint64_t{insn.y_size} * insn.x_size, acc_depth_, index);
    const uint64_t out_eb = acc_lanes_ * sizeof(OutT);
    const uint64_t row_lanes = uint64_t{insn.x_size} * acc_lanes_;
    if (out_row_.size() < row_lanes) out_row_.resize(row_lanes);
    OutT* tmp = out_row_.data();
    dram_rows(uint64_t{insn.dram_base} * out_eb, uint64_t{insn.x_stride} * out_eb, insn.y_size, insn.x_size * out_eb,
              index, [&](uint64_t y, uint8_t* dst) {
                const AccT* src = acc_.data() + (insn.sram_base + y * insn.x_size) * acc_lanes_;
                if constexpr (sizeof(OutT) == 1 && sizeof(AccT) == 4) {
                  narrow_int32_to_int8(reinterpret_cast<int8_t*>(dst), src, row_lanes);
                } else {
                  // Low OUT-width bits of each lane (conversion to a narrower signed type is modular in C++20).
                  for (uint64_t l = 0; l < row_lanes; ++l) tmp[l] = static_cast<OutT>(src[l]);
                  std::memcpy(dst, tmp, insn.x_size * out_eb);
                }
              });
  }

  void gemm(const GemmInsn& insn, uint64_t index) override {
    const isa::LoopNest& loop = insn.loop;
    check_uop_range(loop, index);
    if (loop.iter_out == 0 || loop.iter_in == 0 || loop.uop_bgn == loop.uop_end) return;
    // Largest index each micro-op reaches over the loop nest (factors are unsigned).
    const uint64_t dst_span = uint64_t{loop.iter_out - 1} * loop.dst_factor_out + uint64_t{loop.iter_in - 1} * loop.dst_factor_in;
    const uint64_t src_span = uint64_t{loop.iter_out - 1} * loop.src_factor_out + uint64_t{loop.iter_in - 1} * loop.src_factor_in;
    const uint64_t wgt_span = uint64_t{loop.iter_out - 1} * insn.wgt_factor_out + uint64_t{loop.iter_in - 1} * insn.wgt_factor_in;
    for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
      const isa::MicroOp& u = uops_[k];
      check_index("ACC", u.dst_idx, dst_span, acc_depth_, k, index);
      if (!loop.reset) {
        check_index("INP", u.src_idx, src_span, inp_depth_, k, index);
        check_index("WGT", u.wgt_idx, wgt_span, wgt_depth_, k, index);
      }
    }
    if (loop.reset) {
      for_each_dst(loop, [&](AccT* dst, uint64_t) { std::fill(dst, dst + acc_lanes_, AccT{0}); });
      return;
    }
    if constexpr (kPaired) {
      gemm_paired(insn);
    } else {
      switch (block_in_) {
        case 8: gemm_loop<8>(insn); break;
        case 16: gemm_loop<16>(insn); break;
        case 32: gemm_loop<32>(insn); break;
        default: gemm_loop<0>(insn); break;
      }
    }
  }

  void alu(const AluInsn& insn, uint64_t index) override {
    const auto op = static_cast<uint32_t>(insn.alu_opcode);
    if (op >= isa::kAluOpcodeCount)
      throw ProgramError("ALU opcode " + std::to_string(op) + " is unassigned (valid: 0 MIN, 1 MAX, 2 ADD, 3 SHR, 4 MUL)",
                         index);
    const isa::LoopNest& loop = insn.loop;
    check_uop_range(loop, index);
    if (loop.iter_out == 0 || loop.iter_in == 0 || loop.uop_bgn == loop.uop_end) return;
    const uint64_t dst_span = uint64_t{loop.iter_out - 1} * loop.dst_factor_out + uint64_t{loop.iter_in - 1} * loop.dst_factor_in;
    const uint64_t src_span = uint64_t{loop.iter_out - 1} * loop.src_factor_out + uint64_t{loop.iter_in - 1} * loop.src_factor_in;
    for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
      const isa::MicroOp& u = uops_[k];
      check_index("ACC", u.dst_idx, dst_span, acc_depth_, k, index);
      if (!loop.reset && !insn.use_imm) check_index("ACC (ALU source)", u.src_idx, src_span, acc_depth_, k, index);
    }
    if (loop.reset) {
      for_each_dst(loop, [&](AccT* dst, uint64_t) { std::fill(dst, dst + acc_lanes_, AccT{0}); });
      return;
    }
    if constexpr (kPaired) {
      alu_simd(insn, static_cast<SimdAluOp>(op));
      return;
    }
    switch (static_cast<isa::AluOpcode>(op)) {
      case isa::AluOpcode::kMin: alu_dispatch(insn, AluMin<AccT>{}); break;
      case isa::AluOpcode::kMax: alu_dispatch(insn, AluMax<AccT>{}); break;
      case isa::AluOpcode::kAdd: alu_dispatch(insn, AluAdd<AccT>{}); break;
      case isa::AluOpcode::kShr: alu_dispatch(insn, AluShr<AccT>{}); break;
      case isa::AluOpcode::kMul: alu_dispatch(insn, AluMul<AccT>{}); break;
    }
  }

 private:
  // Calls f(dst element, src index) for every (i, j, k) of the loop nest, in execution order.
  template <typename F>
  void for_each_dst(const isa::LoopNest& loop, F&& f) {
    for (uint64_t i = 0; i < loop.iter_out; ++i) {
      for (uint64_t j = 0; j < loop.iter_in; ++j) {
        const uint64_t dst_off = i * loop.dst_factor_out + j * loop.dst_factor_in;
        const uint64_t src_off = i * loop.src_factor_out + j * loop.src_factor_in;
        for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
          const isa::MicroOp& u = uops_[k];
          f(acc_.data() + (u.dst_idx + dst_off) * acc_lanes_, u.src_idx + src_off);
        }
      }
    }
  }

  template <int N>
  void gemm_loop(const GemmInsn& insn) {
    const isa::LoopNest& loop = insn.loop;
    const uint32_t batch = batch_;
    const uint32_t block_out = block_out_;
    const uint32_t block_in = N > 0 ? static_cast<uint32_t>(N) : block_in_;
    for (uint64_t i = 0; i < loop.iter_out; ++i) {
      for (uint64_t j = 0; j < loop.iter_in; ++j) {
        const uint64_t dst_off = i * loop.dst_factor_out + j * loop.dst_factor_in;
        const uint64_t src_off = i * loop.src_factor_out + j * loop.src_factor_in;
        const uint64_t wgt_off = i * insn.wgt_factor_out + j * insn.wgt_factor_in;
        for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
          const isa::MicroOp& u = uops_[k];
          AccT* acc = acc_.data() + (u.dst_idx + dst_off) * acc_lanes_;
          const InpT* inp = inp_.data() + (u.src_idx + src_off) * inp_lanes_;
          const WgtT* wgt = wgt_.data() + (u.wgt_idx + wgt_off) * wgt_lanes_;
          for (uint32_t b = 0; b < batch; ++b) {
            const InpT* x = inp + uint64_t{b} * block_in;
            AccT* a = acc + uint64_t{b} * block_out;
            for (uint32_t o = 0; o < block_out; ++o) {
              const uint32_t s = dot<N>(x, wgt + uint64_t{o} * block_in, block_in);
              a[o] = static_cast<AccT>(static_cast<uint32_t>(a[o]) + s);
            }
          }
        }
      }
    }
  }

  // WGT elements (bo x bi int8, row-major) -> the paired layout: w[o][2kp], w[o][2kp + 1] -> one 32-bit
  // pair at pair[kp][o]. The SIMD level's own transposition when it has one for this geometry, else with
  // SSE2 4 outputs x 4 pairs at a time (sign-extend, 4x4 transpose).
  void put_wgt_paired(int16_t* dst, const uint8_t* src, uint64_t lanes) const {
    const uint64_t bi = block_in_, bo = block_out_;
    if (simd_->put_wgt_paired != nullptr && simd_->put_wgt_paired(dst, src, lanes / wgt_lanes_, block_in_, block_out_))
      return;
#if defined(__SSE2__)
    if (bo % 4 == 0 && bi % 8 == 0) {
      for (uint64_t e = 0; e < lanes; e += wgt_lanes_) {
        for (uint64_t o = 0; o < bo; o += 4) {
          for (uint64_t k = 0; k < bi; k += 8) {
            __m128i x[4];
            for (uint64_t r = 0; r < 4; ++r) {
              const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + e + (o + r) * bi + k));
              x[r] = _mm_srai_epi16(_mm_unpacklo_epi8(b, b), 8);  // 8 int16: pairs k/2 .. k/2 + 3 of row o + r
            }
            const __m128i t0 = _mm_unpacklo_epi32(x[0], x[1]), t1 = _mm_unpacklo_epi32(x[2], x[3]);
            const __m128i t2 = _mm_unpackhi_epi32(x[0], x[1]), t3 = _mm_unpackhi_epi32(x[2], x[3]);
            const __m128i p[4] = {_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1), _mm_unpacklo_epi64(t2, t3),
                                  _mm_unpackhi_epi64(t2, t3)};
            for (uint64_t q = 0; q < 4; ++q)
              _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + e + ((k / 2 + q) * bo + o) * 2), p[q]);
          }
        }
      }
      return;
    }
#endif
    for (uint64_t e = 0; e < lanes; e += wgt_lanes_) {
      for (uint64_t o = 0; o < bo; ++o) {
        const uint8_t* row = src + e + o * bi;
        for (uint64_t kp = 0; kp < bi / 2; ++kp) {
          const auto lo = static_cast<uint16_t>(static_cast<int16_t>(static_cast<int8_t>(row[2 * kp])));
          const auto hi = static_cast<uint16_t>(static_cast<int16_t>(static_cast<int8_t>(row[2 * kp + 1])));
          const uint32_t pair = lo | (uint32_t{hi} << 16);
          std::memcpy(dst + e + (kp * bo + o) * 2, &pair, 4);
        }
      }
    }
  }

  // Regroups the loop nest into sequences of rows sharing a weight tile (see the top of the file): along
  // the inner loop when its weight factor is 0, else along the outer loop when that one's is 0, and
  // along runs of consecutive micro-ops with the same weight index whose dst and src indices step
  // evenly (what the compiler's conv2d kernels contain), and along both loops when neither moves the
  // weight. Each group is a 2-D grid of rows handed to the SIMD kernel in one call (or a few).
  void gemm_paired(const GemmInsn& insn) {
    const isa::LoopNest& loop = insn.loop;
    // With worker threads, big GEMMs collect their grids first and split them by accumulator (below).
    collect_ = pool_ != nullptr &&
               uint64_t{loop.iter_out} * loop.iter_in * (loop.uop_end - loop.uop_bgn) * batch_ >= kMinThreadRows;
    grids_.clear();
    runs_.clear();
    for (uint32_t k = loop.uop_bgn; k < loop.uop_end;) {
      const isa::MicroOp& u0 = uops_[k];
      uint32_t e = k + 1;
      while (e < loop.uop_end && uops_[e].wgt_idx == u0.wgt_idx) ++e;
      Run run{k, e, true, 0, 0};
      if (e - k >= 2) {
        const isa::MicroOp& u1 = uops_[k + 1];
        run.affine = u1.dst_idx >= u0.dst_idx && u1.src_idx >= u0.src_idx;
        run.dst_step = u1.dst_idx - u0.dst_idx;
        run.src_step = u1.src_idx - u0.src_idx;
        for (uint32_t q = k + 1; q < e && run.affine; ++q)
          run.affine = uops_[q].dst_idx == u0.dst_idx + (q - k) * run.dst_step &&
                       uops_[q].src_idx == u0.src_idx + (q - k) * run.src_step;
      }
      runs_.push_back(run);
      k = e;
    }
    const uint64_t dfo = loop.dst_factor_out, dfi = loop.dst_factor_in;
    const uint64_t sfo = loop.src_factor_out, sfi = loop.src_factor_in;
    const auto wgt = [&](uint64_t index) { return wgt_.data() + index * wgt_lanes_; };
    // Runs of one micro-op each when a run is not affine.
    const auto each = [&](const Run& run, auto&& f) {
      if (run.affine) {
        f(uops_[run.begin], run.end - run.begin, run.dst_step, run.src_step);
      } else {
        for (uint32_t k = run.begin; k < run.end; ++k) f(uops_[k], 1u, uint64_t{0}, uint64_t{0});
      }
    };
    if (insn.wgt_factor_out == 0 && insn.wgt_factor_in == 0) {
      // One weight per micro-op for the whole nest: a grid of iter_out x iter_in rows per micro-op.
      for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k)
        grid(wgt(uops_[k].wgt_idx), uops_[k].dst_idx, uops_[k].src_idx, loop.iter_out, dfo, sfo, loop.iter_in, dfi,
             sfi);
    } else if (insn.wgt_factor_in == 0) {
      for (uint64_t i = 0; i < loop.iter_out; ++i)
        for (const Run& run : runs_)
          each(run, [&](const isa::MicroOp& u, uint32_t len, uint64_t ds, uint64_t ss) {
            grid(wgt(u.wgt_idx + i * insn.wgt_factor_out), u.dst_idx + i * dfo, u.src_idx + i * sfo, len, ds, ss,
                 loop.iter_in, dfi, sfi);
          });
    } else if (insn.wgt_factor_out == 0) {
      for (uint64_t j = 0; j < loop.iter_in; ++j)
        for (const Run& run : runs_)
          each(run, [&](const isa::MicroOp& u, uint32_t len, uint64_t ds, uint64_t ss) {
            grid(wgt(u.wgt_idx + j * insn.wgt_factor_in), u.dst_idx + j * dfi, u.src_idx + j * sfi, len, ds, ss,
                 loop.iter_out, dfo, sfo);
          });
    } else {
      for (uint64_t i = 0; i < loop.iter_out; ++i)
        for (uint64_t j = 0; j < loop.iter_in; ++j)
          for (const Run& run : runs_)
            each(run, [&](const isa::MicroOp& u, uint32_t len, uint64_t ds, uint64_t ss) {
              grid(wgt(u.wgt_idx + i * insn.wgt_factor_out + j * insn.wgt_factor_in), u.dst_idx + i * dfo + j * dfi,
                   u.src_idx + i * sfo + j * sfi, len, ds, ss, 1, 0, 0);
            });
    }
    if (collect_) run_grids_threaded();
  }

  // GEMM rows (a, b), a < na, b < nb, all with weight tile w: ACC entry d + a * da + b * db, INP entry
  // s + a * sa + b * sb.
  struct Grid {
    const WgtS* w;
    uint64_t d, s, na, da, sa, nb, db, sb;
  };

  void grid(const WgtS* w, uint64_t d, uint64_t s, uint64_t na, uint64_t da, uint64_t sa, uint64_t nb, uint64_t db,
            uint64_t sb) {
    if (na == 0 || nb == 0) return;
    if (nb == 1) nb = na, db = da, sb = sa, na = 1, da = sa = 0;
    if (collect_) {
      grids_.push_back(Grid{w, d, s, na, da, sa, nb, db, sb});
      if (grids_.size() >= kMaxGrids) run_grids_threaded();
      return;
    }
    run_grid(Grid{w, d, s, na, da, sa, nb, db, sb});
  }

  // The collected grids on the worker threads. Share t of the GEMM's ACC index range, [lo_t, hi_t), runs
  // exactly the rows that write accumulators in it, in their original order, on one thread: no
  // accumulator is written by two threads, so the result is the sequential one bit for bit (and would
  // be even in another order: int32 sums wrap associatively).
  void run_grids_threaded() {
    if (grids_.empty()) return;
    uint64_t lo = ~uint64_t{0}, hi = 0;
    for (const Grid& g : grids_) {
      lo = std::min(lo, g.d);
      hi = std::max(hi, g.d + (g.na - 1) * g.da + (g.nb - 1) * g.db + 1);
    }
    // More shares than threads, so a thread that is not scheduled leaves little to wait for.
    const uint64_t n = std::min<uint64_t>(uint64_t{pool_->size()} * kSharesPerThread, hi - lo);
    pool_->run(static_cast<uint32_t>(n), [&](uint32_t t) {
      const uint64_t a = lo + (hi - lo) * t / n, b = lo + (hi - lo) * (t + 1) / n;
      for (const Grid& g : grids_) run_grid_clipped(g, a, b);
    });
    grids_.clear();
  }

  // The rows of `g` whose ACC index lies in [lo, hi).
  void run_grid_clipped(const Grid& g, uint64_t lo, uint64_t hi) const {
    const uint64_t last = g.d + (g.na - 1) * g.da + (g.nb - 1) * g.db;
    if (last < lo || g.d >= hi) return;
    if (g.d >= lo && last < hi) return run_grid(g);
    for (uint64_t a = 0; a < g.na; ++a) {
      const uint64_t base = g.d + a * g.da;
      uint64_t b0 = 0, b1 = g.nb;
      if (g.db == 0) {
        if (base < lo || base >= hi) continue;
      } else {
        b0 = base >= lo ? 0 : (lo - base + g.db - 1) / g.db;
        b1 = base >= hi ? 0 : std::min(g.nb, (hi - base + g.db - 1) / g.db);
      }
      if (b0 < b1)
        run_grid(Grid{g.w, base + b0 * g.db, g.s + a * g.sa + b0 * g.sb, 1, 0, 0, b1 - b0, g.db, g.sb});
    }
  }

  // One grid on the SIMD kernels: in one call when the kernels take grids, else one strided call for a
  // line of BATCH 1 rows, else blocks of row pointers. Thread-safe (scratch on the stack).
  void run_grid(const Grid& g) const {
    const WgtS* const w = g.w;
    const uint64_t d = g.d, s = g.s, na = g.na, da = g.da, sa = g.sa, nb = g.nb, db = g.db, sb = g.sb;
    if (simd_->gemm_grid != nullptr) {
      const uint64_t al = acc_lanes_, il = inp_lanes_;
      simd_->gemm_grid(GemmGrid{const_cast<AccT*>(acc_.data()) + d * al, inp_.data() + s * il, na, da * al, sa * il,
                                nb, db * al, sb * il, batch_},
                       w, block_in_, block_out_);
      return;
    }
    if (batch_ == 1 && na == 1) {
      simd_->gemm_strided(const_cast<AccT*>(acc_.data()) + d * acc_lanes_, db * acc_lanes_,
                          inp_.data() + s * inp_lanes_, sb * inp_lanes_, static_cast<uint32_t>(nb), w, block_in_,
                          block_out_);
      return;
    }
    // Whether no two rows of the grid share an accumulator (then the kernel need not add row by row).
    const bool distinct = na == 1 ? (nb == 1 || db != 0) : (db != 0 && da >= db * nb) || (da != 0 && db >= da * na);
    // Locals only: stores into the pointer block must not make the compiler reload members.
    AccT* const acc0 = const_cast<AccT*>(acc_.data());
    const InpS* const inp0 = inp_.data();
    const uint64_t al = acc_lanes_, il = inp_lanes_, dbl = db * acc_lanes_, sbl = sb * inp_lanes_;
    const uint32_t batch = batch_, bi = block_in_, bo = block_out_;
    AccT* ra[kMaxRows + 64];
    const InpS* ri[kMaxRows + 64];
    const SimdKernels* const simd = simd_;
    uint32_t rows = 0;
    if (batch == 1) {
      for (uint64_t a = 0; a < na; ++a) {
        AccT* pa = acc0 + (d + a * da) * al;
        const InpS* px = inp0 + (s + a * sa) * il;
        for (uint64_t b = 0; b < nb; ++b, pa += dbl, px += sbl) {
          if (rows == kMaxRows) {
            simd->gemm_rows(ra, ri, rows, w, bi, bo, distinct);
            rows = 0;
          }
          ra[rows] = pa;
          ri[rows] = px;
          ++rows;
        }
      }
      if (rows > 0) simd->gemm_rows(ra, ri, rows, w, bi, bo, distinct);
      return;
    }
    for (uint64_t a = 0; a < na; ++a) {
      AccT* pa = acc0 + (d + a * da) * al;
      const InpS* px = inp0 + (s + a * sa) * il;
      for (uint64_t b = 0; b < nb; ++b, pa += dbl, px += sbl) {
        if (rows + batch > kMaxRows) {
          simd->gemm_rows(ra, ri, rows, w, bi, bo, distinct);
          rows = 0;
        }
        for (uint32_t e = 0; e < batch; ++e, ++rows) {
          ra[rows] = pa + uint64_t{e} * bo;
          ri[rows] = px + uint64_t{e} * bi;
        }
      }
    }
    if (rows > 0) simd->gemm_rows(ra, ri, rows, w, bi, bo, distinct);
  }

  // ALU on the SIMD kernels, in the reference's order (i, j, k): one strided call per loop where the
  // kernel has a single micro-op, one call per micro-op otherwise.
  void alu_simd(const AluInsn& insn, SimdAluOp op) {
    const isa::LoopNest& loop = insn.loop;
    AccT* acc = acc_.data();
    const uint64_t lanes = acc_lanes_;
    const auto imm = static_cast<int32_t>(insn.imm);
    const auto call = [&](uint64_t dst, uint64_t dst_stride, uint64_t src, uint64_t src_stride, uint64_t count) {
      simd_->alu_rows(op, acc + dst * lanes, dst_stride * lanes, insn.use_imm ? nullptr : acc + src * lanes,
                      src_stride * lanes, insn.use_imm, imm, count, static_cast<uint32_t>(lanes));
    };
    if (loop.uop_end - loop.uop_bgn == 1) {
      const isa::MicroOp& u = uops_[loop.uop_bgn];
      // The whole nest as one strided sequence when the outer step is iter_in inner steps.
      const bool flat = loop.dst_factor_out == uint64_t{loop.iter_in} * loop.dst_factor_in &&
                        (insn.use_imm || loop.src_factor_out == uint64_t{loop.iter_in} * loop.src_factor_in);
      if (flat) {
        call(u.dst_idx, loop.dst_factor_in, u.src_idx, loop.src_factor_in, uint64_t{loop.iter_out} * loop.iter_in);
        return;
      }
      for (uint64_t i = 0; i < loop.iter_out; ++i)
        call(u.dst_idx + i * loop.dst_factor_out, loop.dst_factor_in, u.src_idx + i * loop.src_factor_out,
             loop.src_factor_in, loop.iter_in);
      return;
    }
    for_each_dst(loop, [&](AccT* dst, uint64_t src_idx) {
      simd_->alu_rows(op, dst, 0, insn.use_imm ? nullptr : acc + src_idx * lanes, 0, insn.use_imm, imm, 1,
                      static_cast<uint32_t>(lanes));
    });
  }

  template <typename Op>
  void alu_dispatch(const AluInsn& insn, Op op) {
    if (insn.use_imm)
      alu_loop<true>(insn, op);
    else
      alu_loop<false>(insn, op);
  }

  template <bool kImm, typename Op>
  void alu_loop(const AluInsn& insn, Op op) {
    // The sign-extended 16-bit immediate as an ACC-width operand (modular conversion).
    const auto imm = static_cast<AccT>(insn.imm);
    const uint64_t lanes = acc_lanes_;
    AccT* acc = acc_.data();
    for_each_dst(insn.loop, [&](AccT* dst, uint64_t src_idx) {
      if constexpr (kImm) {
        for (uint64_t l = 0; l < lanes; ++l) dst[l] = op(dst[l], imm);
      } else {
        const AccT* src = acc + src_idx * lanes;
        for (uint64_t l = 0; l < lanes; ++l) dst[l] = op(dst[l], src[l]);
      }
    });
  }

  void load_uops(const MemInsn& insn, uint64_t rows, uint64_t cols, uint64_t index) {
    isa::MicroOp* base = uops_.data() + insn.sram_base;
    for (uint64_t r = 0; r < rows; ++r) {
      isa::MicroOp* row = base + r * cols;
      const bool data_row = r >= insn.y_pad_0 && r < uint64_t{insn.y_pad_0} + insn.y_size;
      if (!data_row) {
        std::fill(row, row + cols, isa::MicroOp{});
        continue;
      }
      const uint64_t address = (uint64_t{insn.dram_base} + (r - insn.y_pad_0) * insn.x_stride) * 4;
      const uint8_t* src = dram(address, uint64_t{insn.x_size} * 4, index);
      std::fill(row, row + insn.x_pad_0, isa::MicroOp{});
      for (uint64_t x = 0; x < insn.x_size; ++x) {
        uint32_t raw = 0;
        std::memcpy(&raw, src + x * 4, 4);
        row[insn.x_pad_0 + x] = codec_.decode_uop(raw);
      }
      std::fill(row + insn.x_pad_0 + insn.x_size, row + cols, isa::MicroOp{});
    }
  }

  // Loads a padded tile of elements of `lanes` DataT values each. `put(dst, src, n)` converts n lanes
  // from DRAM bytes into the on-chip representation; pads are zero in every representation.
  template <typename DataT, typename StorT, typename Put>
  void load_tile(const MemInsn& insn, StorT* sram, uint64_t lanes, uint64_t cols, uint64_t index, Put&& put) {
    StorT* tile = sram + uint64_t{insn.sram_base} * lanes;
    const uint64_t row_lanes = cols * lanes;
    const uint64_t data_lanes = uint64_t{insn.x_size} * lanes;
    std::fill(tile, tile + insn.y_pad_0 * row_lanes, StorT{0});
    const uint64_t eb = lanes * sizeof(DataT);
    dram_rows(uint64_t{insn.dram_base} * eb, uint64_t{insn.x_stride} * eb, insn.y_size, data_lanes * sizeof(DataT),
              index, [&](uint64_t y, const uint8_t* src) {
                StorT* row = tile + (insn.y_pad_0 + y) * row_lanes;
                std::fill(row, row + insn.x_pad_0 * lanes, StorT{0});
                put(row + insn.x_pad_0 * lanes, src, data_lanes);
                std::fill(row + insn.x_pad_0 * lanes + data_lanes, row + row_lanes, StorT{0});
              });
    StorT* bottom = tile + (insn.y_pad_0 + uint64_t{insn.y_size}) * row_lanes;
    std::fill(bottom, bottom + insn.y_pad_1 * row_lanes, StorT{0});
  }

  uint8_t* dram(uint64_t address, uint64_t bytes, uint64_t index) {
    try {
      return memory_.at(address, bytes);
    } catch (const MemoryError& e) {
      throw MemoryError("instruction " + std::to_string(index) + ": " + e.what());
    }
  }

  // f(y, DRAM pointer) for the rows y < n of `bytes` bytes at byte address first + y * stride: one
  // region lookup for all of them when they lie in one region (then no row can fail), else one per row,
  // so an error names the row's address.
  template <typename F>
  void dram_rows(uint64_t first, uint64_t stride, uint64_t n, uint64_t bytes, uint64_t index, F&& f) {
    if (n > 1) {
      const uint64_t span = (n - 1) * stride + bytes;
      if (memory_.contains(first, span)) {
        uint8_t* base = memory_.at(first, span);
        for (uint64_t y = 0; y < n; ++y) f(y, base + y * stride);
        return;
      }
    }
    for (uint64_t y = 0; y < n; ++y) f(y, dram(first + y * stride, bytes, index));
  }

  // The low 8 bits of each int32 (STORE's truncation to OUT).
  static void narrow_int32_to_int8(int8_t* dst, const int32_t* src, uint64_t n) {
    uint64_t l = 0;
#if defined(__SSE2__)
    // Masked to 0..255, both packs are exact (no saturation).
    const __m128i m = _mm_set1_epi32(0xff);
    for (; l + 16 <= n; l += 16) {
      const auto* p = reinterpret_cast<const __m128i*>(src + l);
      const __m128i a = _mm_and_si128(_mm_loadu_si128(p), m), b = _mm_and_si128(_mm_loadu_si128(p + 1), m);
      const __m128i c = _mm_and_si128(_mm_loadu_si128(p + 2), m), d = _mm_and_si128(_mm_loadu_si128(p + 3), m);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + l),
                       _mm_packus_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d)));
    }
#endif
    for (; l < n; ++l) dst[l] = static_cast<int8_t>(src[l]);
  }

  static void check_tile(const char* name, uint64_t base, uint64_t elements, uint64_t depth, uint64_t index) {
    if (base + elements > depth)
      throw ProgramError(std::string(name) + " index " + std::to_string(base + elements - 1) +
                             " out of range (buffer depth " + std::to_string(depth) + "; tile of " +
                             std::to_string(elements) + " elements at " + std::to_string(base) + ")",
                         index);
  }

  static void check_index(const char* name, uint64_t first, uint64_t span, uint64_t depth, uint32_t uop,
                          uint64_t index) {
    if (first + span >= depth)
      throw ProgramError(std::string(name) + " index " + std::to_string(first + span) +
                             " out of range (buffer depth " + std::to_string(depth) + "; micro-op " +
                             std::to_string(uop) + ")",
                         index);
  }

  void check_uop_range(const isa::LoopNest& loop, uint64_t index) const {
    if (loop.uop_bgn > loop.uop_end)
      throw ProgramError("micro-op range [" + std::to_string(loop.uop_bgn) + ", " + std::to_string(loop.uop_end) +
                             ") has uop_bgn > uop_end",
                         index);
    if (loop.uop_end > uop_depth_)
      throw ProgramError("micro-op range [" + std::to_string(loop.uop_bgn) + ", " + std::to_string(loop.uop_end) +
                             ") exceeds the UOP buffer depth " + std::to_string(uop_depth_),
                         index);
  }

  static constexpr uint32_t kMaxRows = 256;  // rows per SIMD GEMM call (at least BATCH)
  // A GEMM is split between threads from this many rows (a few microseconds of work; a hand-off costs
  // a fraction of one), in batches of at most kMaxGrids grids.
  static constexpr uint64_t kMinThreadRows = 512;
  static constexpr size_t kMaxGrids = 4096;
  static constexpr uint64_t kSharesPerThread = 4;

  const SimdKernels* simd_;
  isa::HwConfig config_;
  sim::DeviceMemory& memory_;
  isa::InstructionCodec codec_;
  uint32_t batch_, block_in_, block_out_;
  uint64_t inp_lanes_, wgt_lanes_, acc_lanes_;
  uint64_t uop_depth_, inp_depth_, wgt_depth_, acc_depth_;
  std::vector<isa::MicroOp> uops_;
  std::vector<InpS> inp_;
  std::vector<WgtS> wgt_;
  std::vector<AccT> acc_;
  std::vector<OutT> out_row_;
  // Scratch of gemm_paired: runs of micro-ops sharing a weight index (affine: dst and src indices step
  // by dst_step, src_step along the run), and one block of row pointers (BATCH > 1).
  struct Run {
    uint32_t begin, end;
    bool affine;
    uint64_t dst_step, src_step;
  };
  std::vector<Run> runs_;
  // Worker threads (VTA_FSIM_THREADS > 1; paired layout only) and the grids of the current GEMM they
  // split between them.
  std::unique_ptr<WorkerPool> pool_;
  bool collect_ = false;
  std::vector<Grid> grids_;
};

template <uint32_t Bits>
using IntOf = std::conditional_t<Bits == 8, int8_t, std::conditional_t<Bits == 16, int16_t, int32_t>>;

template <typename InpT, typename WgtT>
std::unique_ptr<ExecKernel> make_with_acc(const isa::HwConfig& c, sim::DeviceMemory& m, SimdLevel level,
                                          uint32_t threads) {
  switch (c.acc_width()) {
    case 8:
      if constexpr (sizeof(InpT) <= 1) return std::make_unique<FastKernel<InpT, WgtT, int8_t>>(c, m);
      break;
    case 16:
      if constexpr (sizeof(InpT) <= 2) return std::make_unique<FastKernel<InpT, WgtT, int16_t>>(c, m);
      break;
    case 32:
      if constexpr (sizeof(InpT) == 1 && sizeof(WgtT) == 1) {
        if (level != SimdLevel::kGeneric)
          return std::make_unique<FastKernel<InpT, WgtT, int32_t, true>>(c, m, simd_kernels(level), threads);
      }
      return std::make_unique<FastKernel<InpT, WgtT, int32_t>>(c, m);
  }
  throw ConfigError("LOG_ACC_WIDTH", "fsim needs an 8, 16 or 32-bit accumulator at least as wide as the input");
}

template <typename InpT>
std::unique_ptr<ExecKernel> make_with_wgt(const isa::HwConfig& c, sim::DeviceMemory& m, SimdLevel level,
                                          uint32_t threads) {
  switch (c.wgt_width()) {
    case 8: return make_with_acc<InpT, int8_t>(c, m, level, threads);
    case 16: return make_with_acc<InpT, int16_t>(c, m, level, threads);
    case 32: return make_with_acc<InpT, int32_t>(c, m, level, threads);
  }
  throw ConfigError("LOG_WGT_WIDTH", "fsim supports 8, 16 or 32-bit weights");
}

}  // namespace

SimdLevel resolve_simd(const isa::HwConfig& c, Simd requested) {
  SimdLevel want = SimdLevel::kGeneric;
  switch (requested) {
    case Simd::kAuto: want = simd_level_from_environment(); break;
    case Simd::kGeneric: want = SimdLevel::kGeneric; break;
    case Simd::kSse2: want = SimdLevel::kSse2; break;
    case Simd::kAvx2: want = SimdLevel::kAvx2; break;
    case Simd::kAvx512: want = SimdLevel::kAvx512; break;
  }
  if (!simd_supported(want))
    throw Error(std::string("fsim: this host (or build) cannot run the ") + to_string(want) + " kernels");
  // The SIMD kernels need int8 x int8 -> int32 and whole input pairs; AVX-512 (16 outputs a register,
  // then 8) and AVX2 whole 8-output vectors, SSE2 4-output vectors. A config that does not fit takes
  // the next level down.
  const bool paired = c.inp_width() == 8 && c.wgt_width() == 8 && c.acc_width() == 32 && c.block_in() % 2 == 0;
  if (!paired) return SimdLevel::kGeneric;
  if (want == SimdLevel::kAvx512 && c.block_out() % 8 == 0) return SimdLevel::kAvx512;
  if ((want == SimdLevel::kAvx2 || want == SimdLevel::kAvx512) && c.block_out() % 8 == 0 &&
      simd_supported(SimdLevel::kAvx2))
    return SimdLevel::kAvx2;
  if (want != SimdLevel::kGeneric && c.block_out() % 4 == 0 && simd_supported(SimdLevel::kSse2))
    return SimdLevel::kSse2;
  return SimdLevel::kGeneric;
}

std::unique_ptr<ExecKernel> make_fast_kernel(const isa::HwConfig& config, sim::DeviceMemory& memory, Simd simd) {
  const SimdLevel level = resolve_simd(config, simd);
  // Checked for every config; only the paired layout's GEMM runs on threads.
  const uint32_t threads = threads_from_environment();
  switch (config.inp_width()) {
    case 8: return make_with_wgt<int8_t>(config, memory, level, threads);
    case 16: return make_with_wgt<int16_t>(config, memory, level, threads);
    case 32: return make_with_wgt<int32_t>(config, memory, level, threads);
  }
  throw ConfigError("LOG_INP_WIDTH", "fsim supports 8, 16 or 32-bit inputs");
}

}  // namespace vta::fsim::detail

namespace vta::fsim {

std::string fast_kernel_path(const isa::HwConfig& config, Simd simd) {
  return detail::to_string(detail::resolve_simd(config, simd));
}

}  // namespace vta::fsim
