#include "src/board_core.h"

#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "vta/isa/error.h"
#include "vta/isa/instruction.h"

namespace vta::driver {
namespace {

// Polls without a fixed sleep: spin briefly, then yield, then nap for microseconds, so a short run is
// seen at once and a long one does not hold a core.
std::function<void()> backoff() {
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

}  // namespace

BoardCore::BoardCore(std::string name, const isa::HwConfig& config, RegisterPort& port, Memory memory, Sync sync,
                     uint32_t address_bits, std::chrono::milliseconds default_timeout, const std::string& where)
    : name_(std::move(name)), config_(config), port_(port), memory_(memory), sync_(std::move(sync)),
      default_timeout_(default_timeout), where_(where) {
  if (memory_.phys == 0)
    throw Error(fmt::format("{}: the contiguous memory at device address 0 cannot hold buffers (address 0 means no "
                            "buffer)", name_));
  const uint64_t limit = address_bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << address_bits);
  if (memory_.phys > limit || memory_.size > limit - memory_.phys)
    throw Error(fmt::format("{}: the contiguous memory [{:#x}, +{:#x}) reaches beyond the {}-bit addresses of the "
                            "core's memory port; it must lie lower (CMA / u-dma-buf below 4 GB, or another memory bank)",
                            name_, memory_.phys, memory_.size, address_bits));
  BoardProtocol(port_).check_identity(config_, where_);
}

bool BoardCore::range_free(uint64_t offset, uint64_t footprint) const {
  auto it = used_.lower_bound(offset);
  if (it != used_.end() && it->first < offset + footprint) return false;
  if (it != used_.begin()) {
    --it;
    if (it->first + it->second > offset) return false;
  }
  return true;
}

uint64_t BoardCore::offset_of(const DeviceBuffer& b) const {
  if (b.device_address < memory_.phys || b.device_address - memory_.phys >= memory_.size ||
      used_.count(b.device_address - memory_.phys) == 0)
    throw MemoryError(fmt::format("{}: no buffer at device address {:#x}", name_, b.device_address));
  return b.device_address - memory_.phys;
}

DeviceBuffer BoardCore::allocate(uint64_t bytes, uint64_t alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    throw MemoryError(fmt::format("{}: alignment {} is not a power of two", name_, alignment));
  const uint64_t footprint = bytes == 0 ? 1 : bytes;
  uint64_t candidate = 0;  // first fit, aligned in device addresses (what the core sees)
  for (;;) {
    candidate = ((memory_.phys + candidate + alignment - 1) & ~(alignment - 1)) - memory_.phys;
    if (candidate > memory_.size || footprint > memory_.size - candidate)
      throw MemoryError(fmt::format("{}: out of contiguous memory: {} bytes requested, the {}-byte region at {:#x} "
                                    "has no free range that large",
                                    name_, bytes, memory_.size, memory_.phys));
    auto it = used_.lower_bound(candidate);
    if (it != used_.begin() && std::prev(it)->first + std::prev(it)->second > candidate) {
      candidate = std::prev(it)->first + std::prev(it)->second;
      continue;
    }
    if (it != used_.end() && it->first < candidate + footprint) {
      candidate = it->first + it->second;
      continue;
    }
    break;
  }
  used_.emplace(candidate, footprint);
  std::memset(memory_.host + candidate, 0, bytes);
  return {memory_.phys + candidate, memory_.host + candidate, bytes};
}

DeviceBuffer BoardCore::map_at(uint64_t device_address, uint64_t bytes) {
  const uint64_t footprint = bytes == 0 ? 1 : bytes;
  if (device_address < memory_.phys || device_address - memory_.phys > memory_.size ||
      footprint > memory_.size - (device_address - memory_.phys))
    throw MemoryError(fmt::format("{}: cannot map [{:#x}, +{}): outside the contiguous memory [{:#x}, +{:#x})", name_,
                                  device_address, bytes, memory_.phys, memory_.size));
  const uint64_t offset = device_address - memory_.phys;
  if (!range_free(offset, footprint))
    throw MemoryError(fmt::format("{}: cannot map [{:#x}, +{}): overlaps a buffer", name_, device_address, bytes));
  used_.emplace(offset, footprint);
  std::memset(memory_.host + offset, 0, bytes);
  return {device_address, memory_.host + offset, bytes};
}

void BoardCore::free(const DeviceBuffer& buffer) { used_.erase(offset_of(buffer)); }

std::vector<DeviceBuffer> BoardCore::buffers() const {
  std::vector<DeviceBuffer> out;
  for (const auto& [offset, footprint] : used_)
    out.push_back({memory_.phys + offset, memory_.host + offset, footprint});
  return out;
}

void BoardCore::sync(const DeviceBuffer& b, uint64_t offset, uint64_t bytes, bool for_device, const char* what) {
  const uint64_t at = offset_of(b);
  if (offset > b.size || bytes > b.size - offset)
    throw MemoryError(fmt::format("{}: {} of [{}, +{}) is outside the {}-byte buffer at {:#x}", name_, what, offset,
                                  bytes, b.size, b.device_address));
  if (!sync_ || bytes == 0) return;
  sync_(at + offset, bytes, for_device);
  ++(for_device ? syncs_for_device_ : syncs_for_cpu_);
}

std::string BoardCore::recover() {
  BoardProtocol protocol(port_);
  protocol.request_soft_reset();
  if (protocol.wait_reset(std::chrono::steady_clock::now() + std::chrono::seconds(2), backoff())) return {};
  return fmt::format("; the soft reset did not finish either (STATUS {:#x}): the core or its memory port does not "
                     "answer; reload the bitstream or reset the board",
                     protocol.status());
}

RunResult BoardCore::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  RunResult result;
  const auto begin = std::chrono::steady_clock::now();
  BoardProtocol protocol(port_);
  try {
    protocol.start(insn_address, insn_count);
  } catch (const Error& e) {
    result.status = RunStatus::kError;
    result.message = fmt::format("{}: {}", name_, e.what());
    return result;
  }
  const auto limit = timeout.count() > 0 ? timeout : default_timeout_;
  const WaitResult waited = protocol.wait_done(begin + limit, backoff());
  result.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  if (waited == WaitResult::kTimeout) {
    result.status = RunStatus::kTimeout;
    result.message = fmt::format("{}: no done from the core after {} ms (STATUS {:#x}, {})", name_, limit.count(),
                                 protocol.status(), where_);
    result.message += recover();
    last_ = CoreOutcome{};
    return result;
  }
  last_ = protocol.collect();
  result.counters = last_.counters;
  if (last_.error) {
    const auto instruction_at = [&](uint32_t index) -> std::optional<isa::RawInstruction> {
      const uint64_t at = insn_address + uint64_t{index} * 16;
      if (at < memory_.phys || at - memory_.phys + 16 > memory_.size) return std::nullopt;
      isa::RawInstruction raw;
      std::memcpy(&raw.lo, memory_.host + (at - memory_.phys), 8);
      std::memcpy(&raw.hi, memory_.host + (at - memory_.phys) + 8, 8);
      return raw;
    };
    result.status = RunStatus::kError;
    result.message =
        name_ + ": " + BoardProtocol::describe_failure(last_, config_, instruction_at, std::nullopt);
    result.message += recover();
  }
  return result;
}

}  // namespace vta::driver
