// XrtDevice: the Device interface on an Alveo card (or any XRT platform) with the core linked in as a
// user-managed RTL kernel. The card is opened by index or PCIe BDF, the .xclbin loaded, the core's
// registers reached through xrt::ip, and buffers carved out of one buffer object (the arena) in the memory
// bank the core's port is connected to. One arena instead of a buffer object per buffer: XRT places
// small buffer objects where it likes (under 64 KB they have landed above 4 GB, beyond the core's 32-bit
// addresses), and the arena's address is checked once, when the device opens. Runs go through the
// shared board protocol and poll STATUS.done (never a fixed sleep); counters come from the core's register
// block.
//
// The calls into libxrt sit behind XrtPlatform, so the backend's logic is tested against the board
// emulator (tests/hardware/xrt_board_test.cpp); open_xrt_platform() is the libxrt implementation, built
// when Debian's libxrt-dev is installed (VTA_HAVE_XRT).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vta/driver/board_device.h"

namespace vta::driver {

struct XrtDeviceOptions {
  std::string device = "0";        // card index, or PCIe BDF such as 0000:65:00.1
  std::string xclbin;              // required: the binary built by hardware/fpga (v++ --link)
  std::string kernel = "vta_top";  // the user-managed kernel's name in the xclbin
  uint32_t memory_bank = 0;        // memory group of the core's memory port (the link's sp= connection)
  uint64_t arena_bytes = 256ull << 20;
  uint32_t address_bits = 32;      // buffers must lie below 2^bits
  std::chrono::milliseconds default_timeout{60'000};
  // VTA_XRT_DEVICE, VTA_XRT_XCLBIN, VTA_XRT_KERNEL, VTA_XRT_BANK, VTA_XRT_ARENA_MB, VTA_XRT_ADDRESS_BITS,
  // VTA_XRT_TIMEOUT_MS over the defaults; throws vta::Error naming the variable on a bad value.
  static XrtDeviceOptions from_environment();
};

// What the backend needs from XRT.
class XrtPlatform {
 public:
  struct Buffer {
    uint64_t device_address = 0;
    uint8_t* host = nullptr;
    uint64_t size = 0;
  };
  virtual ~XrtPlatform() = default;
  virtual uint32_t read_register(uint32_t offset) = 0;
  virtual void write_register(uint32_t offset, uint32_t value) = 0;
  // The arena: one buffer object of `bytes` in memory bank `bank`, mapped here (called once).
  virtual Buffer allocate_arena(uint64_t bytes, uint32_t bank) = 0;
  // Cache/DMA synchronization of [offset, offset + bytes) of the arena.
  virtual void sync_arena(uint64_t offset, uint64_t bytes, bool to_device) = 0;
  // For messages: which card and xclbin.
  virtual std::string where() const = 0;
};

// The libxrt implementation: opens the card, loads the xclbin, opens the kernel's IP. Throws vta::Error
// with what to check when there is no card, no or a wrong xclbin, no such kernel, or no XRT in this build.
std::unique_ptr<XrtPlatform> open_xrt_platform(const XrtDeviceOptions& options);
bool xrt_supported();  // built with libxrt

class XrtDevice final : public BoardDevice {
 public:
  // `platform` null: open_xrt_platform(options).
  XrtDevice(std::string name, const isa::HwConfig& config, XrtDeviceOptions options,
            std::unique_ptr<XrtPlatform> platform = nullptr);
  ~XrtDevice() override;
  XrtDevice(const XrtDevice&) = delete;
  XrtDevice& operator=(const XrtDevice&) = delete;

  // Synchronizations of the arena so far (flush + invalidate).
  uint64_t syncs() const { return syncs_for_device() + syncs_for_cpu(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::driver
