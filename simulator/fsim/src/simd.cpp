// Run-time choice of the fast kernel's instruction set, and the SSE2 kernels (baseline x86-64, so they
// are compiled with the library's ordinary flags). See simd.h.
#include "simd.h"

#include <cstdlib>
#include <cstring>

#include "vta/isa/error.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define VTA_FSIM_X86 1
#endif

namespace vta::fsim::detail {

const char* to_string(SimdLevel level) {
  switch (level) {
    case SimdLevel::kGeneric: return "generic";
    case SimdLevel::kSse2: return "sse2";
    case SimdLevel::kAvx2: return "avx2";
    case SimdLevel::kAvx512: return "avx512";
  }
  return "?";
}

namespace {

#if defined(VTA_FSIM_X86)
// acc[o] += sum_k x[k] * w[o][k] for o < bo (a multiple of 4), one row, paired layout.
inline void gemm_row_sse2(int32_t* acc, const int16_t* x, const int16_t* w, uint32_t bi, uint32_t bo) {
  const uint32_t pairs = bi / 2;
  uint32_t o = 0;
  for (; o + 16 <= bo; o += 16) {
    __m128i s0 = _mm_setzero_si128(), s1 = _mm_setzero_si128(), s2 = _mm_setzero_si128(), s3 = _mm_setzero_si128();
    for (uint32_t kp = 0; kp < pairs; ++kp) {
      int32_t xx;
      std::memcpy(&xx, x + 2 * kp, 4);
      const __m128i xb = _mm_set1_epi32(xx);
      const int16_t* r = w + (uint64_t{kp} * bo + o) * 2;
      s0 = _mm_add_epi32(s0, _mm_madd_epi16(xb, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r))));
      s1 = _mm_add_epi32(s1, _mm_madd_epi16(xb, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 8))));
      s2 = _mm_add_epi32(s2, _mm_madd_epi16(xb, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 16))));
      s3 = _mm_add_epi32(s3, _mm_madd_epi16(xb, _mm_loadu_si128(reinterpret_cast<const __m128i*>(r + 24))));
    }
    auto* a = reinterpret_cast<__m128i*>(acc + o);
    _mm_storeu_si128(a, _mm_add_epi32(_mm_loadu_si128(a), s0));
    _mm_storeu_si128(a + 1, _mm_add_epi32(_mm_loadu_si128(a + 1), s1));
    _mm_storeu_si128(a + 2, _mm_add_epi32(_mm_loadu_si128(a + 2), s2));
    _mm_storeu_si128(a + 3, _mm_add_epi32(_mm_loadu_si128(a + 3), s3));
  }
  for (; o < bo; o += 4) {
    __m128i s = _mm_setzero_si128();
    for (uint32_t kp = 0; kp < pairs; ++kp) {
      int32_t xx;
      std::memcpy(&xx, x + 2 * kp, 4);
      const int16_t* r = w + (uint64_t{kp} * bo + o) * 2;
      s = _mm_add_epi32(s, _mm_madd_epi16(_mm_set1_epi32(xx), _mm_loadu_si128(reinterpret_cast<const __m128i*>(r))));
    }
    auto* a = reinterpret_cast<__m128i*>(acc + o);
    _mm_storeu_si128(a, _mm_add_epi32(_mm_loadu_si128(a), s));
  }
}

void gemm_rows_sse2(int32_t* const* acc, const int16_t* const* inp, uint32_t rows, const int16_t* w, uint32_t bi,
                    uint32_t bo, bool /*distinct*/) {
  for (uint32_t r = 0; r < rows; ++r) gemm_row_sse2(acc[r], inp[r], w, bi, bo);
}

void gemm_strided_sse2(int32_t* acc, uint64_t acc_stride, const int16_t* inp, uint64_t inp_stride, uint32_t rows,
                       const int16_t* w, uint32_t bi, uint32_t bo) {
  for (uint32_t r = 0; r < rows; ++r) gemm_row_sse2(acc + r * acc_stride, inp + r * inp_stride, w, bi, bo);
}

