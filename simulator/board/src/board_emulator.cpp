#include "vta/board/board_emulator.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "vta/driver/board_protocol.h"
#include "vta/isa/error.h"
#include "vta/isa/register_map.h"
#include "vta/sim/device_memory.h"

namespace vta::board {
namespace reg = isa::reg;
namespace {

constexpr uint64_t kWindowBytes = 4096;

// A file of `size` bytes (created, zeroed), mapped shared.
class SharedFile {
 public:
  SharedFile(const std::filesystem::path& path, uint64_t size) : size_(size) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd_ < 0) throw Error(fmt::format("board emulator: cannot create {}: {}", path.string(), std::strerror(errno)));
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      const int err = errno;
      ::close(fd_);
      throw Error(fmt::format("board emulator: cannot size {} to {} bytes: {}", path.string(), size, std::strerror(err)));
    }
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd_);
      throw Error(fmt::format("board emulator: cannot map {}: {}", path.string(), std::strerror(err)));
    }
    data_ = static_cast<uint8_t*>(p);
  }
  ~SharedFile() {
    ::munmap(data_, size_);
    ::close(fd_);
  }
  SharedFile(const SharedFile&) = delete;
  SharedFile& operator=(const SharedFile&) = delete;
  uint8_t* data() const { return data_; }

 private:
  int fd_ = -1;
  uint64_t size_;
  uint8_t* data_ = nullptr;
};

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out) throw Error("board emulator: cannot write " + path.string());
}

}  // namespace

struct BoardEmulator::Impl {
  isa::HwConfig config;
  BoardEmulatorOptions options;
  std::unique_ptr<SharedFile> regs, mem;
  std::unique_ptr<driver::MappedRegisterPort> window;
  sim::DeviceMemory memory;
  std::unique_ptr<tsim::Tsim> core;
  std::thread thread;
  std::atomic<bool> stop_requested{false};
  std::atomic<uint64_t> runs{0};
  std::mutex faults_mutex;
  BoardFaults faults;
  bool vanished = false;

  Impl(const isa::HwConfig& c, BoardEmulatorOptions o) : config(c), options(std::move(o)), faults(options.faults) {
    std::filesystem::create_directories(options.dir / "sysfs");
    regs = std::make_unique<SharedFile>(options.dir / "regs", kWindowBytes);
    window = std::make_unique<driver::MappedRegisterPort>(regs->data(), kWindowBytes);
    mem = std::make_unique<SharedFile>(options.dir / "mem", options.mem_size);
    memory.map_external(options.mem_phys_addr, mem->data(), options.mem_size);
    // u-dma-buf's sysfs attributes: the two the driver reads, and the sync files it writes.
    const auto sysfs = options.dir / "sysfs";
    write_text(sysfs / "phys_addr", fmt::format("{:#x}\n", options.mem_phys_addr));
    write_text(sysfs / "size", fmt::format("{}\n", options.mem_size));
    for (const char* f : {"sync_offset", "sync_size", "sync_direction", "sync_for_cpu", "sync_for_device"})
      write_text(sysfs / f, "0\n");
    tsim::TsimOptions t = tsim::TsimOptions::from_config(config);
    if (options.dram_latency_cycles) t.read_latency = t.write_latency = *options.dram_latency_cycles;
    if (options.dram_bytes_per_cycle) t.bytes_per_cycle = *options.dram_bytes_per_cycle;
    t.faults = faults.memory;
    core = std::make_unique<tsim::Tsim>(config, memory, t);
    mirror();
  }

  // The window from the board's side, with the accesses the host's backend uses.
  uint32_t load(uint32_t offset) { return window->read(offset); }
  void store(uint32_t offset, uint32_t value) { window->write(offset, value); }

  // The core's read-only registers into the window, STATUS last (the host reads the rest after done).
  void mirror() {
    for (const reg::Register& r : reg::kRegisters) {
      if (r.access != "R" || r.offset == reg::kStatus || r.offset == reg::kCounterBase) continue;
      store(r.offset, core->read_reg(r.offset));
    }
    for (uint32_t i = 0; i < reg::kNumCounters; ++i) {
      store(reg::counter_lo(i), core->read_reg(reg::counter_lo(i)));
      store(reg::counter_hi(i), core->read_reg(reg::counter_hi(i)));
    }
    store(reg::kStatus, core->read_reg(reg::kStatus));
  }

  // One poll of the window; false once the board has vanished.
  bool poll() {
    const uint32_t control = load(reg::kControl);
    if ((control & reg::kControlStart) != 0) {
      BoardFaults f;
      {
        std::lock_guard<std::mutex> lock(faults_mutex);
        f = faults;
      }
      const uint64_t run = runs++;
      const uint64_t address = (uint64_t{load(reg::kInsnAddrHi)} << 32) | load(reg::kInsnAddrLo);
      const uint32_t count = load(reg::kInsnCount);
      store(reg::kStatus, reg::kStatusBusy);
      store(reg::kControl, 0);  // the start is taken
      if (f.vanish_at_run && run >= *f.vanish_at_run) return false;
      if (f.never_done) return true;
      try {
        core->run(address, count, 2'000'000'000ull);
      } catch (const Error& e) {
        std::cerr << "board emulator: run " << run << ": " << e.what() << "\n";
      }
      mirror();
    } else if ((control & reg::kControlSoftReset) != 0) {
      store(reg::kStatus, reg::kStatusResetting);
      store(reg::kControl, 0);
      if (!core->soft_reset()) core->reset();
      mirror();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    return true;
  }

  void serve(const std::atomic<bool>& stop) {
    while (!stop.load() && !vanished) vanished = !poll();
  }
};

BoardEmulator::BoardEmulator(const isa::HwConfig& config, BoardEmulatorOptions options)
    : impl_(std::make_unique<Impl>(config, std::move(options))) {}

BoardEmulator::~BoardEmulator() { stop(); }

void BoardEmulator::start() {
  if (impl_->thread.joinable()) return;
  impl_->stop_requested = false;
  impl_->thread = std::thread([this] { impl_->serve(impl_->stop_requested); });
}

void BoardEmulator::stop() {
  impl_->stop_requested = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

void BoardEmulator::serve(const std::atomic<bool>& stop_flag) { impl_->serve(stop_flag); }

std::filesystem::path BoardEmulator::regs_path() const { return impl_->options.dir / "regs"; }
std::filesystem::path BoardEmulator::mem_path() const { return impl_->options.dir / "mem"; }
std::filesystem::path BoardEmulator::sysfs_dir() const { return impl_->options.dir / "sysfs"; }
const BoardEmulatorOptions& BoardEmulator::options() const { return impl_->options; }
uint64_t BoardEmulator::runs() const { return impl_->runs.load(); }

void BoardEmulator::set_faults(const BoardFaults& faults) {
  std::lock_guard<std::mutex> lock(impl_->faults_mutex);
  impl_->faults = faults;
  impl_->core->set_faults(faults.memory);
}

}  // namespace vta::board
