#include "vta/driver/xrt_device.h"

#include <cerrno>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

#include "src/board_core.h"
#include "vta/isa/error.h"

namespace vta::driver {
namespace {

std::optional<uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 0);
  if (errno != 0 || *end != '\0' || text[0] == '-')
    throw Error(fmt::format("environment variable {}='{}' is not a number", name, text));
  return value;
}

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
  XrtPlatform::Buffer arena;
  std::unique_ptr<BoardCore> core;
  uint64_t syncs = 0;

  Impl(std::string name, const isa::HwConfig& config, XrtDeviceOptions o, std::unique_ptr<XrtPlatform> p)
      : options(std::move(o)), platform(p ? std::move(p) : open_xrt_platform(options)) {
    port = std::make_unique<PlatformPort>(*platform);
    // At least 64 KB: XRT has placed smaller buffer objects above 4 GB.
    arena = platform->allocate_arena(std::max<uint64_t>(options.arena_bytes, 64 * 1024), options.memory_bank);
    BoardCore::Memory memory{arena.device_address, arena.host, arena.size};
    BoardCore::Sync sync = [this](uint64_t offset, uint64_t bytes, bool to_device) {
      platform->sync_arena(offset, bytes, to_device);
      ++syncs;
    };
    try {
      core = std::make_unique<BoardCore>(std::move(name), config, *port, memory, std::move(sync), options.address_bits,
                                         options.default_timeout, platform->where());
    } catch (const Error& e) {
      throw Error(fmt::format("{} (memory bank {}: pick the bank the core's port is linked to with VTA_XRT_BANK)",
                              e.what(), options.memory_bank));
    }
  }
};

XrtDevice::XrtDevice(std::string name, const isa::HwConfig& config, XrtDeviceOptions options,
                     std::unique_ptr<XrtPlatform> platform)
    : impl_(std::make_unique<Impl>(std::move(name), config, std::move(options), std::move(platform))) {}
XrtDevice::~XrtDevice() = default;

std::string XrtDevice::name() const { return impl_->core->name(); }
const isa::HwConfig& XrtDevice::config() const { return impl_->core->config(); }
DeviceBuffer XrtDevice::allocate(uint64_t bytes, uint64_t alignment) { return impl_->core->allocate(bytes, alignment); }
DeviceBuffer XrtDevice::map_at(uint64_t device_address, uint64_t bytes) {
  return impl_->core->map_at(device_address, bytes);
}
void XrtDevice::free(const DeviceBuffer& buffer) { impl_->core->free(buffer); }
std::vector<DeviceBuffer> XrtDevice::buffers() const { return impl_->core->buffers(); }
void XrtDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->core->flush(buffer, offset, bytes);
}
void XrtDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->core->invalidate(buffer, offset, bytes);
}
void XrtDevice::write_register(uint32_t offset, uint32_t value) { impl_->core->write_register(offset, value); }
uint32_t XrtDevice::read_register(uint32_t offset) { return impl_->core->read_register(offset); }
RunResult XrtDevice::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  return impl_->core->run(insn_address, insn_count, timeout);
}
isa::ExecutionCounters XrtDevice::counters() const { return impl_->core->last().counters; }
std::vector<std::pair<std::string, uint64_t>> XrtDevice::extra_counters() const {
  return impl_->core->last().extra_counters;
}
uint64_t XrtDevice::arena_address() const { return impl_->arena.device_address; }
uint64_t XrtDevice::syncs() const { return impl_->syncs; }

}  // namespace vta::driver
