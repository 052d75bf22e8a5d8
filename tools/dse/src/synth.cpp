#include "vta/dse/synth.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "vta/hw/pkg_generator.h"
#include "vta/hw/shell.h"
#include "vta/isa/error.h"

namespace vta::dse {
namespace {

namespace fs = std::filesystem;

using hw::shell_quote;

area::Resources read_report(const fs::path& file) {
  std::ifstream in(file);
  const nlohmann::json j = nlohmann::json::parse(in);
  const auto& r = j.at("resources");
  return {r.at("lut").get<double>(), r.at("ff").get<double>(), r.at("dsp").get<double>(), r.at("bram36").get<double>()};
}

}  // namespace

fs::path default_synth_cache() {
  if (const char* v = std::getenv("VTA_SYNTH_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return fs::path(v) / "vta" / "synth";
  if (const char* v = std::getenv("HOME"); v && *v) return fs::path(v) / ".cache" / "vta" / "synth";
  return fs::temp_directory_path() / "vta-synth";
}

area::Resources synthesize(const isa::HwConfig& config, const SynthOptions& o) {
  const fs::path dir = o.cache_dir / (config.hash() + "-" + o.part);
  const fs::path report = dir / "report.json";
  try {
    if (fs::exists(report)) return read_report(report);
  } catch (const std::exception&) {
    // a damaged cache entry: synthesize again
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("synthesis cache {}: {}", dir.string(), ec.message()));
  const fs::path pkg = dir / "vta_pkg.sv";
  {
    std::ofstream out(pkg, std::ios::trunc);
    out << hw::generate_vta_pkg(config);
    if (!out) throw Error(fmt::format("cannot write {}", pkg.string()));
  }
  const fs::path script = fs::path(VTA_SOURCE_DIR) / "hardware" / "scripts" / "fpga_report.py";
  if (!fs::exists(script)) throw Error(fmt::format("--synth needs {} (the source tree this vta was built from)", script.string()));
  const fs::path log = dir / "synth.log";
  const fs::path tmp = dir / "report.json.tmp";
  const std::string cmd = fmt::format("python3 {} {} --part {} --out {} --json {}", shell_quote(script.string()),
                                      shell_quote(pkg.string()), shell_quote(o.part),
                                      shell_quote((dir / "work").string()), shell_quote(tmp.string()));
  const int status = hw::run_logged(cmd, log);
  if (status != 0 || !fs::exists(tmp))
    throw Error(fmt::format("synthesis of {} failed (is yosys installed?); see {}", config.name(), log.string()));
  fs::rename(tmp, report, ec);
  if (ec) throw Error(fmt::format("cannot move {} into the cache: {}", tmp.string(), ec.message()));
  fs::remove_all(dir / "work", ec);  // the netlists are large; the report and log stay
  return read_report(report);
}

}  // namespace vta::dse
