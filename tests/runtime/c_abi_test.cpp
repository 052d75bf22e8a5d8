// The C ABI (vta_runtime.h): a small GEMM + requantize written the way VTA-generated host code calls
// the runtime, checked against a CPU reference, plus the error paths.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "runtime_test_util.h"
#include "vta/runtime/vta_runtime.h"

namespace vta::rtest {
namespace {

// Memory type ids of the ISA (VTA_MEM_ID_*).
constexpr uint32_t kMemUop = 0, kMemWgt = 1, kMemInp = 2, kMemOut = 4;
constexpr uint32_t kGemmMode = 0, kAluMode = 1;
constexpr uint32_t kAluMin = 0, kAluMax = 1, kAluShr = 3;

constexpr uint32_t kMt = 4, kNt = 2, kKt = 3;
std::atomic<int> g_finit_calls{0};

struct Sig {
  uint32_t kind;
  int32_t imm;
};

int finit_reset(void*) {
  ++g_finit_calls;
  VTAUopLoopBegin(kMt * kNt, 1, 0, 0);
  VTAUopPush(kGemmMode, 1, 0, 0, 0, 0, 0, 0);
  VTAUopLoopEnd();
  return 0;
}

// for i < kMt, x < kKt, j < kNt: acc[i*kNt + j] += inp[i*kKt + x] . wgt[j*kKt + x]
int finit_gemm(void*) {
  ++g_finit_calls;
  VTAUopLoopBegin(kMt, kNt, kKt, 0);
  VTAUopLoopBegin(kKt, 0, 1, 1);
  for (uint32_t j = 0; j < kNt; ++j) VTAUopPush(kGemmMode, 0, j, 0, j * kKt, 0, 0, 0);
  VTAUopLoopEnd();
  VTAUopLoopEnd();
  return 0;
}

int finit_alu(void* signature) {
  ++g_finit_calls;
  const Sig* sig = static_cast<const Sig*>(signature);
  VTAUopLoopBegin(kMt * kNt, 1, 1, 0);
  VTAUopPush(kAluMode, 0, 0, 0, 0, sig->kind, 1, sig->imm);
  VTAUopLoopEnd();
  return 0;
}

int finit_empty(void*) { return 0; }

int finit_mixed(void*) {
  VTAUopPush(kAluMode, 0, 0, 0, 0, kAluShr, 1, 1);
  VTAUopPush(kAluMode, 0, 1, 1, 0, kAluShr, 1, 2);  // different immediate inside one kernel
  return 0;
}

class CAbiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Only the first call in the process opens the device; pin it to the default config on fsim.
    setenv("VTA_TARGET", "fsim", 1);
    setenv("VTA_CONFIG", (std::string(VTA_CONFIG_DIR) + "/default.json").c_str(), 1);
    cmd = VTATLSCommandHandle();
    ASSERT_NE(cmd, nullptr) << VTAGetLastError();
  }
  void TearDown() override { VTARuntimeShutdown(); }
  VTACommandHandle cmd = nullptr;
};

