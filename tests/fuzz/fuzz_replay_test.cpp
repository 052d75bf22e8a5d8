// Replays every committed fuzz input (tests/fuzz/corpus/<harness>, tests/fuzz/regressions/<harness>)
// through the harness functions, so every build checks them without libFuzzer: each input must be
// accepted or rejected with a vta::Error, with the harness's properties holding (a violation aborts).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "fuzz_common.h"

namespace vta::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> inputs_of(const std::string& harness, const std::string& kind) {
  std::vector<fs::path> files;
  const fs::path dir = fs::path(VTA_FUZZ_DIR) / kind / harness;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

void replay(const std::string& harness, void (*entry)(Bytes)) {
  const auto corpus = inputs_of(harness, "corpus");
  ASSERT_FALSE(corpus.empty()) << "no seed inputs in tests/fuzz/corpus/" << harness;
  auto files = corpus;
  for (const auto& f : inputs_of(harness, "regressions")) files.push_back(f);
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    std::ifstream in(file, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A harness lets only non-vta::Error exceptions escape; each is a finding.
    EXPECT_NO_THROW(entry(Bytes(bytes)));
  }
}

TEST(FuzzReplay, IsaDecode) { replay("isa_decode", &isa_decode); }
TEST(FuzzReplay, Config) { replay("config", &config); }
TEST(FuzzReplay, Trace) { replay("trace", &trace); }
TEST(FuzzReplay, DramImage) { replay("dram_image", &dram_image); }
TEST(FuzzReplay, Npy) { replay("npy", &npy); }
TEST(FuzzReplay, FsimProgram) { replay("fsim_program", &fsim_program); }
TEST(FuzzReplay, VtaRecording) { replay("vta_recording", &vta_recording); }
#if VTA_FUZZ_HAVE_ONNX
TEST(FuzzReplay, Onnx) { replay("onnx", &onnx); }
#endif
#if VTA_FUZZ_HAVE_MODEL
TEST(FuzzReplay, Package) { replay("package", &package); }
#endif

}  // namespace
}  // namespace vta::fuzz
