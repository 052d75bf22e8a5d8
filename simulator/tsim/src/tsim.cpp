// vta::tsim::Tsim: picks the linked Verilated model whose config hash equals the requested config's
// (model_registry(), generated) and forwards to its harness (harness.h).
#include "vta/tsim/tsim.h"

#include <string>
#include <utility>
#include <vector>

#include "model_registry.h"
#include "on_demand.h"
#include "vta/isa/error.h"

namespace vta::tsim {
namespace {

const detail::ModelEntry* find_model(const std::string& hash) {
  for (const detail::ModelEntry& m : detail::model_registry())
    if (hash == m.config_hash) return &m;
  return nullptr;
}

std::string model_list() {
  std::string list;
  for (const detail::ModelEntry& m : detail::model_registry()) {
    if (!list.empty()) list += ", ";
    list += std::string(m.config_stem) + " (hash " + m.config_hash + (m.traced ? ", traced" : "") + ")";
  }
  return list.empty() ? "none" : list;
}

}  // namespace

TsimOptions TsimOptions::from_config(const isa::HwConfig& config) {
  TsimOptions o;
  o.read_latency = config.timing().dram_latency_cycles;
  o.write_latency = config.timing().dram_latency_cycles;
  o.bytes_per_cycle = config.timing().dram_bytes_per_cycle;
  return o;
}

std::vector<TsimModelInfo> Tsim::models() {
  std::vector<TsimModelInfo> out;
  for (const detail::ModelEntry& m : detail::model_registry())
    out.push_back({m.config_stem, m.config_hash, m.traced != nullptr});
  return out;
}

bool Tsim::has_model(const isa::HwConfig& config) { return find_model(config.hash()) != nullptr; }

std::string Tsim::built_config_hash() {
  const auto& models = detail::model_registry();
  return models.empty() ? std::string() : models.front().config_hash;
}

Tsim::Tsim(const isa::HwConfig& config, sim::DeviceMemory& memory, TsimOptions options) {
  const detail::ModelEntry* model = find_model(config.hash());
  if (model == nullptr && detail::on_demand_enabled() && options.trace_path.empty())
    model = detail::on_demand_model(config);
  if (model == nullptr)
    throw ConfigError("hash", "tsim has no RTL model for config " + config.name() + " (hash " + config.hash() +
                                      "); this build has models for: " + model_list() +
                                      ". To add one, put the config JSON in config/ and rebuild: every "
                                      "config/*.json gets a model unless -DVTA_TSIM_CONFIGS restricts the list; or "
                                      "leave VTA_TSIM_ON_DEMAND unset to build one on first use");
  if (options.bytes_per_cycle == 0) options.bytes_per_cycle = 1;
  if (options.max_outstanding == 0) options.max_outstanding = 1;
  if (options.trace_path.empty()) {
    impl_ = model->fast(config, memory, std::move(options));
  } else if (model->traced != nullptr) {
    impl_ = model->traced(config, memory, std::move(options));
  } else if (!has_trace_support()) {
    throw Error("tsim: waveform " + options.trace_path +
                " requested but tsim was built without FST support (configure with -DVTA_TSIM_TRACE=ON)");
  } else {
    throw Error("tsim: waveform " + options.trace_path + " requested but no traced model is built for config " +
                model->config_stem + " (only for the default config; configure with "
                "-DVTA_TSIM_TRACE_ALL_CONFIGS=ON for a traced model of every config)");
  }
}

Tsim::~Tsim() {
  if (impl_) impl_->final();
}

void Tsim::reset() { impl_->reset(); }
bool Tsim::soft_reset(uint64_t max_cycles) { return impl_->soft_reset(max_cycles); }
void Tsim::set_faults(const TsimFaults& faults) { impl_->set_faults(faults); }
void Tsim::cancel() { impl_->cancel(); }
uint64_t Tsim::memory_outstanding() const { return impl_->memory_outstanding(); }
uint32_t Tsim::read_reg(uint32_t address) { return impl_->read_reg(address); }
void Tsim::write_reg(uint32_t address, uint32_t value) { impl_->write_reg(address, value); }
uint64_t Tsim::cycle() const { return impl_->cycle(); }
TsimResult Tsim::run(uint64_t insn_addr, uint32_t insn_count, uint64_t max_cycles, double wall_seconds) {
  return impl_->run(insn_addr, insn_count, max_cycles, wall_seconds);
}

bool Tsim::has_trace_support() {
  for (const detail::ModelEntry& m : detail::model_registry())
    if (m.traced != nullptr) return true;
  return false;
}

}  // namespace vta::tsim
