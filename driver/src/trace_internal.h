// Helpers shared by the trace sources (not part of the public API).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/counters.h"

namespace vta::driver::detail {

std::string_view status_name(RunStatus status);  // "ok", "timeout", "error"

// Counter names in isa::ExecutionCounters::items() order.
std::vector<std::string> counter_names();
bool is_counter_name(std::string_view name);
// Sets one counter by name; throws vta::Error for an unknown name.
void set_counter(isa::ExecutionCounters& counters, std::string_view name, uint64_t value);
uint64_t get_counter(const isa::ExecutionCounters& counters, std::string_view name);

// Whether `name` may name a region (it becomes a file name in the dump directory).
bool is_valid_region_name(std::string_view name);

}  // namespace vta::driver::detail
