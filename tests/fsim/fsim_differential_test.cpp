// Differential test: random legal programs on the fast and the reference kernel at every config in
// config/ (plus a few in-memory configs with 8/16/32-bit widths the files do not cover) must leave
// identical DRAM and identical counters, the fast kernel at every SIMD level this host runs (generic,
// sse2, avx2). The serial schedule must agree with the concurrent one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vta/fsim/functional_simulator.h"
#include "vta/sim/device_memory.h"
#include "vta/test/random_program.h"

namespace vta::fsim::test {
namespace {

using vta::test::GeneratedProgram;
using vta::test::RandomProgramGenerator;

constexpr int kProgramsPerConfig = 150;

struct NamedConfig {
  std::string name;
  isa::HwConfig config;
};

std::vector<NamedConfig> all_configs() {
  std::vector<NamedConfig> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(VTA_CONFIG_DIR))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back({f.stem().string(), isa::HwConfig::from_file(f)});
  // Widths the shipped configs do not exercise (every one of them is int8/int8/int32).
  const char* extra[][2] = {
      {"i16w16a32", R"({"LOG_INP_WIDTH":4,"LOG_WGT_WIDTH":4,"LOG_ACC_WIDTH":5,"LOG_BATCH":0,"LOG_BLOCK":3,
        "LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":14,"LOG_WGT_BUFF_SIZE":16,"LOG_ACC_BUFF_SIZE":16})"},
      {"i8w16a16_batch2", R"({"LOG_INP_WIDTH":3,"LOG_WGT_WIDTH":4,"LOG_ACC_WIDTH":4,"LOG_BATCH":1,"LOG_BLOCK":3,
        "LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":14,"LOG_WGT_BUFF_SIZE":16,"LOG_ACC_BUFF_SIZE":16})"},
      {"i8w8a8", R"({"LOG_INP_WIDTH":3,"LOG_WGT_WIDTH":3,"LOG_ACC_WIDTH":3,"LOG_BATCH":0,"LOG_BLOCK":4,
        "LOG_UOP_BUFF_SIZE":15,"LOG_INP_BUFF_SIZE":15,"LOG_WGT_BUFF_SIZE":18,"LOG_ACC_BUFF_SIZE":15})"},
      {"i32w32a32_batch2_block4", R"({"LOG_INP_WIDTH":5,"LOG_WGT_WIDTH":5,"LOG_ACC_WIDTH":5,"LOG_BATCH":1,
        "LOG_BLOCK":2,"LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":15,"LOG_WGT_BUFF_SIZE":16,"LOG_ACC_BUFF_SIZE":16})"},
      {"i16w8a16_in8_out16", R"({"LOG_INP_WIDTH":4,"LOG_WGT_WIDTH":3,"LOG_ACC_WIDTH":4,"LOG_BATCH":0,
        "LOG_BLOCK_IN":3,"LOG_BLOCK_OUT":4,"LOG_UOP_BUFF_SIZE":14,"LOG_INP_BUFF_SIZE":14,"LOG_WGT_BUFF_SIZE":16,
        "LOG_ACC_BUFF_SIZE":16})"},
  };
  for (const auto& e : extra) out.push_back({e[0], isa::HwConfig::from_string(e[1])});
  return out;
}

// One simulator with its own device memory, mapped with the generator's fixed regions.
struct Rig {
  Rig(const isa::HwConfig& cfg, Options opts) : sim(cfg, mem, opts) {}
  void load(const GeneratedProgram& g) {
    if (!mapped) {
      // Data regions exactly; the instruction stream gets room for the longest program.
      for (const auto& r : g.regions) mem.map(r.address, r.address == g.insn_address ? 65536 : r.bytes.size());
      mapped = true;
    }
    for (const auto& r : g.regions) mem.write(r.address, r.bytes.data(), r.bytes.size());
    sim.clear_buffers();
  }
  sim::DeviceMemory mem;
  FunctionalSimulator sim;
  bool mapped = false;
};

// First differing byte of any region between two rigs, or "" if identical.
std::string compare(const GeneratedProgram& g, const Rig& a, const Rig& b) {
  for (const auto& r : g.regions) {
    const uint8_t* pa = a.mem.at(r.address, r.bytes.size());
    const uint8_t* pb = b.mem.at(r.address, r.bytes.size());
    if (std::memcmp(pa, pb, r.bytes.size()) == 0) continue;
    for (size_t i = 0; i < r.bytes.size(); ++i)
      if (pa[i] != pb[i])
        return "byte at 0x" + [](uint64_t v) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
          return std::string(buf);
        }(r.address + i) + " differs: " + std::to_string(pa[i]) + " vs " + std::to_string(pb[i]);
  }
  return "";
}

