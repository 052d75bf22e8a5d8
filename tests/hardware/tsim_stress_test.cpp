// Stress programs (tests/common random_program.h, StressProgramGenerator) on the RTL core against fsim:
// software-pipelined programs whose load, compute and store modules run at the same time over double-
// buffered slots, with tokens pushed ahead up to the queue depth, indices at the top of every buffer, DRAM
// at the top of the 32-bit element range, large strides and pads, multi-row padded micro-op loads, loop
// extents and factors over their whole fields, FINISH carrying tokens; and the same programs with one error
// injected, which both backends must report at the same instruction (tsim with the expected hardware code).
//
//   TsimStress.*/<config>_<memory>       default suite (label rtl): a few programs per config and memory
//   TsimStressSlow.*/<config>_<memory>   label slow (only with VTA_STRESS_SLOW=1): VTA_STRESS_COUNT programs
//                                        in all (default 10 000) over every shipped config x {config, fast, slow}
//
// Environment: VTA_STRESS_SEED (base seed, decimal or 0x hex), VTA_STRESS_COUNT (slow total),
// VTA_STRESS_QUICK_COUNT (default-suite programs per test), VTA_STRESS_FIRST (number of the first program
// of every test: with a count of 2, reruns one program and the one before it), VTA_STRESS_FAILURE_DIR (where failing
// programs are saved as trace directories; default <build>/tests/hardware/stress_failures),
// VTA_STRESS_ILLEGAL_EVERY (every n-th program gets an injected error; 1 = all, 0 = none),
// VTA_STRESS_LISTINGS (a directory: every program's listing is written there),
// VTA_STRESS_OOR=0 and VTA_STRESS_FINISH=0 (turn off the illegal classes out-of-range SRAM index and
// FINISH before the end, to bisect). Every failure prints the program's own seed, the
// saved trace and the command that replays it: `vta exec --target tsim --check DIR`.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/driver/tsim_device.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction_codec.h"
#include "vta/test/device_regions.h"
#include "vta/test/random_program.h"

namespace vta::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::vector<std::string> kConfigs = {"default", "batch2", "block8", "block32", "in16_out32"};
const std::vector<std::string> kMemories = {"config", "fast", "slow"};
const std::vector<std::string> kQuickMemories = {"config", "slow"};

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 0);
  if (!end || *end != '\0') {
    ADD_FAILURE() << name << "=" << v << " is not a number";
    return fallback;
  }
  return x;
}

bool env_flag(const char* name) { return env_u64(name, 0) != 0; }

fs::path failure_dir() {
  const char* v = std::getenv("VTA_STRESS_FAILURE_DIR");
  return v && *v ? fs::path(v) : fs::path(VTA_STRESS_OUTPUT_DIR);
}

isa::HwConfig shipped(const std::string& stem) {
  return isa::HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/" + stem + ".json");
}

driver::TsimDeviceOptions memory_options(const std::string& memory) {
  driver::TsimDeviceOptions o;
  if (memory == "fast") {
    o.dram_latency_cycles = 1;
    o.dram_bytes_per_cycle = 64;
  } else if (memory == "slow") {
    o.dram_latency_cycles = 200;
    o.dram_bytes_per_cycle = 2;
    o.max_outstanding = 2;
  }
  return o;
}

