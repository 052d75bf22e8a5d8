#include <array>
#include <cmath>

#include <fmt/format.h>

#include "commands.h"
#include "vta/driver/device.h"

namespace vta::cli {

isa::HwConfig load_config(const std::string& path) {
  if (path.empty()) return isa::HwConfig::default_config();
  return isa::HwConfig::from_file(path);
}

CLI::Option* add_config_option(CLI::App& sub, std::string& path) {
  return sub.add_option("--config,-c", path,
                        "Hardware config (VTA JSON, e.g. config/block32.json); VTA's default config "
                        "(1x16_i8w8a32_15_15_18_17) when absent");
}

CLI::Option* add_target_option(CLI::App& sub, std::string& target) {
  auto* opt = sub.add_option("--target,-t", target, "Backend to run on");
  opt->capture_default_str();
  opt->check(CLI::IsMember(driver::known_targets()));
  return opt;
}

void set_footer(CLI::App& sub, const std::string& text) {
  constexpr size_t kWidth = 100;
  std::string out, line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > kWidth) {
      out += line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
    pos = end + 1;
  }
  out += line;
  sub.footer(out);
}

void print_counters(std::FILE* out, const isa::ExecutionCounters& counters, const std::string& indent) {
  for (const auto& [name, value] : counters.items()) {
    fmt::print(out, "{}{:<20} {:>14}\n", indent, name, value);
  }
}

std::string si(double value) {
  static constexpr std::array<const char*, 5> kPrefix = {"", "k", "M", "G", "T"};
  size_t i = 0;
  double v = value;
  while (std::fabs(v) >= 1000.0 && i + 1 < kPrefix.size()) {
    v /= 1000.0;
    ++i;
  }
  return i == 0 ? fmt::format("{:.3g}", v) : fmt::format("{:.3g} {}", v, kPrefix[i]);
}

}  // namespace vta::cli
