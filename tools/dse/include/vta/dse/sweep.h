// A design-space sweep: a base hardware config and axes of values for its keys (docs/dse.md). The points
// are the Cartesian product of the axes, numbered in a fixed order (the last axis changes fastest), so a
// point's number means the same config on every machine and shards can be merged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vta::dse {

struct SweepAxis {
  // A config key: a top-level VTA key ("LOG_BLOCK") or a path into an object ("timing.dram_bytes_per_cycle").
  std::string key;
  std::vector<nlohmann::json> values;

  // "KEY=V1,V2,..." (values are JSON numbers, true/false, or else strings). Throws vta::Error.
  static SweepAxis parse(const std::string& text);
};

class SweepSpec {
 public:
  SweepSpec(nlohmann::json base, std::vector<SweepAxis> axes);
  // A sweep file: {"base": {config keys} (optional, over `base`), "sweep": {"KEY": [values], ...}}; axes in
  // the file's key order. Throws vta::Error naming the problem.
  static SweepSpec from_file(const std::filesystem::path& path, nlohmann::json base);

  uint64_t point_count() const;
  // The values of point `p` (one per axis) and the config JSON they make.
  std::vector<nlohmann::json> values(uint64_t p) const;
  nlohmann::json config_json(uint64_t p) const;
  // {"KEY": value, ...} of point p, for reports.
  nlohmann::json labels(uint64_t p) const;

  const nlohmann::json& base() const { return base_; }
  const std::vector<SweepAxis>& axes() const { return axes_; }
  // The sweep as JSON (base and axes), and a short hash of it: shards of one sweep share it.
  nlohmann::json to_json() const;
  std::string fingerprint() const;

 private:
  nlohmann::json base_;
  std::vector<SweepAxis> axes_;
};

// A deterministic slice of the points: point p belongs to shard I of N when p % N == I.
struct Shard {
  uint32_t index = 0, count = 1;
  static Shard parse(const std::string& text);  // "I/N", 0 <= I < N
  bool owns(uint64_t p) const { return p % count == index; }
  std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
};

}  // namespace vta::dse
