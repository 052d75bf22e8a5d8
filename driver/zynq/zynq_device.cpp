#include "vta/driver/zynq_device.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "vta/driver/board_protocol.h"
#include "vta/driver/register_map.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

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

// The register window as the board protocol's port: 32-bit volatile accesses, ordered with the memory
// the core reads (a fence after each write, so a start is seen after the buffers it refers to).
class WindowPort final : public RegisterPort {
 public:
  WindowPort(uint8_t* base, uint64_t size) : base_(base), size_(size) {}
  uint32_t read(uint32_t offset) override {
    check(offset);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return *reinterpret_cast<volatile uint32_t*>(base_ + offset);
  }
  void write(uint32_t offset, uint32_t value) override {
    check(offset);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    *reinterpret_cast<volatile uint32_t*>(base_ + offset) = value;
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

 private:
  void check(uint32_t offset) const {
    if (offset % 4 != 0 || uint64_t{offset} + 4 > size_)
      throw Error(fmt::format("zynq: register offset {:#x} is not a word inside the {}-byte window", offset, size_));
  }
  uint8_t* base_;
  uint64_t size_;
};

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
  std::string name;
  isa::HwConfig config;
  ZynqDeviceOptions options;
  std::filesystem::path sysfs;
  uint64_t phys = 0, size = 0;
  std::unique_ptr<MappedFile> regs, mem;
  std::unique_ptr<WindowPort> port;
  std::map<uint64_t, uint64_t> used;  // offset in the region -> bytes (at least 1)
  CoreOutcome last;
  uint64_t syncs_for_device = 0, syncs_for_cpu = 0;