// Plain C++ (SSE2 has no 32-bit min/max/mullo); one loop per op so the compiler vectorizes what it can.
template <SimdAluOp Op>
inline int32_t alu_scalar(int32_t a, int32_t b) {
  if constexpr (Op == SimdAluOp::kMin) return b < a ? b : a;
  if constexpr (Op == SimdAluOp::kMax) return b > a ? b : a;
  if constexpr (Op == SimdAluOp::kAdd) return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
  if constexpr (Op == SimdAluOp::kMul) return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
  if constexpr (Op == SimdAluOp::kShr) {
    if (b >= 0) return b >= 32 ? (a < 0 ? -1 : 0) : (a >> b);
    if (b <= -32) return 0;
    return static_cast<int32_t>(static_cast<uint32_t>(a) << -b);
  }
}

template <SimdAluOp Op>
void alu_loop_plain(int32_t* dst, uint64_t ds, const int32_t* src, uint64_t ss, bool use_imm, int32_t imm,
                    uint64_t count, uint32_t lanes) {
  for (uint64_t n = 0; n < count; ++n) {
    int32_t* d = dst + n * ds;
    if (use_imm) {
      for (uint32_t l = 0; l < lanes; ++l) d[l] = alu_scalar<Op>(d[l], imm);
    } else {
      const int32_t* s = src + n * ss;
      for (uint32_t l = 0; l < lanes; ++l) d[l] = alu_scalar<Op>(d[l], s[l]);
    }
  }
}

void alu_rows_plain(SimdAluOp op, int32_t* dst, uint64_t ds, const int32_t* src, uint64_t ss, bool use_imm,
                    int32_t imm, uint64_t count, uint32_t lanes) {
  with_alu_op(op, [&](auto k) { alu_loop_plain<decltype(k)::value>(dst, ds, src, ss, use_imm, imm, count, lanes); });
}

constexpr SimdKernels kSse2{gemm_rows_sse2, gemm_strided_sse2, alu_rows_plain, nullptr, nullptr};
#endif

bool cpu_has_avx2() {
#if defined(VTA_FSIM_X86)
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// The AVX-512 kernels use F, BW, VL and VNNI (libgcc also checks that the OS saves the zmm state).
bool cpu_has_avx512() {
#if defined(VTA_FSIM_X86)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

constexpr SimdLevel kBestFirst[] = {SimdLevel::kAvx512, SimdLevel::kAvx2, SimdLevel::kSse2};

}  // namespace

bool simd_supported(SimdLevel level) {
  switch (level) {
    case SimdLevel::kGeneric: return true;
#if defined(VTA_FSIM_X86)
    case SimdLevel::kSse2: return true;
#else
    case SimdLevel::kSse2: return false;
#endif
    case SimdLevel::kAvx2: return cpu_has_avx2() && avx2_kernels() != nullptr;
    case SimdLevel::kAvx512: return cpu_has_avx512() && avx512_kernels() != nullptr;
  }
  return false;
}

SimdLevel simd_level_from_environment() {
  const char* env = std::getenv("VTA_FSIM_SIMD");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "auto") == 0) {
    for (SimdLevel l : kBestFirst)
      if (simd_supported(l)) return l;
    return SimdLevel::kGeneric;
  }
  for (SimdLevel l : {SimdLevel::kGeneric, SimdLevel::kSse2, SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (std::strcmp(env, to_string(l)) != 0) continue;
    if (!simd_supported(l))
      throw Error(std::string("VTA_FSIM_SIMD=") + env + ": this host (or build) cannot run the " + env + " kernels");
    return l;
  }
  throw Error(std::string("VTA_FSIM_SIMD=") + env + ": unknown value (expected auto, generic, sse2, avx2 or avx512)");
}

const SimdKernels* simd_kernels(SimdLevel level) {
  if (!simd_supported(level)) return nullptr;
  switch (level) {
    case SimdLevel::kGeneric: return nullptr;
#if defined(VTA_FSIM_X86)
    case SimdLevel::kSse2: return &kSse2;
#else
    case SimdLevel::kSse2: return nullptr;
#endif
    case SimdLevel::kAvx2: return avx2_kernels();
    case SimdLevel::kAvx512: return avx512_kernels();
  }
  return nullptr;
}

}  // namespace vta::fsim::detail
