// The Pareto front of a sweep (fewer cycles and fewer resources are both better) and its SVG plot.
#pragma once

#include <string>
#include <vector>

#include "vta/dse/report.h"

namespace vta::dse {

// Resource a front is taken against.
enum class Resource { kLut, kDsp };
double resource_of(const PointResult& p, Resource r);

// front[i]: point i is ok, fits the budget and no other such point is at least as good in cycles and in
// the resource and strictly better in one. Points without cycles (fsim) are never on it.
std::vector<bool> pareto_front(const std::vector<PointResult>& points, Resource r);

// Two panels, cycles vs LUTs and cycles vs DSPs: the front marked and joined, points over the budget
// part grey, invalid points left out (they are listed in the CSV).
std::string pareto_svg(const DseReport& report);

}  // namespace vta::dse