  Impl(std::string n, const isa::HwConfig& c, ZynqDeviceOptions o)
      : name(std::move(n)), config(c), options(std::move(o)) {
    sysfs = !options.sysfs_dir.empty()
                ? std::filesystem::path(options.sysfs_dir)
                : std::filesystem::path("/sys/class/u-dma-buf") / std::filesystem::path(options.mem_path).filename();
    phys = options.mem_phys_addr ? *options.mem_phys_addr : read_sysfs_number(sysfs / "phys_addr");
    size = options.mem_size ? *options.mem_size : read_sysfs_number(sysfs / "size");
    if (phys == 0) throw Error(fmt::format("{}: the contiguous memory at physical address 0 cannot hold buffers "
                                           "(address 0 means no buffer)", name));
    const uint64_t limit = options.address_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << options.address_bits);
    if (phys > limit || size > limit - phys)
      throw Error(fmt::format("{}: the contiguous memory [{:#x}, +{:#x}) reaches beyond the {}-bit addresses of the "
                              "core's memory port; reserve it lower (CMA / u-dma-buf below 4 GB)",
                              name, phys, size, options.address_bits));
    regs = std::make_unique<MappedFile>("register window", options.regs_path, options.regs_offset, options.regs_size,
                                        true);
    mem = std::make_unique<MappedFile>("contiguous memory", options.mem_path, options.mem_offset, size,
                                       options.cache == ZynqCacheMode::kUncached);
    port = std::make_unique<WindowPort>(regs->data(), options.regs_size);
    BoardProtocol(*port).check_identity(config, fmt::format("{} ({})", name, options.regs_path));
  }

  DeviceBuffer buffer_at(uint64_t offset, uint64_t bytes) const { return {phys + offset, mem->data() + offset, bytes}; }

  bool range_free(uint64_t offset, uint64_t footprint) const {
    auto it = used.lower_bound(offset);
    if (it != used.end() && it->first < offset + footprint) return false;
    if (it != used.begin()) {
      --it;
      if (it->first + it->second > offset) return false;
    }
    return true;
  }

  // The buffer's offset in the region, checked: it must be one this device handed out.
  uint64_t offset_of(const DeviceBuffer& b) const {
    if (b.device_address < phys || b.device_address - phys >= size || used.count(b.device_address - phys) == 0)
      throw MemoryError(fmt::format("{}: no buffer at device address {:#x}", name, b.device_address));
    return b.device_address - phys;
  }

  void sync(const DeviceBuffer& b, uint64_t offset, uint64_t bytes, bool for_device, const char* what) {
    const uint64_t at = offset_of(b);
    if (offset > b.size || bytes > b.size - offset)
      throw MemoryError(fmt::format("{}: {} of [{}, +{}) is outside the {}-byte buffer at {:#x}", name, what, offset,
                                    bytes, b.size, b.device_address));
    if (options.cache != ZynqCacheMode::kSync || bytes == 0) return;
    // u-dma-buf: the range and direction (1 DMA_TO_DEVICE, 2 DMA_FROM_DEVICE), then the trigger.
    write_sysfs(sysfs / "sync_offset", at + offset);
    write_sysfs(sysfs / "sync_size", bytes);
    write_sysfs(sysfs / "sync_direction", for_device ? 1 : 2);
    write_sysfs(sysfs / (for_device ? "sync_for_device" : "sync_for_cpu"), 1);
    ++(for_device ? syncs_for_device : syncs_for_cpu);
  }

  std::optional<isa::Instruction> instruction_at(uint64_t insn_address, uint32_t index) const {
    const uint64_t at = insn_address + uint64_t{index} * 16;
    if (at < phys || at - phys + 16 > size) return std::nullopt;
    isa::RawInstruction raw;
    std::memcpy(&raw.lo, mem->data() + (at - phys), 8);
    std::memcpy(&raw.hi, mem->data() + (at - phys) + 8, 8);
    try {
      return isa::InstructionCodec(config).decode(raw);
    } catch (const Error&) {
      return std::nullopt;
    }
  }

  // Polls without a fixed sleep: spin briefly, then yield, then nap for microseconds, so a short run is
  // seen at once and a long one does not hold a core.
  static std::function<void()> backoff() {
    return [polls = uint64_t{0}]() mutable {
      ++polls;
      if (polls < 1024) return;
      if (polls < 4096) {
        std::this_thread::yield();
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    };
  }

  // After a run that did not end cleanly: soft reset; the text says how that went.
  std::string recover() {
    BoardProtocol protocol(*port);
    protocol.request_soft_reset();
    if (protocol.wait_reset(std::chrono::steady_clock::now() + std::chrono::seconds(2), backoff())) return {};
    return "; the soft reset did not finish either (STATUS " + fmt::format("{:#x}", protocol.status()) +
           "): the core or its memory port does not answer; reload the bitstream or reset the board";
  }

  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
    RunResult result;
    const auto begin = std::chrono::steady_clock::now();
    BoardProtocol protocol(*port);
    try {
      protocol.start(insn_address, insn_count);
    } catch (const Error& e) {
      result.status = RunStatus::kError;
      result.message = fmt::format("{}: {}", name, e.what());
      return result;
    }
    const auto limit = timeout.count() > 0 ? timeout : options.default_timeout;
    const WaitResult waited = protocol.wait_done(begin + limit, backoff());
    result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    if (waited == WaitResult::kTimeout) {
      result.status = RunStatus::kTimeout;
      result.message = fmt::format("{}: no done from the core after {} ms (STATUS {:#x}, {})", name, limit.count(),
                                   protocol.status(), options.regs_path);
      result.message += recover();
      last = CoreOutcome{};
      return result;
    }
    last = protocol.collect();
    result.counters = last.counters;
    if (last.error) {
      result.status = RunStatus::kError;
      result.message =
          name + ": " +
          BoardProtocol::describe_failure(
              last, config, [&](uint32_t i) { return instruction_at(insn_address, i); },
              [](uint32_t) { return std::string("(not readable in the contiguous memory)"); }, std::nullopt);
      result.message += recover();
    }
    return result;
  }
};

ZynqDevice::ZynqDevice(std::string name, const isa::HwConfig& config, ZynqDeviceOptions options)
    : impl_(std::make_unique<Impl>(std::move(name), config, std::move(options))) {}
ZynqDevice::~ZynqDevice() = default;

