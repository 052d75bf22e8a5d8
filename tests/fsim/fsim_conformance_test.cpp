// Conformance: replay the programs recorded from Apache VTA's functional simulator
// (tests/data/conformance/tvm-vta-fsim) and require every byte of the recorded post-run DRAM and the
// recorded counters. The container is parsed here directly (format in that directory's README).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vta/fsim/functional_simulator.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#include "vta/sim/device_memory.h"
#include "vta/test/test_data.h"

namespace vta::fsim::test {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct Region {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

// "VTADRAM1", u32 count, u32 0, then per region u64 address, u64 size, bytes (all little-endian).
std::vector<Region> read_container(const fs::path& p) {
  const std::vector<uint8_t> data = read_file(p);
  size_t pos = 0;
  const auto take = [&](size_t n) {
    if (pos + n > data.size()) throw std::runtime_error(p.string() + ": truncated");
    const uint8_t* q = data.data() + pos;
    pos += n;
    return q;
  };
  const auto u64 = [&](size_t n) {
    const uint8_t* q = take(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | q[i];
    return v;
  };
  if (std::memcmp(take(8), "VTADRAM1", 8) != 0) throw std::runtime_error(p.string() + ": bad magic");
  const uint64_t count = u64(4);
  if (u64(4) != 0) throw std::runtime_error(p.string() + ": reserved word is not zero");
  std::vector<Region> regions(count);
  for (auto& r : regions) {
    r.address = u64(8);
    const uint64_t size = u64(8);
    const uint8_t* q = take(size);
    r.bytes.assign(q, q + size);
  }
  if (pos != data.size()) throw std::runtime_error(p.string() + ": trailing bytes");
  return regions;
}

// key=value lines.
uint64_t meta_value(const fs::path& p, const std::string& key) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos && line.substr(0, eq) == key) return std::stoull(line.substr(eq + 1), nullptr, 0);
  }
  throw std::runtime_error(p.string() + ": no " + key);
}

struct Case {
  std::string workload;
  Kernel kernel;
  Schedule schedule;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.workload << (c.kernel == Kernel::kFast ? " fast" : " reference")
      << (c.schedule == Schedule::kSerial ? " serial" : " concurrent");
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.workload;
  for (char& c : n)
    if (c == '.' || c == '-') c = '_';
  n += info.param.kernel == Kernel::kFast ? "_Fast" : "_Reference";
  n += info.param.schedule == Schedule::kSerial ? "_Serial" : "";
  return n;
}

// Device memory holding a recorded run's pre-image and instruction stream.
struct Replay {
  isa::HwConfig cfg = isa::HwConfig::default_config();
  nlohmann::json meta;
  sim::DeviceMemory mem;
  uint64_t insn_addr = 0;
  uint32_t insn_count = 0;

  explicit Replay(const fs::path& dir) {
    meta = nlohmann::json::parse(std::ifstream(dir / "meta.json"));
    cfg = isa::HwConfig::from_json(meta.at("vta_cfg"));
    for (const Region& r : read_container(dir / "run000.dram_pre.bin")) {
      mem.map(r.address, r.bytes.size());
      mem.write(r.address, r.bytes.data(), r.bytes.size());
    }
    insn_addr = meta_value(dir / "run000.meta.txt", "insn_phy_addr");
    insn_count = static_cast<uint32_t>(meta_value(dir / "run000.meta.txt", "insn_count"));
    const std::vector<uint8_t> insns = read_file(dir / "run000.insn.bin");
    if (insns.size() != uint64_t{insn_count} * 16) throw std::runtime_error("insn.bin size disagrees with insn_count");
    mem.map(insn_addr, insns.size());
    mem.write(insn_addr, insns.data(), insns.size());
  }
};

class FsimConformance : public ::testing::TestWithParam<Case> {};

