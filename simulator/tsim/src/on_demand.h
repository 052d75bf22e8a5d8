// tsim models built on first use for configs the build has none for (private to simulator/tsim).
#pragma once

#include <filesystem>

#include "model_registry.h"

namespace vta::tsim::detail {

// $VTA_TSIM_CACHE, else <build>/hardware/cache/tsim-on-demand; one directory per config hash.
std::filesystem::path on_demand_cache_dir();
// Off with VTA_TSIM_ON_DEMAND=0 (a config without a prebuilt model is then an error, as before).
bool on_demand_enabled();
// Builds (once, cached) and loads the model of `config`; throws vta::Error saying what failed.
const ModelEntry* on_demand_model(const isa::HwConfig& config);

}  // namespace vta::tsim::detail
