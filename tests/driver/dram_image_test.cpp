// DramImage: the VTADRAM1 container, round trip and every malformed-file case.
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"
#include "vta/driver/dram_image.h"
#include "vta/isa/error.h"
#include "vta/test/test_data.h"

namespace vta::driver {
namespace {

using test::TempDir;

void put_le(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// Builds a container by hand: header (magic, count, reserved) and (address, declared size, payload).
struct RawRegion {
  uint64_t address;
  uint64_t declared_size;
  std::vector<uint8_t> payload;
};
std::vector<uint8_t> container(const std::vector<RawRegion>& regions, const char* magic = "VTADRAM1",
                               uint32_t reserved = 0, int64_t count_override = -1) {
  std::vector<uint8_t> out(magic, magic + 8);
  put_le(out, count_override >= 0 ? static_cast<uint64_t>(count_override) : regions.size(), 4);
  put_le(out, reserved, 4);
  for (const auto& r : regions) {
    put_le(out, r.address, 8);
    put_le(out, r.declared_size, 8);
    out.insert(out.end(), r.payload.begin(), r.payload.end());
  }
  return out;
}

RawRegion region(uint64_t address, uint64_t size, uint8_t fill = 0xab) {
  return {address, size, std::vector<uint8_t>(size, fill)};
}

// Reading `bytes` as a container must fail with a message naming the file and containing `problem`.
void expect_rejected(const std::vector<uint8_t>& bytes, const std::string& problem) {
  TempDir dir;
  const auto path = dir / "bad.dram.bin";
  test::write_file(path, bytes);
  try {
    DramImage::read_vtadram(path);
    ADD_FAILURE() << "accepted a container that should fail with: " << problem;
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << what;
  }
}

TEST(DramImage, RoundTrip) {
  TempDir dir;
  DramImage image;
  image.regions.push_back({0x1000, {1, 2, 3, 4}});
  image.regions.push_back({0x1004, std::vector<uint8_t>(300, 7)});  // adjacent is allowed
  image.regions.push_back({0x1'0000'0000ull, {9}});                 // beyond 32 bits
  const auto path = dir / "img.bin";
  image.write_vtadram(path);
  EXPECT_EQ(std::filesystem::file_size(path), 16u + 3 * 16 + 4 + 300 + 1);
  const DramImage back = DramImage::read_vtadram(path);
  ASSERT_EQ(back.regions.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.regions[i].address, image.regions[i].address);
    EXPECT_EQ(back.regions[i].bytes, image.regions[i].bytes);
  }
  // The bytes on disk are the documented layout.
  const auto bytes = test::read_file(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 8), "VTADRAM1");
  EXPECT_EQ(bytes[8], 3);
  EXPECT_EQ(bytes[16 + 1], 0x10);  // address 0x1000, little endian
}

TEST(DramImage, EmptyImageRoundTrips) {
  TempDir dir;
  DramImage{}.write_vtadram(dir / "empty.bin");
  EXPECT_TRUE(DramImage::read_vtadram(dir / "empty.bin").regions.empty());
}

TEST(DramImage, ReadsTheConformanceContainers) {
  const std::filesystem::path dir = vta::test::conformance_recording("tiny.T1");
  const auto pre = DramImage::read_vtadram(dir / "run000.dram_pre.bin");
  ASSERT_EQ(pre.regions.size(), 5u);
  EXPECT_EQ(pre.regions[0].address, 0x1000u);
  EXPECT_EQ(pre.regions[0].bytes.size(), 1024u);
  EXPECT_EQ(pre.regions[4].address, 0x5000u);
  EXPECT_EQ(pre.regions[4].bytes.size(), 24u);
  // Writing it back gives the identical file.
  TempDir out;
  pre.write_vtadram(out / "copy.bin");
  EXPECT_EQ(test::read_file(out / "copy.bin"), test::read_file(dir / "run000.dram_pre.bin"));
}

TEST(DramImage, MissingFile) {
  TempDir dir;
  try {
    DramImage::read_vtadram(dir / "nope.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.bin"), std::string::npos) << e.what();
  }
}

TEST(DramImage, BadMagic) { expect_rejected(container({region(0x1000, 4)}, "VTADRAM2"), "bad magic"); }
TEST(DramImage, BadMagicShortFile) { expect_rejected({'E', 'L', 'F', 'X', 0, 0, 0, 0, 0}, "bad magic"); }
TEST(DramImage, TruncatedHeader) { expect_rejected({'V', 'T', 'A', 'D', 'R', 'A', 'M', '1', 1, 0}, "truncated"); }
TEST(DramImage, EmptyFile) { expect_rejected({}, "truncated"); }
TEST(DramImage, NonZeroReservedWord) { expect_rejected(container({region(0x1000, 4)}, "VTADRAM1", 5), "reserved"); }

TEST(DramImage, TruncatedRegionHeader) {
  auto bytes = container({region(0x1000, 4)}, "VTADRAM1", 0, 2);  // claims two regions, has one
  bytes.insert(bytes.end(), {1, 2, 3});                           // and 3 bytes of a second header
  expect_rejected(bytes, "truncated");
}

TEST(DramImage, TruncatedRegionData) {
  RawRegion r = region(0x1000, 64);
  r.payload.resize(40);
  expect_rejected(container({r}), "truncated");
}

TEST(DramImage, HugeDeclaredSize) {
  RawRegion r{0x1000, ~uint64_t{0} >> 1, {1, 2, 3}};
  expect_rejected(container({r}), "truncated");
}

TEST(DramImage, AddressWraps) {
  RawRegion r{~uint64_t{0} - 1, 4, {1, 2, 3, 4}};
  expect_rejected(container({r}), "wraps");
}

TEST(DramImage, OverlappingRegions) {
  expect_rejected(container({region(0x1000, 64), region(0x1020, 64)}), "overlaps");
}

TEST(DramImage, UnsortedRegions) {
  expect_rejected(container({region(0x2000, 16), region(0x1000, 16)}), "not sorted");
}

TEST(DramImage, ZeroSizeRegion) { expect_rejected(container({region(0x1000, 0)}), "size 0"); }

TEST(DramImage, TrailingBytes) {
  auto bytes = container({region(0x1000, 16)});
  bytes.push_back(0);
  expect_rejected(bytes, "trailing");
}

TEST(DramImage, WriteRejectsInvalidImages) {
  TempDir dir;
  DramImage overlapping;
  overlapping.regions.push_back({0x1000, std::vector<uint8_t>(32)});
  overlapping.regions.push_back({0x1010, std::vector<uint8_t>(32)});
  EXPECT_THROW(overlapping.write_vtadram(dir / "a.bin"), Error);
  DramImage unsorted;
  unsorted.regions.push_back({0x2000, {1}});
  unsorted.regions.push_back({0x1000, {1}});
  EXPECT_THROW(unsorted.write_vtadram(dir / "b.bin"), Error);
  DramImage empty_region;
  empty_region.regions.push_back({0x2000, {}});
  EXPECT_THROW(empty_region.write_vtadram(dir / "c.bin"), Error);
  EXPECT_THROW(DramImage{}.write_vtadram(dir / "no-such-dir" / "d.bin"), Error);
}

}  // namespace
}  // namespace vta::driver
