#include "vta/driver/tsim_device.h"

#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "vta/driver/register_map.h"
#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"
#include "vta/sim/device_memory.h"
#include "vta/tsim/tsim.h"

namespace vta::driver {
namespace {

std::optional<uint64_t> env_number(const char* name, uint64_t max) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 0);
  if (*end != '\0' || value > max || text[0] == '-') {
    throw Error(fmt::format("environment variable {}='{}' is not a number in [0, {}]", name, text, max));
  }
  return value;
}

constexpr uint32_t kNoIndex = 0xffffffffu;

}  // namespace

const char* tsim_error::describe(uint32_t code) {
  switch (code) {
    case kNone: return "no error";
    case kOpcode: return "unassigned opcode";
    case kMemoryType: return "memory type invalid for the instruction";
    case kAluOpcode: return "unassigned ALU opcode";
    case kDependency: return "dependency flag the module cannot have";
    case kBus: return "AXI bus error (access outside device memory)";
    case kDeadlock: return "deadlock: every module waits on a dependency token that cannot arrive";
    default: return "unknown hardware error";
  }
}

TsimDeviceOptions TsimDeviceOptions::from_environment() {
  TsimDeviceOptions o;
  constexpr uint64_t u32 = std::numeric_limits<uint32_t>::max();
  if (auto v = env_number("VTA_TSIM_DRAM_LATENCY", u32)) o.dram_latency_cycles = static_cast<uint32_t>(*v);
  if (auto v = env_number("VTA_TSIM_DRAM_BYTES_PER_CYCLE", 4096)) {
    if (*v == 0) throw Error("environment variable VTA_TSIM_DRAM_BYTES_PER_CYCLE must be at least 1");
    o.dram_bytes_per_cycle = static_cast<uint32_t>(*v);
  }
  if (auto v = env_number("VTA_TSIM_MAX_OUTSTANDING", 1024)) o.max_outstanding = static_cast<uint32_t>(*v);
  if (auto v = env_number("VTA_TSIM_WATCHDOG_CYCLES", std::numeric_limits<uint64_t>::max())) o.watchdog_cycles = *v;
  if (auto v = env_number("VTA_TSIM_MAX_CYCLES", std::numeric_limits<uint64_t>::max())) o.max_cycles = *v;
  if (const char* t = std::getenv("VTA_TSIM_TRACE"); t != nullptr) o.trace_path = t;
  return o;
}

struct TsimDevice::Impl {
  std::string name;
  isa::HwConfig config;
  TsimDeviceOptions options;
  sim::DeviceMemory memory;
  std::map<uint64_t, DeviceBuffer> buffers;  // by device address
  std::unique_ptr<tsim::Tsim> sim;
  tsim::TsimResult last;
  double last_wall_seconds = 0.0;
  bool needs_reset = false;  // the last run ended with an error, a hang or a timeout

  Impl(std::string n, const isa::HwConfig& c, TsimDeviceOptions o)
      : name(std::move(n)), config(c), options(std::move(o)) {
    tsim::TsimOptions t = tsim::TsimOptions::from_config(config);
    if (options.dram_latency_cycles) t.read_latency = t.write_latency = *options.dram_latency_cycles;
    if (options.dram_bytes_per_cycle) t.bytes_per_cycle = *options.dram_bytes_per_cycle;
    t.max_outstanding = options.max_outstanding;
    t.trace_path = options.trace_path;
    t.watchdog_cycles = options.watchdog_cycles;
    sim = std::make_unique<tsim::Tsim>(config, memory, t);
  }

  DeviceBuffer make_buffer(uint64_t address, uint64_t bytes) {
    DeviceBuffer buffer;
    buffer.device_address = address;
    buffer.host = memory.at(address, bytes);
    buffer.size = bytes;
    buffers[address] = buffer;
    return buffer;
  }

  void check_range(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes, const char* what) const {
    const auto it = buffers.find(buffer.device_address);
    if (it == buffers.end() || it->second.host != buffer.host || it->second.size != buffer.size) {
      throw MemoryError(fmt::format("{}: {} of a buffer that is not allocated (device address {:#x})", name, what,
                                    buffer.device_address));
    }
    if (offset > buffer.size || bytes > buffer.size - offset) {
      throw MemoryError(fmt::format("{}: {} of bytes [{}, {}) outside the {}-byte buffer at {:#x}", name, what,
                                    offset, offset + bytes, buffer.size, buffer.device_address));
    }
  }

  // The instruction at `index` of the stream at `address`, disassembled (or its raw bits when it does
  // not decode, or a note when it is outside device memory).
  std::string describe_insn(uint64_t address, uint32_t index) const {
    const uint64_t at = address + uint64_t{index} * 16;
    if (!memory.contains(at, 16)) return "(not in device memory)";
    isa::RawInstruction raw;
    memory.read(at, &raw.lo, 8);
    memory.read(at + 8, &raw.hi, 8);
    try {
      return isa::disassemble(isa::InstructionCodec(config).decode(raw));
    } catch (const Error&) {
      return fmt::format("raw {:016x}{:016x}", raw.hi, raw.lo);
    }
  }

