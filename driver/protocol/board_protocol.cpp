#include "vta/driver/board_protocol.h"

#include <atomic>
#include <cstdlib>
#include <iterator>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"
#include "vta/isa/register_map.h"

namespace vta::driver {
namespace reg = isa::reg;

namespace {

std::string_view index_operand_text(uint32_t operand) {
  for (const reg::IndexOperand& x : reg::kIndexOperands)
    if (x.code == operand) return x.text;
  return "unknown buffer";
}

std::string_view axi_id_text(uint32_t id) {
  for (const reg::AxiId& x : reg::kAxiIds)
    if (x.id == id) return x.text;
  return "an unknown requester";
}

// ERROR_INFO / ERROR_ADDR of an out-of-range index, in fsim's words.
std::string index_detail(const CoreOutcome& o, const isa::HwConfig& config, const std::optional<isa::Instruction>& insn) {
  const uint32_t operand = o.error_info & 0xfu;
  if (operand == reg::kIdxUopRange) {
    const isa::LoopNest* loop = nullptr;
    if (insn) {
      if (const auto* g = std::get_if<isa::GemmInsn>(&*insn)) loop = &g->loop;
      if (const auto* a = std::get_if<isa::AluInsn>(&*insn)) loop = &a->loop;
    }
    if (loop == nullptr) return fmt::format("micro-op range ending at {} is invalid", o.error_addr);
    if (loop->uop_bgn > loop->uop_end)
      return fmt::format("micro-op range [{}, {}) has uop_bgn > uop_end", loop->uop_bgn, loop->uop_end);
    return fmt::format("micro-op range [{}, {}) exceeds the UOP buffer depth {}", loop->uop_bgn, loop->uop_end,
                       config.uop().depth);
  }
  uint64_t depth = config.acc().depth;
  if (operand == reg::kIdxUop) depth = config.uop().depth;
  if (operand == reg::kIdxWgt) depth = config.wgt().depth;
  if (operand == reg::kIdxInp) depth = config.inp().depth;
  return fmt::format("{} index {} out of range (buffer depth {})", index_operand_text(operand), o.error_addr, depth);
}

// ERROR_INFO of a bus error: which response, to what.
std::string bus_detail(const CoreOutcome& o, std::optional<uint64_t> bus_address) {
  const uint32_t resp = (o.error_info >> reg::kAxiInfoRespLsb) & 3u;
  std::string what;
  if ((o.error_info >> reg::kAxiInfoWriteBit) & 1u) {
    what = "a write by store";
  } else {
    const uint32_t id = o.error_info & 3u;
    what = id == reg::kAxiIdFetch ? std::string("an instruction fetch") : fmt::format("a read by {}", axi_id_text(id));
  }
  return fmt::format("{} response to {}{}", resp == 3 ? "DECERR" : "SLVERR", what,
                     bus_address ? fmt::format(" (address {:#x})", *bus_address) : std::string());
}

}  // namespace

void MappedRegisterPort::check(uint32_t offset) const {
  if (offset % 4 != 0 || uint64_t{offset} + 4 > size_)
    throw Error(fmt::format("register offset {:#x} is not a word inside the {}-byte window", offset, size_));
}

uint32_t MappedRegisterPort::read(uint32_t offset) {
  check(offset);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return *reinterpret_cast<volatile uint32_t*>(base_ + offset);
}

void MappedRegisterPort::write(uint32_t offset, uint32_t value) {
  check(offset);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  *reinterpret_cast<volatile uint32_t*>(base_ + offset) = value;
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

uint64_t BoardProtocol::register_hash(const isa::HwConfig& config) {
  return std::strtoull(config.hash().c_str(), nullptr, 16);
}

CoreIdentity BoardProtocol::identify() {
  CoreIdentity id;
  id.config_hash = (uint64_t{port_.read(reg::kConfigHashHi)} << 32) | port_.read(reg::kConfigHashLo);
  id.bus_width = port_.read(reg::kBusWidth);
  return id;
}

void BoardProtocol::check_identity(const isa::HwConfig& config, const std::string& where) {
  const CoreIdentity id = identify();
  const uint64_t want = register_hash(config);
  if (id.config_hash == want) return;
  const bool blank = id.config_hash == 0 || id.config_hash == ~uint64_t{0};
  throw Error(fmt::format("{}: {} (CONFIG_HASH {:016x}); the config {} has hash {:016x}{}", where,
                          blank ? "no VTA core answers in this register window"
                                : "the core there was generated for another hardware config",
                          id.config_hash, config.name(), want,
                          blank ? ": is the bitstream loaded and the window the core's?"
                                : ": load the bitstream built from this config, or pass the config it was built from"));
}

void BoardProtocol::start(uint64_t insn_address, uint32_t insn_count) {
  const uint32_t before = port_.read(reg::kStatus);
  if ((before & (reg::kStatusBusy | reg::kStatusResetting)) != 0)
    throw Error(fmt::format("the core is still {} (STATUS {:#x}): reset it before the next run",
                            (before & reg::kStatusBusy) != 0 ? "running a program" : "in a soft reset", before));
  port_.write(reg::kInsnAddrLo, static_cast<uint32_t>(insn_address));
  port_.write(reg::kInsnAddrHi, static_cast<uint32_t>(insn_address >> 32));
  port_.write(reg::kInsnCount, insn_count);
  port_.write(reg::kControl, reg::kControlStart);
}

// CONTROL reads 0 on the core: a command is taken as it is written. A window that needs time to pass the
// write on (an emulator's file) shows it until then, and until then STATUS is the previous state's.
bool BoardProtocol::poll_until(uint32_t control_bit, uint32_t status_bit, bool status_set,
                               std::chrono::steady_clock::time_point deadline,
                               const std::function<void()>& between_polls) {
  bool taken = false;
  for (;;) {
    if (!taken) taken = (port_.read(reg::kControl) & control_bit) == 0;
    if (taken && ((port_.read(reg::kStatus) & status_bit) != 0) == status_set) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (between_polls) between_polls();
  }
}

WaitResult BoardProtocol::wait_done(std::chrono::steady_clock::time_point deadline,
                                    const std::function<void()>& between_polls) {
  return poll_until(reg::kControlStart, reg::kStatusDone, true, deadline, between_polls) ? WaitResult::kDone
                                                                                          : WaitResult::kTimeout;
}

uint64_t BoardProtocol::counter(uint32_t index) {
  const uint64_t lo = port_.read(reg::counter_lo(index));
  const uint64_t hi = port_.read(reg::counter_hi(index));
  return (hi << 32) | lo;
}

CoreOutcome BoardProtocol::collect() {
  CoreOutcome o;
  o.status = port_.read(reg::kStatus);
  o.done = (o.status & reg::kStatusDone) != 0;
  o.error = (o.status & reg::kStatusError) != 0;
  o.error_code = port_.read(reg::kErrorCode);
  o.error_index = port_.read(reg::kErrorIndex);
  o.error_info = port_.read(reg::kErrorInfo);
  o.error_addr = port_.read(reg::kErrorAddr);
  auto& c = o.counters;
  uint64_t* fields[] = {&c.load_insn_count, &c.compute_insn_count, &c.store_insn_count, &c.inp_load_nbytes,
                        &c.wgt_load_nbytes, &c.acc_load_nbytes,    &c.uop_load_nbytes,  &c.out_store_nbytes,
                        &c.gemm_counter,    &c.alu_counter,        &c.cycle_count};
  static_assert(std::size(fields) == reg::kNumExecutionCounters);
  for (uint32_t i = 0; i < std::size(fields); ++i) *fields[i] = counter(i);
  for (uint32_t i = reg::kNumExecutionCounters; i < reg::kNumCounters; ++i)
    o.extra_counters.emplace_back(std::string(reg::kCounters[i].name), counter(i));
  return o;
}

void BoardProtocol::request_soft_reset() { port_.write(reg::kControl, reg::kControlSoftReset); }

bool BoardProtocol::wait_reset(std::chrono::steady_clock::time_point deadline,
                               const std::function<void()>& between_polls) {
  return poll_until(reg::kControlSoftReset, reg::kStatusResetting, false, deadline, between_polls);
}

uint32_t BoardProtocol::status() { return port_.read(reg::kStatus); }

std::string BoardProtocol::describe_failure(const CoreOutcome& o, const isa::HwConfig& config,
                                            const InstructionSource& instruction_at,
                                            std::optional<uint64_t> bus_address) {
  const bool has_index = o.error_index != reg::kNoIndex;
  const std::optional<isa::RawInstruction> raw = has_index ? instruction_at(o.error_index) : std::nullopt;
  std::optional<isa::Instruction> insn;
  if (raw) {
    try {
      insn = isa::InstructionCodec(config).decode(*raw);
    } catch (const Error&) {
    }
  }
  std::string shown;
  if (insn) shown = isa::disassemble(*insn);
  else if (raw) shown = fmt::format("raw {:016x}{:016x}", raw->hi, raw->lo);
  else if (has_index) shown = "(not in device memory)";
  std::string where;
  if (o.error_code == reg::kErrAxi) {
    where = ": " + bus_detail(o, bus_address);
    if (has_index) where += fmt::format(" at instruction {}: {}", o.error_index, shown);
  } else if (o.error_code == reg::kErrIndex) {
    where = fmt::format(" at instruction {}: {}; {}", o.error_index, index_detail(o, config, insn), shown);
  } else if (has_index) {
    where = fmt::format(" at instruction {}: {}", o.error_index, shown);
  }
  return fmt::format("hardware error {} ({}){}, after {} cycles", o.error_code, reg::error_meaning(o.error_code),
                     where, o.counters.cycle_count);
}

}  // namespace vta::driver
