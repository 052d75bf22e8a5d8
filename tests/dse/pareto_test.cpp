// The Pareto front against a separately written reference (sort by resource, keep strict cycle records),
// on random point sets with ties, invalid and over-budget points; and the SVG's marks.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "vta/dse/pareto.h"

namespace vta::dse {
namespace {

// Reference: among eligible points sorted by (resource, cycles), a point is on the front when its cycles
// are below every earlier point's, or it ties an earlier point in both.
std::vector<bool> reference_front(const std::vector<PointResult>& pts, Resource r) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < pts.size(); ++i)
    if (pts[i].ok() && pts[i].fits && pts[i].cycles > 0) idx.push_back(i);
  std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    const double ra = resource_of(pts[a], r), rb = resource_of(pts[b], r);
    return ra != rb ? ra < rb : pts[a].cycles < pts[b].cycles;
  });
  std::vector<bool> front(pts.size(), false);
  uint64_t best = UINT64_MAX;
  double best_res = -1;
  for (size_t i : idx) {
    const double res = resource_of(pts[i], r);
    if (pts[i].cycles < best) {
      front[i] = true;
      best = pts[i].cycles;
      best_res = res;
    } else if (pts[i].cycles == best && res == best_res) {
      front[i] = true;  // an exact duplicate of a front point
    }
  }
  return front;
}

TEST(Pareto, MatchesTheReferenceOnRandomSets) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<PointResult> pts(1 + rng() % 30);
    for (size_t i = 0; i < pts.size(); ++i) {
      PointResult& p = pts[i];
      p.index = i;
      p.cycles = rng() % 4 == 0 ? 0 : 100 + rng() % 12 * 10;  // ties on purpose; 0 = untimed
      p.area.lut = double(1000 + rng() % 8 * 500);
      p.area.dsp = double(rng() % 6 * 16);
      p.fits = rng() % 5 != 0;
      if (rng() % 7 == 0) p.status = "invalid";
    }
    for (Resource r : {Resource::kLut, Resource::kDsp})
      ASSERT_EQ(pareto_front(pts, r), reference_front(pts, r)) << "trial " << trial;
  }
}

TEST(Pareto, SvgMarksFrontAndOverBudgetPoints) {
  DseReport r;
  r.target = "tlm";
  r.workload = "resnet18";
  r.budget = "xc7z020";
  const auto point = [](uint64_t i, uint64_t cycles, double lut, bool fits) {
    PointResult p;
    p.index = i;
    p.cycles = cycles;
    p.area.lut = lut;
    p.area.dsp = lut / 100;
    p.fits = fits;
    return p;
  };
  r.points = {point(0, 1000, 10000, true), point(1, 500, 20000, true), point(2, 800, 30000, true),
              point(3, 100, 90000, false)};
  const std::string svg = pareto_svg(r);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  // Two panels, each with points 0 and 1 on the front (red), 2 dominated (blue), 3 over the budget (grey).
  const auto count = [&](const std::string& s) {
    size_t n = 0;
    for (size_t pos = svg.find(s); pos != std::string::npos; pos = svg.find(s, pos + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("fill=\"#c0392b\""), 4u);
  EXPECT_EQ(count("fill=\"#2c7fb8\""), 2u);
  EXPECT_EQ(count("fill=\"#bbbbbb\""), 2u);
  EXPECT_EQ(count("<polyline"), 2u);
}

}  // namespace
}  // namespace vta::dse
