#include "vta/driver/dram_image.h"

#include <array>
#include <cstring>
#include <fstream>
#include <limits>

#include <fmt/format.h>

#include "src/file_util.h"
#include "vta/isa/error.h"

namespace vta::driver {
namespace {

constexpr std::array<char, 8> kMagic = {'V', 'T', 'A', 'D', 'R', 'A', 'M', '1'};
constexpr uint64_t kHeaderBytes = 16;        // magic, u32 count, u32 zero
constexpr uint64_t kRegionHeaderBytes = 16;  // u64 address, u64 size

uint64_t load_le(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

void store_le(std::vector<uint8_t>& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// Checks the ordering rules shared by reading and writing; `where` prefixes messages.
void check_region_order(const std::string& where, size_t index, uint64_t address, uint64_t size,
                        bool have_previous, uint64_t previous_address, uint64_t previous_end) {
  if (size == 0) throw Error(fmt::format("{}: region {} at {:#x} has size 0", where, index, address));
  if (address + size < address) {
    throw Error(fmt::format("{}: region {} at {:#x} with {} bytes wraps around the 64-bit address space", where,
                            index, address, size));
  }
  if (have_previous) {
    if (address < previous_address) {
      throw Error(fmt::format("{}: regions are not sorted by address: region {} at {:#x} follows one at {:#x}",
                              where, index, address, previous_address));
    }
    if (address < previous_end) {
      throw Error(fmt::format("{}: region {} at {:#x} overlaps the previous region [{:#x}, {:#x})", where, index,
                              address, previous_address, previous_end));
    }
  }
}

}  // namespace

DramImage DramImage::read_vtadram(const std::filesystem::path& path) {
  const std::string where = fmt::format("VTADRAM1 file {}", path.string());
  std::vector<uint8_t> data;
  try {
    data = detail::read_binary_file(path);
  } catch (const Error& e) {
    throw Error(fmt::format("cannot read VTADRAM1 file: {}", e.what()));
  }
  const uint64_t total = data.size();
  if (total < kHeaderBytes) {
    if (total >= kMagic.size() && std::memcmp(data.data(), kMagic.data(), kMagic.size()) != 0) {
      throw Error(fmt::format("{}: bad magic (not a VTADRAM1 container)", where));
    }
    throw Error(fmt::format("{}: truncated header ({} bytes, need {})", where, total, kHeaderBytes));
  }
  if (std::memcmp(data.data(), kMagic.data(), kMagic.size()) != 0) {
    throw Error(fmt::format("{}: bad magic (not a VTADRAM1 container)", where));
  }
  const uint64_t count = load_le(data.data() + 8, 4);
  const uint64_t reserved = load_le(data.data() + 12, 4);
  if (reserved != 0) {
    throw Error(fmt::format("{}: reserved header word is {:#x}, expected 0", where, reserved));
  }

  DramImage image;
  uint64_t offset = kHeaderBytes;
  uint64_t previous_address = 0, previous_end = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (total - offset < kRegionHeaderBytes) {
      throw Error(fmt::format("{}: truncated: region {} of {} header at byte {} needs {} bytes, {} left", where, i,
                              count, offset, kRegionHeaderBytes, total - offset));
    }
    const uint64_t address = load_le(data.data() + offset, 8);
    const uint64_t size = load_le(data.data() + offset + 8, 8);
    offset += kRegionHeaderBytes;
    check_region_order(where, static_cast<size_t>(i), address, size, i > 0, previous_address, previous_end);
    if (size > total - offset) {
      throw Error(fmt::format("{}: truncated: region {} at {:#x} declares {} bytes but only {} remain", where, i,
                              address, size, total - offset));
    }
    DramRegion region;
    region.address = address;
    region.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(offset),
                        data.begin() + static_cast<std::ptrdiff_t>(offset + size));
    image.regions.push_back(std::move(region));
    offset += size;
    previous_address = address;
    previous_end = address + size;
  }
  if (offset != total) {
    throw Error(fmt::format("{}: {} trailing bytes after the last of {} regions", where, total - offset, count));
  }
  return image;
}

void DramImage::write_vtadram(const std::filesystem::path& path) const {
  const std::string where = fmt::format("VTADRAM1 file {}", path.string());
  if (regions.size() > std::numeric_limits<uint32_t>::max()) {
    throw Error(fmt::format("{}: too many regions ({})", where, regions.size()));
  }
  uint64_t total = kHeaderBytes;
  for (size_t i = 0; i < regions.size(); ++i) {
    const auto& region = regions[i];
    check_region_order(where, i, region.address, region.bytes.size(), i > 0,
                       i > 0 ? regions[i - 1].address : 0,
                       i > 0 ? regions[i - 1].address + regions[i - 1].bytes.size() : 0);
    total += kRegionHeaderBytes + region.bytes.size();
  }
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(total));
  out.insert(out.end(), kMagic.begin(), kMagic.end());
  store_le(out, regions.size(), 4);
  store_le(out, 0, 4);
  for (const auto& region : regions) {
    store_le(out, region.address, 8);
    store_le(out, region.bytes.size(), 8);
    out.insert(out.end(), region.bytes.begin(), region.bytes.end());
  }
  detail::write_binary_file(path, out);
}

}  // namespace vta::driver
