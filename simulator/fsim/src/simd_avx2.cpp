// AVX2 kernels of the fast fsim data path (see simd.h). This file alone is compiled with -mavx2
// (simulator/fsim/CMakeLists.txt); nothing here runs unless simd_supported(kAvx2) said the CPU has it.
//
// GEMM: the scheduler hands over a block of rows (acc row, inp row) that all use one weight tile.
// R rows at a time keep R x (16 outputs) int32 sums in registers; per input pair, two vector loads
// of weight pairs serve all R rows (one 32-bit broadcast and two vpmaddwd per row), so the weight
// traffic is amortized over the rows and the loop is bound by the multiply-add ports, not by loads.
#include "simd.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

#include <cstring>

namespace vta::fsim::detail {
namespace {

inline __m256i broadcast_pair(const int16_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Row addressing: an array of pointers, or a base and a stride.
struct PtrRows {
  int32_t* const* acc;
  const int16_t* const* inp;
  int32_t* a(uint32_t r) const { return acc[r]; }
  const int16_t* x(uint32_t r) const { return inp[r]; }
  PtrRows from(uint32_t r) const { return {acc + r, inp + r}; }
};
struct StridedRows {
  int32_t* acc;
  uint64_t acc_stride;
  const int16_t* inp;
  uint64_t inp_stride;
  int32_t* a(uint32_t r) const { return acc + r * acc_stride; }
  const int16_t* x(uint32_t r) const { return inp + r * inp_stride; }
  StridedRows from(uint32_t r) const { return {a(r), acc_stride, x(r), inp_stride}; }
};

// R rows x (8 * NV) outputs starting at output o; P pairs (0 = `pairs` at run time). kDistinct: the
// rows' accumulators are distinct, so the sums start from the accumulators themselves (saves the final
// add); otherwise they start from 0 and are added row after row.
template <int R, int NV, int P, bool kDistinct, typename Rows>
inline void gemm_block(const Rows& rows, const int16_t* w, uint32_t pairs, uint32_t bo, uint32_t o) {
  const uint32_t np = P > 0 ? static_cast<uint32_t>(P) : pairs;
  __m256i s[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v)
      s[r][v] = kDistinct ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows.a(static_cast<uint32_t>(r)) + o + 8 * v))
                          : _mm256_setzero_si256();
  const int16_t* x[R];
  for (int r = 0; r < R; ++r) x[r] = rows.x(static_cast<uint32_t>(r));
  const int16_t* wr = w + uint64_t{o} * 2;
  const uint64_t wstep = uint64_t{bo} * 2;
  for (uint32_t kp = 0; kp < np; ++kp, wr += wstep) {
    __m256i wv[NV];
    for (int v = 0; v < NV; ++v) wv[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wr + 16 * v));
    for (int r = 0; r < R; ++r) {
      const __m256i xb = broadcast_pair(x[r] + 2 * kp);
      for (int v = 0; v < NV; ++v) s[r][v] = _mm256_add_epi32(s[r][v], _mm256_madd_epi16(xb, wv[v]));
    }
    // Keep each sum a running register: without this barrier GCC reassociates the unrolled adds into
    // trees whose temporaries spill to the stack (half the speed).
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < NV; ++v) asm("" : "+x"(s[r][v]));
  }
  // Row after row: two rows of the block may name the same accumulator.
  for (int r = 0; r < R; ++r) {
    int32_t* acc = rows.a(static_cast<uint32_t>(r));
    for (int v = 0; v < NV; ++v) {
      auto* a = reinterpret_cast<__m256i*>(acc + o + 8 * v);
      _mm256_storeu_si256(a, kDistinct ? s[r][v] : _mm256_add_epi32(_mm256_loadu_si256(a), s[r][v]));
    }
  }
}

template <int NV, int P, bool kDistinct, typename Rows>
inline void gemm_chunk(const Rows& rows, uint32_t count, const int16_t* w, uint32_t pairs, uint32_t bo, uint32_t o) {
  constexpr int kRows = NV == 2 ? 6 : 12;  // 6 x 2 or 12 x 1 sum registers (+ weights, broadcast: <= 16)
  uint32_t r = 0;
  for (; r + kRows <= count; r += kRows) gemm_block<kRows, NV, P, kDistinct>(rows.from(r), w, pairs, bo, o);
  if (r + kRows / 2 <= count) {
    gemm_block<kRows / 2, NV, P, kDistinct>(rows.from(r), w, pairs, bo, o);
    r += kRows / 2;
  }
  for (; r + 2 <= count; r += 2) gemm_block<2, NV, P, kDistinct>(rows.from(r), w, pairs, bo, o);
  if (r < count) gemm_block<1, NV, P, kDistinct>(rows.from(r), w, pairs, bo, o);
}

template <int P, bool kDistinct, typename Rows>
void gemm_p(const Rows& rows, uint32_t count, const int16_t* w, uint32_t bi, uint32_t bo) {
  const uint32_t pairs = bi / 2;
  uint32_t o = 0;
  for (; o + 16 <= bo; o += 16) gemm_chunk<2, P, kDistinct>(rows, count, w, pairs, bo, o);
  if (o < bo) gemm_chunk<1, P, kDistinct>(rows, count, w, pairs, bo, o);  // bo % 16 == 8
}

