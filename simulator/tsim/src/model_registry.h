// The registry of the Verilated models linked into vta::tsim (private to simulator/tsim): one entry per
// config built (simulator/tsim/CMakeLists.txt), each with its own model classes (Verilator --prefix).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/sim/device_memory.h"
#include "vta/tsim/tsim.h"

namespace vta::tsim {

// The harness's interface, one implementation per model class (fast / traced, per config): the per-cycle
// code is compiled for each model, only these calls are virtual.
struct Tsim::Impl {
  virtual ~Impl() = default;
  virtual void reset() = 0;
  virtual bool soft_reset(uint64_t max_cycles) = 0;
  virtual void set_faults(const TsimFaults& faults) = 0;
  virtual void cancel() = 0;
  virtual uint64_t memory_outstanding() const = 0;
  virtual uint32_t read_reg(uint32_t address) = 0;
  virtual void write_reg(uint32_t address, uint32_t value) = 0;
  virtual TsimResult run(uint64_t insn_addr, uint32_t insn_count, uint64_t max_cycles, double wall_seconds) = 0;
  virtual uint64_t cycle() const = 0;
  virtual void final() = 0;
};

namespace detail {

using HarnessFactory = std::unique_ptr<Tsim::Impl> (*)(const isa::HwConfig&, sim::DeviceMemory&, TsimOptions);

struct ModelEntry {
  const char* config_stem;   // config/<stem>.json the model was generated from
  const char* config_hash;   // HwConfig::hash() of that config (CONFIG_HASH of its vta_pkg.sv)
  HarnessFactory fast;       // the untraced model
  HarnessFactory traced;     // the model built with --trace-fst, or nullptr
};

// Every linked model, in the order CMake lists them (default first). Generated: models.cpp.
const std::vector<ModelEntry>& model_registry();

}  // namespace detail
}  // namespace vta::tsim
