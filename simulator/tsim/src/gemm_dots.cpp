// The GEMM row's dot products of tsim's fast models: hardware/rtl/vta_compute_pipe.sv imports this
// function (DPI-C) in its simulation form and registers the result in S2, where synthesis has the
// DSP48s' products. Verilator compiled the same sums as BOUT x BIN multiplies of bit fields of wide
// words, a third of tsim's run time; here the common case (8-bit operands, 32-bit accumulator) is AVX2
// code where the build targets it (VTA_TSIM_NATIVE) or a loop over bytes that the compiler vectorizes,
// and any other width takes the general loop.
#include "gemm_dots.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace vta::tsim {
namespace {

constexpr unsigned kWordBits = 32;

uint64_t field(const uint32_t* v, uint64_t lo, unsigned width) {
  const uint64_t word = lo / kWordBits;
  const unsigned off = static_cast<unsigned>(lo % kWordBits);
  uint64_t bits = v[word] >> off;
  if (off + width > kWordBits) bits |= static_cast<uint64_t>(v[word + 1]) << (kWordBits - off);
  return width >= 64 ? bits : bits & ((uint64_t{1} << width) - 1);
}

int64_t sign_extend(uint64_t bits, unsigned width) {
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((bits ^ sign) - sign);
}

void put_field(uint32_t* v, uint64_t lo, unsigned width, uint64_t value) {
  for (unsigned i = 0; i < width; ++i) {
    const uint64_t bit = lo + i;
    const uint32_t mask = uint32_t{1} << (bit % kWordBits);
    if ((value >> i) & 1u) {
      v[bit / kWordBits] |= mask;
    } else {
      v[bit / kWordBits] &= ~mask;
    }
  }
}

// Any width: sign-extended fields, products and sums modulo 2^acc_w.
void dots_general(unsigned bin, unsigned bout, unsigned inp_w, unsigned wgt_w, unsigned acc_w,
                  const uint32_t* inp, const uint32_t* wgt, uint32_t* dots) {
  const uint64_t acc_mask = acc_w >= 64 ? ~uint64_t{0} : (uint64_t{1} << acc_w) - 1;
  for (unsigned o = 0; o < bout; ++o) {
    uint64_t sum = 0;
    for (unsigned x = 0; x < bin; ++x) {
      const int64_t a = sign_extend(field(inp, uint64_t{x} * inp_w, inp_w), inp_w);
      const int64_t w = sign_extend(field(wgt, (uint64_t{o} * bin + x) * wgt_w, wgt_w), wgt_w);
      sum += static_cast<uint64_t>(a) * static_cast<uint64_t>(w);
    }
    put_field(dots, uint64_t{o} * acc_w, acc_w, sum & acc_mask);
  }
}

// 8-bit operands, 32-bit accumulator: BIN products of at most 2^14 each stay far inside int32 for any
// BIN the config allows (<= 256), so the sum is exact and needs no modulo.
constexpr unsigned kMaxBytes = 4096;
template <unsigned Bin>
void dots_int8(unsigned bin, unsigned bout, const int8_t* x, const int8_t* w, uint32_t* dots) {
  const std::size_t n = Bin ? Bin : bin;
  for (unsigned o = 0; o < bout; ++o) {
    const int8_t* wo = w + o * n;
    int32_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += int32_t{x[i]} * int32_t{wo[i]};
    dots[o] = static_cast<uint32_t>(sum);
  }
}

#if defined(__AVX2__)
// AVX2, BIN a multiple of 16 and BOUT of 8 (every shipped config but block8): per output, 16 operand pairs
// widened to 16 bits and multiplied-and-added pairwise (vpmaddwd) into 8 partial sums, which 8 outputs at a
// time reduce together (vphaddd twice, then the two halves added).
bool dots_int8_avx2(unsigned bin, unsigned bout, const uint32_t* inp, const uint32_t* wgt, uint32_t* dots) {
  if (bin % 16 != 0 || bout % 8 != 0) return false;
  const auto* x = reinterpret_cast<const __m128i*>(inp);
  const auto* w = reinterpret_cast<const __m128i*>(wgt);
  const unsigned chunks = bin / 16;
  for (unsigned o0 = 0; o0 < bout; o0 += 8) {
    __m256i part[8];
    for (unsigned k = 0; k < 8; ++k) {
      __m256i acc = _mm256_setzero_si256();
      for (unsigned c = 0; c < chunks; ++c) {
        const __m256i xv = _mm256_cvtepi8_epi16(_mm_loadu_si128(x + c));
        const __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128(w + (o0 + k) * chunks + c));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
      }
      part[k] = acc;
    }
    const __m256i a = _mm256_hadd_epi32(_mm256_hadd_epi32(part[0], part[1]), _mm256_hadd_epi32(part[2], part[3]));
    const __m256i b = _mm256_hadd_epi32(_mm256_hadd_epi32(part[4], part[5]), _mm256_hadd_epi32(part[6], part[7]));
    const __m256i sums = _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dots + o0), sums);
  }
  return true;
}
#endif

}  // namespace

void gemm_dots(unsigned bin, unsigned bout, unsigned inp_w, unsigned wgt_w, unsigned acc_w,
               const uint32_t* inp, const uint32_t* wgt, uint32_t* dots) {
  if (inp_w == 8 && wgt_w == 8 && acc_w == 32 && bin <= kMaxBytes && bout * bin <= kMaxBytes) {
#if defined(__AVX2__)
    if (dots_int8_avx2(bin, bout, inp, wgt, dots)) return;
#endif
    // The words hold the elements from bit 0 up, so on a little-endian host their bytes are the elements.
    int8_t x[kMaxBytes];
    int8_t w[kMaxBytes];
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(x, inp, bin);
      std::memcpy(w, wgt, std::size_t{bout} * bin);
    } else {
      for (unsigned i = 0; i < bin; ++i) x[i] = static_cast<int8_t>(inp[i / 4] >> (8 * (i % 4)));
      for (unsigned i = 0; i < bout * bin; ++i) w[i] = static_cast<int8_t>(wgt[i / 4] >> (8 * (i % 4)));
    }
    switch (bin) {
      case 16: dots_int8<16>(bin, bout, x, w, dots); return;
      case 32: dots_int8<32>(bin, bout, x, w, dots); return;
      default: dots_int8<0>(bin, bout, x, w, dots); return;
    }
  }
  dots_general(bin, bout, inp_w, wgt_w, acc_w, inp, wgt, dots);
}

}  // namespace vta::tsim

// The DPI-C import of vta_compute_pipe.sv (svBitVecVal is uint32_t; bits from bit 0 of word 0 up).
extern "C" void vta_sim_gemm_dots(int bin, int bout, int inp_w, int wgt_w, int acc_w, const uint32_t* inp,
                                  const uint32_t* wgt, uint32_t* dots) {
  vta::tsim::gemm_dots(static_cast<unsigned>(bin), static_cast<unsigned>(bout), static_cast<unsigned>(inp_w),
                       static_cast<unsigned>(wgt_w), static_cast<unsigned>(acc_w), inp, wgt, dots);
}