// One program's seed from the base seed, the test and the program number (splitmix64), so a failing
// program is regenerated from its seed alone.
uint64_t program_seed(uint64_t base, const std::string& config, const std::string& memory, uint64_t p) {
  uint64_t x = base ^ (std::hash<std::string>{}(config + "/" + memory) * 0x9e3779b97f4a7c15ull) ^ (p << 20);
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Saves `g` as a trace directory recorded on fsim (a failed fsim run leaves no expectations, so the
// replay reproduces the error) plus the listing, and returns the directory.
fs::path save_failure(const isa::HwConfig& config, const GeneratedProgram& g, const std::string& name,
                      const std::string& why) {
  const fs::path dir = failure_dir() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto dev = driver::open_device("fsim", config);
  load_regions(*dev, g);
  driver::TraceRecorder recorder(dir);
  recorder.before_run(*dev, g.insn_address, g.insn_count);
  const driver::RunResult result = dev->run(g.insn_address, g.insn_count, 0ms);
  recorder.after_run(*dev, result);
  std::ofstream(dir / "listing.txt") << why << "\n\n" << g.listing();
  return dir;
}

// Cycles the three modules work (hold an instruction and are not waiting on a token), summed: above the
// run's cycle count only when modules overlap.
uint64_t active_cycles(const driver::TsimDevice& tsim) {
  uint64_t busy = 0, stall = 0;
  for (const auto& [name, value] : tsim.extra_counters()) {
    if (name == "load_busy_cycles" || name == "compute_busy_cycles" || name == "store_busy_cycles") busy += value;
    if (name == "load_stall_cycles" || name == "compute_stall_cycles" || name == "store_stall_cycles") stall += value;
  }
  return busy - std::min(busy, stall);
}

struct Totals {
  uint64_t programs = 0, illegal = 0, insns = 0, cycles = 0, harness = 0, busy = 0, gemm = 0, alu = 0, stored = 0;
};

// Runs `g` on both devices; returns "" when they agree (legal: same memory and counters but cycles;
// illegal: both fail at g.error_index, tsim with the class's hardware code).
std::string check(driver::Device& fsim, driver::TsimDevice& tsim, const GeneratedProgram& g, Totals& t) {
  load_regions(fsim, g);
  load_regions(tsim, g);
  const driver::RunResult rf = fsim.run(g.insn_address, g.insn_count, 0ms);
  const driver::RunResult rt = tsim.run(g.insn_address, g.insn_count, 0ms);
  const auto status = [](const driver::RunResult& r) { return r.ok() ? std::string("ok") : r.message; };
  ++t.programs;
  t.insns += g.insn_count;
  t.cycles += rt.counters.cycle_count;
  t.harness += tsim.harness_cycles();
  if (g.illegal != IllegalKind::kNone) {
    ++t.illegal;
    const std::string at = "instruction " + std::to_string(g.error_index) + ":";
    std::string why;
    if (rf.ok() || rf.message.rfind(at, 0) != 0) why += "fsim should fail at " + at + " ";
    if (rt.ok() || rt.message.find("at " + at) == std::string::npos) why += "tsim should fail at " + at + " ";
    const uint32_t code = hardware_error_code(g.illegal);
    if (!rt.ok() && code != 0 && rt.message.find("hardware error " + std::to_string(code) + " ") == std::string::npos)
      why += "tsim should report hardware error " + std::to_string(code) + " ";
    if (why.empty()) return "";
    return why + "\nfsim: " + status(rf) + "\ntsim: " + status(rt);
  }
  if (!rf.ok()) return "fsim failed on a legal program: " + rf.message;
  if (!rt.ok()) return "fsim: ok\ntsim: " + rt.message;
  std::string why = compare_regions(g, fsim, tsim);
  isa::ExecutionCounters cf = rf.counters, ct = rt.counters;
  cf.cycle_count = ct.cycle_count = 0;
  if (why.empty() && cf != ct)
    why = "counters differ:\nfsim " + rf.counters.to_json().dump() + "\ntsim " + rt.counters.to_json().dump();
  t.busy += active_cycles(tsim);
  t.gemm += rt.counters.gemm_counter;
  t.alu += rt.counters.alu_counter;
  t.stored += rt.counters.out_store_nbytes;
  return why;
}

// Runs `count` programs (every `illegal_every`-th one with an injected error) of one config and memory.
Totals run_shard(const std::string& config_name, const std::string& memory, uint64_t count, uint64_t illegal_every,
                 const std::string& prefix, uint64_t first = env_u64("VTA_STRESS_FIRST", 0)) {
  const isa::HwConfig config = shipped(config_name);
  Totals t;
  if (!driver::TsimDevice::has_model(config)) {
    ADD_FAILURE() << "no tsim model for " << config_name;
    return t;
  }
  StressOptions options;
  options.out_of_range_errors = env_u64("VTA_STRESS_OOR", 1) != 0;  // 0 turns a class off, to bisect
  options.misplaced_finish_errors = env_u64("VTA_STRESS_FINISH", 1) != 0;
  const auto fsim = driver::open_device("fsim", config);
  driver::TsimDevice tsim("tsim", config, memory_options(memory));
  const uint64_t base = env_u64("VTA_STRESS_SEED", 0x57e55);
  const auto start = std::chrono::steady_clock::now();
  int failures = 0;
  illegal_every = env_u64("VTA_STRESS_ILLEGAL_EVERY", illegal_every);  // 1: every program illegal, 0: none
  for (uint64_t p = first; p < first + count; ++p) {
    const uint64_t seed = program_seed(base, config_name, memory, p);
    StressProgramGenerator gen(config, seed, options);
    const bool illegal = illegal_every != 0 && p % illegal_every == illegal_every - 1;
    const GeneratedProgram g = illegal ? gen.next_illegal() : gen.next();
    if (const char* dir = std::getenv("VTA_STRESS_LISTINGS"); dir && *dir)  // every program's listing, to debug
      std::ofstream(fs::path(dir) / (prefix + "_" + config_name + "_" + memory + "_" + std::to_string(p) + ".txt"))
          << g.listing();
    const std::string why = check(*fsim, tsim, g, t);
    if (why.empty()) continue;
    char seed_hex[24];
    std::snprintf(seed_hex, sizeof seed_hex, "%#llx", static_cast<unsigned long long>(seed));
    const std::string name = prefix + "_" + config_name + "_" + memory + "_" + std::to_string(p);
    const std::string head = name + " (program seed " + seed_hex + (illegal ? ", next_illegal()" : ", next()") +
                             ", " + std::to_string(g.insn_count) + " instructions): " + why;
    const fs::path dir = save_failure(config, g, name, head);
    ADD_FAILURE() << head << "\ntrace and listing saved: " << dir.string()
                  << "\nreplay: vta exec --target tsim --check " << dir.string() << "   (and --target fsim)";
    if (++failures >= 3) break;  // a few saved programs are enough to debug
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[   INFO   ] STRESS %s %s: %llu programs (%llu illegal), %llu instructions, %llu cycles (%llu "
              "simulated), module working cycles / cycles = %.2f, %llu GEMM uops, %llu ALU uops, %llu bytes stored, %.2f s\n",
              config_name.c_str(), memory.c_str(), static_cast<unsigned long long>(t.programs),
              static_cast<unsigned long long>(t.illegal), static_cast<unsigned long long>(t.insns),
              static_cast<unsigned long long>(t.cycles), static_cast<unsigned long long>(t.harness),
              t.cycles ? double(t.busy) / double(t.cycles) : 0.0,
              static_cast<unsigned long long>(t.gemm), static_cast<unsigned long long>(t.alu),
              static_cast<unsigned long long>(t.stored), secs);
  return t;
}

using Param = std::tuple<std::string, std::string>;
std::string param_name(const ::testing::TestParamInfo<Param>& p) {
  return std::get<0>(p.param) + "_" + std::get<1>(p.param);
}

// ---------------------------------------------------------------------------------------------------
// Default suite: a few programs per config and memory (seconds in all).

class TsimStress : public ::testing::TestWithParam<Param> {};

TEST_P(TsimStress, ProgramsMatchFsim) {
  const auto& [config, memory] = GetParam();
  const Totals t = run_shard(config, memory, env_u64("VTA_STRESS_QUICK_COUNT", memory == "slow" ? 4 : 8), 4, "stress");
  if (t.programs > 2 * t.illegal) {  // the legal programs did work
    EXPECT_GT(t.gemm, 0u);
    EXPECT_GT(t.stored, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, TsimStress,
                         ::testing::Combine(::testing::ValuesIn(kConfigs), ::testing::ValuesIn(kQuickMemories)),
                         param_name);

// Found by the slow stress run on 2026-12-02 (batch2, slow memory, default seed: illegal program 103,
// a LOAD of OUT at instruction 64 right after a STORE at 63, then program 104): when a run stops on an
// error while a STORE's writes are still in flight, those writes landed in memory after run() returned --
// in the next program's freshly loaded buffers (byte 0x1008c0 of program 104 became 0), because the device
// recovered the core (soft reset, draining the bus) only at the start of the next run. It now recovers
// before the failed run() returns. Minimal program: a 64-element STORE, then an ALU opcode 5 that stops
// the run while the STORE's bursts wait on a 200-cycle memory.
TEST(TsimStressRecovery, WritesOfAnAbortedRunDoNotLandInTheNextRun) {
  const isa::HwConfig config = shipped("default");
  const isa::InstructionCodec codec(config);
  driver::TsimDevice tsim("tsim", config, memory_options("slow"));
  const uint64_t out = 0x200000, insns = 0x300000, out_bytes = 64 * config.out().element_bytes;
  const auto program = [&](std::vector<isa::Instruction> prog) {
    GeneratedProgram g;
    g.regions.push_back({out, std::vector<uint8_t>(out_bytes, 0xaa)});
    std::vector<isa::RawInstruction> raw;
    for (const auto& i : prog) raw.push_back(codec.encode(i));
    RegionImage r{insns, {}};
    isa::raw_instructions_to_bytes(raw, r.bytes);
    g.regions.push_back(r);
    g.insn_address = insns;
    g.insn_count = static_cast<uint32_t>(prog.size());
    g.program = std::move(prog);
    return g;
  };
  isa::AluInsn bad;
  bad.alu_opcode = static_cast<isa::AluOpcode>(5);
  const GeneratedProgram aborted = program(
      {isa::make_mem(isa::Opcode::kStore, isa::MemoryType::kOut, 0, static_cast<uint32_t>(out / config.out().element_bytes),
                     1, 64, 64),
       bad, isa::FinishInsn{}});
  load_regions(tsim, aborted);
  const driver::RunResult r1 = tsim.run(aborted.insn_address, aborted.insn_count, 0ms);
  ASSERT_FALSE(r1.ok());
  const GeneratedProgram next = program({isa::FinishInsn{}});  // writes nothing
  load_regions(tsim, next);
  const driver::RunResult r2 = tsim.run(next.insn_address, next.insn_count, 0ms);
  ASSERT_TRUE(r2.ok()) << r2.message;
  const driver::DeviceBuffer buf = tsim.buffers().front().device_address == out ? tsim.buffers().front()
                                                                                 : tsim.buffers().back();
  tsim.invalidate(buf, 0, buf.size);
  uint64_t changed = 0;
  for (uint64_t i = 0; i < out_bytes; ++i) changed += buf.host[i] != 0xaa;
  EXPECT_EQ(changed, 0u) << "bytes of the next program's buffer written by the aborted run's STORE";
}

// The pair of generated programs that found it.
TEST(TsimStressRecovery, GeneratedPairBatch2Slow) {
  const Totals t = run_shard("batch2", "slow", 2, 8, "stress_recovery", 103);
  EXPECT_EQ(t.illegal, 1u);
}

// Stress programs keep more than one module working at a time (a program whose modules' working cycles
// add up to more than its run time must have overlapped them); the chained generator's programs do not.
TEST(TsimStressOverlap, ModulesRunConcurrently) {
  const isa::HwConfig config = shipped("default");
  driver::TsimDevice tsim("tsim", config);
  const auto overlapping = [&](auto&& next, int n) {
    int count = 0;
    for (int p = 0; p < n; ++p) {
      const GeneratedProgram g = next(p);
      load_regions(tsim, g);
      const driver::RunResult r = tsim.run(g.insn_address, g.insn_count, 0ms);
      EXPECT_TRUE(r.ok()) << r.message;
      count += active_cycles(tsim) > r.counters.cycle_count;
    }
    return count;
  };
  RandomProgramGenerator chained(config, 77);
  const int before = overlapping([&](int) { return chained.next(); }, 40);
  const int after = overlapping([&](int p) { return StressProgramGenerator(config, 7700 + p).next(); }, 40);
  std::printf("[   INFO   ] programs whose modules overlap (working cycles > run cycles), of 40: chained "
              "generator %d, stress generator %d\n", before, after);
  EXPECT_GE(after, 20);
  EXPECT_LE(before, 2);
}

// The generator makes what the stress mode promises, and its programs are legal and race-free as far as
// fsim can tell: each legal program gives the same memory on fsim's concurrent schedule, on fsim-serial
// (program order, tokens ignored) and, when FINISH leaves no token behind, on fsim-strict.
TEST(StressGenerator, CoversTheFieldsAndIsRaceFreeOnFsim) {
  for (const std::string& stem : kConfigs) {
    SCOPED_TRACE(stem);
    const isa::HwConfig config = shipped(stem);
    const isa::InstructionCodec codec(config);
    const auto fsim = driver::open_device("fsim", config), serial = driver::open_device("fsim-serial", config),
               strict = driver::open_device("fsim-strict", config);
    const uint32_t iter_max = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
    uint32_t acc_factor_max = 0;
    for (const auto& f : codec.layout(isa::Opcode::kGemm))
      if (f.name == "dst_factor_out") acc_factor_max = (1u << f.width) - 1;
    std::map<std::string, int> seen;
    uint32_t max_pushes = 0, max_occupancy = 0, longest_run = 0;
    for (uint64_t p = 0; p < 150; ++p) {
      const GeneratedProgram g = StressProgramGenerator(config, 1000 + p).next();
      // Token traffic in program order: never more pushes on a queue than it holds.
      std::array<uint32_t, 4> pushes{}, level{};
      uint32_t run = 0;
      for (size_t i = 0; i < g.program.size(); ++i) {
        const isa::Instruction& insn = g.program[i];
        const isa::DepFlags& d = isa::dep_flags(insn);
        const isa::Module m = isa::module_of(insn);
        run = i > 0 && isa::module_of(g.program[i - 1]) == m ? run + 1 : 1;
        longest_run = std::max(longest_run, run);
        const int pop_q[3][2] = {{1, -1}, {0, 3}, {2, -1}};   // load: c->l; compute: l->c, s->c; store: c->s
        const int push_q[3][2] = {{0, -1}, {1, 2}, {3, -1}};  // load: l->c; compute: c->l, c->s; store: s->c
        const auto mi = static_cast<size_t>(m);
        const bool pops[2] = {m == isa::Module::kLoad ? d.pop_next : d.pop_prev, m == isa::Module::kCompute && d.pop_next};
        const bool push[2] = {m == isa::Module::kCompute ? d.push_prev : m == isa::Module::kLoad ? d.push_next : d.push_prev,
                              m == isa::Module::kCompute && d.push_next};
        for (int k = 0; k < 2; ++k) {
          if (pops[k]) {
            ASSERT_GT(level[static_cast<size_t>(pop_q[mi][k])], 0u) << "pop before its push at " << i << "\n" << g.listing();
            --level[static_cast<size_t>(pop_q[mi][k])];
          }
        }
        for (int k = 0; k < 2; ++k)
          if (push[k]) {
            const auto q = static_cast<size_t>(push_q[mi][k]);
            max_occupancy = std::max(max_occupancy, ++level[q]);
            max_pushes = std::max(max_pushes, ++pushes[q]);
          }
        if (const auto* f = std::get_if<isa::FinishInsn>(&insn)) {
          if (f->dep.pop_prev || f->dep.pop_next) ++seen["FINISH pops"];
          if (f->dep.push_prev || f->dep.push_next) ++seen["FINISH pushes"];
        }
        if (const auto* mem = std::get_if<isa::MemInsn>(&insn)) {
          if (mem->x_size == 0) continue;
          const uint64_t tile = (uint64_t{mem->y_pad_0} + mem->y_size + mem->y_pad_1) *
                                (uint64_t{mem->x_pad_0} + mem->x_size + mem->x_pad_1);
          const std::string t(isa::to_string(mem->memory_type));
          if (tile > 0 && mem->sram_base + tile == config.buffer(mem->memory_type).depth) ++seen["top of " + t];
          if (mem->y_size > 0 && mem->dram_base >= 0xf0000000u) ++seen["dram_base >= 0xf0000000"];
          if (mem->y_size > 1 && mem->x_stride >= 0xf000) ++seen["x_stride >= 0xf000"];
          if (std::max({mem->y_pad_0, mem->y_pad_1, mem->x_pad_0, mem->x_pad_1}) == 15) ++seen["pad 15"];
          if (mem->memory_type == isa::MemoryType::kUop && mem->y_size > 1 && mem->y_pad_0 + mem->y_pad_1 > 0)
            ++seen["multi-row y-padded UOP load"];
        }
        const isa::LoopNest* l = nullptr;
        if (const auto* gi = std::get_if<isa::GemmInsn>(&insn)) l = &gi->loop;
        if (const auto* ai = std::get_if<isa::AluInsn>(&insn)) l = &ai->loop;
        if (l && l->uop_end > l->uop_bgn) {
          if (std::max(l->iter_out, l->iter_in) == iter_max) ++seen["loop extent 16383"];
          if (l->iter_out > 1 && l->iter_in > 1 && l->dst_factor_out > 0 && l->dst_factor_in > 0) ++seen["two-level dst"];
          if (std::max(l->dst_factor_out, l->dst_factor_in) == acc_factor_max) ++seen["dst factor at field max"];
        }
      }
      // Legal and race-free on fsim's schedules.
      load_regions(*fsim, g);
      load_regions(*serial, g);
      const driver::RunResult rf = fsim->run(g.insn_address, g.insn_count, 0ms);
      const driver::RunResult rs = serial->run(g.insn_address, g.insn_count, 0ms);
      ASSERT_TRUE(rf.ok()) << rf.message << "\n" << g.listing();
      ASSERT_TRUE(rs.ok()) << rs.message;
      EXPECT_EQ(compare_regions(g, *fsim, *serial), "") << "concurrent vs serial schedule, program " << p;
      if (!(isa::dep_flags(g.program.back()).push_prev || isa::dep_flags(g.program.back()).push_next)) {
        load_regions(*strict, g);
        const driver::RunResult rx = strict->run(g.insn_address, g.insn_count, 0ms);
        EXPECT_TRUE(rx.ok()) << "fsim-strict: " << rx.message;
      }
    }
    std::printf("[   INFO   ] %s: most pushes on one queue %u, highest occupancy in program order %u, longest run "
                "of one module %u;", stem.c_str(), max_pushes, max_occupancy, longest_run);
    for (const auto& [what, n] : seen) std::printf(" %s: %d,", what.c_str(), n);
    std::printf("\n");
    EXPECT_LE(max_pushes, isa::CoreQueueDepths::kToken);
    EXPECT_GE(max_pushes, isa::CoreQueueDepths::kToken - 1);  // full, or one short when no extra push came
    EXPECT_GT(longest_run, isa::CoreQueueDepths::kCommand);
    for (const char* what : {"FINISH pops", "FINISH pushes", "top of INP", "top of WGT", "top of ACC", "top of UOP",
                             "top of OUT", "dram_base >= 0xf0000000", "x_stride >= 0xf000", "pad 15",
                             "multi-row y-padded UOP load", "loop extent 16383", "two-level dst",
                             "dst factor at field max"})
      EXPECT_GT(seen[what], 0) << what;
  }
}

// A failing program is saved as a trace that replays on tsim as `vta exec --target tsim --check` does,
// also when it is illegal (no expectations: the replay fails the same way).
TEST(TsimStressTrace, SavedProgramsReplay) {
  const isa::HwConfig config = shipped("block8");
  StressProgramGenerator gen(config, 4242);
  const GeneratedProgram legal = gen.next();
  fs::path dir = save_failure(config, legal, "selfcheck_stress_legal", "self-check");
  auto dev = driver::open_device("tsim", config);
  driver::ReplayResult r = driver::replay(driver::ProgramTrace::load(dir), dir, *dev, std::nullopt);
  EXPECT_TRUE(r.run.ok()) << r.run.message;
  EXPECT_TRUE(r.mismatches.empty());
  EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
  const GeneratedProgram bad = gen.next_illegal();
  dir = save_failure(config, bad, "selfcheck_stress_illegal", "self-check");
  r = driver::replay(driver::ProgramTrace::load(dir), dir, *dev, std::nullopt);
  EXPECT_FALSE(r.run.ok());
  EXPECT_NE(r.run.message.find("at instruction " + std::to_string(bad.error_index) + ":"), std::string::npos)
      << r.run.message << "\n" << bad.note;
}

// ---------------------------------------------------------------------------------------------------
// Label slow: VTA_STRESS_COUNT programs (default 10 000) over every config x memory; one in eight illegal.

class TsimStressSlow : public ::testing::TestWithParam<Param> {};

TEST_P(TsimStressSlow, ProgramsMatchFsim) {
  const auto& [config, memory] = GetParam();
  const uint64_t shards = kConfigs.size() * kMemories.size();
  const uint64_t total = env_u64("VTA_STRESS_COUNT", 10000);
  const uint64_t count = (total + shards - 1) / shards;
  const Totals t = run_shard(config, memory, count, 8, "stress_slow");
  EXPECT_EQ(t.programs, count);
}

// Instantiated only with VTA_STRESS_SLOW=1 (the ctest entry of label slow and scripts/stress.sh set it), so
// test discovery for the default suite does not list them.
std::vector<Param> slow_params() {
  std::vector<Param> v;
  if (env_flag("VTA_STRESS_SLOW"))
    for (const auto& c : kConfigs)
      for (const auto& m : kMemories) v.emplace_back(c, m);
  return v;
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(TsimStressSlow);
INSTANTIATE_TEST_SUITE_P(Configs, TsimStressSlow, ::testing::ValuesIn(slow_params()), param_name);

}  // namespace
}  // namespace vta::test
