#include "vta/dse/report.h"

#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "vta/dse/pareto.h"
#include "vta/isa/error.h"

namespace vta::dse {
namespace {

using nlohmann::json;

json resources_json(const area::Resources& r) { return {{"lut", r.lut}, {"ff", r.ff}, {"dsp", r.dsp}, {"bram36", r.bram36}}; }
area::Resources resources_from(const json& j) {
  return {j.at("lut").get<double>(), j.at("ff").get<double>(), j.at("dsp").get<double>(), j.at("bram36").get<double>()};
}

json point_json(const PointResult& p) {
  json layers = json::array();
  for (const auto& l : p.layers) layers.push_back({{"name", l.name}, {"cycles", l.cycles}, {"dram_bytes", l.dram_bytes}});
  return {{"index", p.index},
          {"labels", p.labels},
          {"config", p.config_name},
          {"status", p.status},
          {"error", p.error},
          {"cycles", p.cycles},
          {"device_ms", p.device_ms},
          {"dram_bytes", p.dram_bytes},
          {"area", resources_json(p.area)},
          {"area_source", p.area_source},
          {"fits", p.fits},
          {"wall_seconds", p.wall_seconds},
          {"layers", layers}};
}

PointResult point_from(const json& j) {
  PointResult p;
  p.index = j.at("index").get<uint64_t>();
  p.labels = j.at("labels");
  p.config_name = j.at("config").get<std::string>();
  p.status = j.at("status").get<std::string>();
  p.error = j.at("error").get<std::string>();
  p.cycles = j.at("cycles").get<uint64_t>();
  p.device_ms = j.at("device_ms").get<double>();
  p.dram_bytes = j.at("dram_bytes").get<uint64_t>();
  p.area = resources_from(j.at("area"));
  p.area_source = j.at("area_source").get<std::string>();
  p.fits = j.at("fits").get<bool>();
  p.wall_seconds = j.at("wall_seconds").get<double>();
  for (const auto& l : j.at("layers"))
    p.layers.push_back({l.at("name").get<std::string>(), l.at("cycles").get<uint64_t>(), l.at("dram_bytes").get<uint64_t>()});
  return p;
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string label_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

}  // namespace

json DseReport::to_json() const {
  json pts = json::array();
  for (const auto& p : points) pts.push_back(point_json(p));
  return {{"format", "vta-dse"}, {"version", 1},        {"sweep", sweep},           {"fingerprint", fingerprint},
          {"target", target},    {"workload", workload}, {"budget", budget},         {"point_count", point_count},
          {"shard", shard.to_string()}, {"wall_seconds", wall_seconds}, {"points", pts}};
}

DseReport DseReport::from_json(const json& j) {
  try {
    if (j.at("format") != "vta-dse" || j.at("version") != 1) throw Error("not a vta-dse version 1 report");
    DseReport r;
    r.sweep = j.at("sweep");
    r.fingerprint = j.at("fingerprint").get<std::string>();
    r.target = j.at("target").get<std::string>();
    r.workload = j.at("workload").get<std::string>();
    r.budget = j.at("budget").get<std::string>();
    r.point_count = j.at("point_count").get<uint64_t>();
    r.shard = Shard::parse(j.at("shard").get<std::string>());
    r.wall_seconds = j.at("wall_seconds").get<double>();
    for (const auto& p : j.at("points")) r.points.push_back(point_from(p));
    return r;
  } catch (const json::exception& e) {
    throw Error(std::string("malformed vta-dse report: ") + e.what());
  }
}

DseReport DseReport::read(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw Error(fmt::format("{}: cannot open", file.string()));
  try {
    return from_json(json::parse(in));
  } catch (const json::exception& e) {
    throw Error(fmt::format("{}: not JSON: {}", file.string(), e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", file.string(), e.what()));
  }
}

std::string DseReport::csv() const {
  std::vector<std::string> keys;
  for (const auto& a : sweep.at("axes")) keys.push_back(a.at("key").get<std::string>());
  std::string out = "point";
  for (const auto& k : keys) out += "," + csv_field(k);
  out += ",config,status,cycles,device_ms,dram_bytes,lut,ff,dsp,bram36,area_source,fits,pareto_lut,pareto_dsp,"
         "wall_seconds,error\n";
  const auto front_lut = pareto_front(points, Resource::kLut), front_dsp = pareto_front(points, Resource::kDsp);
  for (size_t i = 0; i < points.size(); ++i) {
    const PointResult& p = points[i];
    out += std::to_string(p.index);
    for (const auto& k : keys) out += "," + csv_field(p.labels.contains(k) ? label_text(p.labels[k]) : "");
    out += fmt::format(",{},{},{},{:.4f},{},{:.0f},{:.0f},{:.0f},{:g},{},{},{},{},{:.3f},{}\n", csv_field(p.config_name),
                       p.status, p.cycles, p.device_ms, p.dram_bytes, p.area.lut, p.area.ff, p.area.dsp, p.area.bram36,
                       p.area_source, p.fits ? 1 : 0, front_lut[i] ? 1 : 0, front_dsp[i] ? 1 : 0, p.wall_seconds,
                       csv_field(p.error));
  }
  return out;
}

void DseReport::write(const std::filesystem::path& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  const auto put = [&](const char* name, const std::string& text) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw Error(fmt::format("cannot write {}", (dir / name).string()));
  };
  put("dse.json", to_json().dump(1) + "\n");
  put("dse.csv", csv());
  put("pareto.svg", pareto_svg(*this));
}

DseReport merge(const std::vector<DseReport>& shards) {
  if (shards.empty()) throw Error("dse merge: no reports given");
  const DseReport& first = shards.front();
  DseReport out = first;
  out.points.clear();
  out.shard = Shard{};
  out.wall_seconds = 0;
  std::map<uint64_t, PointResult> by_index;
  for (size_t s = 0; s < shards.size(); ++s) {
    const DseReport& r = shards[s];
    const auto differs = [&](const char* what, const std::string& a, const std::string& b) {
      if (a != b)
        throw Error(fmt::format("dse merge: report {} has {} '{}', report 1 has '{}': not shards of one sweep", s + 1,
                                what, a, b));
    };
    differs("sweep fingerprint", r.fingerprint, first.fingerprint);
    differs("target", r.target, first.target);
    differs("workload", r.workload, first.workload);
    differs("budget", r.budget, first.budget);
    differs("shard count", std::to_string(r.shard.count), std::to_string(first.shard.count));
    out.wall_seconds += r.wall_seconds;
    for (const PointResult& p : r.points) {
      if (p.index >= first.point_count) throw Error(fmt::format("dse merge: point {} is outside the sweep", p.index));
      if (!by_index.emplace(p.index, p).second)
        throw Error(fmt::format("dse merge: point {} appears in more than one report", p.index));
    }
  }
  std::string missing;
  size_t n_missing = 0;
  for (uint64_t i = 0; i < first.point_count; ++i)
    if (!by_index.count(i) && n_missing++ < 10) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  if (n_missing > 0)
    throw Error(fmt::format("dse merge: {} of {} points missing ({}{}): a shard is missing or failed", n_missing,
                            first.point_count, missing, n_missing > 10 ? ", ..." : ""));
  for (auto& [i, p] : by_index) out.points.push_back(std::move(p));
  return out;
}

}  // namespace vta::dse
