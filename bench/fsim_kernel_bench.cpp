// Google Benchmark of fsim's fast-kernel data paths, one instruction kind at a time, at every SIMD level
// this host runs (generic, sse2, avx2, avx512), against the host's int8 limit. The on-chip buffers are loaded
// once; each iteration runs a program of only GEMM (or only ALU) instructions through
// FunctionalSimulator::run, so the figures include fsim's per-instruction front end (decode, range
// checks, counters) but no DRAM traffic.
//
//   GEMM/conv: conv-like loop nests (each weight tile shared by the 56 pixels of an output row, 9 kernel
//              positions, 4 output rows per instruction) at the default config (block 16): G MAC/s.
//   GEMM/uop:  every micro-op its own weight and one iteration, the worst case for row blocking.
//   ALU/<op>:  MIN/MAX/ADD/SHR/MUL over 1024 ACC entries (64 KB, more than a 48 KB L1 holds, so the
//              loop streams from L2), with an immediate or a vector operand: G int32 lanes/s.
//   ALU_l1/<op>: the same over 256 entries (16 KB), a working set that stays in L1. A vector SHR shifts
//              by amounts 0..31; shr_vec_signed by the random ACC values (half negative: the worst case).
//   ALU[_l1]/host_bound_{imm,vec}: the same access pattern as a plain loop of 32-byte adds, no fsim: what
//              the host's caches allow (over 1024 entries the ALU forms are bound by it, not by the ALU).
// Counters: "GMAC/s" or "Glanes/s", and "limit%": the share of the AVX2 limit of one core at the clock
// measured by a dependent multiply chain (GEMM: 32 int8 MAC per cycle, two vpmaddubsw/vpmaddwd pipes;
// ALU: 8 int32 lanes per cycle, one 32-byte store per cycle).
#include <algorithm>
#include <ctime>
#include <cstdint>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "vta/fsim/functional_simulator.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"
#include "vta/sim/device_memory.h"

namespace {

using vta::fsim::Simd;
using vta::isa::AluInsn;
using vta::isa::AluOpcode;
using vta::isa::GemmInsn;
using vta::isa::Instruction;
using vta::isa::MemoryType;
using vta::isa::MicroOp;
using vta::isa::Opcode;

// CPU time of this thread (the machine may be shared: wall time would count other processes' turns).
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// Core clock in GHz: best of a few runs of a chain of dependent multiplies (three cycles each).
double core_ghz() {
  static const double ghz = [] {
    double best = 0;
    for (int rep = 0; rep < 7; ++rep) {
      uint64_t x = 1, y = 3;
      benchmark::DoNotOptimize(y);
      constexpr uint64_t kIters = 1'000'000;
      const double t0 = thread_cpu_ns();
      for (uint64_t i = 0; i < kIters; ++i) {
#if defined(__x86_64__)
        // imul: 3 cycles latency on every x86-64 core of the last decade, and no renamer folds it
        // (dependent add-immediate chains can run faster than one per cycle on recent cores).
        asm volatile("imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0\n\t"
                     "imul %1, %0\n\timul %1, %0\n\timul %1, %0\n\timul %1, %0"
                     : "+r"(x)
                     : "r"(y));
#else
        x = x * y * y * y * y * y * y * y * y;
        benchmark::DoNotOptimize(x);
#endif
      }
      const double ns = thread_cpu_ns() - t0;
      best = std::max(best, double(kIters) * 8.0 * 3.0 / ns);
    }
    return best;
  }();
  return ghz;
}

constexpr double kGemmMacsPerCycle = 32.0;   // AVX2 int8, one core
constexpr double kAluLanesPerCycle = 8.0;    // one 32-byte store per cycle

// A simulator with INP/WGT/ACC/UOP loaded once, and a way to run instruction-only programs.
class Rig {
 public:
  Rig(Simd simd, const std::vector<MicroOp>& uops)
      : cfg_(vta::isa::HwConfig::default_config()), codec_(cfg_), sim_(cfg_, mem_, options(simd)) {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> d(-128, 127);
    const auto fill = [&](MemoryType t, uint32_t elements) {
      const uint64_t eb = cfg_.buffer(t).element_bytes;
      std::vector<uint8_t> bytes(elements * eb);
      for (auto& b : bytes) b = static_cast<uint8_t>(d(rng));
      const uint64_t a = mem_.allocate(bytes.size(), 64);
      mem_.write(a, bytes.data(), bytes.size());
      return vta::isa::make_mem(Opcode::kLoad, t, 0, static_cast<uint32_t>(a / eb), 1, elements, elements, 0, 0, 0,
                                0);
    };
    std::vector<Instruction> setup = {fill(MemoryType::kInp, 2048), fill(MemoryType::kWgt, 1024),
                                      fill(MemoryType::kAcc, 2048)};
    std::vector<uint8_t> ub(uops.size() * 4);
    for (size_t i = 0; i < uops.size(); ++i) {
      const uint32_t raw = codec_.encode_uop(uops[i]);
      for (int b = 0; b < 4; ++b) ub[i * 4 + b] = static_cast<uint8_t>(raw >> (8 * b));
    }
    const uint64_t ua = mem_.allocate(ub.size(), 64);
    mem_.write(ua, ub.data(), ub.size());
    const auto nu = static_cast<uint32_t>(uops.size());
    setup.push_back(vta::isa::make_mem(Opcode::kLoad, MemoryType::kUop, 0, static_cast<uint32_t>(ua / 4), 1, nu, nu, 0,
                                       0, 0, 0));
    run(place(setup));
  }