// Runs a small GEMM + requantize twice through the C ABI on `cmd` and checks it against the CPU.
void run_small_gemm(VTACommandHandle cmd, uint32_t seed) {
  const Geo g(isa::HwConfig::default_config());
  const size_t m = size_t{kMt} * g.batch, n = size_t{kNt} * g.bout, k = size_t{kKt} * g.bin;
  const auto a = random_i8(m * k, seed), b = random_i8(n * k, seed + 1);
  const auto a_packed = pack_tiles(a, m, k, g.batch, g.bin);
  const auto b_packed = pack_tiles(b, n, k, g.bout, g.bin);
  void* a_buf = VTABufferAlloc(a_packed.size());
  void* b_buf = VTABufferAlloc(b_packed.size());
  void* c_buf = VTABufferAlloc(m * n);
  ASSERT_TRUE(a_buf && b_buf && c_buf) << VTAGetLastError();
  ASSERT_NE(VTABufferCPUPtr(cmd, a_buf), nullptr);
  EXPECT_EQ(VTABufferPhysAddr(a_buf) % 256, 0u);  // aligned for every element type
  ASSERT_EQ(VTABufferCopy(a_packed.data(), 0, a_buf, 0, a_packed.size(), VTA_MEMCPY_H2D), 0) << VTAGetLastError();
  ASSERT_EQ(VTABufferCopy(b_packed.data(), 0, b_buf, 0, b_packed.size(), VTA_MEMCPY_H2D), 0) << VTAGetLastError();

  void* reset_handle = nullptr;
  void* gemm_handle = nullptr;
  void* alu_handle = nullptr;
  for (int rep = 0; rep < 2; ++rep) {
    ASSERT_EQ(VTALoadBuffer2D(cmd, a_buf, 0, kMt * kKt, 1, kMt * kKt, 0, 0, 0, 0, 0, kMemInp), 0) << VTAGetLastError();
    ASSERT_EQ(VTALoadBuffer2D(cmd, b_buf, 0, kNt * kKt, 1, kNt * kKt, 0, 0, 0, 0, 0, kMemWgt), 0) << VTAGetLastError();
    ASSERT_EQ(VTADepPush(cmd, VTA_STAGE_LOAD, VTA_STAGE_COMPUTE), 0);
    ASSERT_EQ(VTADepPop(cmd, VTA_STAGE_LOAD, VTA_STAGE_COMPUTE), 0);
    ASSERT_EQ(VTAPushGEMMOp(&reset_handle, finit_reset, nullptr, 0), 0) << VTAGetLastError();
    ASSERT_EQ(VTAPushGEMMOp(&gemm_handle, finit_gemm, nullptr, 0), 0) << VTAGetLastError();
    // One call site, three signatures: three kernels behind one handle.
    for (Sig sig : {Sig{kAluShr, 4}, Sig{kAluMin, 127}, Sig{kAluMax, -128}}) {
      ASSERT_EQ(VTAPushALUOp(&alu_handle, finit_alu, &sig, sizeof(sig)), 0) << VTAGetLastError();
    }
    ASSERT_EQ(VTADepPush(cmd, VTA_STAGE_COMPUTE, VTA_STAGE_STORE), 0);
    ASSERT_EQ(VTADepPop(cmd, VTA_STAGE_COMPUTE, VTA_STAGE_STORE), 0);
    ASSERT_EQ(VTAStoreBuffer2D(cmd, 0, kMemOut, c_buf, 0, kMt * kNt, 1, kMt * kNt), 0) << VTAGetLastError();
    ASSERT_EQ(VTASynchronize(cmd, 1u << 31), 0) << VTAGetLastError();
  }

  std::vector<int8_t> c_packed(m * n);
  ASSERT_EQ(VTABufferCopy(c_buf, 0, c_packed.data(), 0, c_packed.size(), VTA_MEMCPY_D2H), 0) << VTAGetLastError();
  const auto ref = ref_matmul(a, b, m, n, k);
  std::vector<int8_t> expect(ref.size());
  for (size_t i = 0; i < ref.size(); ++i) expect[i] = static_cast<int8_t>(std::clamp(ref[i] >> 4, -128, 127));
  EXPECT_EQ(unpack_tiles(c_packed, m, n, g.batch, g.bout), expect);

  // Device-to-device copy.
  void* d_buf = VTABufferAlloc(m * n);
  ASSERT_EQ(VTABufferCopy(c_buf, 0, d_buf, 0, m * n, VTA_MEMCPY_D2D), 0) << VTAGetLastError();
  EXPECT_EQ(std::memcmp(VTABufferCPUPtr(cmd, d_buf), c_packed.data(), m * n), 0);

  for (void* buf : {a_buf, b_buf, c_buf, d_buf}) VTABufferFree(buf);
}

TEST_F(CAbiTest, SmallGemmWithRequantize) {
  g_finit_calls = 0;
  run_small_gemm(cmd, 51);
  EXPECT_EQ(g_finit_calls, 5);  // each distinct kernel recorded once, though pushed twice
}

