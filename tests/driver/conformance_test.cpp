// Conformance against Apache VTA: each recording in VTA_CONFORMANCE_DIR/tvm-vta-fsim is imported as a
// trace and replayed on the fsim backends; every recorded output byte and every counter VTA's simulator
// reported must match.
#include <cctype>
#include <chrono>
#include <ostream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vta/driver/dram_image.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"
#include "vta/test/test_data.h"

namespace vta::driver {
namespace {

using nlohmann::json;
using test::TempDir;

std::filesystem::path recording(const std::string& name) { return vta::test::conformance_recording(name); }

struct Case {
  const char* recording;
  const char* target;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.recording << " on " << c.target; }

class Conformance : public ::testing::TestWithParam<Case> {};

TEST_P(Conformance, ImportedRecordingReplaysBitExact) {
  const Case c = GetParam();
  const auto src = recording(c.recording);
  ASSERT_TRUE(std::filesystem::is_directory(src)) << src;
  TempDir dir;
  import_vta_recording(src, dir.path());
  const ProgramTrace trace = ProgramTrace::load(dir.path());

  // The trace mirrors the recording: one region per dram_pre region plus the instruction stream.
  const DramImage pre = DramImage::read_vtadram(src / "run000.dram_pre.bin");
  const DramImage post = DramImage::read_vtadram(src / "run000.dram_post.bin");
  ASSERT_EQ(trace.regions.size(), pre.regions.size() + 1);
  const json meta = json::parse(test::read_text(src / "meta.json"));
  EXPECT_EQ(trace.config, isa::HwConfig::from_json(meta["vta_cfg"]));
  size_t changed_regions = 0;
  for (size_t i = 0; i < pre.regions.size(); ++i) {
    if (pre.regions[i].bytes != post.regions[i].bytes) ++changed_regions;
  }
  EXPECT_GT(changed_regions, 0u) << "the recording must store something, or the test proves nothing";

  auto device = open_device(c.target, trace.config);
  TempDir dump;
  const ReplayResult result = replay(trace, dir.path(), *device, dump.path());
  // Not ASSERT: memory and counters are still worth comparing when the run reports an error.
  EXPECT_TRUE(result.run.ok()) << result.run.message;
  for (const auto& m : result.mismatches) {
    ADD_FAILURE() << "region " << m.region << ": " << m.differing_bytes << " bytes differ, first at offset "
                  << m.first_offset;
  }
  EXPECT_FALSE(result.counter_mismatch.has_value()) << *result.counter_mismatch;

  // Every counter VTA's simulator reported, compared directly with meta.json.
  const json& stats = meta["stats"];
  ASSERT_TRUE(stats.is_object());
  size_t compared = 0;
  for (const auto& [name, value] : result.run.counters.items()) {
    if (!stats.contains(name)) continue;
    EXPECT_EQ(value, stats[name].get<uint64_t>()) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 7u);
  EXPECT_EQ(trace.expected_counter_names.size(), 7u);

  // The dumped regions are the recorded post-run memory.
  size_t k = 0;
  for (const auto& region : trace.regions) {
    if (region.name == "instructions") continue;
    ASSERT_EQ(region.address, post.regions[k].address);
    EXPECT_EQ(test::read_file(dump / (region.name + ".bin")), post.regions[k].bytes) << region.name;
    ++k;
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string name = std::string(info.param.recording) + "_" + info.param.target;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(TvmVtaFsim, Conformance,
                         ::testing::Values(Case{"tiny.T1", "fsim"}, Case{"tiny.T1", "fsim-ref"},
                                           Case{"tiny.T1", "fsim-serial"}, Case{"small.T2", "fsim"},
                                           Case{"small.T2", "fsim-ref"}, Case{"small.T2", "fsim-serial"},
                                           Case{"resnet-18.C10", "fsim"}, Case{"resnet-18.C10", "fsim-ref"},
                                           Case{"resnet-18.C10", "fsim-serial"},
                                           // Tuned schedule: its tokens balance, so even strict accepts it.
                                           Case{"resnet-18.C10", "fsim-strict"}),
                         case_name);

TEST(ImportVtaRecording, ProducesTheDocumentedLayout) {
  TempDir dir;
  import_vta_recording(recording("tiny.T1"), dir.path());
  const json manifest = json::parse(test::read_text(dir / "manifest.json"));
  EXPECT_EQ(manifest["format"], "vta-trace");
  EXPECT_EQ(manifest["instructions"]["address"], 0x2005000);
  EXPECT_EQ(manifest["instructions"]["count"], 651);
  const ProgramTrace trace = ProgramTrace::load(dir.path());
  const TraceRegion& insns = trace.regions.back();  // highest address
  EXPECT_EQ(insns.name, "instructions");
  EXPECT_EQ(insns.address, 0x2005000u);
  EXPECT_EQ(insns.size, 651u * 16u);
  EXPECT_FALSE(insns.dump);
  EXPECT_EQ(test::read_file(dir / insns.file), test::read_file(recording("tiny.T1") / "run000.insn.bin"));
  const TraceRegion& first = trace.regions.front();
  EXPECT_EQ(first.address, 0x1000u);
  EXPECT_TRUE(first.dump);
  EXPECT_TRUE(first.expected_file.has_value());
  ASSERT_TRUE(trace.expected_counters.has_value());
  EXPECT_EQ(trace.expected_counters->gemm_counter, 576u);
  EXPECT_EQ(trace.expected_counters->alu_counter, 256u);
}

// A copy of tiny.T1 that a test can damage.
class DamagedRecording : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* file :
         {"run000.insn.bin", "run000.meta.txt", "run000.dram_pre.bin", "run000.dram_post.bin", "meta.json"}) {
      std::filesystem::copy_file(recording("tiny.T1") / file, src_ / file);
      std::filesystem::permissions(src_ / file, std::filesystem::perms::owner_write,
                                   std::filesystem::perm_options::add);
    }
  }
  void expect_import_error(const std::string& needle) {
    try {
      import_vta_recording(src_.path(), out_.path());
      ADD_FAILURE() << "import succeeded, expected: " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  TempDir src_, out_;
};

TEST_F(DamagedRecording, IntactCopyImports) { EXPECT_NO_THROW(import_vta_recording(src_.path(), out_.path())); }

TEST_F(DamagedRecording, MissingMetaTxt) {
  std::filesystem::remove(src_ / "run000.meta.txt");
  expect_import_error("run000.meta.txt");
}

TEST_F(DamagedRecording, MetaTxtWithoutAddress) {
  test::write_text(src_ / "run000.meta.txt", "insn_count=651\n");
  expect_import_error("insn_phy_addr");
}

TEST_F(DamagedRecording, MetaTxtWithGarbageCount) {
  test::write_text(src_ / "run000.meta.txt", "insn_phy_addr=0x2005000\ninsn_count=lots\n");
  expect_import_error("insn_count");
}

TEST_F(DamagedRecording, InstructionFileSizeMismatch) {
  test::write_text(src_ / "run000.meta.txt", "insn_phy_addr=0x2005000\ninsn_count=650\n");
  expect_import_error("run000.insn.bin");
}

TEST_F(DamagedRecording, InstructionsOverlapData) {
  test::write_text(src_ / "run000.meta.txt", "insn_phy_addr=0x1000\ninsn_count=651\n");
  expect_import_error("overlaps");
}

// The stream [insn_phy_addr, +651*16) ending exactly at 2^64 wrapped: the overlap check missed it and the
// import wrote a trace that ProgramTrace::load rejects.
TEST_F(DamagedRecording, InstructionsWrapAroundTheAddressSpace) {
  test::write_text(src_ / "run000.meta.txt", "insn_phy_addr=0xffffffffffffd750\ninsn_count=651\n");
  expect_import_error("wraps around");
  test::write_text(src_ / "run000.meta.txt", "insn_phy_addr=0xfffffffffffffff0\ninsn_count=651\n");
  expect_import_error("wraps around");
}

TEST_F(DamagedRecording, PostImageDoesNotMatchPre) {
  DramImage post = DramImage::read_vtadram(src_ / "run000.dram_post.bin");
  post.regions.pop_back();
  std::filesystem::remove(src_ / "run000.dram_post.bin");
  post.write_vtadram(src_ / "run000.dram_post.bin");
  expect_import_error("regions");
}

TEST_F(DamagedRecording, CorruptDramContainer) {
  auto bytes = test::read_file(src_ / "run000.dram_pre.bin");
  bytes.resize(bytes.size() - 1);
  std::filesystem::remove(src_ / "run000.dram_pre.bin");
  test::write_file(src_ / "run000.dram_pre.bin", bytes);
  expect_import_error("truncated");
}

TEST_F(DamagedRecording, MalformedMetaJson) {
  std::filesystem::remove(src_ / "meta.json");
  test::write_text(src_ / "meta.json", "{ nope");
  expect_import_error("malformed JSON");
}

TEST_F(DamagedRecording, MetaJsonIsOptional) {
  std::filesystem::remove(src_ / "meta.json");
  import_vta_recording(src_.path(), out_.path());
  const ProgramTrace trace = ProgramTrace::load(out_.path());
  EXPECT_FALSE(trace.expected_counters.has_value());
  EXPECT_EQ(trace.config, isa::HwConfig::default_config());
}

}  // namespace
}  // namespace vta::driver
