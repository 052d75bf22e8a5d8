// The GEMM dot products tsim's fast models take from C (simulator/tsim/src/gemm_dots.cpp) against a plain
// per-bit reference: the elements packed bit by bit, the sums exact and then cut to the accumulator width.
#include "gemm_dots.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

__extension__ typedef __int128 Wide;  // exact sums of up to 256 products of 64 bits

struct Shape {
  unsigned bin, bout, inp_w, wgt_w, acc_w;
};

void put_bits(std::vector<uint32_t>& words, uint64_t lo, unsigned width, uint64_t value) {
  for (unsigned i = 0; i < width; ++i) {
    if ((value >> i) & 1u) words[(lo + i) / 32] |= uint32_t{1} << ((lo + i) % 32);
  }
}

uint64_t get_bits(const std::vector<uint32_t>& words, uint64_t lo, unsigned width) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) v |= uint64_t{(words[(lo + i) / 32] >> ((lo + i) % 32)) & 1u} << i;
  return v;
}

int64_t random_signed(std::mt19937_64& rng, unsigned width, int bias) {
  const int64_t lo = -(int64_t{1} << (width - 1)), hi = (int64_t{1} << (width - 1)) - 1;
  if (bias == 1) return lo;  // the extremes, where a wrong sign extension shows
  if (bias == 2) return hi;
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

void check(const Shape& s, std::mt19937_64& rng, int bias) {
  std::vector<int64_t> x(s.bin), w(std::size_t{s.bout} * s.bin);
  std::vector<uint32_t> inp((s.bin * s.inp_w + 31) / 32 + 1, 0), wgt((w.size() * s.wgt_w + 31) / 32 + 1, 0);
  for (unsigned i = 0; i < s.bin; ++i) {
    x[i] = random_signed(rng, s.inp_w, bias);
    put_bits(inp, uint64_t{i} * s.inp_w, s.inp_w, static_cast<uint64_t>(x[i]));
  }
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = random_signed(rng, s.wgt_w, bias);
    put_bits(wgt, i * s.wgt_w, s.wgt_w, static_cast<uint64_t>(w[i]));
  }
  // bits past the result are left as they were: fill with ones to see that
  std::vector<uint32_t> dots((s.bout * s.acc_w + 31) / 32 + 1, 0xffffffffu);
  vta::tsim::gemm_dots(s.bin, s.bout, s.inp_w, s.wgt_w, s.acc_w, inp.data(), wgt.data(), dots.data());
  for (unsigned o = 0; o < s.bout; ++o) {
    Wide sum = 0;
    for (unsigned i = 0; i < s.bin; ++i) sum += static_cast<Wide>(x[i]) * w[std::size_t{o} * s.bin + i];
    const uint64_t want = static_cast<uint64_t>(sum) & ((uint64_t{1} << s.acc_w) - 1);
    ASSERT_EQ(get_bits(dots, uint64_t{o} * s.acc_w, s.acc_w), want)
        << "bin " << s.bin << " bout " << s.bout << " widths " << s.inp_w << "/" << s.wgt_w << "/" << s.acc_w
        << " output " << o << " bias " << bias;
  }
}

TEST(TsimGemmDots, ShippedShapesMatchThePlainSum) {
  std::mt19937_64 rng(7);
  // default, block8, block32 and in16_out32 (16 in, 32 out); then output counts that are no multiple of
  // 8, which take the plain loop where the AVX2 path would otherwise run
  for (const Shape s : {Shape{16, 16, 8, 8, 32}, Shape{8, 8, 8, 8, 32}, Shape{32, 32, 8, 8, 32},
                        Shape{16, 32, 8, 8, 32}, Shape{16, 4, 8, 8, 32}, Shape{32, 12, 8, 8, 32}}) {
    for (int bias = 0; bias < 3; ++bias) {
      for (int rep = 0; rep < 20; ++rep) check(s, rng, bias);
    }
  }
}

TEST(TsimGemmDots, EveryWidthAConfigAllowsMatchesThePlainSum) {
  std::mt19937_64 rng(11);
  for (unsigned inp_w : {8u, 16u, 32u}) {
    for (unsigned wgt_w : {8u, 16u, 32u}) {
      for (unsigned acc_w : {8u, 16u, 32u}) {
        if (acc_w < inp_w) continue;  // HwConfig: the accumulator is at least as wide as the input
        for (const auto& [bin, bout] : {std::pair{1u, 1u}, std::pair{2u, 4u}, std::pair{16u, 16u}, std::pair{64u, 2u}}) {
          for (int bias = 0; bias < 3; ++bias) check({bin, bout, inp_w, wgt_w, acc_w}, rng, bias);
        }
      }
    }
  }
}

TEST(TsimGemmDots, LargestBlockMatchesThePlainSum) {
  std::mt19937_64 rng(13);
  // LOG_BLOCK 8: more bytes than the 8-bit path's buffers take, so the general loop runs
  for (int bias = 0; bias < 3; ++bias) check({256, 256, 8, 8, 32}, rng, bias);
  check({256, 4, 8, 8, 32}, rng, 0);
}

}  // namespace
