// Exact figures for one config where the area model's estimate is not enough (`vta dse --synth`): the
// config's vta_pkg (vta::hw::generate_vta_pkg) synthesized by hardware/scripts/fpga_report.py (Yosys
// synth_xilinx), cached per HwConfig::hash(), so every distinct RTL config is synthesized once.
#pragma once

#include <filesystem>
#include <string>

#include "vta/area/area_model.h"
#include "vta/isa/hw_config.h"

namespace vta::dse {

struct SynthOptions {
  std::filesystem::path cache_dir;  // <cache_dir>/<hash>/{vta_pkg.sv, report.json, synth.log}
  std::string part = "xc7z020";     // fpga_report.py --part
};

// The default cache: $VTA_SYNTH_CACHE, else $XDG_CACHE_HOME/vta/synth, else ~/.cache/vta/synth.
std::filesystem::path default_synth_cache();

// Yosys' LUT, FF, DSP and RAMB36 figures for `config`, from the cache or a new synthesis (minutes).
// Throws vta::Error when Yosys, Python or the script is missing or the synthesis fails (naming the log).
area::Resources synthesize(const isa::HwConfig& config, const SynthOptions& options);

}  // namespace vta::dse
