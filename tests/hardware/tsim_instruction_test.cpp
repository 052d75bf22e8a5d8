// The fsim instruction-semantics tests (tests/fsim/fsim_instruction_tests.h: data path, padding, GEMM and
// ALU semantics, counters, token-only no-ops, token flow) run on the RTL core through driver::Device, with
// the same programs and the same expected values as on fsim. The fsim-only tests (error and deadlock
// messages, out-of-range indices, which wrap in hardware, the serial schedule, clear_buffers) are not here;
// tsim's error reporting is covered by tsim_differential_test (TsimDirected.Errors...).
//
// Parameters: "fsim" (the same executor over driver's fsim target, a check of the executor itself),
// "tsim" (the config's DRAM timing) and "tsim_slow_memory" (latency 300, 2 B/cycle, one outstanding
// burst: the modules interleave differently).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fsim_test_util.h"
#include "instruction_test_base.h"
#include "vta/driver/device.h"
#include "vta/driver/tsim_device.h"
#include "vta/isa/error.h"

namespace vta::fsim::test {

// A ProgramExecutor over any driver::Device: buffers from allocate(), host writes flushed, reads
// invalidated; a failed run throws vta::Error with the device's message.
class DeviceExecutor final : public ProgramExecutor {
 public:
  explicit DeviceExecutor(std::unique_ptr<driver::Device> device) : dev_(std::move(device)) {}

  const isa::HwConfig& config() const override { return dev_->config(); }

  uint64_t allocate(uint64_t bytes, uint64_t alignment) override {
    const driver::DeviceBuffer b = dev_->allocate(bytes, alignment);
    buffers_.push_back(b);
    return b.device_address;
  }

  void write(uint64_t address, const void* src, uint64_t bytes) override {
    const driver::DeviceBuffer& b = find(address, bytes);
    const uint64_t offset = address - b.device_address;
    std::memcpy(b.host + offset, src, bytes);
    dev_->flush(b, offset, bytes);
  }

  void read(uint64_t address, void* dst, uint64_t bytes) override {
    const driver::DeviceBuffer& b = find(address, bytes);
    const uint64_t offset = address - b.device_address;
    dev_->invalidate(b, offset, bytes);
    std::memcpy(dst, b.host + offset, bytes);
  }

  void run(uint64_t insn_address, uint32_t insn_count) override {
    const driver::RunResult r = dev_->run(insn_address, insn_count, std::chrono::seconds(120));
    if (!r.ok()) throw Error(dev_->name() + ": " + r.message);
  }

  driver::Device& device() { return *dev_; }

  isa::ExecutionCounters counters() const override {
    isa::ExecutionCounters c = dev_->counters();
    c.cycle_count = 0;  // timing, not semantics (fsim reports 0)
    return c;
  }

 private:
  const driver::DeviceBuffer& find(uint64_t address, uint64_t bytes) const {
    for (const driver::DeviceBuffer& b : buffers_)
      if (address >= b.device_address && bytes <= b.size && address - b.device_address <= b.size - bytes) return b;
    throw MemoryError("DeviceExecutor: [" + std::to_string(address) + ", +" + std::to_string(bytes) +
                      ") is not inside an allocated buffer");
  }

  std::unique_ptr<driver::Device> dev_;
  std::vector<driver::DeviceBuffer> buffers_;
};

class TsimInstructionTest : public InstructionTestBase, public ::testing::WithParamInterface<std::string> {
 protected:
  ProgramExecutor& exec() override {
    if (!exec_) {
      const std::string& target = GetParam();
      std::unique_ptr<driver::Device> dev;
      if (target == "fsim") {
        dev = driver::open_device("fsim", cfg_);
      } else {
        driver::TsimDeviceOptions o;
        if (target == "tsim_slow_memory") {
          o.dram_latency_cycles = 300;
          o.dram_bytes_per_cycle = 2;
          o.max_outstanding = 1;
        }
        dev = std::make_unique<driver::TsimDevice>("tsim", cfg_, o);
      }
      exec_ = std::make_unique<DeviceExecutor>(std::move(dev));
    }
    return *exec_;
  }

  std::unique_ptr<DeviceExecutor> exec_;
};

}  // namespace vta::fsim::test

#define VTA_INSTRUCTION_TEST_SUITE TsimInstructionTest
#include "fsim_instruction_tests.h"  // NOLINT(build/include)

namespace vta::fsim::test {
namespace {

// The executor really runs on the requested backend: tsim counts hardware cycles, fsim does not.
TEST_P(TsimInstructionTest, RunsOnTheRequestedTarget) {
  run({load(MemoryType::kUop, 0, 0, 0, 0, 0)});
  auto& dev = exec_->device();
  EXPECT_EQ(dev.name(), GetParam() == "fsim" ? "fsim" : "tsim");
  if (GetParam() != "fsim") {
    EXPECT_NE(dynamic_cast<driver::TsimDevice*>(&dev), nullptr);
    EXPECT_GT(dev.counters().cycle_count, 0u);
  }
  EXPECT_EQ(counters().compute_insn_count, 2u);  // the no-op and FINISH
}

std::string target_name(const ::testing::TestParamInfo<std::string>& param) { return param.param; }

INSTANTIATE_TEST_SUITE_P(Targets, TsimInstructionTest, ::testing::Values("fsim", "tsim", "tsim_slow_memory"),
                         target_name);

}  // namespace
}  // namespace vta::fsim::test
