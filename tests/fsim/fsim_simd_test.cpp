// The fast kernel's SIMD paths (generic, SSE2, AVX2, AVX-512; every one this host runs) against the reference
// kernel on programs the random generator rarely makes: int8 edge values (-128 * -128 pairs, which
// overflow int16), int32 wrap-around in the accumulators, GEMM loop nests shaped like the compiler's
// conv2d (rows sharing a weight tile along the inner loop, the outer loop or runs of micro-ops, with
// row counts that are not multiples of the SIMD row block, and rows that share an accumulator), and
// every ALU op with immediates and vector operands at the shift boundaries. The whole ACC buffer is
// compared through four STOREs (the ACC shifted by 0, 8, 16, 24 bits).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "fsim_test_util.h"
#include "vta/isa/error.h"

namespace vta::fsim::test {
namespace {

struct Level {
  Simd simd;
  const char* name;
};
constexpr Level kLevels[] = {{Simd::kGeneric, "generic"}, {Simd::kSse2, "sse2"}, {Simd::kAvx2, "avx2"},
                             {Simd::kAvx512, "avx512"}};

// Levels this host runs (asking for one it lacks is an error, checked below).
std::vector<Level> host_levels(const isa::HwConfig& cfg) {
  std::vector<Level> out;
  for (const Level& l : kLevels) {
    try {
      (void)fast_kernel_path(cfg, l.simd);
      out.push_back(l);
    } catch (const Error&) {
    }
  }
  return out;
}

enum class Pattern { kRandom, kAllMin, kAllMax, kMinMax, kSmall };

std::vector<int8_t> int8_data(size_t n, Pattern p, std::mt19937& rng) {
  std::vector<int8_t> v(n);
  std::uniform_int_distribution<int> d(-128, 127), s(-2, 2);
  for (size_t i = 0; i < n; ++i) {
    switch (p) {
      case Pattern::kRandom: v[i] = static_cast<int8_t>(d(rng)); break;
      case Pattern::kAllMin: v[i] = -128; break;
      case Pattern::kAllMax: v[i] = 127; break;
      case Pattern::kMinMax: v[i] = (i % 3 == 0) ? int8_t{127} : int8_t{-128}; break;
      case Pattern::kSmall: v[i] = static_cast<int8_t>(s(rng)); break;
    }
  }
  return v;
}

// One program: loads INP/WGT/ACC/UOP, runs `body` (GEMM and ALU instructions), stores the ACC
// buffer's first `acc_elems` entries four times (shifted right by 0, 8, 16, 24 between the stores).
struct Case {
  std::vector<int8_t> inp, wgt;
  std::vector<int32_t> acc;
  std::vector<MicroOp> uops;
  std::vector<Instruction> body;
};

class SimdRig {
 public:
  SimdRig(const isa::HwConfig& cfg, Options opts) : cfg_(cfg), codec_(cfg), sim_(cfg, mem_, opts) {}

  // Runs the case; returns the four stored images.
  std::vector<int8_t> run(const Case& c) {
    sim_.clear_buffers();
    const auto put = [&](const void* data, uint64_t bytes, uint64_t eb) {
      const uint64_t a = mem_.allocate(bytes, std::max<uint64_t>(64, eb));  // element-aligned
      mem_.write(a, data, bytes);
      return static_cast<uint32_t>(a / eb);
    };
    const uint64_t ie = cfg_.inp().element_bytes, we = cfg_.wgt().element_bytes, ae = cfg_.acc().element_bytes;
    const uint64_t oe = cfg_.out().element_bytes;
    const auto n_inp = static_cast<uint32_t>(c.inp.size() / ie), n_wgt = static_cast<uint32_t>(c.wgt.size() / we);
    const auto n_acc = static_cast<uint32_t>(c.acc.size() * 4 / ae);
    std::vector<Instruction> prog;
    prog.push_back(load(MemoryType::kInp, 0, put(c.inp.data(), c.inp.size(), ie), 1, n_inp, n_inp));
    prog.push_back(load(MemoryType::kWgt, 0, put(c.wgt.data(), c.wgt.size(), we), 1, n_wgt, n_wgt));
    prog.push_back(load(MemoryType::kAcc, 0, put(c.acc.data(), c.acc.size() * 4, ae), 1, n_acc, n_acc));
    const uint32_t ub = place_uops(mem_, codec_, c.uops);
    const auto nu = static_cast<uint32_t>(c.uops.size());
    prog.push_back(load(MemoryType::kUop, 0, ub, 1, nu, nu));
    for (const auto& insn : c.body) prog.push_back(insn);
    const uint64_t out = mem_.allocate(4 * n_acc * oe, std::max<uint64_t>(64, oe));
    // The dump micro-op sits right after the case's micro-ops.
    const uint32_t dump = place_uops(mem_, codec_, {MicroOp{0, 0, 0}});
    prog.push_back(load(MemoryType::kUop, nu, dump, 1, 1, 1));
    for (uint32_t s = 0; s < 4; ++s) {
      if (s > 0) prog.push_back(alu(AluOpcode::kShr, Loop{nu, nu + 1, n_acc, 1, 1, 0, 0, 0}, true, 8));
      prog.push_back(store(0, static_cast<uint32_t>(out / oe) + s * n_acc, 1, n_acc, n_acc));
    }
    const std::vector<Instruction> ser = serialize_tokens(prog);
    const uint64_t addr = place_program(mem_, codec_, ser);
    sim_.run(addr, static_cast<uint32_t>(ser.size()));
    std::vector<int8_t> img(4 * n_acc * oe);
    mem_.read(out, img.data(), img.size());
    counters_ = sim_.counters();
    return img;
  }
  const isa::ExecutionCounters& counters() const { return counters_; }

