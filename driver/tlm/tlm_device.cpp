#include "vta/driver/tlm_device.h"

#include "src/env_number.h"
#include "src/sim_buffers.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "vta/driver/register_map.h"
#include "vta/isa/error.h"
#include "vta/sim/device_memory.h"
#include "vta/tlm/tlm_model.h"

namespace vta::driver {
namespace {

uint32_t env_u32(const char* name, uint32_t fallback) {
  return static_cast<uint32_t>(detail::env_number(name, 0xffffffffull).value_or(fallback));
}

// Values of reg::kErrorCode after a failed run (as on fsim).
constexpr uint32_t kErrProgram = 1, kErrMemory = 2, kErrOther = 3;

}  // namespace

TlmDeviceOptions TlmDeviceOptions::from_environment() {
  TlmDeviceOptions o;
  o.dram_latency_cycles = env_u32("VTA_TLM_DRAM_LATENCY", o.dram_latency_cycles);
  o.dram_bytes_per_cycle = env_u32("VTA_TLM_DRAM_BYTES_PER_CYCLE", o.dram_bytes_per_cycle);
  o.max_outstanding = env_u32("VTA_TLM_MAX_OUTSTANDING", o.max_outstanding);
  return o;
}

struct TlmDevice::Impl {
  std::string name;
  isa::HwConfig config;
  sim::DeviceMemory memory;
  tlm::TlmSimulator simulator;
  SimBuffers buffers{memory, name};
  uint32_t insn_addr_lo = 0, insn_addr_hi = 0, insn_count = 0, status = 0, error_code = 0;
  std::string error_message;
  double wall_seconds = 0.0;
  std::vector<uint64_t> counter_values;  // every register-map counter (11 execution + 8 extra)

  static tlm::Options model_options(const isa::HwConfig& config, const TlmDeviceOptions& o) {
    tlm::Options m = tlm::Options::from_config(config);
    if (o.dram_latency_cycles != 0) m.dram_latency_cycles = o.dram_latency_cycles;
    if (o.dram_bytes_per_cycle != 0) m.dram_bytes_per_cycle = o.dram_bytes_per_cycle;
    m.max_outstanding = o.max_outstanding;
    return m;
  }

  Impl(std::string n, const isa::HwConfig& c, const TlmDeviceOptions& o)
      : name(std::move(n)), config(c), memory(), simulator(config, memory, model_options(config, o)) {
    latch();
  }

  void latch() {
    counter_values.clear();
    for (const auto& item : simulator.counters().items()) counter_values.push_back(item.second);
    for (const auto& item : simulator.extra_counters()) counter_values.push_back(item.second);
    counter_values.resize(isa::reg::kNumCounters, 0);
  }

  void launch() {
    status = 0;
    error_code = 0;
    error_message.clear();
    const uint64_t address = (static_cast<uint64_t>(insn_addr_hi) << 32) | insn_addr_lo;
    const auto start = std::chrono::steady_clock::now();
    try {
      simulator.run(address, insn_count);
    } catch (const ProgramError& e) {
      error_code = kErrProgram;
      error_message = e.what();
    } catch (const MemoryError& e) {
      error_code = kErrMemory;
      error_message = e.what();
    } catch (const Error& e) {
      error_code = kErrOther;
      error_message = e.what();
    }
    wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    latch();
    status = reg::kStatusDone | (error_code != 0 ? reg::kStatusError : 0u);
  }
};

TlmDevice::TlmDevice(std::string name, const isa::HwConfig& config, TlmDeviceOptions options)
    : impl_(std::make_unique<Impl>(std::move(name), config, options)) {}
TlmDevice::~TlmDevice() = default;

std::string TlmDevice::name() const { return impl_->name; }
const isa::HwConfig& TlmDevice::config() const { return impl_->config; }

DeviceBuffer TlmDevice::allocate(uint64_t bytes, uint64_t alignment) { return impl_->buffers.allocate(bytes, alignment); }
DeviceBuffer TlmDevice::map_at(uint64_t device_address, uint64_t bytes) {
  return impl_->buffers.map_at(device_address, bytes);
}
void TlmDevice::free(const DeviceBuffer& buffer) { impl_->buffers.free(buffer); }
std::vector<DeviceBuffer> TlmDevice::buffers() const { return impl_->buffers.buffers(); }

void TlmDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->buffers.check_range(buffer, offset, bytes, "flush");
}
void TlmDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->buffers.check_range(buffer, offset, bytes, "invalidate");
}

void TlmDevice::write_register(uint32_t offset, uint32_t value) {
  Impl& d = *impl_;
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", d.name, offset));
  switch (offset) {
    case reg::kControl:
      if ((value & reg::kControlSoftReset) != 0) {
        d.status = 0;
        d.error_code = 0;
        d.error_message.clear();
        return;
      }
      if ((value & reg::kControlStart) != 0) d.launch();
      return;
    case reg::kInsnAddrLo: d.insn_addr_lo = value; return;
    case reg::kInsnAddrHi: d.insn_addr_hi = value; return;
    case reg::kInsnCount: d.insn_count = value; return;
    default: break;
  }
  throw Error(fmt::format("{}: register {:#x} is read-only or unknown", d.name, offset));
}

uint32_t TlmDevice::read_register(uint32_t offset) {
  Impl& d = *impl_;
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", d.name, offset));
  switch (offset) {
    case reg::kControl: return 0;
    case reg::kStatus: return d.status;
    case reg::kInsnAddrLo: return d.insn_addr_lo;
    case reg::kInsnAddrHi: return d.insn_addr_hi;
    case reg::kInsnCount: return d.insn_count;
    case reg::kErrorCode: return d.error_code;
    default: break;
  }
  if (offset >= reg::kCounterBase) {
    const uint32_t index = (offset - reg::kCounterBase) / 8;
    if (index < d.counter_values.size()) {
      const uint64_t value = d.counter_values[index];
      return static_cast<uint32_t>((offset - reg::kCounterBase) % 8 == 4 ? value >> 32 : value & 0xffffffffu);
    }
  }
  throw Error(fmt::format("{}: read of unknown register {:#x}", d.name, offset));
}

RunResult TlmDevice::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  write_register(reg::kInsnAddrLo, static_cast<uint32_t>(insn_address & 0xffffffffu));
  write_register(reg::kInsnAddrHi, static_cast<uint32_t>(insn_address >> 32));
  write_register(reg::kInsnCount, insn_count);
  write_register(reg::kControl, reg::kControlStart);
  RunResult result;
  result.counters = counters();
  result.wall_seconds = impl_->wall_seconds;
  result.warnings = impl_->simulator.warnings();
  if ((read_register(reg::kStatus) & reg::kStatusError) != 0) {
    result.status = RunStatus::kError;
    result.message = impl_->error_message;
  } else if (timeout.count() > 0 && result.wall_seconds * 1000.0 > static_cast<double>(timeout.count())) {
    // like fsim, the model cannot hang (deadlocks are detected): a timeout is noticed afterwards
    result.status = RunStatus::kTimeout;
    result.message = fmt::format("{}: run took {:.3f} s, longer than the timeout of {} ms", impl_->name,
                                 result.wall_seconds, timeout.count());
  }
  return result;
}

isa::ExecutionCounters TlmDevice::counters() const { return impl_->simulator.counters(); }

std::vector<std::pair<std::string, uint64_t>> TlmDevice::extra_counters() const {
  return impl_->simulator.extra_counters();
}

}  // namespace vta::driver
