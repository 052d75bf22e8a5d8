#include "vta/driver/board_device.h"

#include "src/board_core.h"

namespace vta::driver {

BoardDevice::BoardDevice() = default;
BoardDevice::~BoardDevice() = default;
void BoardDevice::set_core(std::unique_ptr<BoardCore> core) { core_ = std::move(core); }
void BoardDevice::reset_core() { core_.reset(); }

std::string BoardDevice::name() const { return core_->name(); }
const isa::HwConfig& BoardDevice::config() const { return core_->config(); }
DeviceBuffer BoardDevice::allocate(uint64_t bytes, uint64_t alignment) { return core_->allocate(bytes, alignment); }
DeviceBuffer BoardDevice::map_at(uint64_t device_address, uint64_t bytes) {
  return core_->map_at(device_address, bytes);
}
void BoardDevice::free(const DeviceBuffer& buffer) { core_->free(buffer); }
std::vector<DeviceBuffer> BoardDevice::buffers() const { return core_->buffers(); }
void BoardDevice::flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  core_->flush(buffer, offset, bytes);
}
void BoardDevice::invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) {
  core_->invalidate(buffer, offset, bytes);
}
void BoardDevice::write_register(uint32_t offset, uint32_t value) { core_->write_register(offset, value); }
uint32_t BoardDevice::read_register(uint32_t offset) { return core_->read_register(offset); }
RunResult BoardDevice::run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) {
  return core_->run(insn_address, insn_count, timeout);
}
isa::ExecutionCounters BoardDevice::counters() const { return core_->last().counters; }
std::vector<std::pair<std::string, uint64_t>> BoardDevice::extra_counters() const {
  return core_->last().extra_counters;
}
uint64_t BoardDevice::memory_base() const { return core_->memory().phys; }
uint64_t BoardDevice::memory_size() const { return core_->memory().size; }
uint64_t BoardDevice::syncs_for_device() const { return core_->syncs_for_device(); }
uint64_t BoardDevice::syncs_for_cpu() const { return core_->syncs_for_cpu(); }

}  // namespace vta::driver
