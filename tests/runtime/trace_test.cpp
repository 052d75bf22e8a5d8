// The trace option: every synchronize() writes trace_dir/runNNN, which ProgramTrace::load + replay
// reproduces on a fresh device with zero mismatches.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>

#include "runtime_test_util.h"
#include "vta/driver/program_trace.h"

namespace vta::rtest {
namespace {

namespace fs = std::filesystem;
using isa::MemoryType;

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    path_ = fs::temp_directory_path() /
            ("vta_runtime_trace_" + std::to_string(stamp) + "_" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// One self-contained program: load, reset, GEMM, requantize, store.
void emit_small_gemm(Harness& h, const driver::DeviceBuffer& inp, const driver::DeviceBuffer& wgt,
                     const driver::DeviceBuffer& out, uint32_t n) {
  auto& q = h.q();
  q.load_2d(inp, 0, n, 1, n, 0, 0, 0, 0, 0, MemoryType::kInp);
  q.load_2d(wgt, 0, 1, 1, 1, 0, 0, 0, 0, 0, MemoryType::kWgt);
  q.dep_push(Stage::kLoad, Stage::kCompute);
  q.dep_pop(Stage::kLoad, Stage::kCompute);
  q.push_gemm(UopKernelBuilder(KernelMode::kGemm, true).loop_begin(n, 1, 0, 0).push(0, 0, 0).loop_end().build());
  q.push_gemm(UopKernelBuilder(KernelMode::kGemm).loop_begin(n, 1, 1, 0).push(0, 0, 0).loop_end().build());
  q.push_alu(alu_range(0, 0, n, isa::AluOpcode::kShr, true, 5));
  q.dep_push(Stage::kCompute, Stage::kStore);
  q.dep_pop(Stage::kCompute, Stage::kStore);
  q.store_2d(0, MemoryType::kOut, out, 0, n, 1, n);
}

TEST(RuntimeTrace, RecordedRunsReplayWithoutMismatches) {
  TempDir dir;
  runtime::CommandQueueOptions options;
  options.trace_dir = dir.path();
  const isa::HwConfig config = isa::HwConfig::default_config();
  {
    Harness h("fsim", config, options);
    const uint32_t n = 12;
    auto inp = h.alloc_with(random_i8(size_t{n} * h.geo().inp_lanes, 41));
    auto wgt = h.alloc_with(random_i8(h.geo().wgt_lanes, 42));
    auto out = h.alloc(size_t{n} * h.cfg().out().element_bytes);
    emit_small_gemm(h, inp, wgt, out, n);
    h.q().synchronize();
    const uint64_t misses = h.q().kernel_cache_misses(), hits = h.q().kernel_cache_hits();
    // A second run reuses the cached kernels: no upload, but LOAD UOP again (residency is per run).
    std::memcpy(inp.host, random_i8(size_t{n} * h.geo().inp_lanes, 43).data(), size_t{n} * h.geo().inp_lanes);
    emit_small_gemm(h, inp, wgt, out, n);
    EXPECT_GE(count_load_uop(h.q().pending()), 1u);
    h.q().synchronize();
    EXPECT_EQ(h.q().kernel_cache_misses(), misses);
    EXPECT_EQ(h.q().kernel_cache_hits(), hits + 3);
  }
  for (const char* run : {"run000", "run001"}) {
    SCOPED_TRACE(run);
    const fs::path trace_dir = dir.path() / run;
    ASSERT_TRUE(fs::exists(trace_dir / "manifest.json"));
    const driver::ProgramTrace trace = driver::ProgramTrace::load(trace_dir);
    EXPECT_EQ(trace.config, config);
    for (const char* target : {"fsim", "fsim-ref", "fsim-serial"}) {
      SCOPED_TRACE(target);
      auto device = driver::open_device(target, trace.config);
      const driver::ReplayResult r = driver::replay(trace, trace_dir, *device, std::nullopt);
      EXPECT_TRUE(r.run.ok()) << r.run.message;
      EXPECT_TRUE(r.mismatches.empty()) << r.mismatches.size() << " mismatching regions, first "
                                        << (r.mismatches.empty() ? "" : r.mismatches[0].region);
      EXPECT_FALSE(r.counter_mismatch.has_value()) << r.counter_mismatch.value_or("");
    }
  }
  EXPECT_FALSE(fs::exists(dir.path() / "run002"));
}

}  // namespace
}  // namespace vta::rtest