  // ACC entries from `first` on, set to `values` (64 bytes per entry at the default config).
  void write_acc(uint32_t first, const std::vector<int32_t>& values) {
    const uint64_t eb = cfg_.buffer(MemoryType::kAcc).element_bytes;
    const auto elements = static_cast<uint32_t>(values.size() * 4 / eb);
    const uint64_t a = mem_.allocate(values.size() * 4, 64);
    mem_.write(a, reinterpret_cast<const uint8_t*>(values.data()), values.size() * 4);
    run(place({vta::isa::make_mem(Opcode::kLoad, MemoryType::kAcc, first, static_cast<uint32_t>(a / eb), 1, elements,
                                  elements, 0, 0, 0, 0)}));
  }

  struct Placed {
    uint64_t address;
    uint32_t count;
  };
  Placed place(std::vector<Instruction> prog) {
    prog.push_back(vta::isa::FinishInsn{});
    std::vector<vta::isa::RawInstruction> raw;
    for (const auto& i : prog) raw.push_back(codec_.encode(i));
    std::vector<uint8_t> bytes;
    vta::isa::raw_instructions_to_bytes(raw, bytes);
    const uint64_t a = mem_.allocate(bytes.size(), 16);
    mem_.write(a, bytes.data(), bytes.size());
    return {a, static_cast<uint32_t>(prog.size())};
  }
  void run(const Placed& p) { sim_.run(p.address, p.count); }
  const vta::isa::ExecutionCounters& counters() const { return sim_.counters(); }
  const vta::isa::HwConfig& config() const { return cfg_; }

