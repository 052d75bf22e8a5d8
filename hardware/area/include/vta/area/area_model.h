// FPGA resources of the core estimated from a HwConfig alone, so a design-space sweep does not need a
// synthesis per point (docs/dse.md). The GEMM's DSPs are counted (one per multiplier); everything else is
// linear in a few structural features of the config (MAC lanes, ALU lanes, buffer port bits, the block RAM
// the buffer shapes need), with coefficients fitted
// by least squares to Yosys synth_xilinx results of real configs (hardware/area/synth_results.json, written
// from hardware/scripts/fpga_report.py --json).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "vta/isa/hw_config.h"

namespace vta::area {

struct Resources {
  double lut = 0, ff = 0, dsp = 0, bram36 = 0;
};

// An FPGA part's budget (hardware/area/parts.json).
struct Part {
  std::string name, family, board;
  Resources budget;
  bool fits(const Resources& r) const {
    return r.lut <= budget.lut && r.ff <= budget.ff && r.dsp <= budget.dsp && r.bram36 <= budget.bram36;
  }
};
// Every known part, and one by name (throws vta::Error naming the known ones).
const std::vector<Part>& parts();
const Part& part(const std::string& name);

// One synthesis result: the config and what Yosys reported for it.
struct SynthSample {
  std::string name;  // where it came from, e.g. the config file stem
  isa::HwConfig config = isa::HwConfig::default_config();
  Resources measured;
};
// The committed results (hardware/area/synth_results.json, compiled in).
std::vector<SynthSample> shipped_samples();
// Synthesis results kept out of the fit ("validation" in synth_results.json): configs off the fitted grid,
// to check the model on configs it was not fitted on.
std::vector<SynthSample> shipped_validation_samples();
// {"samples": [{"name", "config": {VTA JSON}, "resources": {"lut", "ff", "dsp", "bram36"}}], "validation": [...]}
std::vector<SynthSample> samples_from_json(const nlohmann::json& j, const char* key = "samples");

// RAMB36 equivalents the on-chip buffers need (UOP, INP, WGT, and ACC and OUT as the core lays them out,
// vta/hw/acc_rows.h): each in the RAMB36 aspect ratio (32K x 1 ... 512 x 72) that takes the fewest blocks.
double structural_bram36(const isa::HwConfig& config);

class AreaModel {
 public:
  // Least squares over `samples`, ridge-regularized (intercepts excepted), so that fewer samples than
  // features still give a usable fit; throws vta::Error without samples.
  static AreaModel fit(const std::vector<SynthSample>& samples);
  // Fitted to shipped_samples().
  static const AreaModel& shipped();

  Resources estimate(const isa::HwConfig& config) const;
  size_t sample_count() const { return samples_; }

  // One resource: value = sum_i weight_i * feature_i(config).
  struct Linear {
    std::vector<double> weights;
    double apply(const std::vector<double>& features) const;
  };

 private:
  Linear lut_, ff_, dsp_, bram_;
  size_t samples_ = 0;
};

}  // namespace vta::area
