// ZynqDevice: the Device interface on a PYNQ-class board without XRT (Zynq-7000, Zynq UltraScale+, Kria).
// The core's register window is mmap'ed from a UIO node (offset 0) or /dev/mem (offset = the window's
// physical address); buffers are carved out of one physically contiguous region from u-dma-buf (its
// /dev node mmap'ed, the physical address and size from its sysfs directory) or /dev/mem. Where the
// memory port is not cache-coherent (HP ports), flush/invalidate go through u-dma-buf's sync_for_device /
// sync_for_cpu; on a coherent port (ACP on Zynq-7000, HPC on UltraScale+) or an uncached mapping they do
// nothing. Every device path is an option, so the same code runs against plain files: the board
// emulator (simulator/board) serves the Verilated core behind such files in the tests.
//
// A run goes through the shared board protocol (vta/driver/board_protocol.h): start, poll STATUS.done
// until the timeout, read the errors and counters, soft-reset after a failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vta/driver/board_device.h"

namespace vta::driver {

enum class ZynqCacheMode {
  kSync,      // the port is not coherent: u-dma-buf sync_for_device / sync_for_cpu around each transfer
  kCoherent,  // ACP / HPC port: the core sees the CPU's caches, nothing to do
  kUncached,  // the region is mapped uncached (O_SYNC): nothing to do, slower host accesses
};

struct ZynqDeviceOptions {
  std::string regs_path = "/dev/uio0";  // UIO node of the core (or /dev/mem)
  uint64_t regs_offset = 0;             // mmap offset: 0 for UIO; the window's physical address for /dev/mem
  uint64_t regs_size = 4096;
  std::string mem_path = "/dev/udmabuf0";  // contiguous memory: u-dma-buf node (or /dev/mem)
  uint64_t mem_offset = 0;                 // mmap offset in mem_path (/dev/mem: the physical address)
  // Physical address and size of the region; unset = read from sysfs_dir (phys_addr, size).
  std::optional<uint64_t> mem_phys_addr;
  std::optional<uint64_t> mem_size;
  // u-dma-buf's sysfs directory (phys_addr, size, sync_offset, sync_size, sync_direction, sync_for_cpu,
  // sync_for_device); empty = /sys/class/u-dma-buf/<basename of mem_path>.
  std::string sysfs_dir;
  ZynqCacheMode cache = ZynqCacheMode::kSync;
  // Address bits of the port the core masters (Zynq-7000 HP/ACP: 32): buffers must lie below 2^bits.
  uint32_t address_bits = 32;
  // Used when run() gets a zero timeout: a board that never reports done must not hang the host.
  std::chrono::milliseconds default_timeout{60'000};
  // Reads VTA_ZYNQ_REGS, VTA_ZYNQ_REGS_OFFSET, VTA_ZYNQ_MEM, VTA_ZYNQ_MEM_OFFSET, VTA_ZYNQ_MEM_PHYS,
  // VTA_ZYNQ_MEM_SIZE, VTA_ZYNQ_SYSFS, VTA_ZYNQ_CACHE (sync|coherent|uncached), VTA_ZYNQ_ADDRESS_BITS and
  // VTA_ZYNQ_TIMEOUT_MS over the defaults. Throws vta::Error naming the variable on a bad value.
  static ZynqDeviceOptions from_environment();
};

class ZynqDevice final : public BoardDevice {
 public:
  // Opens and maps the register window and the memory, and checks that the core there was built for
  // `config` (CONFIG_HASH). Throws vta::Error naming the path and what is wrong (missing node, no
  // permission, sizes, an address beyond address_bits, another core).
  ZynqDevice(std::string name, const isa::HwConfig& config, ZynqDeviceOptions options = {});
  ~ZynqDevice() override;
  ZynqDevice(const ZynqDevice&) = delete;
  ZynqDevice& operator=(const ZynqDevice&) = delete;

  const ZynqDeviceOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::driver