std::string ZynqDevice::name() const { return impl_->name; }
const isa::HwConfig& ZynqDevice::config() const { return impl_->config; }
const ZynqDeviceOptions& ZynqDevice::options() const { return impl_->options; }
uint64_t ZynqDevice::memory_base() const { return impl_->phys; }
uint64_t ZynqDevice::memory_size() const { return impl_->size; }
uint64_t ZynqDevice::syncs_for_device() const { return impl_->syncs_for_device; }
uint64_t ZynqDevice::syncs_for_cpu() const { return impl_->syncs_for_cpu; }

DeviceBuffer ZynqDevice::allocate(uint64_t bytes, uint64_t alignment) {
  Impl& d = *impl_;
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw MemoryError(fmt::format("{}: alignment {} is not a power of two", d.name, alignment));
  const uint64_t footprint = bytes == 0 ? 1 : bytes;
  // First fit; alignment of the physical address, which is what the core sees.
  uint64_t candidate = 0;
  for (;;) {
    const uint64_t aligned_phys = (d.phys + candidate + alignment - 1) & ~(alignment - 1);
    candidate = aligned_phys - d.phys;
    if (candidate > d.size || footprint > d.size - candidate)
      throw MemoryError(fmt::format("{}: out of contiguous memory: {} bytes requested, the {}-byte region at {:#x} "
                                    "has no free range that large (a larger u-dma-buf or CMA area helps)",
                                    d.name, bytes, d.size, d.phys));
    auto it = d.used.lower_bound(candidate);
    if (it != d.used.begin() && std::prev(it)->first + std::prev(it)->second > candidate) {
      candidate = std::prev(it)->first + std::prev(it)->second;
      continue;
    }
    if (it != d.used.end() && it->first < candidate + footprint) {
      candidate = it->first + it->second;
      continue;
    }
    break;
  }
  d.used.emplace(candidate, footprint);
  std::memset(d.mem->data() + candidate, 0, bytes);
  return d.buffer_at(candidate, bytes);
}

DeviceBuffer ZynqDevice::map_at(uint64_t device_address, uint64_t bytes) {
  Impl& d = *impl_;
  const uint64_t footprint = bytes == 0 ? 1 : bytes;
  if (device_address < d.phys || device_address - d.phys > d.size || footprint > d.size - (device_address - d.phys))
    throw MemoryError(fmt::format("{}: cannot map [{:#x}, +{}): outside the contiguous memory [{:#x}, +{:#x})", d.name,
                                  device_address, bytes, d.phys, d.size));
  const uint64_t offset = device_address - d.phys;
  if (!d.range_free(offset, footprint))
    throw MemoryError(fmt::format("{}: cannot map [{:#x}, +{}): overlaps a buffer", d.name, device_address, bytes));
  d.used.emplace(offset, footprint);
  std::memset(d.mem->data() + offset, 0, bytes);
  return d.buffer_at(offset, bytes);
}

void ZynqDevice::free(const DeviceBuffer& buffer) { impl_->used.erase(impl_->offset_of(buffer)); }

std::vector<DeviceBuffer> ZynqDevice::buffers() const {
  std::vector<DeviceBuffer> out;
  for (const auto& [offset, footprint] : impl_->used) out.push_back(impl_->buffer_at(offset, footprint));
  return out;
}

void ZynqDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->sync(buffer, offset, bytes, true, "flush");
}
void ZynqDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->sync(buffer, offset, bytes, false, "invalidate");
}

void ZynqDevice::write_register(uint32_t offset, uint32_t value) { impl_->port->write(offset, value); }
uint32_t ZynqDevice::read_register(uint32_t offset) { return impl_->port->read(offset); }

RunResult ZynqDevice::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  return impl_->run(insn_address, insn_count, timeout);
}
isa::ExecutionCounters ZynqDevice::counters() const { return impl_->last.counters; }
std::vector<std::pair<std::string, uint64_t>> ZynqDevice::extra_counters() const {
  return impl_->last.extra_counters;
}

}  // namespace vta::driver
