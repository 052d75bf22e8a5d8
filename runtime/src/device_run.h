// Internal: one run of an instruction stream already in device memory, optionally recorded as a trace
// directory; shared by the CommandQueue and bound Programs.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "vta/driver/device.h"

namespace vta::runtime::detail {

// Runs and returns the result; throws vta::Error with the device's message when the run fails or times out.
driver::RunResult run_on_device(driver::Device& device, uint64_t insn_address, uint32_t insn_count,
                                std::chrono::milliseconds timeout, const std::optional<std::filesystem::path>& trace);

}  // namespace vta::runtime::detail
