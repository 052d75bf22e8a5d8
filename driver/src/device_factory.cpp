// open_device(): the one place that knows every backend. Later backends (tlm, tsim, xrt, zynq) add a
// row to kTargets.
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "fsim/fsim_device.h"
#include "vta/driver/device.h"
#include "vta/driver/xrt_device.h"
#include "vta/driver/zynq_device.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"
#if VTA_HAVE_TSIM
#include "vta/driver/tsim_device.h"
#endif
#if VTA_HAVE_TLM
#include "vta/driver/tlm_device.h"
#endif

namespace vta::driver {
namespace {

struct Target {
  std::string_view name;
  std::unique_ptr<Device> (*open)(std::string_view name, const isa::HwConfig& config);
};

// Tokens left in a queue after FINISH are harmless on hardware (and Apache VTA's untuned TVM schedules
// leave one store->compute token), so the device targets accept them like a board would; "fsim-strict"
// reports them as an error and models the core's finite token and command queues, for checking that our
// own runtime and compiler balance their tokens and never need more queue room than the core has.
// VTA_FSIM_CORE_QUEUES=1 gives every fsim target the core's queue depths, to run any test suite or tool
// against them (docs/driver.md).
bool core_queues_from_environment() {
  const char* v = std::getenv("VTA_FSIM_CORE_QUEUES");
  return v != nullptr && std::string_view(v) == "1";
}

// VTA_FSIM_WORK_LIMIT: lane operations per run (fsim::Options::work_limit; 0 = unlimited).
uint64_t work_limit_from_environment() {
  const char* v = std::getenv("VTA_FSIM_WORK_LIMIT");
  if (v == nullptr || *v == '\0') return fsim::Options::kDefaultWorkLimit;
  char* end = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(v, &end, 0);
  if (errno != 0 || *end != '\0' || *v == '-')
    throw Error(std::string("VTA_FSIM_WORK_LIMIT=") + v + ": not a number of lane operations (0 = unlimited)");
  return n;
}

template <fsim::Kernel K, fsim::Schedule S, bool kStrictTokens = false>
std::unique_ptr<Device> open_fsim(std::string_view name, const isa::HwConfig& config) {
  fsim::Options options;
  options.kernel = K;
  options.schedule = S;
  options.allow_leftover_tokens = !kStrictTokens;
  options.work_limit = work_limit_from_environment();
  if (kStrictTokens || core_queues_from_environment()) {
    options.token_queue_depth = isa::CoreQueueDepths::kToken;
    options.command_queue_depth = isa::CoreQueueDepths::kCommand;
  }
  return std::make_unique<FsimDevice>(std::string(name), config, options);
}

#if VTA_HAVE_TSIM
// tsim: the Verilated RTL core; DRAM timing, waveform and watchdog from VTA_TSIM_* environment variables.
std::unique_ptr<Device> open_tsim(std::string_view name, const isa::HwConfig& config) {
  return std::make_unique<TsimDevice>(std::string(name), config, TsimDeviceOptions::from_environment());
}
#endif

#if VTA_HAVE_TLM
// tlm: the SystemC timing model; DRAM timing from VTA_TLM_* environment variables.
std::unique_ptr<Device> open_tlm(std::string_view name, const isa::HwConfig& config) {
  return std::make_unique<TlmDevice>(std::string(name), config, TlmDeviceOptions::from_environment());
}
#endif

// zynq: a PYNQ-class board through UIO / u-dma-buf (or the files of the board emulator); device paths
// and memory from VTA_ZYNQ_* environment variables.
std::unique_ptr<Device> open_zynq(std::string_view name, const isa::HwConfig& config) {
  return std::make_unique<ZynqDevice>(std::string(name), config, ZynqDeviceOptions::from_environment());
}

// xrt: an Alveo card through libxrt; card, xclbin and memory bank from VTA_XRT_* environment variables.
std::unique_ptr<Device> open_xrt(std::string_view name, const isa::HwConfig& config) {
  return std::make_unique<XrtDevice>(std::string(name), config, XrtDeviceOptions::from_environment());
}

constexpr Target kTargets[] = {
    {"fsim", &open_fsim<fsim::Kernel::kFast, fsim::Schedule::kConcurrent>},
    {"fsim-ref", &open_fsim<fsim::Kernel::kReference, fsim::Schedule::kConcurrent>},
    {"fsim-serial", &open_fsim<fsim::Kernel::kFast, fsim::Schedule::kSerial>},
    {"fsim-strict", &open_fsim<fsim::Kernel::kFast, fsim::Schedule::kConcurrent, true>},
#if VTA_HAVE_TSIM
    {"tsim", &open_tsim},
#endif
#if VTA_HAVE_TLM
    {"tlm", &open_tlm},
#endif
    {"zynq", &open_zynq},
    {"xrt", &open_xrt},
};

}  // namespace

std::vector<std::string> known_targets() {
  std::vector<std::string> names;
  for (const auto& target : kTargets) names.emplace_back(target.name);
  return names;
}

std::unique_ptr<Device> open_device(std::string_view target, const isa::HwConfig& config) {
  for (const auto& entry : kTargets) {
    if (entry.name == target) return entry.open(entry.name, config);
  }
  throw Error(fmt::format("unknown device target '{}'; known targets: {}", target,
                          fmt::join(known_targets(), ", ")));
}

}  // namespace vta::driver