 private:
  isa::HwConfig cfg_;
  isa::InstructionCodec codec_;
  sim::DeviceMemory mem_;
  FunctionalSimulator sim_;
  isa::ExecutionCounters counters_;
};

struct NamedConfig {
  std::string name;
  isa::HwConfig config;
};

std::vector<NamedConfig> configs() {
  std::vector<NamedConfig> out;
  for (const char* n : {"default", "block8", "block32", "batch2", "in16_out32"}) out.push_back({n, load_config(n)});
  // BLOCK_OUT 4: too narrow for the AVX2 kernel, so an AVX2 request takes SSE2.
  out.push_back({"block_out4", isa::HwConfig::from_string(
                                   R"({"LOG_INP_WIDTH":3,"LOG_WGT_WIDTH":3,"LOG_ACC_WIDTH":5,"LOG_BATCH":0,
                                   "LOG_BLOCK_IN":3,"LOG_BLOCK_OUT":2,"LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":13,
                                   "LOG_WGT_BUFF_SIZE":15,"LOG_ACC_BUFF_SIZE":15})")});
  // BLOCK_IN 4 and 64: the SIMD kernels' run-time pair counts (the others are compiled per block size).
  out.push_back({"block_in4", isa::HwConfig::from_string(
                                  R"({"LOG_INP_WIDTH":3,"LOG_WGT_WIDTH":3,"LOG_ACC_WIDTH":5,"LOG_BATCH":0,
                                  "LOG_BLOCK_IN":2,"LOG_BLOCK_OUT":4,"LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":13,
                                  "LOG_WGT_BUFF_SIZE":15,"LOG_ACC_BUFF_SIZE":15})")});
  out.push_back({"block_in64_out8", isa::HwConfig::from_string(
                                        R"({"LOG_INP_WIDTH":3,"LOG_WGT_WIDTH":3,"LOG_ACC_WIDTH":5,"LOG_BATCH":0,
                                        "LOG_BLOCK_IN":6,"LOG_BLOCK_OUT":3,"LOG_UOP_BUFF_SIZE":14,
                                        "LOG_INP_BUFF_SIZE":16,"LOG_WGT_BUFF_SIZE":15,"LOG_ACC_BUFF_SIZE":15})")});
  return out;
}

isa::HwConfig block_out4() {
  for (const NamedConfig& nc : configs())
    if (nc.name == "block_out4") return nc.config;
  throw Error("no block_out4 config");
}

// Cases for one config: edge-value GEMMs in each loop shape, then the ALU edge cases.
std::vector<Case> make_cases(const isa::HwConfig& cfg, std::mt19937& rng) {
  const uint64_t ie = cfg.inp().element_bytes, we = cfg.wgt().element_bytes;
  const uint64_t lanes = uint64_t{cfg.batch()} * cfg.block_out();
  constexpr uint32_t kInp = 64, kWgt = 12, kAcc = 48;
  std::vector<Case> cases;
  const auto base = [&](Pattern pi, Pattern pw) {
    Case c;
    c.inp = int8_data(kInp * ie, pi, rng);
    c.wgt = int8_data(kWgt * we, pw, rng);
    std::uniform_int_distribution<int32_t> d(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    c.acc.resize(kAcc * lanes);
    for (auto& v : c.acc) v = d(rng);
    // Accumulators near the int32 limits, so GEMM sums wrap.
    for (uint64_t l = 0; l < lanes; ++l) {
      c.acc[l] = std::numeric_limits<int32_t>::max() - static_cast<int32_t>(l);
      c.acc[lanes + l] = std::numeric_limits<int32_t>::min() + static_cast<int32_t>(l);
    }
    return c;
  };
  for (Pattern pi : {Pattern::kRandom, Pattern::kAllMin, Pattern::kAllMax, Pattern::kMinMax}) {
    for (Pattern pw : {Pattern::kRandom, Pattern::kAllMin, Pattern::kMinMax}) {
      // (A) weight constant along the inner loop (conv: pixels); runs of micro-ops sharing a weight.
      Case a = base(pi, pw);
      for (uint32_t k = 0; k < 5; ++k) a.uops.push_back(MicroOp{k * 3 % 7, k * 5 % 11, k / 2});
      a.body.push_back(gemm(Loop{0, 5, 3, 13, 9, 1, 2, 1, 3, 0}));
      // (B) weight constant along the outer loop, varying along the inner one.
      a.body.push_back(gemm(Loop{0, 3, 7, 2, 1, 20, 3, 1, 0, 4}));
      // (C) both weight factors non-zero; many rows share an accumulator (dst factors 0).
      a.body.push_back(gemm(Loop{1, 4, 2, 3, 0, 0, 9, 5, 2, 1}));
      // One micro-op, one iteration.
      a.body.push_back(gemm(Loop{4, 5, 1, 1}));
      cases.push_back(std::move(a));
    }
  }
  // Long conv-like block: 37 rows per weight (not a multiple of the row block), 2 weights.
  {
    Case c = base(Pattern::kRandom, Pattern::kRandom);
    c.uops = {MicroOp{0, 0, 0}, MicroOp{5, 1, 1}};
    c.body.push_back(gemm(Loop{0, 2, 1, 37, 0, 1, 0, 1, 0, 0}));
    c.body.push_back(gemm(Loop{0, 2, 2, 3, 0, 1, 0, 1, 4, 0}, /*reset=*/false));
    c.body.push_back(gemm(Loop{1, 2, 1, 5, 0, 1, 0, 0, 0, 0}, /*reset=*/true));
    cases.push_back(std::move(c));
  }
  // ALU: every op, immediate and vector, in the compiler's shapes and a multi-micro-op kernel.
  {
    const int32_t imms[] = {0, 1, 7, 31, 32, 33, -1, -7, -31, -32, -33, 32767, -32768};
    for (uint32_t op = 0; op < 5; ++op) {
      Case c = base(Pattern::kRandom, Pattern::kRandom);
      // Shift amounts and extremes in ACC entries 2..5 (the vector operands).
      const int32_t amounts[] = {0, 1, 31, 32, 33, 100, -1, -31, -32, -33, std::numeric_limits<int32_t>::min(),
                                 std::numeric_limits<int32_t>::max(), 5, -5, 16, -16};
      // Entry 5 holds only non-negative amounts: the kernels' one-shift path for a register of them.
      const int32_t right_only[] = {0, 1, 31, 32, 33, 100, 2, 3, std::numeric_limits<int32_t>::max(), 30, 5, 16, 7, 8, 9, 4};
      for (uint64_t e = 2; e < 6; ++e)
        for (uint64_t l = 0; l < lanes; ++l)
          c.acc[e * lanes + l] = e == 5 ? right_only[l % 16] : amounts[(e * lanes + l) % 16];
      c.uops = {MicroOp{10, 2, 0}, MicroOp{20, 3, 0}, MicroOp{30, 0, 0}, MicroOp{11, 11, 0}, MicroOp{12, 11, 0}};
      const auto aop = static_cast<AluOpcode>(op);
      for (int32_t imm : imms) c.body.push_back(alu(aop, Loop{2, 3, 3, 4, 4, 1, 0, 0}, true, imm));
      // Vector operand: a flat nest, a strided one, one with a broadcast source, three micro-ops.
      c.body.push_back(alu(aop, Loop{0, 1, 2, 4, 4, 1, 0, 1}));
      c.body.push_back(alu(aop, Loop{0, 1, 3, 2, 5, 2, 1, 0}));
      c.body.push_back(alu(aop, Loop{1, 2, 4, 1, 1, 0, 0, 0}));
      c.body.push_back(alu(aop, Loop{0, 3, 2, 2, 1, 3, 1, 1}));
      // Source and destination the same entry; a chain where each step reads the previous result.
      c.body.push_back(alu(aop, Loop{3, 4, 1, 1}));
      c.body.push_back(alu(aop, Loop{4, 5, 1, 6, 0, 1, 0, 1}));
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

// What the reference kernel leaves for each case: the output bytes and the counters.
std::pair<std::vector<std::vector<int8_t>>, std::vector<isa::ExecutionCounters>> reference_outcomes(
    const isa::HwConfig& config, const std::vector<Case>& cases) {
  SimdRig ref(config, Options{Kernel::kReference, Schedule::kConcurrent});
  std::vector<std::vector<int8_t>> expect;
  std::vector<isa::ExecutionCounters> counters;
  for (const Case& c : cases) {
    expect.push_back(ref.run(c));
    counters.push_back(ref.counters());
  }
  return {expect, counters};
}

TEST(FsimSimd, EveryHostLevelMatchesReferenceOnEdgeCases) {
  for (const NamedConfig& nc : configs()) {
    SCOPED_TRACE("config " + nc.name);
    std::mt19937 rng(1234);
    const std::vector<Case> cases = make_cases(nc.config, rng);
    const auto [expect, counters] = reference_outcomes(nc.config, cases);
    const std::vector<Level> levels = host_levels(nc.config);
    ASSERT_FALSE(levels.empty());
    for (const Level& l : levels) {
      SCOPED_TRACE(std::string("requested ") + l.name + ", path " + fast_kernel_path(nc.config, l.simd));
      Options o{Kernel::kFast, Schedule::kConcurrent};
      o.simd = l.simd;
      SimdRig fast(nc.config, o);
      for (size_t i = 0; i < cases.size(); ++i) {
        SCOPED_TRACE("case " + std::to_string(i));
        ASSERT_EQ(fast.run(cases[i]), expect[i]);
        ASSERT_EQ(fast.counters(), counters[i]);
      }
    }
  }
}

// GEMMs big enough to be split between threads (VTA_FSIM_THREADS; at least 512 rows each), in the
// shapes where rows of different grids meet in one accumulator: conv-like nests (every kernel position
// adds into the same rows), lines whose rows all share one accumulator (split boundaries cannot cut
// them), rows of one-row grids at overlapping strides, and a range that starts mid-buffer.
std::vector<Case> make_thread_cases(const isa::HwConfig& cfg, std::mt19937& rng) {
  const uint64_t ie = cfg.inp().element_bytes, we = cfg.wgt().element_bytes;
  const uint64_t lanes = uint64_t{cfg.batch()} * cfg.block_out();
  constexpr uint32_t kInp = 320, kWgt = 12, kAcc = 256;
  std::vector<Case> cases;
  for (Pattern p : {Pattern::kRandom, Pattern::kMinMax}) {
    Case c;
    c.inp = int8_data(kInp * ie, p, rng);
    c.wgt = int8_data(kWgt * we, p == Pattern::kRandom ? Pattern::kRandom : Pattern::kAllMin, rng);
    std::uniform_int_distribution<int32_t> d(std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max());
    c.acc.resize(kAcc * lanes);
    for (auto& v : c.acc) v = d(rng);
    // 3x3 conv over 4 rows of 56 pixels (9 micro-ops, one weight each, same accumulators).
    for (uint32_t k = 0; k < 9; ++k) c.uops.push_back(MicroOp{0, (k / 3) * 58 + k % 3, k});
    c.body.push_back(gemm(Loop{0, 9, 4, 56, 56, 1, 58, 1, 0, 0}));
    // Every row of a 600-row line into one accumulator (dst factors 0), then into 3 accumulators.
    c.body.push_back(gemm(Loop{0, 1, 1, 600, 0, 0, 0, 1, 0, 0}));
    c.body.push_back(gemm(Loop{0, 3, 200, 3, 0, 1, 1, 0, 0, 0}));
    // One-row grids (both weight factors non-zero) at overlapping strides: rows i*3 + j.
    c.body.push_back(gemm(Loop{0, 2, 40, 8, 3, 1, 5, 1, 1, 1}));
    // Along runs of micro-ops (one weight, even steps), starting at ACC entry 100.
    c.uops.push_back(MicroOp{100, 7, 11});
    c.uops.push_back(MicroOp{102, 8, 11});
    c.uops.push_back(MicroOp{104, 9, 11});
    c.body.push_back(gemm(Loop{9, 12, 30, 6, 1, 0, 7, 1, 0, 0}));
    cases.push_back(std::move(c));
  }
  return cases;
}

TEST(FsimSimd, ThreadsMatchReference) {
  for (const NamedConfig& nc : configs()) {
    SCOPED_TRACE("config " + nc.name);
    std::mt19937 rng(99);
    const std::vector<Case> cases = make_thread_cases(nc.config, rng);
    const auto [expect, counters] = reference_outcomes(nc.config, cases);
    for (const Level& l : host_levels(nc.config)) {
      for (const char* threads : {"2", "3"}) {
        SCOPED_TRACE(std::string("path ") + fast_kernel_path(nc.config, l.simd) + ", " + threads + " threads");
        Options o{Kernel::kFast, Schedule::kConcurrent};
        o.simd = l.simd;
        ::setenv("VTA_FSIM_THREADS", threads, 1);  // read when the simulator is made
        SimdRig fast(nc.config, o);
        ::unsetenv("VTA_FSIM_THREADS");
        for (size_t i = 0; i < cases.size(); ++i) {
          SCOPED_TRACE("case " + std::to_string(i));
          ASSERT_EQ(fast.run(cases[i]), expect[i]);
          ASSERT_EQ(fast.counters(), counters[i]);
        }
      }
    }
  }
}

TEST(FsimSimd, ThreadCountFromEnvironment) {
  const isa::HwConfig def = load_config("default");
  sim::DeviceMemory mem;
  for (const char* bad : {"0", "x", "2x", "257"}) {
    ::setenv("VTA_FSIM_THREADS", bad, 1);
    EXPECT_THROW(FunctionalSimulator(def, mem, Options{}), Error) << bad;
  }
  ::setenv("VTA_FSIM_THREADS", "1", 1);
  EXPECT_NO_THROW(FunctionalSimulator(def, mem, Options{}));
  ::unsetenv("VTA_FSIM_THREADS");
}

TEST(FsimSimd, PathFollowsRequestAndConfig) {
  const isa::HwConfig def = load_config("default");
  EXPECT_EQ(fast_kernel_path(def, Simd::kGeneric), "generic");
  // Widths the SIMD kernels do not cover take the portable path whatever is asked.
  const isa::HwConfig wide = isa::HwConfig::from_string(
      R"({"LOG_INP_WIDTH":4,"LOG_WGT_WIDTH":4,"LOG_ACC_WIDTH":5,"LOG_BATCH":0,"LOG_BLOCK":3,
        "LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":14,"LOG_WGT_BUFF_SIZE":16,"LOG_ACC_BUFF_SIZE":16})");
  EXPECT_EQ(fast_kernel_path(wide, Simd::kAuto), "generic");
#if defined(__x86_64__)
  EXPECT_EQ(fast_kernel_path(def, Simd::kSse2), "sse2");
  if (__builtin_cpu_supports("avx2")) {
    EXPECT_EQ(fast_kernel_path(def, Simd::kAvx2), "avx2");
    EXPECT_EQ(fast_kernel_path(block_out4(), Simd::kAvx2), "sse2");  // BLOCK_OUT 4
  } else {
    EXPECT_THROW((void)fast_kernel_path(def, Simd::kAvx2), Error);
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
    EXPECT_EQ(fast_kernel_path(def, Simd::kAvx512), "avx512");
    if (std::getenv("VTA_FSIM_SIMD") == nullptr) {
      EXPECT_EQ(fast_kernel_path(def, Simd::kAuto), "avx512");
    }
    EXPECT_EQ(fast_kernel_path(load_config("block8"), Simd::kAvx512), "avx512");  // BLOCK_OUT 8: ymm
    EXPECT_EQ(fast_kernel_path(block_out4(), Simd::kAvx512), "sse2");  // BLOCK_OUT 4
  } else {
    EXPECT_THROW((void)fast_kernel_path(def, Simd::kAvx512), Error);
  }
#endif
}

}  // namespace
}  // namespace vta::fsim::test
