// AVX-512 kernels of the fast fsim data path (see simd.h): AVX-512F/BW/VL plus VNNI. This file alone is
// compiled with those flags (simulator/fsim/CMakeLists.txt); nothing here runs unless
// simd_supported(kAvx512) said the CPU (and the OS, for the zmm state) has them.
//
// GEMM: vpdpwssd adds the two int16 products of each 32-bit lane into an int32 accumulator, i.e. the
// AVX2 kernel's vpmaddwd + vpaddd in one instruction, exactly (|a*b + c*d| <= 2^15 on int8-range
// values; the non-saturating form wraps like the ACC). One zmm holds 16 outputs, so the whole weight
// tile of a 16 x 16 block (8 pairs) sits in 8 of the 32 registers for the whole grid of rows sharing
// it, and each row costs its accumulator load, one vpdpwssd per input pair (the pair broadcast straight
// from memory) and a store. Rows are read, updated and written one after another, so rows that share
// an accumulator need no special case; independent rows overlap in the out-of-order core.
#include "simd.h"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512VNNI__)
#include <immintrin.h>

namespace vta::fsim::detail {
namespace {

// s += pairs of products of w and the input pair at x broadcast to every lane, the broadcast folded
// into vpdpwssd's memory operand (GCC keeps a separate vpbroadcastd for the intrinsics: one more uop
// per pair). INP is not written while a GEMM runs, so the asm's read of x needs no ordering.
#define VTA_DPWSSD_BCST(s, w, x, lanes) \
  asm("vpdpwssd %2%{1to" #lanes "%}, %1, %0" : "+v"(s) : "v"(w), "m"(*reinterpret_cast<const int32_t*>(x)))

// 16 outputs per register.
struct Zmm {
  using T = __m512i;
  static constexpr uint32_t kLanes = 16;
  static T load(const void* p) { return _mm512_loadu_si512(p); }
  static void store(void* p, T v) { _mm512_storeu_si512(p, v); }
  static T zero() { return _mm512_setzero_si512(); }
  static T add(T a, T b) { return _mm512_add_epi32(a, b); }
  static T dp(T s, const int16_t* x, T w) {
    VTA_DPWSSD_BCST(s, w, x, 16);
    return s;
  }
};
// 8 outputs per register (BLOCK_OUT % 16 == 8).
struct Ymm {
  using T = __m256i;
  static constexpr uint32_t kLanes = 8;
  static T load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store(void* p, T v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
  static T zero() { return _mm256_setzero_si256(); }
  static T add(T a, T b) { return _mm256_add_epi32(a, b); }
  static T dp(T s, const int16_t* x, T w) {
    VTA_DPWSSD_BCST(s, w, x, 8);
    return s;
  }
};

// Calls row(acc row, inp row) for every row of the grid, in order (a, b, e).
// `g` by value: the row stores must not make the compiler reload the strides.
template <typename F>
inline void for_each_row(const GemmGrid g, uint32_t bi, uint32_t bo, F&& row) {
  for (uint64_t a = 0; a < g.na; ++a) {
    int32_t* pa = g.acc + a * g.acc_a;
    const int16_t* px = g.inp + a * g.inp_a;
    if (g.batch == 1) {
      for (uint64_t b = 0; b < g.nb; ++b, pa += g.acc_b, px += g.inp_b) row(pa, px);
    } else {
      for (uint64_t b = 0; b < g.nb; ++b, pa += g.acc_b, px += g.inp_b)
        for (uint32_t e = 0; e < g.batch; ++e) row(pa + uint64_t{e} * bo, px + uint64_t{e} * bi);
    }
  }
}

// Outputs [o, o + V::kLanes) of every row, P pairs (compile time): the weights stay in registers.
// Two sum chains per row halve the dependent vpdpwssd latency.
template <typename V, int P>
void grid_pass(const GemmGrid& g, const int16_t* w, uint32_t bi, uint32_t bo, uint32_t o) {
  typename V::T wv[P];
  for (int kp = 0; kp < P; ++kp) wv[kp] = V::load(w + (uint64_t(kp) * bo + o) * 2);
  for_each_row(g, bi, bo, [&](int32_t* acc, const int16_t* x) {
    typename V::T s0 = V::load(acc + o), s1 = V::zero();
    for (int kp = 0; kp + 1 < P; kp += 2) {
      s0 = V::dp(s0, x + 2 * kp, wv[kp]);
      s1 = V::dp(s1, x + 2 * kp + 2, wv[kp + 1]);
    }
    if constexpr (P % 2 == 1) s0 = V::dp(s0, x + 2 * (P - 1), wv[P - 1]);
    V::store(acc + o, V::add(s0, s1));
  });
}

// Any number of pairs: weights read from memory (L1) at each use.
template <typename V>
void grid_pass_any(const GemmGrid& g, const int16_t* w, uint32_t bi, uint32_t bo, uint32_t o) {
  const uint32_t pairs = bi / 2;
  const uint64_t wstep = uint64_t{bo} * 2;
  for_each_row(g, bi, bo, [&](int32_t* acc, const int16_t* x) {
    typename V::T s = V::load(acc + o);
    const int16_t* wr = w + uint64_t{o} * 2;
    for (uint32_t kp = 0; kp < pairs; ++kp, wr += wstep) s = V::dp(s, x + 2 * kp, V::load(wr));
    V::store(acc + o, s);
  });
}

template <typename V>
void grid_outputs(const GemmGrid& g, const int16_t* w, uint32_t bi, uint32_t bo, uint32_t o) {
  switch (bi) {
    case 8: return grid_pass<V, 4>(g, w, bi, bo, o);
    case 16: return grid_pass<V, 8>(g, w, bi, bo, o);
    case 32: return grid_pass<V, 16>(g, w, bi, bo, o);
    default: return grid_pass_any<V>(g, w, bi, bo, o);
  }
}

void gemm_grid_avx512(const GemmGrid& g, const int16_t* w, uint32_t bi, uint32_t bo) {
  if (g.na == 0 || g.nb == 0) return;
  uint32_t o = 0;
  for (; o + 16 <= bo; o += 16) grid_outputs<Zmm>(g, w, bi, bo, o);
  if (o < bo) grid_outputs<Ymm>(g, w, bi, bo, o);  // bo % 16 == 8
}

void gemm_rows_avx512(int32_t* const* acc, const int16_t* const* inp, uint32_t rows, const int16_t* w, uint32_t bi,
                      uint32_t bo, bool /*distinct*/) {
  for (uint32_t r = 0; r < rows; ++r) gemm_grid_avx512(GemmGrid{acc[r], inp[r], 1, 0, 0, 1, 0, 0, 1}, w, bi, bo);
}

void gemm_strided_avx512(int32_t* acc, uint64_t acc_stride, const int16_t* inp, uint64_t inp_stride, uint32_t rows,
                         const int16_t* w, uint32_t bi, uint32_t bo) {
  gemm_grid_avx512(GemmGrid{acc, inp, 1, 0, 0, rows, acc_stride, inp_stride, 1}, w, bi, bo);
}

// LOAD WGT for 16 x 16 elements. Taking the int8 element as 128 16-bit words, word o*8 + kp holds the
// pair (w[o][2kp], w[o][2kp + 1]); paired row kp is those words for o = 0..15, sign-extended to int16.
// Two rows at a time: vpermt2w picks rows kp and kp+1 of outputs 0..7 from the first 64 words and of
// outputs 8..15 from the last 64, a blend merges them, and vpmovsxbw widens each half into one row.
bool put_wgt_paired_avx512(int16_t* dst, const uint8_t* src, uint64_t elements, uint32_t bi, uint32_t bo) {
  if (bi != 16 || bo != 16) return false;
  alignas(64) int16_t lo_idx[4][32] = {}, hi_idx[4][32] = {};
  for (int q = 0; q < 4; ++q) {
    const int kp = 2 * q;
    for (int o = 0; o < 8; ++o) {
      lo_idx[q][o] = static_cast<int16_t>(o * 8 + kp);           // outputs 0..7, pair kp
      lo_idx[q][16 + o] = static_cast<int16_t>(o * 8 + kp + 1);  // outputs 0..7, pair kp + 1
      hi_idx[q][8 + o] = static_cast<int16_t>(o * 8 + kp);       // outputs 8..15 (words 64.. as 0..)
      hi_idx[q][24 + o] = static_cast<int16_t>(o * 8 + kp + 1);
    }
  }
  __m512i li[4], hi[4];
  for (int q = 0; q < 4; ++q) {
    li[q] = _mm512_load_si512(lo_idx[q]);
    hi[q] = _mm512_load_si512(hi_idx[q]);
  }
  constexpr __mmask32 kHighOutputs = 0xff00ff00u;
  for (uint64_t e = 0; e < elements; ++e, src += 256, dst += 256) {
    const __m512i v0 = _mm512_loadu_si512(src), v1 = _mm512_loadu_si512(src + 64);
    const __m512i v2 = _mm512_loadu_si512(src + 128), v3 = _mm512_loadu_si512(src + 192);
    for (int q = 0; q < 4; ++q) {
      const __m512i r = _mm512_mask_blend_epi16(kHighOutputs, _mm512_permutex2var_epi16(v0, li[q], v1),
                                                _mm512_permutex2var_epi16(v2, hi[q], v3));
      _mm512_storeu_si512(dst + 64 * q, _mm512_cvtepi8_epi16(_mm512_castsi512_si256(r)));
      _mm512_storeu_si512(dst + 64 * q + 32, _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(r, 1)));
    }
  }
  return true;
}

// The ALU ops as functors over a zmm (16 lanes) or a ymm (the last 8 of a row).
template <SimdAluOp Op>
struct AluFn {
  template <typename T>
  T operator()(T a, T b) const {
    if constexpr (sizeof(T) == 64) {
      if constexpr (Op == SimdAluOp::kMin) return _mm512_min_epi32(a, b);
      if constexpr (Op == SimdAluOp::kMax) return _mm512_max_epi32(a, b);
      if constexpr (Op == SimdAluOp::kAdd) return _mm512_add_epi32(a, b);
      if constexpr (Op == SimdAluOp::kMul) return _mm512_mullo_epi32(a, b);  // low 32 bits: wraps like the ACC
      if constexpr (Op == SimdAluOp::kShr) {
        // vpsravd fills with the sign and vpsllvd gives 0 for counts >= 32 (as unsigned; -INT_MIN stays
        // 0x80000000): the documented rule; negative amounts take the left shift. Shift amounts are
        // almost always non-negative, so a register without a negative one costs one vpsravd.
        const __mmask16 neg = _mm512_cmplt_epi32_mask(b, _mm512_setzero_si512());
        if (neg == 0) return _mm512_srav_epi32(a, b);
        return _mm512_mask_sllv_epi32(_mm512_srav_epi32(a, b), neg, a, _mm512_sub_epi32(_mm512_setzero_si512(), b));
      }
    } else {
      if constexpr (Op == SimdAluOp::kMin) return _mm256_min_epi32(a, b);
      if constexpr (Op == SimdAluOp::kMax) return _mm256_max_epi32(a, b);
      if constexpr (Op == SimdAluOp::kAdd) return _mm256_add_epi32(a, b);
      if constexpr (Op == SimdAluOp::kMul) return _mm256_mullo_epi32(a, b);
      if constexpr (Op == SimdAluOp::kShr) {
        const __mmask8 neg = _mm256_cmplt_epi32_mask(b, _mm256_setzero_si256());
        if (neg == 0) return _mm256_srav_epi32(a, b);
        return _mm256_mask_sllv_epi32(_mm256_srav_epi32(a, b), neg, a, _mm256_sub_epi32(_mm256_setzero_si256(), b));
      }
    }
  }
};

// SHR by an immediate: one uniform shift, right (vpsrad fills with the sign for counts >= 32) or, for a
// negative immediate, left (vpslld gives 0 for counts >= 32) by the magnitude.
template <bool kLeft>
struct ShiftByFn {
  __m128i count;
  template <typename T>
  T operator()(T a, T /*imm*/) const {
    if constexpr (sizeof(T) == 64) return kLeft ? _mm512_sll_epi32(a, count) : _mm512_sra_epi32(a, count);
    else return kLeft ? _mm256_sll_epi32(a, count) : _mm256_sra_epi32(a, count);
  }
};

// One row of `lanes` (a multiple of 8): zmm for each 16 lanes, a ymm for the last 8.
template <bool kImm, int L, typename F>
inline void alu_row(int32_t* d, const int32_t* s, __m512i vi, uint32_t lanes_rt, const F& f) {
  const uint32_t lanes = L > 0 ? static_cast<uint32_t>(L) : lanes_rt;
  uint32_t l = 0;
  for (; l + 16 <= lanes; l += 16) {
    const __m512i b = kImm ? vi : _mm512_loadu_si512(s + l);
    _mm512_storeu_si512(d + l, f(_mm512_loadu_si512(d + l), b));
  }
  if (l < lanes) {
    auto* pd = reinterpret_cast<__m256i*>(d + l);
    const __m256i b = kImm ? _mm512_castsi512_si256(vi) : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + l));
    _mm256_storeu_si256(pd, f(_mm256_loadu_si256(pd), b));
  }
}

template <bool kImm, int L, typename F>
void alu_loop(int32_t* dst, uint64_t dst_stride, const int32_t* src, uint64_t src_stride, int32_t imm, uint64_t count,
              uint32_t lanes, const F& f) {
  const __m512i vi = _mm512_set1_epi32(imm);
  for (uint64_t n = 0; n < count; ++n, dst += dst_stride) {
    alu_row<kImm, L>(dst, kImm ? nullptr : src, vi, lanes, f);
    if constexpr (!kImm) src += src_stride;
  }
}

template <bool kImm, typename F>
void alu_lanes(int32_t* dst, uint64_t ds, const int32_t* src, uint64_t ss, int32_t imm, uint64_t count, uint32_t lanes,
               const F& f) {
  if (lanes == 16) return alu_loop<kImm, 16>(dst, ds, src, ss, imm, count, lanes, f);
  return alu_loop<kImm, 0>(dst, ds, src, ss, imm, count, lanes, f);
}

void alu_rows_avx512(SimdAluOp op, int32_t* dst, uint64_t ds, const int32_t* src, uint64_t ss, bool use_imm,
                     int32_t imm, uint64_t count, uint32_t lanes) {
  if (op == SimdAluOp::kShr && use_imm) {
    // The magnitude as unsigned: -INT_MIN is 2^31, a count >= 32 like any other.
    const uint32_t magnitude = imm < 0 ? 0u - static_cast<uint32_t>(imm) : static_cast<uint32_t>(imm);
    const __m128i count_reg = _mm_cvtsi64_si128(static_cast<int64_t>(magnitude));
    if (imm < 0) return alu_lanes<true>(dst, ds, src, ss, imm, count, lanes, ShiftByFn<true>{count_reg});
    return alu_lanes<true>(dst, ds, src, ss, imm, count, lanes, ShiftByFn<false>{count_reg});
  }
  with_alu_op(op, [&](auto k) {
    if (use_imm) return alu_lanes<true>(dst, ds, src, ss, imm, count, lanes, AluFn<decltype(k)::value>{});
    return alu_lanes<false>(dst, ds, src, ss, imm, count, lanes, AluFn<decltype(k)::value>{});
  });
}

constexpr SimdKernels kAvx512{gemm_rows_avx512, gemm_strided_avx512, alu_rows_avx512, gemm_grid_avx512,
                                  put_wgt_paired_avx512};

}  // namespace

const SimdKernels* avx512_kernels() { return &kAvx512; }

}  // namespace vta::fsim::detail

#else

namespace vta::fsim::detail {
const SimdKernels* avx512_kernels() { return nullptr; }
}  // namespace vta::fsim::detail

#endif
