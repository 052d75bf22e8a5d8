// TlmDevice: the Device interface over the SystemC TLM-2.0 timing model (simulator/tlm, docs/tlm.md).
// Memory, buffers and the register file behave as on fsim; a run returns fsim's results and the model's
// cycle count, and extra_counters() holds the busy/stall counters under tsim's names.
// Only built when SystemC is available (VTA_HAVE_TLM is defined to 1 for users of vta::driver then).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"

namespace vta::driver {

struct TlmDeviceOptions {
  // DRAM model; 0 = the config's "timing" object (dram_latency_cycles, dram_bytes_per_cycle).
  uint32_t dram_latency_cycles = 0;
  uint32_t dram_bytes_per_cycle = 0;
  uint32_t max_outstanding = 16;
  // VTA_TLM_DRAM_LATENCY, VTA_TLM_DRAM_BYTES_PER_CYCLE, VTA_TLM_MAX_OUTSTANDING over the defaults above.
  static TlmDeviceOptions from_environment();
};

class TlmDevice final : public Device {
 public:
  TlmDevice(std::string name, const isa::HwConfig& config, TlmDeviceOptions options = {});
  ~TlmDevice() override;
  TlmDevice(const TlmDevice&) = delete;
  TlmDevice& operator=(const TlmDevice&) = delete;

  std::string name() const override;
  const isa::HwConfig& config() const override;

  DeviceBuffer allocate(uint64_t bytes, uint64_t alignment = 64) override;
  DeviceBuffer map_at(uint64_t device_address, uint64_t bytes) override;
  void free(const DeviceBuffer& buffer) override;
  std::vector<DeviceBuffer> buffers() const override;

  void flush(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;
  void invalidate(const DeviceBuffer& buffer, uint64_t offset, uint64_t bytes) override;

  void write_register(uint32_t offset, uint32_t value) override;
  uint32_t read_register(uint32_t offset) override;

  RunResult run(uint64_t insn_address, uint32_t insn_count, std::chrono::milliseconds timeout) override;
  isa::ExecutionCounters counters() const override;

  // Busy/stall cycles of the last run (load_busy_cycles ... gemm_hazard_cycles), as tsim reports them.
  std::vector<std::pair<std::string, uint64_t>> extra_counters() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vta::driver