// Threads have their own queues on the shared device; runs are serialized on it.
TEST_F(CAbiTest, ThreadsHaveTheirOwnQueues) {
  std::vector<std::thread> threads;
  std::vector<VTACommandHandle> handles(3, nullptr);
  for (uint32_t t = 0; t < handles.size(); ++t) {
    threads.emplace_back([t, &handles] {
      handles[t] = VTATLSCommandHandle();
      ASSERT_NE(handles[t], nullptr) << VTAGetLastError();
      for (uint32_t rep = 0; rep < 3; ++rep) run_small_gemm(handles[t], 1000 + 10 * t + rep);
      VTARuntimeShutdown();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_NE(handles[0], cmd);
}

TEST_F(CAbiTest, ErrorsReturnMinusOneWithMessage) {
  void* buf = VTABufferAlloc(4096);
  ASSERT_NE(buf, nullptr);

  EXPECT_EQ(VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, 9), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "memory type")) << VTAGetLastError();
  EXPECT_EQ(VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, kMemOut), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "memory type")) << VTAGetLastError();
  EXPECT_EQ(VTAStoreBuffer2D(cmd, 0, kMemInp, buf, 0, 1, 1, 1), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "memory type")) << VTAGetLastError();

  EXPECT_EQ(VTALoadBuffer2D(cmd, buf, 0, 1, 1, 1, 16, 0, 0, 0, 0, kMemInp), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "pad")) << VTAGetLastError();

  int not_a_buffer = 0;
  EXPECT_EQ(VTALoadBuffer2D(cmd, &not_a_buffer, 0, 1, 1, 1, 0, 0, 0, 0, 0, kMemInp), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "VTABufferAlloc")) << VTAGetLastError();
  EXPECT_EQ(VTABufferCPUPtr(cmd, &not_a_buffer), nullptr);
  EXPECT_EQ(VTALoadBuffer2D(nullptr, buf, 0, 1, 1, 1, 0, 0, 0, 0, 0, kMemInp), -1);

  EXPECT_EQ(VTADepPush(cmd, VTA_STAGE_LOAD, VTA_STAGE_STORE), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "adjacent")) << VTAGetLastError();
  EXPECT_EQ(VTADepPop(cmd, 0, VTA_STAGE_LOAD), -1);

  EXPECT_EQ(VTAUopPush(kGemmMode, 0, 0, 0, 0, 0, 0, 0), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "outside")) << VTAGetLastError();
  EXPECT_EQ(VTAUopLoopBegin(1, 0, 0, 0), -1);
  EXPECT_EQ(VTAUopLoopEnd(), -1);

  void* handle = nullptr;
  EXPECT_EQ(VTAPushGEMMOp(&handle, finit_empty, nullptr, 0), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "empty")) << VTAGetLastError();
  void* alu_handle = nullptr;
  EXPECT_EQ(VTAPushALUOp(&alu_handle, finit_mixed, nullptr, 0), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "same")) << VTAGetLastError();
  void* gemm_handle = nullptr;
  EXPECT_EQ(VTAPushALUOp(&gemm_handle, finit_reset, nullptr, 0), -1);  // GEMM micro-ops for an ALU op
  EXPECT_EQ(VTABufferCopy(&not_a_buffer, 0, buf, 0, 1, 7), -1);
  EXPECT_EQ(VTABufferCopy(&not_a_buffer, 0, buf, 4000, 200, VTA_MEMCPY_H2D), -1);

  // Nothing invalid was queued: the program still runs.
  EXPECT_EQ(VTASynchronize(cmd, 0), 0) << VTAGetLastError();
  (void)kMemUop;
  VTABufferFree(buf);
}

TEST_F(CAbiTest, DeadlockSurfacesThroughSynchronize) {
  void* handle = nullptr;
  ASSERT_EQ(VTADepPop(cmd, VTA_STAGE_LOAD, VTA_STAGE_COMPUTE), 0);
  ASSERT_EQ(VTAPushGEMMOp(&handle, finit_reset, nullptr, 0), 0) << VTAGetLastError();
  EXPECT_EQ(VTASynchronize(cmd, 1000000), -1);
  EXPECT_TRUE(contains_ci(VTAGetLastError(), "deadlock")) << VTAGetLastError();
  // The queue recovers.
  ASSERT_EQ(VTAPushGEMMOp(&handle, finit_reset, nullptr, 0), 0) << VTAGetLastError();
  EXPECT_EQ(VTASynchronize(cmd, 0), 0) << VTAGetLastError();
}

TEST_F(CAbiTest, ShutdownGivesAFreshQueue) {
  VTARuntimeShutdown();
  EXPECT_EQ(VTASynchronize(cmd, 0), -1);  // the old handle is gone
  VTACommandHandle fresh = VTATLSCommandHandle();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(VTASynchronize(fresh, 0), 0) << VTAGetLastError();
  cmd = fresh;
}

}  // namespace
}  // namespace vta::rtest
