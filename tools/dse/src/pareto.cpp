#include "vta/dse/pareto.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace vta::dse {
namespace {

bool candidate(const PointResult& p) { return p.ok() && p.fits && p.cycles > 0; }

// Round numbers for axis ticks: 1, 2 or 5 times a power of ten, about five per axis.
double tick_step(double span) {
  const double raw = span / 5.0;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * mag) return m * mag;
  return 10.0 * mag;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string point_label(const PointResult& p) {
  std::string s = "point " + std::to_string(p.index);
  for (const auto& [k, v] : p.labels.items()) s += " " + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  return s;
}

// One panel: cycles (y) against a resource (x), at (ox, oy) with size w x h.
std::string panel(const DseReport& r, Resource res, double ox, double oy, double w, double h) {
  const char* name = res == Resource::kLut ? "LUTs" : "DSP slices";
  std::string svg;
  std::vector<size_t> shown;
  for (size_t i = 0; i < r.points.size(); ++i)
    if (r.points[i].ok() && r.points[i].cycles > 0) shown.push_back(i);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\" text-anchor=\"middle\">cycles vs {}</text>\n",
                     ox + w / 2, oy - 10, name);
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444\"/>\n", ox, oy, w, h);
  if (shown.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no timed points</text>\n", ox + w / 2, oy + h / 2);
    return svg;
  }
  double xmax = 0, ymax = 0;
  for (size_t i : shown) {
    xmax = std::max(xmax, resource_of(r.points[i], res));
    ymax = std::max(ymax, double(r.points[i].cycles));
  }
  xmax = xmax > 0 ? xmax * 1.08 : 1;
  ymax = ymax * 1.08;
  const auto px = [&](double x) { return ox + w * x / xmax; };
  const auto py = [&](double y) { return oy + h - h * y / ymax; };
  for (double step = tick_step(xmax), t = 0; t <= xmax; t += step)
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/><text x=\"{0:.1f}\" "
                       "y=\"{3}\" font-size=\"10\" text-anchor=\"middle\">{4:g}</text>\n",
                       px(t), oy, oy + h, oy + h + 14, t);
  for (double step = tick_step(ymax), t = 0; t <= ymax; t += step)
    svg += fmt::format("<line x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\" stroke=\"#ddd\"/><text x=\"{3}\" "
                       "y=\"{0:.1f}\" font-size=\"10\" text-anchor=\"end\">{4:g}</text>\n",
                       py(t), ox, ox + w, ox - 4, t);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">{} (estimated)</text>\n", ox + w / 2,
                     oy + h + 32, name);
  svg += fmt::format("<text x=\"{0}\" y=\"{1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 {0} {1})\">"
                     "cycles ({2})</text>\n", ox - 52, oy + h / 2, escape(r.target));

  const std::vector<bool> front = pareto_front(r.points, res);
  std::vector<size_t> on_front;
  for (size_t i : shown)
    if (front[i]) on_front.push_back(i);
  std::sort(on_front.begin(), on_front.end(),
            [&](size_t a, size_t b) { return resource_of(r.points[a], res) < resource_of(r.points[b], res); });
  if (on_front.size() > 1) {
    std::string path;
    for (size_t k = 0; k < on_front.size(); ++k) {
      const PointResult& p = r.points[on_front[k]];
      path += fmt::format("{}{:.1f},{:.1f}", k ? " " : "", px(resource_of(p, res)), py(double(p.cycles)));
    }
    svg += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.5\"/>\n", path);
  }
  for (size_t i : shown) {
    const PointResult& p = r.points[i];
    const char* fill = front[i] ? "#c0392b" : (p.fits ? "#2c7fb8" : "#bbbbbb");
    svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\"><title>{}: {} cycles, {:.0f} {}{}</title></circle>\n",
                       px(resource_of(p, res)), py(double(p.cycles)), front[i] ? 5 : 3.5, fill, escape(point_label(p)),
                       p.cycles, resource_of(p, res), name, p.fits ? "" : " (over the budget)");
  }
  return svg;
}

}  // namespace

double resource_of(const PointResult& p, Resource r) { return r == Resource::kLut ? p.area.lut : p.area.dsp; }

std::vector<bool> pareto_front(const std::vector<PointResult>& points, Resource r) {
  std::vector<bool> front(points.size(), false);
  for (size_t i = 0; i < points.size(); ++i) {
    if (!candidate(points[i])) continue;
    bool dominated = false;
    for (size_t j = 0; j < points.size() && !dominated; ++j) {
      if (j == i || !candidate(points[j])) continue;
      const double ri = resource_of(points[i], r), rj = resource_of(points[j], r);
      const uint64_t ci = points[i].cycles, cj = points[j].cycles;
      dominated = rj <= ri && cj <= ci && (rj < ri || cj < ci);
    }
    front[i] = !dominated;
  }
  return front;
}

std::string pareto_svg(const DseReport& r) {
  const double w = 420, h = 300, left = 80, top = 60, gap = 110;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      left + 2 * w + gap + 30, top + h + 80);
  size_t ok = 0, fit = 0;
  for (const auto& p : r.points) {
    ok += p.ok();
    fit += p.ok() && p.fits;
  }
  svg += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"15\">vta dse: {} on {}, {} points ({} valid, {} within {}); "
                     "red = Pareto front, grey = over the budget</text>\n",
                     left, escape(r.workload), escape(r.target), r.points.size(), ok, fit,
                     r.budget.empty() ? std::string("no budget") : escape(r.budget));
  svg += panel(r, Resource::kLut, left, top, w, h);
  svg += panel(r, Resource::kDsp, left + w + gap, top, w, h);
  return svg + "</svg>\n";
}

}  // namespace vta::dse
