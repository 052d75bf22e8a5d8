// Tests of the simulated device DRAM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vta/isa/error.h"
#include "vta/sim/device_memory.h"

namespace vta::sim {
namespace {

using ::testing::HasSubstr;

TEST(DeviceMemory, AllocatesAlignedZeroedDisjointRegions) {
  DeviceMemory mem;
  const uint64_t a = mem.allocate(100, 64);
  const uint64_t b = mem.allocate(10, 4096);
  const uint64_t c = mem.allocate(0);
  EXPECT_NE(a, 0u);
  EXPECT_EQ(a % 64, 0u);
  EXPECT_EQ(b % 4096, 0u);
  EXPECT_GE(b, a + 100);
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  const uint8_t* p = mem.at(a, 100);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p[i], 0);
  ASSERT_EQ(mem.regions().size(), 3u);
  EXPECT_EQ(mem.regions()[0].address, a);
  EXPECT_EQ(mem.regions()[0].size, 100u);
  EXPECT_THROW(mem.allocate(8, 3), MemoryError);
}

TEST(DeviceMemory, ReadWriteRoundTrip) {
  DeviceMemory mem(0x10000);
  const uint64_t a = mem.allocate(256);
  EXPECT_GE(a, 0x10000u);
  std::vector<uint8_t> in(256);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>(i * 7);
  mem.write(a, in.data(), in.size());
  std::vector<uint8_t> out(256);
  mem.read(a, out.data(), out.size());
  EXPECT_EQ(in, out);
  EXPECT_EQ(mem.at(a + 10, 1)[0], in[10]);
}

TEST(DeviceMemory, OutOfRangeAccessNamesAddressAndSize) {
  DeviceMemory mem;
  const uint64_t a = mem.allocate(64, 64);
  EXPECT_TRUE(mem.contains(a, 64));
  EXPECT_TRUE(mem.contains(a + 64, 0));
  EXPECT_FALSE(mem.contains(a, 65));
  EXPECT_FALSE(mem.contains(a - 1, 1));
  try {
    mem.at(a + 60, 8);
    FAIL() << "no exception";
  } catch (const MemoryError& e) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(a + 60));
    EXPECT_THAT(e.what(), HasSubstr(buf));
    EXPECT_THAT(e.what(), HasSubstr("8 bytes"));
    EXPECT_THAT(e.what(), HasSubstr("past the end"));
  }
  try {
    mem.at(0x7777000, 4);
    FAIL() << "no exception";
  } catch (const MemoryError& e) {
    EXPECT_THAT(e.what(), HasSubstr("0x7777000"));
    EXPECT_THAT(e.what(), HasSubstr("outside every allocated region"));
  }
  EXPECT_THROW(mem.at(~uint64_t{0} - 2, 8), MemoryError);  // wraps around
}

TEST(DeviceMemory, AccessMayNotSpanAdjacentRegions) {
  DeviceMemory mem;
  mem.map(0x1000, 0x100);
  mem.map(0x1100, 0x100);
  EXPECT_NO_THROW(mem.at(0x10f0, 0x10));
  EXPECT_NO_THROW(mem.at(0x1100, 0x10));
  EXPECT_THROW(mem.at(0x10f0, 0x20), MemoryError);
}

TEST(DeviceMemory, MapRejectsOverlapAndAllocateSkipsMappedRegions) {
  DeviceMemory mem(0x1000);
  mem.map(0x1000, 0x2000);
  EXPECT_THROW(mem.map(0x2fff, 1), MemoryError);
  EXPECT_THROW(mem.map(0x800, 0x900), MemoryError);
  EXPECT_NO_THROW(mem.map(0x3000, 16));
  const uint64_t a = mem.allocate(0x100, 64);
  EXPECT_GE(a, 0x3010u);
  EXPECT_THROW(mem.map(a, 1), MemoryError);
}

TEST(DeviceMemory, FreeInvalidatesTheRegionAndTheLookupCache) {
  DeviceMemory mem;
  const uint64_t a = mem.allocate(128);
  mem.at(a, 16);  // primes the one-entry cache
  mem.free(a);
  EXPECT_THROW(mem.at(a, 16), MemoryError);
  EXPECT_FALSE(mem.contains(a, 1));
  EXPECT_THROW(mem.free(a), MemoryError);
  mem.map(a, 16);  // the address range is free again
  EXPECT_EQ(mem.at(a, 16)[0], 0);
  EXPECT_THROW(mem.at(a, 17), MemoryError);
}

TEST(DeviceMemory, LookupCacheFollowsTheLastRegion) {
  DeviceMemory mem;
  std::vector<uint64_t> addrs;
  for (int i = 0; i < 8; ++i) {
    addrs.push_back(mem.allocate(32));
    const auto v = static_cast<uint8_t>(i + 1);
    mem.write(addrs.back(), &v, 1);
  }
  for (int round = 0; round < 3; ++round)
    for (int i = 7; i >= 0; --i) EXPECT_EQ(mem.at(addrs[i], 32)[0], i + 1);
}

TEST(DeviceMemory, RegionAtAddressZeroWorks) {
  DeviceMemory mem;
  mem.map(0, 64);
  const uint8_t v = 9;
  mem.write(10, &v, 1);
  EXPECT_EQ(mem.at(10, 1)[0], 9);
  EXPECT_EQ(mem.at(10, 1)[0], 9);
  EXPECT_THROW(mem.at(60, 8), MemoryError);
}

}  // namespace
}  // namespace vta::sim