  RunResult execute(uint64_t insn_address, uint32_t insn_count, double wall_seconds) {
    const uint64_t max_cycles = options.max_cycles != 0 ? options.max_cycles : std::numeric_limits<uint64_t>::max() / 2;
    // The core keeps state after an error (modules may still hold an instruction, a hung run is still
    // going): reset it first. The reset is deferred to here so that the registers of a failed run stay
    // readable until the next one. Memory and on-chip buffers are not touched by the reset.
    if (needs_reset) sim->reset();
    needs_reset = false;
    const auto start = std::chrono::steady_clock::now();
    last = sim->run(insn_address, insn_count, max_cycles, wall_seconds);
    last_wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    RunResult result;
    result.counters = last.counters;
    result.wall_seconds = last_wall_seconds;
    if (last.done && !last.error) return result;
    needs_reset = true;

    if (last.wall_timeout) {
      result.status = RunStatus::kTimeout;
      result.message = fmt::format("{}: {}", name, last.report);
    } else if (last.hung || last.cycle_limit) {
      result.status = RunStatus::kError;
      result.message = fmt::format("{}: {}", name, last.report);
    } else {
      result.status = RunStatus::kError;
      std::string where;
      if (last.error_code == tsim_error::kBus) {
        where = fmt::format(" (address {:#x})", last.bus_error_address);
      } else if (last.error_index != kNoIndex) {
        where = fmt::format(" at instruction {}: {}", last.error_index, describe_insn(insn_address, last.error_index));
      }
      result.message = fmt::format("{}: hardware error {} ({}){}, after {} cycles", name, last.error_code,
                                   tsim_error::describe(last.error_code), where, last.counters.cycle_count);
    }
    return result;
  }
};

TsimDevice::TsimDevice(std::string name, const isa::HwConfig& config, TsimDeviceOptions options)
    : impl_(std::make_unique<Impl>(std::move(name), config, std::move(options))) {}

TsimDevice::~TsimDevice() = default;

std::string TsimDevice::name() const { return impl_->name; }
const isa::HwConfig& TsimDevice::config() const { return impl_->config; }
const TsimDeviceOptions& TsimDevice::options() const { return impl_->options; }
std::string TsimDevice::built_config_hash() { return tsim::Tsim::built_config_hash(); }
bool TsimDevice::has_trace_support() { return tsim::Tsim::has_trace_support(); }
bool TsimDevice::has_model(const isa::HwConfig& config) { return tsim::Tsim::has_model(config); }
std::vector<std::string> TsimDevice::model_configs() {
  std::vector<std::string> out;
  for (const tsim::TsimModelInfo& m : tsim::Tsim::models())
    out.push_back(fmt::format("{} (hash {})", m.config_stem, m.config_hash));
  return out;
}

DeviceBuffer TsimDevice::allocate(uint64_t bytes, uint64_t alignment) {
  if (bytes == 0) throw MemoryError(fmt::format("{}: cannot allocate a buffer of 0 bytes", impl_->name));
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    throw MemoryError(fmt::format("{}: alignment {} is not a power of two", impl_->name, alignment));
  }
  const uint64_t address = impl_->memory.allocate(bytes, alignment);
  return impl_->make_buffer(address, bytes);
}

DeviceBuffer TsimDevice::map_at(uint64_t device_address, uint64_t bytes) {
  if (bytes == 0) {
    throw MemoryError(fmt::format("{}: cannot map a buffer of 0 bytes at {:#x}", impl_->name, device_address));
  }
  if (device_address + bytes < device_address) {
    throw MemoryError(fmt::format("{}: buffer of {} bytes at {:#x} wraps around the address space", impl_->name,
                                  bytes, device_address));
  }
  impl_->memory.map(device_address, bytes);
  return impl_->make_buffer(device_address, bytes);
}

void TsimDevice::free(const DeviceBuffer& buffer) {
  const auto it = impl_->buffers.find(buffer.device_address);
  if (it == impl_->buffers.end() || it->second.host != buffer.host || it->second.size != buffer.size) {
    throw MemoryError(fmt::format("{}: free of a buffer that is not allocated (device address {:#x}, {} bytes)",
                                  impl_->name, buffer.device_address, buffer.size));
  }
  impl_->memory.free(buffer.device_address);
  impl_->buffers.erase(it);
}

std::vector<DeviceBuffer> TsimDevice::buffers() const {
  std::vector<DeviceBuffer> out;
  out.reserve(impl_->buffers.size());
  for (const auto& entry : impl_->buffers) out.push_back(entry.second);
  return out;
}

// The memory model reads and writes the host-visible memory directly (a coherent system): nothing to
// copy, but the range is checked so that a driver bug shows up here and not on a board.
void TsimDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->check_range(buffer, offset, bytes, "flush");
}

void TsimDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->check_range(buffer, offset, bytes, "invalidate");
}

void TsimDevice::write_register(uint32_t offset, uint32_t value) {
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", impl_->name, offset));
  if (offset == reg::kControl && (value & reg::kControlStart) != 0) {
    tsim::Tsim& sim = *impl_->sim;
    const uint64_t address = (uint64_t{sim.read_reg(reg::kInsnAddrHi)} << 32) | sim.read_reg(reg::kInsnAddrLo);
    impl_->execute(address, sim.read_reg(reg::kInsnCount), 0.0);
    return;
  }
  impl_->sim->write_reg(offset, value);
}

uint32_t TsimDevice::read_register(uint32_t offset) {
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", impl_->name, offset));
  return impl_->sim->read_reg(offset);
}

RunResult TsimDevice::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  const double wall = timeout.count() > 0 ? static_cast<double>(timeout.count()) / 1000.0 : 0.0;
  return impl_->execute(insn_address, insn_count, wall);
}

isa::ExecutionCounters TsimDevice::counters() const { return impl_->last.counters; }
std::vector<std::pair<std::string, uint64_t>> TsimDevice::extra_counters() const {
  return impl_->last.extra_counters;
}
uint64_t TsimDevice::harness_cycles() const { return impl_->last.harness_cycles; }

}  // namespace vta::driver