 private:
  static vta::fsim::Options options(Simd simd) {
    vta::fsim::Options o;
    o.schedule = vta::fsim::Schedule::kSerial;  // no tokens in these programs
    o.simd = simd;
    return o;
  }
  vta::isa::HwConfig cfg_;
  vta::isa::InstructionCodec codec_;
  vta::sim::DeviceMemory mem_;
  vta::fsim::FunctionalSimulator sim_;
};

bool skip_unless_supported(benchmark::State& state, Simd simd) {
  try {
    state.SetLabel(vta::fsim::fast_kernel_path(vta::isa::HwConfig::default_config(), simd));
    return false;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return true;
  }
}

void BM_GemmConv(benchmark::State& state, Simd simd) {
  if (skip_unless_supported(state, simd)) return;
  // 9 micro-ops (kernel positions: their own weight and input offset), inner loop over 56 pixels
  // (weight factor 0), outer loop over 4 output rows.
  std::vector<MicroOp> uops;
  for (uint32_t k = 0; k < 9; ++k) uops.push_back(MicroOp{0, (k / 3) * 58 + k % 3, k});
  Rig rig(simd, uops);
  std::vector<Instruction> prog;
  for (int n = 0; n < 8; ++n) {
    GemmInsn g;
    g.loop.uop_bgn = 0;
    g.loop.uop_end = 9;
    g.loop.iter_out = 4;
    g.loop.iter_in = 56;
    g.loop.dst_factor_out = 56;
    g.loop.dst_factor_in = 1;
    g.loop.src_factor_out = 58;
    g.loop.src_factor_in = 1;
    g.wgt_factor_out = 0;
    g.wgt_factor_in = 0;
    prog.push_back(g);
  }
  const auto placed = rig.place(prog);
  const uint64_t lanes = uint64_t{rig.config().batch()} * rig.config().block_in() * rig.config().block_out();
  uint64_t macs = 0;
  for (auto _ : state) {
    rig.run(placed);
    macs += rig.counters().gemm_counter * lanes;
  }
  state.counters["GMAC/s"] = benchmark::Counter(double(macs) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["limit%"] = benchmark::Counter(double(macs) * 100.0 / (kGemmMacsPerCycle * core_ghz() * 1e9),
                                                benchmark::Counter::kIsRate);
  state.counters["GHz"] = core_ghz();
}

void BM_GemmPerUop(benchmark::State& state, Simd simd) {
  if (skip_unless_supported(state, simd)) return;
  std::vector<MicroOp> uops;
  for (uint32_t k = 0; k < 1024; ++k) uops.push_back(MicroOp{k % 2048, (k * 7) % 2048, k % 1024});
  Rig rig(simd, uops);
  GemmInsn g;
  g.loop.uop_bgn = 0;
  g.loop.uop_end = 1024;
  g.loop.iter_out = 1;
  g.loop.iter_in = 1;
  const auto placed = rig.place({g, g, g, g});
  const uint64_t lanes = uint64_t{rig.config().batch()} * rig.config().block_in() * rig.config().block_out();
  uint64_t macs = 0;
  for (auto _ : state) {
    rig.run(placed);
    macs += rig.counters().gemm_counter * lanes;
  }
  state.counters["GMAC/s"] = benchmark::Counter(double(macs) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["limit%"] = benchmark::Counter(double(macs) * 100.0 / (kGemmMacsPerCycle * core_ghz() * 1e9),
                                                benchmark::Counter::kIsRate);
}

// `entries` ACC entries of 64 bytes per instruction (and as many source entries for a vector operand),
// 4096 rows per program.
// Vector SHR reads its amounts from the source entries: `signed_amounts` keeps the random ACC values (half
// of them negative: two shifts and a select per register, the worst case), otherwise they are
// right-shift amounts 0..31 as a per-channel requantization uses.
void BM_Alu(benchmark::State& state, Simd simd, AluOpcode op, bool use_imm, uint32_t entries,
            bool signed_amounts) {
  if (skip_unless_supported(state, simd)) return;
  Rig rig(simd, {MicroOp{0, 1024, 0}});
  if (op == AluOpcode::kShr && !use_imm && !signed_amounts) {
    std::vector<int32_t> amounts(1024 * 16);
    for (size_t i = 0; i < amounts.size(); ++i) amounts[i] = static_cast<int32_t>((i * 7) % 32);
    rig.write_acc(1024, amounts);
  }
  std::vector<Instruction> prog;
  for (uint32_t n = 0; n < 4096 / entries; ++n) {
    AluInsn a;
    a.alu_opcode = op;
    a.use_imm = use_imm;
    a.imm = op == AluOpcode::kShr ? 3 : (op == AluOpcode::kMul ? 3 : 100);
    a.loop.uop_bgn = 0;
    a.loop.uop_end = 1;
    a.loop.iter_out = entries / 32;
    a.loop.iter_in = 32;
    a.loop.dst_factor_out = 32;
    a.loop.dst_factor_in = 1;
    a.loop.src_factor_out = 32;
    a.loop.src_factor_in = 1;
    prog.push_back(a);
  }
  const auto placed = rig.place(prog);
  const uint64_t lanes = uint64_t{rig.config().batch()} * rig.config().block_out();
  uint64_t n = 0;
  for (auto _ : state) {
    rig.run(placed);
    n += rig.counters().alu_counter * lanes;
  }
  state.counters["Glanes/s"] = benchmark::Counter(double(n) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["limit%"] = benchmark::Counter(double(n) * 100.0 / (kAluLanesPerCycle * core_ghz() * 1e9),
                                                benchmark::Counter::kIsRate);
}

// The host's own bound for the ALU's access pattern, without fsim: 4096 rows of 16 int32 per iteration
// over `entries` destination rows (and as many source rows), each row read, added to and written back
// with 32-byte vectors. Over 1024 entries this is what the cache hierarchy allows the ALU forms.
using V8 = int32_t __attribute__((vector_size(32), aligned(4)));  // unaligned loads and stores
__attribute__((target("avx2"), noinline)) void add_rows(int32_t* dst, const int32_t* src, uint32_t rows, bool imm) {
  const V8 k = {100, 100, 100, 100, 100, 100, 100, 100};
  for (uint32_t r = 0; r < 16 * rows; r += 8) {
    auto* d = reinterpret_cast<V8*>(dst + r);
    *d += imm ? k : *reinterpret_cast<const V8*>(src + r);
  }
}

void BM_CacheBound(benchmark::State& state, bool use_imm, uint32_t entries) {
  std::vector<int32_t> dst(16 * entries), src(16 * entries);
  for (size_t i = 0; i < dst.size(); ++i) dst[i] = src[i] = static_cast<int32_t>(i);
  uint64_t n = 0;
  for (auto _ : state) {
    for (uint32_t p = 0; p < 4096 / entries; ++p) add_rows(dst.data(), src.data(), entries, use_imm);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
    n += 4096 * 16;
  }
  state.counters["Glanes/s"] = benchmark::Counter(double(n) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["limit%"] = benchmark::Counter(double(n) * 100.0 / (kAluLanesPerCycle * core_ghz() * 1e9),
                                                benchmark::Counter::kIsRate);
}

void register_all() {
  const std::pair<Simd, const char*> levels[] = {{Simd::kGeneric, "generic"}, {Simd::kSse2, "sse2"},
                                                 {Simd::kAvx2, "avx2"}, {Simd::kAvx512, "avx512"}};
  for (const auto& [simd, name] : levels) {
    benchmark::RegisterBenchmark((std::string("GEMM/conv/") + name).c_str(), BM_GemmConv, simd)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("GEMM/uop/") + name).c_str(), BM_GemmPerUop, simd)
        ->Unit(benchmark::kMicrosecond);
  }
  const std::pair<AluOpcode, const char*> ops[] = {{AluOpcode::kMin, "min"}, {AluOpcode::kMax, "max"},
                                                   {AluOpcode::kAdd, "add"}, {AluOpcode::kShr, "shr"},
                                                   {AluOpcode::kMul, "mul"}};
  // 1024 entries: 64 KB of ACC per operand, beyond a 48 KB L1 (L2-bound); 256 entries: 16 KB, L1-resident.
  for (const uint32_t entries : {1024u, 256u})
    for (const auto& [simd, name] : levels)
      for (const auto& [op, op_name] : ops)
        for (bool imm : {true, false})
          benchmark::RegisterBenchmark((std::string("ALU") + (entries == 1024 ? "" : "_l1") + "/" + op_name +
                                        (imm ? "_imm/" : "_vec/") + name)
                                           .c_str(),
                                       BM_Alu, simd, op, imm, entries, false)
              ->Unit(benchmark::kMicrosecond);
  for (const uint32_t entries : {1024u, 256u})
    for (const auto& [simd, name] : levels)
      benchmark::RegisterBenchmark(
          (std::string("ALU") + (entries == 1024 ? "" : "_l1") + "/shr_vec_signed/" + name).c_str(), BM_Alu, simd,
          AluOpcode::kShr, false, entries, true)
          ->Unit(benchmark::kMicrosecond);
  for (const uint32_t entries : {1024u, 256u})
    for (bool imm : {true, false})
      benchmark::RegisterBenchmark((std::string("ALU") + (entries == 1024 ? "" : "_l1") + "/host_bound" +
                                    (imm ? "_imm" : "_vec"))
                                       .c_str(),
                                   BM_CacheBound, imm, entries)
          ->Unit(benchmark::kMicrosecond);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
