#include "vta/driver/xrt_device.h"

#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "src/board_core.h"
#include "src/env_number.h"
#include "vta/isa/error.h"

namespace vta::driver {
namespace {

using detail::env_number;

class PlatformPort final : public RegisterPort {
 public:
  explicit PlatformPort(XrtPlatform& p) : platform_(p) {}
  uint32_t read(uint32_t offset) override { return platform_.read_register(offset); }
  void write(uint32_t offset, uint32_t value) override { platform_.write_register(offset, value); }

 private:
  XrtPlatform& platform_;
};

}  // namespace

XrtDeviceOptions XrtDeviceOptions::from_environment() {
  XrtDeviceOptions o;
  if (const char* v = std::getenv("VTA_XRT_DEVICE"); v != nullptr && *v != '\0') o.device = v;
  if (const char* v = std::getenv("VTA_XRT_XCLBIN"); v != nullptr && *v != '\0') o.xclbin = v;
  if (const char* v = std::getenv("VTA_XRT_KERNEL"); v != nullptr && *v != '\0') o.kernel = v;
  if (auto v = env_number("VTA_XRT_BANK")) o.memory_bank = static_cast<uint32_t>(*v);
  if (auto v = env_number("VTA_XRT_ARENA_MB")) {
    if (*v == 0 || *v > 65536) throw Error("environment variable VTA_XRT_ARENA_MB must be in [1, 65536]");
    o.arena_bytes = *v << 20;
  }
  if (auto v = env_number("VTA_XRT_ADDRESS_BITS")) {
    if (*v < 12 || *v > 64) throw Error("environment variable VTA_XRT_ADDRESS_BITS must be in [12, 64]");
    o.address_bits = static_cast<uint32_t>(*v);
  }
  if (auto v = env_number("VTA_XRT_TIMEOUT_MS")) o.default_timeout = std::chrono::milliseconds(*v);
  return o;
}

struct XrtDevice::Impl {
  XrtDeviceOptions options;
  std::unique_ptr<XrtPlatform> platform;
  std::unique_ptr<PlatformPort> port;
};

XrtDevice::XrtDevice(std::string name, const isa::HwConfig& config, XrtDeviceOptions options,
                     std::unique_ptr<XrtPlatform> platform)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  d.platform = platform ? std::move(platform) : open_xrt_platform(d.options);
  d.port = std::make_unique<PlatformPort>(*d.platform);
  // At least 64 KB: XRT has placed smaller buffer objects above 4 GB.
  const XrtPlatform::Buffer arena =
      d.platform->allocate_arena(std::max<uint64_t>(d.options.arena_bytes, 64 * 1024), d.options.memory_bank);
  BoardCore::Sync sync = [p = d.platform.get()](uint64_t offset, uint64_t bytes, bool to_device) {
    p->sync_arena(offset, bytes, to_device);
  };
  try {
    set_core(std::make_unique<BoardCore>(std::move(name), config, *d.port,
                                         BoardCore::Memory{arena.device_address, arena.host, arena.size},
                                         std::move(sync), d.options.address_bits, d.options.default_timeout,
                                         d.platform->where()));
  } catch (const Error& e) {
    throw Error(fmt::format("{} (memory bank {}: pick the bank the core's port is linked to with VTA_XRT_BANK)",
                            e.what(), d.options.memory_bank));
  }
}

XrtDevice::~XrtDevice() { reset_core(); }

}  // namespace vta::driver