TEST_P(FsimConformance, ReplayMatchesApacheVtaFsim) {
  const fs::path dir = vta::test::conformance_recording(GetParam().workload);
  Replay replay(dir);
  const isa::HwConfig& cfg = replay.cfg;
  const nlohmann::json& meta = replay.meta;
  sim::DeviceMemory& mem = replay.mem;
  const uint64_t insn_addr = replay.insn_addr;
  const uint32_t insn_count = replay.insn_count;
  ASSERT_EQ(cfg.name(), isa::HwConfig::default_config().name());

  // Upstream's untuned schedules leave one store->compute token (checked separately below).
  FunctionalSimulator sim(cfg, mem, Options{GetParam().kernel, GetParam().schedule, true});
  sim.run(insn_addr, insn_count);

  // Every byte of every recorded post-run region.
  uint64_t mismatches = 0, compared = 0;
  std::string first;
  for (const Region& r : read_container(dir / "run000.dram_post.bin")) {
    const uint8_t* got = mem.at(r.address, r.bytes.size());
    for (size_t i = 0; i < r.bytes.size(); ++i, ++compared) {
      if (got[i] == r.bytes[i]) continue;
      if (mismatches++ == 0) {
        std::ostringstream os;
        os << "first mismatch at 0x" << std::hex << (r.address + i) << std::dec << ": got " << int{got[i]}
           << ", expected " << int{r.bytes[i]};
        first = os.str();
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << first << " (" << compared << " bytes compared)";
  EXPECT_GT(compared, 0u);

  const nlohmann::json& stats = meta.at("stats");
  const isa::ExecutionCounters& c = sim.counters();
  EXPECT_EQ(c.inp_load_nbytes, stats.at("inp_load_nbytes").get<uint64_t>());
  EXPECT_EQ(c.wgt_load_nbytes, stats.at("wgt_load_nbytes").get<uint64_t>());
  EXPECT_EQ(c.acc_load_nbytes, stats.at("acc_load_nbytes").get<uint64_t>());
  EXPECT_EQ(c.uop_load_nbytes, stats.at("uop_load_nbytes").get<uint64_t>());
  EXPECT_EQ(c.out_store_nbytes, stats.at("out_store_nbytes").get<uint64_t>());
  EXPECT_EQ(c.gemm_counter, stats.at("gemm_counter").get<uint64_t>());
  EXPECT_EQ(c.alu_counter, stats.at("alu_counter").get<uint64_t>());
  EXPECT_EQ(c.load_insn_count + c.compute_insn_count + c.store_insn_count, insn_count);
}

INSTANTIATE_TEST_SUITE_P(
    TvmVtaFsim, FsimConformance,
    ::testing::Values(Case{"tiny.T1", Kernel::kFast, Schedule::kConcurrent},
                      Case{"tiny.T1", Kernel::kReference, Schedule::kConcurrent},
                      Case{"tiny.T1", Kernel::kFast, Schedule::kSerial},
                      Case{"small.T2", Kernel::kFast, Schedule::kConcurrent},
                      Case{"small.T2", Kernel::kReference, Schedule::kConcurrent},
                      Case{"resnet-18.C10", Kernel::kFast, Schedule::kConcurrent},
                      Case{"resnet-18.C10", Kernel::kReference, Schedule::kConcurrent},
                      Case{"resnet-18.C10", Kernel::kFast, Schedule::kSerial}),
    case_name);

// The strict default rejects the upstream streams that leave a token behind, after running all of them;
// the tuned ResNet-18 stream is balanced and passes strict.
TEST(FsimConformanceTokens, UntunedStreamsLeaveOneStoreToComputeToken) {
  for (const char* workload : {"tiny.T1", "small.T2"}) {
    const fs::path dir = vta::test::conformance_recording(workload);
    Replay replay(dir);
    FunctionalSimulator sim(replay.cfg, replay.mem);
    try {
      sim.run(replay.insn_addr, replay.insn_count);
      ADD_FAILURE() << workload << ": no leftover-token error";
    } catch (const ProgramError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("1 token in the store->compute queue")) << workload;
      EXPECT_FALSE(e.instruction_index().has_value());
    }
    const isa::ExecutionCounters& c = sim.counters();
    EXPECT_EQ(c.load_insn_count + c.compute_insn_count + c.store_insn_count, replay.insn_count) << workload;
  }
  const fs::path dir = vta::test::conformance_recording("resnet-18.C10");
  Replay replay(dir);
  FunctionalSimulator sim(replay.cfg, replay.mem);
  EXPECT_NO_THROW(sim.run(replay.insn_addr, replay.insn_count));
}

}  // namespace
}  // namespace vta::fsim::test
