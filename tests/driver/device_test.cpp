// Device interface on the fsim backends: buffers, cache maintenance checks, the register protocol,
// run() results and the target factory.
#include <algorithm>
#include <chrono>
#include <cstring>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vta/driver/device.h"
#include "vta/driver/register_map.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {
namespace {

using test::build_small_program;
using namespace std::chrono_literals;

std::unique_ptr<Device> open_default(const std::string& target = "fsim") {
  return open_device(target, isa::HwConfig::default_config());
}

TEST(DeviceFactory, KnownTargetsIncludeTheFsimVariants) {
  const auto targets = known_targets();
  for (const char* name : {"fsim", "fsim-ref", "fsim-serial", "fsim-strict"}) {
    EXPECT_NE(std::find(targets.begin(), targets.end(), name), targets.end()) << name;
    const auto device = open_default(name);
    EXPECT_EQ(device->name(), name);
    EXPECT_EQ(device->config(), isa::HwConfig::default_config());
  }
}

TEST(DeviceFactory, UnknownTargetListsKnownTargets) {
  try {
    open_default("fpga-of-dreams");
    FAIL() << "expected vta::Error";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("fpga-of-dreams"), std::string::npos) << what;
    for (const auto& name : known_targets()) EXPECT_NE(what.find(name), std::string::npos) << what;
  }
}

TEST(FsimDevice, AllocateGivesAlignedZeroedDistinctBuffers) {
  auto device = open_default();
  const auto a = device->allocate(100, 64);
  const auto b = device->allocate(4096, 4096);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_NE(a.device_address, 0u);
  EXPECT_EQ(a.device_address % 64, 0u);
  EXPECT_EQ(b.device_address % 4096, 0u);
  EXPECT_EQ(a.size, 100u);
  EXPECT_EQ(b.size, 4096u);
  EXPECT_TRUE(a.device_address + a.size <= b.device_address || b.device_address + b.size <= a.device_address);
  for (uint64_t i = 0; i < a.size; ++i) ASSERT_EQ(a.host[i], 0) << i;
  std::memset(a.host, 0x5a, a.size);  // host pointer is writable
  EXPECT_EQ(a.host[99], 0x5a);
}

TEST(FsimDevice, RejectsZeroSizeAndBadAlignment) {
  auto device = open_default();
  EXPECT_THROW(device->allocate(0), MemoryError);
  EXPECT_THROW(device->allocate(64, 3), MemoryError);
  EXPECT_THROW(device->map_at(0x10000, 0), MemoryError);
  EXPECT_THROW(device->map_at(~uint64_t{0} - 10, 100), MemoryError);
}

TEST(FsimDevice, BuffersListsLiveBuffersInAddressOrder) {
  auto device = open_default();
  EXPECT_TRUE(device->buffers().empty());
  const auto high = device->map_at(0x800000, 256);
  const auto a = device->allocate(128);
  const auto b = device->allocate(64);
  auto list = device->buffers();
  ASSERT_EQ(list.size(), 3u);
  for (size_t i = 1; i < list.size(); ++i) EXPECT_LT(list[i - 1].device_address, list[i].device_address);
  device->free(a);
  list = device->buffers();
  ASSERT_EQ(list.size(), 2u);
  for (const auto& buffer : list) EXPECT_NE(buffer.device_address, a.device_address);
  device->free(b);
  device->free(high);
  EXPECT_TRUE(device->buffers().empty());
}

TEST(FsimDevice, MapAtFixedAddress) {
  auto device = open_default();
  const auto buffer = device->map_at(0x2005000, 10416);
  EXPECT_EQ(buffer.device_address, 0x2005000u);
  EXPECT_EQ(buffer.size, 10416u);
  ASSERT_TRUE(buffer);
  // Overlapping mappings are refused, adjacent ones are fine.
  EXPECT_THROW(device->map_at(0x2005000 + 10000, 1000), MemoryError);
  EXPECT_THROW(device->map_at(0x2004000, 0x1001), MemoryError);
  const auto next = device->map_at(0x2005000 + 10416, 16);
  EXPECT_EQ(next.device_address, 0x2005000u + 10416u);
  device->free(buffer);
  // The freed range can be mapped again.
  EXPECT_NO_THROW(device->free(device->map_at(0x2005000, 64)));
}

TEST(FsimDevice, FreeOfUnknownBufferThrows) {
  auto device = open_default();
  const auto a = device->allocate(64);
  device->free(a);
  EXPECT_THROW(device->free(a), MemoryError);
  DeviceBuffer bogus;
  bogus.device_address = 0x123456;
  bogus.size = 16;
  EXPECT_THROW(device->free(bogus), MemoryError);
}

