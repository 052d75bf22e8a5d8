// What a sweep measured, point by point, and how shards of one sweep are merged (docs/dse.md). Written
// as JSON (complete, readable back) and CSV (one row per point, for spreadsheets and plots).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vta/area/area_model.h"
#include "vta/dse/sweep.h"

namespace vta::dse {

struct LayerResult {
  std::string name;
  uint64_t cycles = 0, dram_bytes = 0;
};

struct PointResult {
  uint64_t index = 0;
  nlohmann::json labels = nlohmann::json::object();  // the swept keys' values
  std::string config_name;   // HwConfig::name(); empty when the config itself is invalid
  std::string status = "ok";  // "ok", "invalid" (the config or a workload does not fit it) or "error"
  std::string error;
  uint64_t cycles = 0;        // the whole workload; 0 on fsim (no timing)
  double device_ms = 0;       // cycles at the config's clock
  uint64_t dram_bytes = 0;
  area::Resources area;       // estimated (or synthesized with --synth)
  std::string area_source = "model";
  bool fits = false;          // within the budget part
  double wall_seconds = 0;    // time spent on the point
  std::vector<LayerResult> layers;
  bool ok() const { return status == "ok"; }
};

struct DseReport {
  nlohmann::json sweep;  // SweepSpec::to_json()
  std::string fingerprint;
  std::string target, workload, budget;
  uint64_t point_count = 0;
  Shard shard;
  std::vector<PointResult> points;  // by index
  double wall_seconds = 0;

  nlohmann::json to_json() const;
  static DseReport from_json(const nlohmann::json& j);  // throws vta::Error
  static DseReport read(const std::filesystem::path& json_file);
  // dse.json, dse.csv and pareto.svg in `dir` (created).
  void write(const std::filesystem::path& dir) const;
  std::string csv() const;
};

// The shards of one sweep as one report: same sweep, target, workload and budget, every point exactly
// once. Throws vta::Error naming what does not match or which points are missing.
DseReport merge(const std::vector<DseReport>& shards);

}  // namespace vta::dse