class FsimDifferential : public ::testing::TestWithParam<size_t> {};

TEST_P(FsimDifferential, FastMatchesReferenceOnRandomPrograms) {
  static const std::vector<NamedConfig> configs = all_configs();
  ASSERT_LT(GetParam(), configs.size());
  const NamedConfig& nc = configs[GetParam()];
  SCOPED_TRACE("config " + nc.name);
  RandomProgramGenerator gen(nc.config, 0x5eed0000u + GetParam());
  Rig ref(nc.config, {Kernel::kReference, Schedule::kConcurrent});
  // The fast kernel at every SIMD level this host runs (fast_kernel_path names the path each takes).
  std::vector<std::unique_ptr<Rig>> fast_levels;
  std::vector<std::string> level_names;
  for (const Simd simd : {Simd::kAuto, Simd::kGeneric, Simd::kSse2, Simd::kAvx2, Simd::kAvx512}) {
    Options o{Kernel::kFast, Schedule::kConcurrent};
    o.simd = simd;
    try {
      level_names.push_back(simd == Simd::kAuto ? "auto" : fast_kernel_path(nc.config, simd));
    } catch (const std::exception&) {
      continue;  // not on this host
    }
    fast_levels.push_back(std::make_unique<Rig>(nc.config, o));
  }
  ASSERT_GE(fast_levels.size(), 2u);
  Rig& fast = *fast_levels.front();
  Rig serial(nc.config, {Kernel::kFast, Schedule::kSerial});
  uint64_t gemm_total = 0, alu_total = 0, store_total = 0, insn_total = 0;
  for (int p = 0; p < kProgramsPerConfig; ++p) {
    const GeneratedProgram g = gen.next();
    SCOPED_TRACE("program " + std::to_string(p) + ":\n" + g.listing());
    ref.load(g);
    fast.load(g);
    ASSERT_NO_THROW(ref.sim.run(g.insn_address, g.insn_count));
    ASSERT_NO_THROW(fast.sim.run(g.insn_address, g.insn_count));
    const std::string diff = compare(g, ref, fast);
    ASSERT_EQ(diff, "") << "fast vs reference";
    ASSERT_EQ(ref.sim.counters(), fast.sim.counters()) << ref.sim.counters().to_json().dump() << "\n"
                                                       << fast.sim.counters().to_json().dump();
    for (size_t l = 1; l < fast_levels.size(); ++l) {
      Rig& other = *fast_levels[l];
      other.load(g);
      ASSERT_NO_THROW(other.sim.run(g.insn_address, g.insn_count)) << level_names[l];
      ASSERT_EQ(compare(g, ref, other), "") << "fast kernel, " << level_names[l] << " path, vs reference";
      ASSERT_EQ(ref.sim.counters(), other.sim.counters()) << level_names[l];
    }
    insn_total += g.insn_count;
    gemm_total += ref.sim.counters().gemm_counter;
    alu_total += ref.sim.counters().alu_counter;
    store_total += ref.sim.counters().out_store_nbytes;
    if (p % 4 == 0) {
      serial.load(g);
      ASSERT_NO_THROW(serial.sim.run(g.insn_address, g.insn_count));
      ASSERT_EQ(compare(g, ref, serial), "") << "serial vs concurrent schedule";
      ASSERT_EQ(ref.sim.counters(), serial.sim.counters());
    }
  }
  std::printf("[   INFO   ] %s: %d programs, %llu instructions, %llu GEMM uops, %llu ALU uops, %llu bytes stored\n",
              nc.name.c_str(), kProgramsPerConfig, static_cast<unsigned long long>(insn_total),
              static_cast<unsigned long long>(gemm_total), static_cast<unsigned long long>(alu_total),
              static_cast<unsigned long long>(store_total));
  // The generator must actually exercise the data path.
  EXPECT_GT(gemm_total, 0u);
  EXPECT_GT(alu_total, 0u);
  EXPECT_GT(store_total, 0u);
}

// Number of configs all_configs() returns, without parsing them (runs at test registration).
size_t config_count() {
  size_t n = 5;
  for (const auto& entry : std::filesystem::directory_iterator(VTA_CONFIG_DIR))
    if (entry.path().extension() == ".json") ++n;
  return n;
}

std::string config_test_name(const ::testing::TestParamInfo<size_t>& param_info) {
  static const std::vector<NamedConfig> configs = all_configs();
  return param_info.param < configs.size() ? configs[param_info.param].name
                                           : "config" + std::to_string(param_info.param);
}

INSTANTIATE_TEST_SUITE_P(Configs, FsimDifferential, ::testing::Range<size_t>(0, config_count()), config_test_name);

}  // namespace
}  // namespace vta::fsim::test