TEST(FsimDevice, FlushAndInvalidateCheckBounds) {
  auto device = open_default();
  const auto a = device->allocate(256);
  EXPECT_NO_THROW(device->flush(a, 0, 256));
  EXPECT_NO_THROW(device->flush(a, 100, 156));
  EXPECT_NO_THROW(device->invalidate(a, 255, 1));
  EXPECT_NO_THROW(device->invalidate(a, 256, 0));
  EXPECT_THROW(device->flush(a, 0, 257), MemoryError);
  EXPECT_THROW(device->flush(a, 257, 0), MemoryError);
  EXPECT_THROW(device->invalidate(a, 200, 100), MemoryError);
  EXPECT_THROW(device->invalidate(a, 8, ~uint64_t{0}), MemoryError);  // offset + bytes overflows
  DeviceBuffer wrong_size = a;
  wrong_size.size = 512;
  EXPECT_THROW(device->flush(wrong_size, 0, 300), MemoryError);
  device->free(a);
  EXPECT_THROW(device->flush(a, 0, 16), MemoryError);
}

TEST(FsimDevice, RunComputesTheSmallProgram) {
  for (const char* target : {"fsim", "fsim-ref", "fsim-serial"}) {
    SCOPED_TRACE(target);
    auto device = open_default(target);
    const auto p = build_small_program(*device);
    const RunResult result = device->run(p.insns.device_address, p.insn_count, 10s);
    ASSERT_TRUE(result.ok()) << result.message;
    EXPECT_TRUE(result.message.empty());
    EXPECT_GE(result.wall_seconds, 0.0);
    device->invalidate(p.out, 0, p.out.size);
    EXPECT_EQ(std::vector<uint8_t>(p.out.host, p.out.host + p.out.size), p.expected_out);
    EXPECT_EQ(result.counters, p.expected_counters);
    EXPECT_EQ(device->counters(), result.counters);
  }
}

TEST(FsimDevice, RegisterProtocolStartsARunAndExposesCounters) {
  auto device = open_default();
  const auto p = build_small_program(*device, 7);
  EXPECT_EQ(device->read_register(reg::kStatus), 0u);  // nothing ran yet

  device->write_register(reg::kInsnAddrLo, static_cast<uint32_t>(p.insns.device_address));
  device->write_register(reg::kInsnAddrHi, static_cast<uint32_t>(p.insns.device_address >> 32));
  device->write_register(reg::kInsnCount, p.insn_count);
  EXPECT_EQ(device->read_register(reg::kInsnAddrLo), static_cast<uint32_t>(p.insns.device_address));
  EXPECT_EQ(device->read_register(reg::kInsnAddrHi), static_cast<uint32_t>(p.insns.device_address >> 32));
  EXPECT_EQ(device->read_register(reg::kInsnCount), p.insn_count);
  device->write_register(reg::kControl, reg::kControlStart);

  const uint32_t status = device->read_register(reg::kStatus);
  EXPECT_NE(status & reg::kStatusDone, 0u);
  EXPECT_EQ(status & reg::kStatusError, 0u);
  EXPECT_EQ(device->read_register(reg::kErrorCode), 0u);
  EXPECT_EQ(device->read_register(reg::kControl) & reg::kControlStart, 0u);  // self-clearing

  device->invalidate(p.out, 0, p.out.size);
  EXPECT_EQ(std::vector<uint8_t>(p.out.host, p.out.host + p.out.size), p.expected_out);

  const auto items = device->counters().items();
  ASSERT_FALSE(items.empty());
  for (uint32_t i = 0; i < items.size(); ++i) {
    const uint64_t value = device->read_register(reg::counter_lo(i)) |
                           (uint64_t{device->read_register(reg::counter_hi(i))} << 32);
    EXPECT_EQ(value, items[i].second) << items[i].first;
  }
  EXPECT_EQ(device->counters(), p.expected_counters);
}

TEST(FsimDevice, RegisterMisuseIsAnError) {
  auto device = open_default();
  EXPECT_THROW(device->write_register(reg::kStatus, 1), Error);
  EXPECT_THROW(device->write_register(reg::kErrorCode, 1), Error);
  EXPECT_THROW(device->write_register(reg::counter_lo(0), 1), Error);
  EXPECT_THROW(device->write_register(0x3c, 1), Error);   // unmapped
  EXPECT_THROW(device->read_register(0x3c), Error);
  EXPECT_THROW(device->read_register(0x06), Error);       // unaligned
  const auto n = static_cast<uint32_t>(device->counters().items().size());
  EXPECT_THROW(device->read_register(reg::counter_lo(n)), Error);
  EXPECT_NO_THROW(device->read_register(reg::counter_hi(n - 1)));
  // Writing control without the start bit does nothing.
  device->write_register(reg::kControl, 0);
  EXPECT_EQ(device->read_register(reg::kStatus), 0u);
}

