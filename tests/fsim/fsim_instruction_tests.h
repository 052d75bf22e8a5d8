// The instruction-semantics tests of fsim (data path, padding, GEMM/ALU, counters, no-ops, tokens), written
// against a ProgramExecutor so that they run on fsim (tests/fsim/fsim_test.cpp, both kernels) and on tsim
// through driver::Device (tests/hardware/tsim_instruction_test.cpp) with the same expected values.
//
// Include it at file scope after defining VTA_INSTRUCTION_TEST_SUITE as the name of a fixture in namespace
// vta::fsim::test (not an anonymous one) derived from InstructionTestBase (instruction_test_base.h) and
// ::testing::WithParamInterface<T>, implementing exec(); then instantiate it with INSTANTIATE_TEST_SUITE_P.
// The fsim-only tests (error and deadlock messages, serial schedule, clear_buffers) stay in fsim_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "instruction_test_base.h"

#ifndef VTA_INSTRUCTION_TEST_SUITE
#error "define VTA_INSTRUCTION_TEST_SUITE (the fixture) before including fsim_instruction_tests.h"
#endif

namespace vta::fsim::test {

// ---------------------------------------------------------------------------------------------------
// Data path

TEST_P(VTA_INSTRUCTION_TEST_SUITE, StoreWritesLowOutBitsOfAcc) {
  std::vector<int32_t> acc = random_values<int32_t>(3 * kLanes, INT32_MIN, INT32_MAX);
  acc[0] = 0x12345680;  // low byte 0x80 -> -128
  acc[1] = -1;
  acc[2] = 255;
  const uint32_t src = put(MemoryType::kAcc, acc);
  const uint32_t out = out_area(3);
  run({load(MemoryType::kAcc, 5, src, 1, 3, 3), store(5, out, 1, 3, 3)});
  const std::vector<int8_t> got = read_out(out, 3);
  for (size_t i = 0; i < acc.size(); ++i) EXPECT_EQ(got[i], static_cast<int8_t>(acc[i])) << "lane " << i;
  EXPECT_EQ(got[0], -128);
  EXPECT_EQ(got[1], -1);
  EXPECT_EQ(got[2], -1);
  EXPECT_EQ(read_acc(5, 3), acc);
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, StoreUsesStrideAndRows) {
  std::vector<int32_t> acc = random_values<int32_t>(6 * kLanes, -100, 100);
  const uint32_t src = put(MemoryType::kAcc, acc);
  const uint32_t out = out_area(3 * 5);
  // ACC 0..5 = 2 rows x 3 elements, stored with x_stride 5 at rows 0 and 1.
  run({load(MemoryType::kAcc, 0, src, 1, 6, 6), store(0, out, 2, 3, 5)});
  const std::vector<int8_t> got = read_out(out, 15);
  for (uint32_t y = 0; y < 3; ++y)
    for (uint32_t x = 0; x < 5; ++x)
      for (uint32_t l = 0; l < kLanes; ++l) {
        const int8_t v = got[(y * 5 + x) * kLanes + l];
        if (y < 2 && x < 3)
          EXPECT_EQ(v, static_cast<int8_t>(acc[(y * 3 + x) * kLanes + l]));
        else
          EXPECT_EQ(v, 0x5a) << "untouched element (" << y << "," << x << ")";
      }
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, LoadAccPadsEverySide) {
  // Pre-fill ACC 0..39 with a recognizable value, then load a padded tile on top.
  std::vector<int32_t> prefill(40 * kLanes, 0x01010101);
  const uint32_t pre = put(MemoryType::kAcc, prefill);
  // DRAM: 3 rows of stride 4; the load takes y_size 2 rows of x_size 3 starting at element 1.
  std::vector<int32_t> dram = random_values<int32_t>(12 * kLanes, INT32_MIN, INT32_MAX);
  const uint32_t base = put(MemoryType::kAcc, dram);
  const Pad pad{1, 2, 1, 2};  // y0, y1, x0, x1 -> tile of 5 rows x 6 columns
  run({load(MemoryType::kAcc, 0, pre, 1, 40, 40), load(MemoryType::kAcc, 2, base + 1, 2, 3, 4, pad)});
  const std::vector<int32_t> got = read_acc(0, 40);
  for (uint32_t e = 0; e < 40; ++e) {
    for (uint32_t l = 0; l < kLanes; ++l) {
      int32_t expect = 0x01010101;
      if (e >= 2 && e < 32) {
        const uint32_t r = (e - 2) / 6, c = (e - 2) % 6;
        expect = 0;
        if (r >= 1 && r < 3 && c >= 1 && c < 4) expect = dram[((r - 1) * 4 + 1 + (c - 1)) * kLanes + l];
      }
      ASSERT_EQ(got[e * kLanes + l], expect) << "element " << e << " lane " << l;
    }
  }
}

// Identity weights make acc[i] = inp[i], so the INP tile (with its padding) becomes visible.
TEST_P(VTA_INSTRUCTION_TEST_SUITE, LoadInpPadsEverySide) {
  std::vector<int8_t> ident(kLanes * kLanes, 0);
  for (uint32_t i = 0; i < kLanes; ++i) ident[i * kLanes + i] = 1;
  std::vector<int8_t> prefill(30 * kLanes, 7);
  std::vector<int8_t> dram = random_values<int8_t>(8 * kLanes, -128, 127);
  const uint32_t w = put(MemoryType::kWgt, ident);
  const uint32_t pre = put(MemoryType::kInp, prefill);
  const uint32_t in = put(MemoryType::kInp, dram);
  const uint32_t u = put_uops({MicroOp{0, 0, 0}});
  const Pad pad{2, 1, 2, 1};  // 2 data rows of 2 -> 5 rows x 5 columns = 25 elements at sram 1
  run({load(MemoryType::kInp, 0, pre, 1, 30, 30), load(MemoryType::kInp, 1, in, 2, 2, 4, pad),
       load(MemoryType::kWgt, 0, w, 1, 1, 1), load(MemoryType::kUop, 0, u, 1, 1, 1),
       gemm(Loop{0, 1, 1, 30, 0, 1, 0, 1}, true), gemm(Loop{0, 1, 1, 30, 0, 1, 0, 1})});
  const std::vector<int32_t> got = read_acc(0, 30);
  for (uint32_t e = 0; e < 30; ++e)
    for (uint32_t l = 0; l < kLanes; ++l) {
      int32_t expect = 7;
      if (e >= 1 && e < 26) {
        const uint32_t r = (e - 1) / 5, c = (e - 1) % 5;
        expect = 0;
        if (r >= 2 && r < 4 && c >= 2 && c < 4) expect = dram[((r - 2) * 4 + (c - 2)) * kLanes + l];
      }
      ASSERT_EQ(got[e * kLanes + l], expect) << "element " << e << " lane " << l;
    }
}

// An all-ones input makes acc[e][o] = sum_k wgt[e][o][k].
TEST_P(VTA_INSTRUCTION_TEST_SUITE, LoadWgtPadsEverySide) {
  std::vector<int8_t> ones(kLanes, 1);
  std::vector<int8_t> prefill(12 * kLanes * kLanes, 1);
  std::vector<int8_t> dram = random_values<int8_t>(3 * kLanes * kLanes, -128, 127);
  const uint32_t in = put(MemoryType::kInp, ones);
  const uint32_t pre = put(MemoryType::kWgt, prefill);
  const uint32_t w = put(MemoryType::kWgt, dram);
  const uint32_t u = put_uops({MicroOp{0, 0, 0}});
  const Pad pad{1, 1, 1, 1};  // 1 data row of 2 -> 3 rows x 4 columns = 12 elements at sram 0
  run({load(MemoryType::kWgt, 0, pre, 1, 12, 12), load(MemoryType::kWgt, 0, w + 1, 1, 2, 2, pad),
       load(MemoryType::kInp, 0, in, 1, 1, 1), load(MemoryType::kUop, 0, u, 1, 1, 1),
       gemm(Loop{0, 1, 1, 12, 0, 1, 0, 0, 0, 1}, true), gemm(Loop{0, 1, 1, 12, 0, 1, 0, 0, 0, 1})});
  const std::vector<int32_t> got = read_acc(0, 12);
  for (uint32_t e = 0; e < 12; ++e)
    for (uint32_t o = 0; o < kLanes; ++o) {
      int32_t expect = 0;
      if (e == 5 || e == 6)
        for (uint32_t k = 0; k < kLanes; ++k) expect += dram[((e - 5 + 1) * kLanes + o) * kLanes + k];
      ASSERT_EQ(got[e * kLanes + o], expect) << "element " << e << " row " << o;
    }
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, LoadUopPadsAreZeroMicroOps) {
  const uint32_t u = put_uops({MicroOp{5, 5, 0}});
  // Tile: [pad][uop 5][pad] at slots 0..2; ADD 1 over the three: acc[0] += 2, acc[5] += 1.
  run({load(MemoryType::kUop, 0, u, 1, 1, 1, Pad{0, 0, 1, 1}), alu(AluOpcode::kAdd, Loop{0, 3}, true, 1)});
  const std::vector<int32_t> got = read_acc(0, 6);
  for (uint32_t e = 0; e < 6; ++e)
    for (uint32_t l = 0; l < kLanes; ++l) EXPECT_EQ(got[e * kLanes + l], e == 0 ? 2 : e == 5 ? 1 : 0);
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, GemmTwoLevelLoopMatchesModel) {
  const uint32_t n_inp = 12, n_wgt = 10, n_acc = 16;
  std::vector<int8_t> inp = random_values<int8_t>(n_inp * kLanes, -128, 127);
  std::vector<int8_t> wgt = random_values<int8_t>(n_wgt * kLanes * kLanes, -128, 127);
  std::vector<int32_t> acc = random_values<int32_t>(n_acc * kLanes, INT32_MIN, INT32_MAX);
  std::vector<MicroOp> uops = {{0, 1, 2}, {3, 0, 0}, {1, 4, 5}};
  const Loop loop{0, 3, 2, 3, /*dst*/ 6, 2, /*src*/ 3, 1, /*wgt*/ 2, 1};
  const uint32_t ai = put(MemoryType::kInp, inp), aw = put(MemoryType::kWgt, wgt), aa = put(MemoryType::kAcc, acc);
  const uint32_t au = put_uops(uops);
  run({load(MemoryType::kInp, 0, ai, 1, n_inp, n_inp), load(MemoryType::kWgt, 0, aw, 1, n_wgt, n_wgt),
       load(MemoryType::kAcc, 0, aa, 1, n_acc, n_acc), load(MemoryType::kUop, 0, au, 1, 3, 3), gemm(loop)});
  EXPECT_EQ(counters().gemm_counter, 2u * 3u * 3u);
  // Model: plain loops, wrapping int32 via uint32.
  std::vector<int32_t> expect = acc;
  for (uint32_t i = 0; i < 2; ++i)
    for (uint32_t j = 0; j < 3; ++j)
      for (const MicroOp& u : uops) {
        const uint32_t d = u.dst_idx + i * 6 + j * 2, s = u.src_idx + i * 3 + j, w = u.wgt_idx + i * 2 + j;
        for (uint32_t o = 0; o < kLanes; ++o) {
          uint32_t sum = static_cast<uint32_t>(expect[d * kLanes + o]);
          for (uint32_t k = 0; k < kLanes; ++k)
            sum += static_cast<uint32_t>(int32_t{inp[s * kLanes + k]} * int32_t{wgt[(w * kLanes + o) * kLanes + k]});
          expect[d * kLanes + o] = static_cast<int32_t>(sum);
        }
      }
  EXPECT_EQ(read_acc(0, n_acc), expect);
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, GemmAccumulationWrapsAtAccWidth) {
  std::vector<int8_t> inp(kLanes, -128);
  std::vector<int8_t> wgt(kLanes * kLanes, -128);  // each dot = 16 * 16384 = 2^18
  std::vector<int32_t> acc(kLanes, INT32_MAX - 5);
  const uint32_t ai = put(MemoryType::kInp, inp), aw = put(MemoryType::kWgt, wgt), aa = put(MemoryType::kAcc, acc);
  const uint32_t au = put_uops({MicroOp{0, 0, 0}});
  run({load(MemoryType::kInp, 0, ai, 1, 1, 1), load(MemoryType::kWgt, 0, aw, 1, 1, 1),
       load(MemoryType::kAcc, 0, aa, 1, 1, 1), load(MemoryType::kUop, 0, au, 1, 1, 1), gemm(Loop{0, 1})});
  const auto expect = static_cast<int32_t>(static_cast<uint32_t>(INT32_MAX - 5) + (1u << 18));
  for (int32_t v : read_acc(0, 1)) EXPECT_EQ(v, expect);
}

// Every product of edge values, one per accumulator: the core packs the weights of outputs 2m and 2m+1
// into one multiplier, so each (w_lo, w_hi, x) combination of signs and extremes is checked alone.
TEST_P(VTA_INSTRUCTION_TEST_SUITE, GemmEveryEdgeProductIsExact) {
  const int8_t edge[] = {-128, -127, -1, 0, 1, 127};
  const uint32_t n_wgt = 6;  // 48 (w_lo, w_hi) pairs per column k cover the 36 combinations
  std::vector<int8_t> inp(kLanes * kLanes, 0), wgt(n_wgt * kLanes * kLanes);
  for (uint32_t r = 0; r < kLanes; ++r) inp[r * kLanes + r] = edge[r % 6];  // row r: x = edge at k = r
  for (uint32_t t = 0; t < n_wgt; ++t)
    for (uint32_t o = 0; o < kLanes; ++o)
      for (uint32_t k = 0; k < kLanes; ++k) {
        const uint32_t q = (o / 2 + t * (kLanes / 2) + k) % 36;
        wgt[(t * kLanes + o) * kLanes + k] = o % 2 == 0 ? edge[q % 6] : edge[q / 6];
      }
  std::vector<MicroOp> uops;
  for (uint32_t r = 0; r < kLanes; ++r)
    for (uint32_t t = 0; t < n_wgt; ++t) uops.push_back({r * n_wgt + t, r, t});
  const auto n = static_cast<uint32_t>(uops.size());
  const uint32_t ai = put(MemoryType::kInp, inp), aw = put(MemoryType::kWgt, wgt), au = put_uops(uops);
  run({load(MemoryType::kInp, 0, ai, 1, kLanes, kLanes), load(MemoryType::kWgt, 0, aw, 1, n_wgt, n_wgt),
       load(MemoryType::kUop, 0, au, 1, n, n), gemm(Loop{0, n}, true), gemm(Loop{0, n})});
  const std::vector<int32_t> got = read_acc(0, n);
  for (uint32_t r = 0; r < kLanes; ++r)
    for (uint32_t t = 0; t < n_wgt; ++t)
      for (uint32_t o = 0; o < kLanes; ++o)
        EXPECT_EQ(got[(r * n_wgt + t) * kLanes + o], int32_t{edge[r % 6]} * wgt[(t * kLanes + o) * kLanes + r])
            << "x " << int{edge[r % 6]} << ", output " << o << ", weight tile " << t;
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, GemmResetZeroesAndIsNotCounted) {
  std::vector<int32_t> acc = random_values<int32_t>(8 * kLanes, 1, 1000);
  const uint32_t aa = put(MemoryType::kAcc, acc);
  const uint32_t au = put_uops({MicroOp{1, 2000, 1000}});  // src/wgt unused (and out of range) on reset
  run({load(MemoryType::kAcc, 0, aa, 1, 8, 8), load(MemoryType::kUop, 0, au, 1, 1, 1),
       gemm(Loop{0, 1, 2, 2, 4, 1, 0, 0, 0, 0}, true)});
  EXPECT_EQ(counters().gemm_counter, 0u);
  const std::vector<int32_t> got = read_acc(0, 8);
  for (uint32_t e = 0; e < 8; ++e)
    for (uint32_t l = 0; l < kLanes; ++l) {
      const bool reset = e == 1 || e == 2 || e == 5 || e == 6;
      EXPECT_EQ(got[e * kLanes + l], reset ? 0 : acc[e * kLanes + l]) << "element " << e;
    }
}

// Model of one ALU lane for the tests (32-bit ACC).
inline int32_t alu_model(AluOpcode op, int32_t a, int32_t b) {
  const auto ua = static_cast<uint32_t>(a), ub = static_cast<uint32_t>(b);
  switch (op) {
    case AluOpcode::kMin: return std::min(a, b);
    case AluOpcode::kMax: return std::max(a, b);
    case AluOpcode::kAdd: return static_cast<int32_t>(ua + ub);
    case AluOpcode::kMul: return static_cast<int32_t>(ua * ub);
    case AluOpcode::kShr:
      if (b >= 32) return a < 0 ? -1 : 0;
      if (b >= 0) return a >> b;
      if (b <= -32) return 0;
      return static_cast<int32_t>(ua << -b);
  }
  return 0;
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, AluOperationsWithAccOperand) {
  const std::vector<int32_t> special = {INT32_MIN, INT32_MAX, -1, 0, 1, 2, 31, 32, 33, -31, -32, -33, 1000, -1000,
                                        0x12345678, -0x12345678};
  for (AluOpcode op : {AluOpcode::kMin, AluOpcode::kMax, AluOpcode::kAdd, AluOpcode::kShr, AluOpcode::kMul}) {
    SCOPED_TRACE(std::string(isa::to_string(op)));
    // ACC 0..3 = a operands, 4..7 = b operands (all pairs of special values plus random ones).
    std::vector<int32_t> a(4 * kLanes), b(4 * kLanes);
    for (uint32_t i = 0; i < 4 * kLanes; ++i) {
      a[i] = i < kLanes ? special[i] : static_cast<int32_t>(rng_());
      b[i] = special[(i * 7 + i / kLanes) % kLanes];
      if (i >= 3 * kLanes) b[i] = static_cast<int32_t>(rng_());
    }
    std::vector<int32_t> both = a;
    both.insert(both.end(), b.begin(), b.end());
    const uint32_t aa = put(MemoryType::kAcc, both);
    const uint32_t au = put_uops({MicroOp{0, 4, 0}});
    run({load(MemoryType::kAcc, 0, aa, 1, 8, 8), load(MemoryType::kUop, 0, au, 1, 1, 1),
         alu(op, Loop{0, 1, 1, 4, 0, 1, 0, 1})});
    EXPECT_EQ(counters().alu_counter, 4u);
    const std::vector<int32_t> got = read_acc(0, 4);
    for (uint32_t i = 0; i < 4 * kLanes; ++i)
      ASSERT_EQ(got[i], alu_model(op, a[i], b[i])) << "a=" << a[i] << " b=" << b[i];
  }
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, AluOperationsWithImmediate) {
  const std::vector<int32_t> imms = {0, 1, -1, 5, -5, 31, 32, 40, -31, -32, -40, 32767, -32768, 8};
  std::vector<int32_t> a = random_values<int32_t>(kLanes, INT32_MIN, INT32_MAX);
  a[0] = INT32_MIN;
  a[1] = INT32_MAX;
  a[2] = -1;
  a[3] = 0;
  for (AluOpcode op : {AluOpcode::kMin, AluOpcode::kMax, AluOpcode::kAdd, AluOpcode::kShr, AluOpcode::kMul}) {
    for (int32_t imm : imms) {
      SCOPED_TRACE(std::string(isa::to_string(op)) + " imm=" + std::to_string(imm));
      const uint32_t aa = put(MemoryType::kAcc, a);
      const uint32_t au = put_uops({MicroOp{3, 0, 0}});
      run({load(MemoryType::kAcc, 3, aa, 1, 1, 1), load(MemoryType::kUop, 0, au, 1, 1, 1),
           alu(op, Loop{0, 1}, true, imm)});
      const std::vector<int32_t> got = read_acc(3, 1);
      for (uint32_t l = 0; l < kLanes; ++l) ASSERT_EQ(got[l], alu_model(op, a[l], imm)) << "a=" << a[l];
    }
  }
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, AluInPlaceWithItselfAsSource) {
  std::vector<int32_t> a = random_values<int32_t>(kLanes, -50000, 50000);
  const uint32_t aa = put(MemoryType::kAcc, a);
  const uint32_t au = put_uops({MicroOp{2, 2, 0}});
  run({load(MemoryType::kAcc, 2, aa, 1, 1, 1), load(MemoryType::kUop, 0, au, 1, 1, 1),
       alu(AluOpcode::kMul, Loop{0, 1})});
  const std::vector<int32_t> got = read_acc(2, 1);
  for (uint32_t l = 0; l < kLanes; ++l) EXPECT_EQ(got[l], alu_model(AluOpcode::kMul, a[l], a[l]));
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, AluResetZeroesAndCounts) {
  std::vector<int32_t> acc = random_values<int32_t>(3 * kLanes, 1, 1000);
  const uint32_t aa = put(MemoryType::kAcc, acc);
  const uint32_t au = put_uops({MicroOp{1, 0, 0}});
  run({load(MemoryType::kAcc, 0, aa, 1, 3, 3), load(MemoryType::kUop, 0, au, 1, 1, 1),
       alu(AluOpcode::kAdd, Loop{0, 1}, true, 5, /*reset=*/true)});
  EXPECT_EQ(counters().alu_counter, 1u);
  const std::vector<int32_t> got = read_acc(0, 3);
  for (uint32_t e = 0; e < 3; ++e)
    for (uint32_t l = 0; l < kLanes; ++l) EXPECT_EQ(got[e * kLanes + l], e == 1 ? 0 : acc[e * kLanes + l]);
}

// ---------------------------------------------------------------------------------------------------
// Counters and no-ops

TEST_P(VTA_INSTRUCTION_TEST_SUITE, CountersFollowApacheVtaRules) {
  std::vector<int8_t> inp(20 * kLanes, 1);
  std::vector<int8_t> wgt(4 * kLanes * kLanes, 1);
  std::vector<int32_t> acc(4 * kLanes, 1);
  const uint32_t ai = put(MemoryType::kInp, inp), aw = put(MemoryType::kWgt, wgt), aa = put(MemoryType::kAcc, acc);
  const uint32_t au = put_uops({{0, 0, 0}, {1, 1, 1}, {2, 2, 2}});
  const uint32_t out = out_area(8);
  const std::vector<Instruction> prog = run({
      load(MemoryType::kInp, 0, ai, 2, 3, 5, Pad{1, 1, 1, 1}),  // 6 elements x 16 B (padding not counted)
      load(MemoryType::kWgt, 0, aw, 1, 4, 4),                   // 4 x 256 B
      load(MemoryType::kAcc, 0, aa, 2, 2, 2),                   // 4 x 64 B
      load(MemoryType::kUop, 0, au, 1, 3, 3),                   // 3 x 4 B
      load(MemoryType::kInp, 0, 0, 0, 0, 0),                    // no-op: nothing counted but the insn
      gemm(Loop{0, 3, 1, 1}, true),                             // reset: not counted
      gemm(Loop{0, 2, 2, 3}),                                   // 2 * 3 * 2 = 12
      alu(AluOpcode::kAdd, Loop{1, 3, 2, 1}, true, 1),          // 2 * 1 * 2 = 4
      alu(AluOpcode::kAdd, Loop{0, 1, 1, 1}, true, 1, true),    // reset ALU counts: 1
      store(0, out, 2, 2, 4),                                   // 4 x 16 B
      store(0, 0, 0, 0, 0, MemoryType::kUop),                   // no-op
  });
  isa::ExecutionCounters expect;
  for (const auto& insn : prog) {
    switch (isa::module_of(insn)) {
      case isa::Module::kLoad: ++expect.load_insn_count; break;
      case isa::Module::kCompute: ++expect.compute_insn_count; break;
      case isa::Module::kStore: ++expect.store_insn_count; break;
    }
  }
  EXPECT_EQ(expect.load_insn_count, 3u);
  EXPECT_EQ(expect.store_insn_count, 2u);
  expect.inp_load_nbytes = 6 * 16;
  expect.wgt_load_nbytes = 4 * 256;
  expect.acc_load_nbytes = 4 * 64;
  expect.uop_load_nbytes = 3 * 4;
  expect.out_store_nbytes = 4 * 16;
  expect.gemm_counter = 12;
  expect.alu_counter = 5;
  EXPECT_EQ(counters(), expect) << counters().to_json().dump();
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, TokenOnlyNoOpsTouchNoMemory) {
  // dram_base far outside every region, huge sizes and pads: x_size 0 makes each a no-op.
  std::vector<Instruction> prog;
  for (MemoryType t : isa::kAllMemoryTypes) {
    MemInsn l = load(t, 2047, 0x7fffffff, 9, 0, 3, Pad{15, 15, 15, 15});
    prog.push_back(l);
    MemInsn s = l;
    s.opcode = Opcode::kStore;
    prog.push_back(s);
  }
  const std::vector<Instruction> full = run(prog);
  const isa::ExecutionCounters& c = counters();
  EXPECT_EQ(c.load_insn_count + c.compute_insn_count + c.store_insn_count, full.size());
  EXPECT_EQ(c.inp_load_nbytes + c.wgt_load_nbytes + c.acc_load_nbytes + c.uop_load_nbytes + c.out_store_nbytes, 0u);
}

TEST_P(VTA_INSTRUCTION_TEST_SUITE, TokensFlowBetweenModules) {
  // load pushes twice ahead; compute consumes both; store round trip.
  MemInsn l1 = load(MemoryType::kInp, 0, 0, 0, 0, 0);
  l1.dep.push_next = true;
  MemInsn l2 = l1;
  MemInsn c1 = load(MemoryType::kUop, 0, 0, 0, 0, 0);
  c1.dep.pop_prev = true;
  c1.dep.push_next = true;
  MemInsn c2 = c1;
  c2.dep.push_next = false;
  MemInsn s = store(0, 0, 0, 0, 0);
  s.dep.pop_prev = true;
  s.dep.push_prev = true;
  FinishInsn f;
  f.dep.pop_next = true;
  run_raw({c1, l1, s, l2, c2, f});
  EXPECT_EQ(counters().load_insn_count, 2u);
  EXPECT_EQ(counters().compute_insn_count, 3u);
  EXPECT_EQ(counters().store_insn_count, 1u);
}

}  // namespace vta::fsim::test
