#include "fsim/fsim_device.h"

#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "vta/driver/register_map.h"
#include "vta/isa/error.h"

namespace vta::driver {
namespace {

std::vector<uint64_t> counter_values(const isa::ExecutionCounters& counters) {
  std::vector<uint64_t> values;
  for (const auto& item : counters.items()) values.push_back(item.second);
  return values;
}

}  // namespace

FsimDevice::FsimDevice(std::string name, const isa::HwConfig& config, fsim::Options options)
    : name_(std::move(name)),
      config_(config),
      memory_(),
      simulator_(config_, memory_, options),
      buffers_(memory_, name_),
      counter_values_(counter_values(counters_)) {}

FsimDevice::~FsimDevice() = default;

DeviceBuffer FsimDevice::allocate(uint64_t bytes, uint64_t alignment) { return buffers_.allocate(bytes, alignment); }
DeviceBuffer FsimDevice::map_at(uint64_t device_address, uint64_t bytes) { return buffers_.map_at(device_address, bytes); }
void FsimDevice::free(const DeviceBuffer& buffer) { buffers_.free(buffer); }
std::vector<DeviceBuffer> FsimDevice::buffers() const { return buffers_.buffers(); }

// The simulator reads and writes the host-visible memory directly, so there is nothing to write back;
// the range is still checked so that a driver bug shows up here and not on a board.
void FsimDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  buffers_.check_range(buffer, offset, bytes, "flush");
}

void FsimDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  buffers_.check_range(buffer, offset, bytes, "invalidate");
}

void FsimDevice::write_register(uint32_t offset, uint32_t value) {
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", name_, offset));
  switch (offset) {
    case reg::kControl:
      if ((value & reg::kControlSoftReset) != 0) {
        // fsim is idle between runs: a soft reset only returns the status registers to idle.
        status_ = 0;
        error_code_ = fsim_error::kNone;
        error_message_.clear();
        return;
      }
      if ((value & reg::kControlStart) != 0) launch();
      return;
    case reg::kInsnAddrLo: insn_addr_lo_ = value; return;
    case reg::kInsnAddrHi: insn_addr_hi_ = value; return;
    case reg::kInsnCount: insn_count_ = value; return;
    case reg::kStatus:
    case reg::kErrorCode:
      throw Error(fmt::format("{}: register {:#x} is read-only", name_, offset));
    default:
      break;
  }
  if (offset >= reg::kCounterBase && (offset - reg::kCounterBase) / 8 < counter_values_.size()) {
    throw Error(fmt::format("{}: counter register {:#x} is read-only", name_, offset));
  }
  throw Error(fmt::format("{}: write to unknown register {:#x}", name_, offset));
}

uint32_t FsimDevice::read_register(uint32_t offset) {
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", name_, offset));
  switch (offset) {
    case reg::kControl: return 0;  // start is self-clearing
    case reg::kStatus: return status_;
    case reg::kInsnAddrLo: return insn_addr_lo_;
    case reg::kInsnAddrHi: return insn_addr_hi_;
    case reg::kInsnCount: return insn_count_;
    case reg::kErrorCode: return error_code_;
    default: break;
  }
  if (offset >= reg::kCounterBase) {
    const uint32_t index = (offset - reg::kCounterBase) / 8;
    if (index < counter_values_.size()) {
      const uint64_t value = counter_values_[index];
      const bool high = (offset - reg::kCounterBase) % 8 == 4;
      return static_cast<uint32_t>(high ? value >> 32 : value & 0xffffffffu);
    }
  }
  throw Error(fmt::format("{}: read of unknown register {:#x}", name_, offset));
}

void FsimDevice::launch() {
  status_ = 0;
  error_code_ = fsim_error::kNone;
  error_message_.clear();
  const uint64_t address = (static_cast<uint64_t>(insn_addr_hi_) << 32) | insn_addr_lo_;
  const auto start = std::chrono::steady_clock::now();
  try {
    simulator_.run(address, insn_count_, deadline_);
  } catch (const TimeoutError& e) {
    error_code_ = fsim_error::kTimeout;
    error_message_ = e.what();
  } catch (const ProgramError& e) {
    error_code_ = fsim_error::kProgram;
    error_message_ = e.what();
  } catch (const MemoryError& e) {
    error_code_ = fsim_error::kMemory;
    error_message_ = e.what();
  } catch (const Error& e) {
    error_code_ = fsim_error::kOther;
    error_message_ = e.what();
  }
  last_wall_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  counters_ = simulator_.counters();
  counter_values_ = counter_values(counters_);
  status_ = reg::kStatusDone | (error_code_ != fsim_error::kNone ? reg::kStatusError : 0u);
}

RunResult FsimDevice::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  write_register(reg::kInsnAddrLo, static_cast<uint32_t>(insn_address & 0xffffffffu));
  write_register(reg::kInsnAddrHi, static_cast<uint32_t>(insn_address >> 32));
  write_register(reg::kInsnCount, insn_count);
  const auto start = std::chrono::steady_clock::now();
  deadline_ = timeout.count() > 0 ? start + timeout : std::chrono::steady_clock::time_point::max();
  write_register(reg::kControl, reg::kControlStart);
  deadline_ = std::chrono::steady_clock::time_point::max();
  // fsim runs synchronously: the run has finished when the start write returns.
  const uint32_t status = read_register(reg::kStatus);

  RunResult result;
  result.counters = counters();
  result.wall_seconds = last_wall_seconds_;
  result.warnings = simulator_.warnings();
  if ((status & reg::kStatusError) != 0) {
    result.status = error_code_ == fsim_error::kTimeout ? RunStatus::kTimeout : RunStatus::kError;
    result.message = error_message_;
  } else if (timeout.count() > 0 && result.wall_seconds * 1000.0 > static_cast<double>(timeout.count())) {
    // The clock is read between instructions, so the last one may end past the deadline.
    result.status = RunStatus::kTimeout;
    result.message = fmt::format("{}: run took {:.3f} s, longer than the timeout of {} ms", name_,
                                 result.wall_seconds, timeout.count());
  }
  return result;
}

}  // namespace vta::driver