TEST(FsimDevice, DeadlockIsReportedAsErrorNotThrown) {
  for (const char* target : {"fsim", "fsim-ref"}) {
    SCOPED_TRACE(target);
    auto device = open_default(target);
    isa::GemmInsn gemm;
    gemm.dep.pop_prev = true;  // waits for a load token that never comes
    gemm.loop = {true, 0, 1, 1, 1, 0, 0, 0, 0};
    const auto insns = test::upload_program(*device, {gemm, isa::FinishInsn{}});
    const RunResult result = device->run(insns.device_address, 2, 10s);
    EXPECT_EQ(result.status, RunStatus::kError);
    EXPECT_FALSE(result.message.empty());
    const uint32_t status = device->read_register(reg::kStatus);
    EXPECT_NE(status & reg::kStatusDone, 0u);
    EXPECT_NE(status & reg::kStatusError, 0u);
    EXPECT_NE(device->read_register(reg::kErrorCode), 0u);

    // The device stays usable: a good program runs afterwards and clears the error.
    const auto p = build_small_program(*device);
    EXPECT_TRUE(device->run(p.insns.device_address, p.insn_count, 10s).ok());
    EXPECT_EQ(device->read_register(reg::kStatus) & reg::kStatusError, 0u);
    EXPECT_EQ(device->read_register(reg::kErrorCode), 0u);
  }
}

TEST(FsimDevice, LeftoverTokensAreAnErrorOnlyOnFsimStrict) {
  // A token-only LOAD pushes load->compute and nothing pops it; a board would not notice.
  isa::MemInsn noop;
  noop.opcode = isa::Opcode::kLoad;
  noop.memory_type = isa::MemoryType::kInp;
  noop.dep.push_next = true;
  for (const char* target : {"fsim", "fsim-ref", "fsim-serial", "fsim-strict"}) {
    SCOPED_TRACE(target);
    auto device = open_default(target);
    const auto insns = test::upload_program(*device, {noop, isa::FinishInsn{}});
    const RunResult result = device->run(insns.device_address, 2, 10s);
    if (std::string(target) == "fsim-strict") {
      EXPECT_EQ(result.status, RunStatus::kError);
      EXPECT_NE(result.message.find("load->compute"), std::string::npos) << result.message;
    } else {
      EXPECT_TRUE(result.ok()) << result.message;
      if (std::string(target) != "fsim-serial") {  // serial mode ignores tokens altogether
        ASSERT_EQ(result.warnings.size(), 1u);
        EXPECT_NE(result.warnings[0].find("1 token in the load->compute queue"), std::string::npos)
            << result.warnings[0];
      }
    }
  }
}

TEST(FsimDevice, OutOfBoundsLoadIsReportedAsError) {
  auto device = open_default();
  const auto buffer = device->allocate(64, 64);
  isa::MemInsn load;
  load.opcode = isa::Opcode::kLoad;
  load.memory_type = isa::MemoryType::kInp;
  load.dram_base = static_cast<uint32_t>((buffer.device_address + 0x100000) / 16);  // nothing mapped there
  load.y_size = 1;
  load.x_size = 1;
  load.x_stride = 1;
  const auto insns = test::upload_program(*device, {load, isa::FinishInsn{}});
  const RunResult result = device->run(insns.device_address, 2, 10s);
  EXPECT_EQ(result.status, RunStatus::kError);
  EXPECT_FALSE(result.message.empty());
  EXPECT_NE(device->read_register(reg::kErrorCode), 0u);
}

TEST(FsimDevice, InstructionsOutsideMemoryAreAnError) {
  auto device = open_default();
  const RunResult result = device->run(0x7000000, 4, 10s);
  EXPECT_EQ(result.status, RunStatus::kError);
  EXPECT_FALSE(result.message.empty());
}

TEST(FsimDevice, SlowRunReportsTimeout) {
  // 200k GEMM micro-ops on the reference kernel take far longer than 1 ms.
  auto device = open_default("fsim-ref");
  const auto uops = device->allocate(4, 256);  // one zero micro-op
  isa::MemInsn load_uop;
  load_uop.opcode = isa::Opcode::kLoad;
  load_uop.memory_type = isa::MemoryType::kUop;
  load_uop.dram_base = static_cast<uint32_t>(uops.device_address / 4);
  load_uop.y_size = 1;
  load_uop.x_size = 1;
  load_uop.x_stride = 1;
  isa::GemmInsn gemm;
  gemm.loop = {false, 0, 1, 200, 1000, 0, 1, 0, 1};
  const auto insns = test::upload_program(*device, {load_uop, gemm, isa::FinishInsn{}});

  const RunResult slow = device->run(insns.device_address, 3, 1ms);
  EXPECT_EQ(slow.status, RunStatus::kTimeout) << slow.wall_seconds;
  EXPECT_NE(slow.message.find("timeout"), std::string::npos) << slow.message;
  EXPECT_EQ(slow.counters.gemm_counter, 200000u);

  const RunResult unlimited = device->run(insns.device_address, 3, 0ms);  // 0 = no limit
  EXPECT_TRUE(unlimited.ok()) << unlimited.message;
}

}  // namespace
}  // namespace vta::driver
