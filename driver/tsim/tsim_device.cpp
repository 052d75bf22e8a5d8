#include "vta/driver/tsim_device.h"

#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "src/env_number.h"
#include "src/sim_buffers.h"
#include "vta/driver/board_protocol.h"
#include "vta/driver/register_map.h"
#include "vta/isa/error.h"
#include "vta/sim/device_memory.h"
#include "vta/tsim/tsim.h"

namespace vta::driver {
namespace {

using detail::env_number;


tsim::TsimFaults to_tsim(const TsimFaultOptions& f) {
  tsim::TsimFaults t;
  t.error_addr_lo = f.error_addr_lo;
  t.error_addr_hi = f.error_addr_hi;
  t.read_error_after_beats = f.read_error_after_beats;
  t.error_resp = f.error_resp;
  t.stall_at_cycle = f.stall_at_cycle;
  t.interrupt_at_cycle = f.interrupt_at_cycle;
  return t;
}

}  // namespace

const char* tsim_error::describe(uint32_t code) {
  // Every entry of kErrorCodes is a string literal, so data() is NUL-terminated.
  return isa::reg::error_meaning(code).data();
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
  SimBuffers buffers{memory, name};
  std::unique_ptr<tsim::Tsim> sim;
  tsim::TsimResult last;
  double last_wall_seconds = 0.0;
  bool needs_reset = false;  // the core is not known to be idle (a run threw, or a soft reset was written)
  // STATUS and ERROR_* of the last failed run, read before its recovery; read_register() returns them
  // until the next run or CONTROL write, so the board protocol (read the error after the run) still works.
  std::map<uint32_t, uint32_t> failed_regs;
  uint64_t soft_resets = 0, hard_resets = 0;
  std::string last_recovery;

  Impl(std::string n, const isa::HwConfig& c, TsimDeviceOptions o)
      : name(std::move(n)), config(c), options(std::move(o)) {
    tsim::TsimOptions t = tsim::TsimOptions::from_config(config);
    if (options.dram_latency_cycles) t.read_latency = t.write_latency = *options.dram_latency_cycles;
    if (options.dram_bytes_per_cycle) t.bytes_per_cycle = *options.dram_bytes_per_cycle;
    t.faults = to_tsim(options.faults);
    t.max_outstanding = options.max_outstanding;
    t.trace_path = options.trace_path;
    t.watchdog_cycles = options.watchdog_cycles;
    sim = std::make_unique<tsim::Tsim>(config, memory, t);
  }

  // The 16 bytes of the instruction at `index` of the stream at `address` (nullopt outside device memory).
  std::optional<isa::RawInstruction> raw_insn(uint64_t address, uint32_t index) const {
    const uint64_t at = address + uint64_t{index} * 16;
    if (!memory.contains(at, 16)) return std::nullopt;
    isa::RawInstruction raw;
    memory.read(at, &raw.lo, 8);
    memory.read(at + 8, &raw.hi, 8);
    return raw;
  }

  // Returns the core to idle after a run that did not end cleanly: a soft reset, or the hard reset when
  // the soft reset cannot drain the bus.
  void recover() {
    if (sim->soft_reset(options.soft_reset_cycles)) {
      ++soft_resets;
      last_recovery = "soft reset";
      return;
    }
    const uint64_t owed = sim->memory_outstanding();
    sim->reset();
    ++hard_resets;
    last_recovery = fmt::format("hard reset: the soft reset did not finish in {} cycles ({} memory burst(s) unanswered)",
                                options.soft_reset_cycles, owed);
  }

  RunResult execute(uint64_t insn_address, uint32_t insn_count, double wall_seconds) {
    const uint64_t max_cycles = options.max_cycles != 0 ? options.max_cycles : std::numeric_limits<uint64_t>::max() / 2;
    // A failed run is recovered before it returns (below); a soft reset written through write_register()
    // may still be draining, and a run that threw left the core as it was: reset first then.
    failed_regs.clear();
    if (!needs_reset && (sim->read_reg(reg::kStatus) & (reg::kStatusBusy | reg::kStatusResetting)) != 0)
      needs_reset = true;
    if (needs_reset) recover();
    // Until the run ends cleanly the core needs a reset (also when run() throws, e.g. on a failed RTL
    // assertion).
    needs_reset = true;
    const auto start = std::chrono::steady_clock::now();
    last = sim->run(insn_address, insn_count, max_cycles, wall_seconds);
    last_wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    RunResult result;
    result.counters = last.counters;
    result.wall_seconds = last_wall_seconds;
    if (last.done && !last.error) {
      needs_reset = false;
      return result;
    }

    if (last.wall_timeout) {
      result.status = RunStatus::kTimeout;
      result.message = fmt::format("{}: {}", name, last.report);
    } else if (last.hung || last.cycle_limit || last.interrupted) {
      result.status = RunStatus::kError;
      result.message = fmt::format("{}: {}", name, last.report);
    } else {
      result.status = RunStatus::kError;
      CoreOutcome outcome;
      outcome.error_code = last.error_code;
      outcome.error_index = last.error_index;
      outcome.error_info = last.error_info;
      outcome.error_addr = last.error_addr;
      outcome.counters = last.counters;
      result.message = name + ": " +
                       BoardProtocol::describe_failure(
                           outcome, config, [&](uint32_t i) { return raw_insn(insn_address, i); },
                           last.error_code == tsim_error::kBus ? std::optional<uint64_t>(last.bus_error_address)
                                                               : std::nullopt);
    }
    // The core keeps going after an error (a module finishes the instruction it holds, a STORE's writes are
    // in flight; a hung or interrupted run is still running): recover now, before returning, so nothing of
    // this run reaches memory after the host has reused it (found by tsim_stress_test). Memory and on-chip
    // buffers are not touched by the reset.
    for (uint32_t r : {reg::kStatus, reg::kErrorCode, reg::kErrorIndex, reg::kErrorInfo, reg::kErrorAddr})
      failed_regs[r] = sim->read_reg(r);
    recover();
    needs_reset = false;
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

DeviceBuffer TsimDevice::allocate(uint64_t bytes, uint64_t alignment) { return impl_->buffers.allocate(bytes, alignment); }
DeviceBuffer TsimDevice::map_at(uint64_t device_address, uint64_t bytes) {
  return impl_->buffers.map_at(device_address, bytes);
}
void TsimDevice::free(const DeviceBuffer& buffer) { impl_->buffers.free(buffer); }
std::vector<DeviceBuffer> TsimDevice::buffers() const { return impl_->buffers.buffers(); }

void TsimDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->buffers.check_range(buffer, offset, bytes, "flush");
}

void TsimDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  impl_->buffers.check_range(buffer, offset, bytes, "invalidate");
}

void TsimDevice::write_register(uint32_t offset, uint32_t value) {
  if (offset % 4 != 0) throw Error(fmt::format("{}: unaligned register offset {:#x}", impl_->name, offset));
  if (offset == reg::kControl) impl_->failed_regs.clear();
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
  if (const auto it = impl_->failed_regs.find(offset); it != impl_->failed_regs.end()) return it->second;
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

void TsimDevice::set_faults(const TsimFaultOptions& faults) {
  impl_->options.faults = faults;
  impl_->sim->set_faults(to_tsim(faults));
}
void TsimDevice::cancel() { impl_->sim->cancel(); }
uint64_t TsimDevice::soft_resets() const { return impl_->soft_resets; }
uint64_t TsimDevice::hard_resets() const { return impl_->hard_resets; }
std::string TsimDevice::last_recovery() const { return impl_->last_recovery; }
uint64_t TsimDevice::memory_outstanding() const { return impl_->sim->memory_outstanding(); }

}  // namespace vta::driver
