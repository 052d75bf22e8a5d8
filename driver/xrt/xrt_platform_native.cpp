// open_xrt_platform() over libxrt's native C++ API (xrt::device, xrt::xclbin, xrt::ip, xrt::bo). Only
// this file calls into libxrt; everything else of the backend is tested without a card.
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "vta/driver/xrt_device.h"
#include "vta/isa/error.h"

#if VTA_HAVE_XRT
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#include <experimental/xrt_ip.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#pragma GCC diagnostic pop
#endif

namespace vta::driver {

#if VTA_HAVE_XRT
namespace {

class NativePlatform final : public XrtPlatform {
 public:
  explicit NativePlatform(const XrtDeviceOptions& o) : options_(o) {
    if (o.xclbin.empty())
      throw Error("xrt: no xclbin given: set VTA_XRT_XCLBIN to the binary built by hardware/fpga/build.sh "
                  "(docs/boards.md)");
    if (!std::filesystem::is_regular_file(o.xclbin)) throw Error(fmt::format("xrt: xclbin {}: no such file", o.xclbin));
    const bool bdf = o.device.find(':') != std::string::npos;
    try {
      device_ = bdf ? xrt::device(o.device) : xrt::device(static_cast<unsigned int>(std::stoul(o.device)));
    } catch (const std::exception& e) {
      throw Error(fmt::format("xrt: cannot open device {}: {} (is XRT set up (source /opt/xilinx/xrt/setup.sh) and "
                              "the card visible to `xbutil examine`?)",
                              o.device, e.what()));
    }
    try {
      uuid_ = device_.load_xclbin(o.xclbin);
    } catch (const std::exception& e) {
      throw Error(fmt::format("xrt: device {} refused xclbin {}: {} (built for another platform or shell?)", o.device,
                              o.xclbin, e.what()));
    }
    try {
      ip_ = xrt::ip(device_, uuid_, o.kernel);
    } catch (const std::exception& e) {
      throw Error(fmt::format("xrt: xclbin {} has no user-managed kernel '{}': {}", o.xclbin, o.kernel, e.what()));
    }
  }
  uint32_t read_register(uint32_t offset) override { return ip_.read_register(offset); }
  void write_register(uint32_t offset, uint32_t value) override { ip_.write_register(offset, value); }
  Buffer allocate_arena(uint64_t bytes, uint32_t bank) override {
    try {
      bo_ = xrt::bo(device_, bytes, xrt::bo::flags::normal, bank);
      return {bo_.address(), bo_.map<uint8_t*>(), bytes};
    } catch (const std::exception& e) {
      throw Error(fmt::format("xrt: cannot allocate {} bytes in memory bank {}: {}", bytes, bank, e.what()));
    }
  }
  void sync_arena(uint64_t offset, uint64_t bytes, bool to_device) override {
    bo_.sync(to_device ? XCL_BO_SYNC_BO_TO_DEVICE : XCL_BO_SYNC_BO_FROM_DEVICE, bytes, offset);
  }
  std::string where() const override { return fmt::format("XRT device {} ({})", options_.device, options_.xclbin); }

 private:
  XrtDeviceOptions options_;
  xrt::device device_;
  xrt::uuid uuid_;
  xrt::ip ip_;
  xrt::bo bo_;
};

}  // namespace

bool xrt_supported() { return true; }
std::unique_ptr<XrtPlatform> open_xrt_platform(const XrtDeviceOptions& options) {
  return std::make_unique<NativePlatform>(options);
}
#else
bool xrt_supported() { return false; }
std::unique_ptr<XrtPlatform> open_xrt_platform(const XrtDeviceOptions&) {
  throw Error("xrt: this build has no XRT support: install Debian's libxrt-dev and reconfigure");
}
#endif

}  // namespace vta::driver
