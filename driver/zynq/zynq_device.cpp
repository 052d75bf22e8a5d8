#include "vta/driver/zynq_device.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include <fmt/format.h>

#include "src/board_core.h"
#include "src/env_number.h"
#include "vta/driver/board_protocol.h"
#include "vta/isa/error.h"

namespace vta::driver {
namespace {

using detail::env_number;

// One mmap of a device node (or a file standing in for it), unmapped and closed on destruction.
class MappedFile {
 public:
  MappedFile(const std::string& what, const std::string& path, uint64_t offset, uint64_t size, bool uncached) {
    if (size == 0) throw Error(fmt::format("{} {}: size 0", what, path));
    fd_ = ::open(path.c_str(), O_RDWR | (uncached ? O_SYNC : 0));
    if (fd_ < 0)
      throw Error(fmt::format("{} {}: cannot open: {}{}", what, path, std::strerror(errno),
                              errno == ENOENT   ? " (is the driver loaded and the bitstream's device tree applied?)"
                              : errno == EACCES ? " (run as root or give the user access to the node)"
                                                : ""));
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    const uint64_t aligned = offset & ~(page - 1);
    skew_ = offset - aligned;
    length_ = size + skew_;
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) < offset + size) {
      ::close(fd_);
      throw Error(fmt::format("{} {}: the file has {} bytes, {} needed at offset {:#x}", what, path, st.st_size,
                              size, offset));
    }
    void* p = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, static_cast<off_t>(aligned));
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd_);
      throw Error(fmt::format("{} {}: cannot map {} bytes at offset {:#x}: {}", what, path, size, offset,
                              std::strerror(err)));
    }
    base_ = static_cast<uint8_t*>(p);
  }
  ~MappedFile() {
    ::munmap(base_, length_);
    ::close(fd_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  uint8_t* data() const { return base_ + skew_; }

 private:
  int fd_ = -1;
  uint8_t* base_ = nullptr;
  uint64_t skew_ = 0, length_ = 0;
};

uint64_t read_sysfs_number(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text))
    throw Error(fmt::format("cannot read {} (is u-dma-buf loaded? or give VTA_ZYNQ_MEM_PHYS and VTA_ZYNQ_MEM_SIZE)",
                            file.string()));
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (*end != '\0') throw Error(fmt::format("{}: '{}' is not a number", file.string(), text));
  return v;
}

void write_sysfs(const std::filesystem::path& file, uint64_t value) {
  std::ofstream out(file);
  out << value << '\n';
  out.flush();
  if (!out) throw Error(fmt::format("cannot write {} (cache maintenance of the contiguous memory)", file.string()));
}

}  // namespace

ZynqDeviceOptions ZynqDeviceOptions::from_environment() {
  ZynqDeviceOptions o;
  if (const char* v = std::getenv("VTA_ZYNQ_REGS"); v != nullptr && *v != '\0') o.regs_path = v;
  if (auto v = env_number("VTA_ZYNQ_REGS_OFFSET")) o.regs_offset = *v;
  if (const char* v = std::getenv("VTA_ZYNQ_MEM"); v != nullptr && *v != '\0') o.mem_path = v;
  if (auto v = env_number("VTA_ZYNQ_MEM_OFFSET")) o.mem_offset = *v;
  if (auto v = env_number("VTA_ZYNQ_MEM_PHYS")) o.mem_phys_addr = *v;
  if (auto v = env_number("VTA_ZYNQ_MEM_SIZE")) o.mem_size = *v;
  if (const char* v = std::getenv("VTA_ZYNQ_SYSFS"); v != nullptr && *v != '\0') o.sysfs_dir = v;
  if (const char* v = std::getenv("VTA_ZYNQ_CACHE"); v != nullptr && *v != '\0') {
    const std::string m = v;
    if (m == "sync") o.cache = ZynqCacheMode::kSync;
    else if (m == "coherent") o.cache = ZynqCacheMode::kCoherent;
    else if (m == "uncached") o.cache = ZynqCacheMode::kUncached;
    else throw Error(fmt::format("environment variable VTA_ZYNQ_CACHE='{}': expected sync, coherent or uncached", m));
  }
  if (auto v = env_number("VTA_ZYNQ_ADDRESS_BITS")) {
    if (*v < 12 || *v > 64) throw Error("environment variable VTA_ZYNQ_ADDRESS_BITS must be in [12, 64]");
    o.address_bits = static_cast<uint32_t>(*v);
  }
  if (auto v = env_number("VTA_ZYNQ_TIMEOUT_MS")) o.default_timeout = std::chrono::milliseconds(*v);
  return o;
}

struct ZynqDevice::Impl {
  ZynqDeviceOptions options;
  std::unique_ptr<MappedFile> regs, mem;
  std::unique_ptr<MappedRegisterPort> port;
};

ZynqDevice::ZynqDevice(std::string name, const isa::HwConfig& config, ZynqDeviceOptions options)
    : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.options = std::move(options);
  const ZynqDeviceOptions& o = d.options;
  const std::filesystem::path sysfs =
      !o.sysfs_dir.empty() ? std::filesystem::path(o.sysfs_dir)
                           : std::filesystem::path("/sys/class/u-dma-buf") / std::filesystem::path(o.mem_path).filename();
  BoardCore::Memory memory;
  memory.phys = o.mem_phys_addr ? *o.mem_phys_addr : read_sysfs_number(sysfs / "phys_addr");
  memory.size = o.mem_size ? *o.mem_size : read_sysfs_number(sysfs / "size");
  d.regs = std::make_unique<MappedFile>("register window", o.regs_path, o.regs_offset, o.regs_size, true);
  d.mem = std::make_unique<MappedFile>("contiguous memory", o.mem_path, o.mem_offset, memory.size,
                                       o.cache == ZynqCacheMode::kUncached);
  memory.host = d.mem->data();
  d.port = std::make_unique<MappedRegisterPort>(d.regs->data(), o.regs_size);
  BoardCore::Sync sync;
  if (o.cache == ZynqCacheMode::kSync) {
    // u-dma-buf: the range and direction (1 DMA_TO_DEVICE, 2 DMA_FROM_DEVICE), then the trigger.
    sync = [sysfs](uint64_t offset, uint64_t bytes, bool for_device) {
      write_sysfs(sysfs / "sync_offset", offset);
      write_sysfs(sysfs / "sync_size", bytes);
      write_sysfs(sysfs / "sync_direction", for_device ? 1 : 2);
      write_sysfs(sysfs / (for_device ? "sync_for_device" : "sync_for_cpu"), 1);
    };
  }
  set_core(std::make_unique<BoardCore>(std::move(name), config, *d.port, memory, std::move(sync), o.address_bits,
                                       o.default_timeout, o.regs_path));
}

ZynqDevice::~ZynqDevice() { reset_core(); }

const ZynqDeviceOptions& ZynqDevice::options() const { return impl_->options; }

}  // namespace vta::driver
