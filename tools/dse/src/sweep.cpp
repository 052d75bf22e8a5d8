#include "vta/dse/sweep.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "vta/isa/error.h"
#include "vta/isa/fnv1a.h"

namespace vta::dse {
namespace {

using nlohmann::json;

// More points than this is a typo, not a sweep.
constexpr uint64_t kMaxPoints = 1'000'000;

json parse_value(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  if (!text.empty()) {
    errno = 0;
    char* end = nullptr;
    const long long i = std::strtoll(text.c_str(), &end, 10);
    if (errno == 0 && *end == '\0') return i;
    errno = 0;
    const double d = std::strtod(text.c_str(), &end);
    if (errno == 0 && *end == '\0') return d;
  }
  return text;
}

void check_key(const std::string& key) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
    throw Error(fmt::format("--sweep: bad config key '{}' (expected KEY or OBJECT.KEY, e.g. LOG_BLOCK or "
                            "timing.dram_bytes_per_cycle)", key));
}

// Sets `key` ("a.b.c") in `j`, creating objects on the way.
void set_path(json& j, const std::string& key, const json& value) {
  json* node = &j;
  size_t pos = 0;
  for (;;) {
    const size_t dot = key.find('.', pos);
    const std::string part = key.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!node->is_object()) throw Error(fmt::format("config key '{}': '{}' is not an object", key, part));
    if (dot == std::string::npos) {
      (*node)[part] = value;
      return;
    }
    node = &(*node)[part];
    if (node->is_null()) *node = json::object();
    pos = dot + 1;
  }
}

}  // namespace

SweepAxis SweepAxis::parse(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos)
    throw Error(fmt::format("--sweep '{}': expected KEY=V1,V2,... (e.g. LOG_BLOCK=3,4,5)", text));
  SweepAxis axis;
  axis.key = text.substr(0, eq);
  check_key(axis.key);
  std::stringstream values(text.substr(eq + 1));
  for (std::string v; std::getline(values, v, ',');) {
    if (v.empty()) throw Error(fmt::format("--sweep '{}': empty value", text));
    axis.values.push_back(parse_value(v));
  }
  if (axis.values.empty()) throw Error(fmt::format("--sweep '{}': no values", text));
  return axis;
}

SweepSpec::SweepSpec(json base, std::vector<SweepAxis> axes) : base_(std::move(base)), axes_(std::move(axes)) {
  if (!base_.is_object()) throw Error("the base config of a sweep must be a JSON object");
  for (size_t i = 0; i < axes_.size(); ++i) {
    check_key(axes_[i].key);
    if (axes_[i].values.empty()) throw Error(fmt::format("sweep key {} has no values", axes_[i].key));
    for (size_t k = 0; k < i; ++k)
      if (axes_[k].key == axes_[i].key) throw Error(fmt::format("sweep key {} is given twice", axes_[i].key));
  }
  uint64_t n = 1;
  for (const auto& a : axes_) {
    n *= a.values.size();
    if (n > kMaxPoints) throw Error(fmt::format("the sweep has more than {} points", kMaxPoints));
  }
}

SweepSpec SweepSpec::from_file(const std::filesystem::path& path, json base) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open the sweep file", path.string()));
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: not JSON: {}", path.string(), e.what()));
  }
  if (!j.is_object() || !j.contains("sweep") || !j["sweep"].is_object())
    throw Error(fmt::format("{}: expected {{\"base\": {{...}}, \"sweep\": {{\"KEY\": [values], ...}}}}", path.string()));
  if (j.contains("base")) {
    if (!j["base"].is_object()) throw Error(fmt::format("{}: \"base\" must be an object of config keys", path.string()));
    base.merge_patch(j["base"]);
  }
  std::vector<SweepAxis> axes;
  for (const auto& [key, values] : j["sweep"].items()) {
    if (!values.is_array() || values.empty())
      throw Error(fmt::format("{}: sweep key {} needs a non-empty array of values", path.string(), key));
    axes.push_back({key, std::vector<json>(values.begin(), values.end())});
  }
  return SweepSpec(std::move(base), std::move(axes));
}

uint64_t SweepSpec::point_count() const {
  uint64_t n = 1;
  for (const auto& a : axes_) n *= a.values.size();
  return n;
}

std::vector<json> SweepSpec::values(uint64_t p) const {
  if (p >= point_count()) throw Error(fmt::format("point {} is outside the sweep of {} points", p, point_count()));
  std::vector<json> out(axes_.size());
  for (size_t i = axes_.size(); i-- > 0;) {
    out[i] = axes_[i].values[p % axes_[i].values.size()];
    p /= axes_[i].values.size();
  }
  return out;
}

json SweepSpec::config_json(uint64_t p) const {
  json j = base_;
  const auto v = values(p);
  for (size_t i = 0; i < axes_.size(); ++i) set_path(j, axes_[i].key, v[i]);
  return j;
}

json SweepSpec::labels(uint64_t p) const {
  json j = json::object();
  const auto v = values(p);
  for (size_t i = 0; i < axes_.size(); ++i) j[axes_[i].key] = v[i];
  return j;
}

json SweepSpec::to_json() const {
  json axes = json::array();
  for (const auto& a : axes_) axes.push_back({{"key", a.key}, {"values", a.values}});
  return {{"base", base_}, {"axes", axes}};
}

std::string SweepSpec::fingerprint() const {
  return fmt::format("{:016x}", isa::fnv1a(to_json().dump()));
}

Shard Shard::parse(const std::string& text) {
  const size_t slash = text.find('/');
  const auto bad = [&] { return Error(fmt::format("--shard '{}': expected I/N with 0 <= I < N (e.g. 0/4)", text)); };
  if (slash == std::string::npos || text.find('-') != std::string::npos) throw bad();
  const std::string is = text.substr(0, slash), ns = text.substr(slash + 1);
  char* end = nullptr;
  errno = 0;
  const unsigned long i = std::strtoul(is.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || is.empty()) throw bad();
  const unsigned long n = std::strtoul(ns.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || ns.empty() || n == 0 || i >= n || n > 1'000'000) throw bad();
  return {static_cast<uint32_t>(i), static_cast<uint32_t>(n)};
}

}  // namespace vta::dse