template <bool kDistinct, typename Rows>
void gemm_any(const Rows& rows, uint32_t count, const int16_t* w, uint32_t bi, uint32_t bo) {
  switch (bi) {
    case 8: gemm_p<4, kDistinct>(rows, count, w, bi, bo); break;
    case 16: gemm_p<8, kDistinct>(rows, count, w, bi, bo); break;
    case 32: gemm_p<16, kDistinct>(rows, count, w, bi, bo); break;
    default: gemm_p<0, kDistinct>(rows, count, w, bi, bo); break;
  }
}

void gemm_rows_avx2(int32_t* const* acc, const int16_t* const* inp, uint32_t rows, const int16_t* w, uint32_t bi,
                    uint32_t bo, bool distinct) {
  if (distinct)
    gemm_any<true>(PtrRows{acc, inp}, rows, w, bi, bo);
  else
    gemm_any<false>(PtrRows{acc, inp}, rows, w, bi, bo);
}

void gemm_strided_avx2(int32_t* acc, uint64_t acc_stride, const int16_t* inp, uint64_t inp_stride, uint32_t rows,
                       const int16_t* w, uint32_t bi, uint32_t bo) {
  // A non-zero stride of whole ACC elements (>= BLOCK_OUT lanes) never revisits an accumulator.
  if (acc_stride != 0)
    gemm_any<true>(StridedRows{acc, acc_stride, inp, inp_stride}, rows, w, bi, bo);
  else
    gemm_any<false>(StridedRows{acc, acc_stride, inp, inp_stride}, rows, w, bi, bo);
}

template <SimdAluOp Op>
struct AluFn {
  __m256i operator()(__m256i a, __m256i b) const {
    if constexpr (Op == SimdAluOp::kMin) return _mm256_min_epi32(a, b);
    if constexpr (Op == SimdAluOp::kMax) return _mm256_max_epi32(a, b);
    if constexpr (Op == SimdAluOp::kAdd) return _mm256_add_epi32(a, b);
    if constexpr (Op == SimdAluOp::kMul) return _mm256_mullo_epi32(a, b);  // low 32 bits: wraps like the ACC
    if constexpr (Op == SimdAluOp::kShr) {
      // vpsravd fills with the sign for counts >= 32 and vpsllvd gives 0 for counts >= 32 (-INT_MIN
      // stays 0x80000000, also >= 32): exactly the documented rule; negative amounts take the left
      // shift, selected by b's sign bit (vblendvps reads only that bit). Amounts are almost always
      // non-negative: then one vpsravd does.
      const __m256i right = _mm256_srav_epi32(a, b);
      if (_mm256_movemask_ps(_mm256_castsi256_ps(b)) == 0) return right;
      const __m256i left = _mm256_sllv_epi32(a, _mm256_sub_epi32(_mm256_setzero_si256(), b));
      return _mm256_castps_si256(
          _mm256_blendv_ps(_mm256_castsi256_ps(right), _mm256_castsi256_ps(left), _mm256_castsi256_ps(b)));
    }
  }
};

// SHR by an immediate: one uniform shift, right (vpsrad fills with the sign for counts >= 32) or, for a
// negative immediate, left (vpslld gives 0 for counts >= 32) by the magnitude.
template <bool kLeft>
struct ShiftByFn {
  __m128i count;
  __m256i operator()(__m256i a, __m256i /*imm*/) const {
    return kLeft ? _mm256_sll_epi32(a, count) : _mm256_sra_epi32(a, count);
  }
};

template <bool kImm, int L, typename F>
void alu_loop(int32_t* dst, uint64_t dst_stride, const int32_t* src, uint64_t src_stride, int32_t imm, uint64_t count,
              uint32_t lanes_rt, const F& f) {
  const uint32_t lanes = L > 0 ? static_cast<uint32_t>(L) : lanes_rt;
  const __m256i vi = _mm256_set1_epi32(imm);
  for (uint64_t n = 0; n < count; ++n) {
    int32_t* d = dst + n * dst_stride;
    const int32_t* s = kImm ? nullptr : src + n * src_stride;
    for (uint32_t l = 0; l < lanes; l += 8) {
      auto* pd = reinterpret_cast<__m256i*>(d + l);
      const __m256i b = kImm ? vi : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + l));
      _mm256_storeu_si256(pd, f(_mm256_loadu_si256(pd), b));
    }
  }
}

template <bool kImm, typename F>
void alu_lanes(int32_t* dst, uint64_t ds, const int32_t* src, uint64_t ss, int32_t imm, uint64_t count, uint32_t lanes,
               const F& f) {
  if (lanes == 16) return alu_loop<kImm, 16>(dst, ds, src, ss, imm, count, lanes, f);
  return alu_loop<kImm, 0>(dst, ds, src, ss, imm, count, lanes, f);
}

void alu_rows_avx2(SimdAluOp op, int32_t* dst, uint64_t ds, const int32_t* src, uint64_t ss, bool use_imm, int32_t imm,
                   uint64_t count, uint32_t lanes) {
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

constexpr SimdKernels kAvx2{gemm_rows_avx2, gemm_strided_avx2, alu_rows_avx2, nullptr, nullptr};

}  // namespace

const SimdKernels* avx2_kernels() { return &kAvx2; }

}  // namespace vta::fsim::detail

#else

namespace vta::fsim::detail {
const SimdKernels* avx2_kernels() { return nullptr; }
}  // namespace vta::fsim::detail

#endif
