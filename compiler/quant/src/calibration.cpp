#include "vta/quant/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "vta/compiler/npy.h"
#include "vta/ir/float_executor.h"

namespace vta::quant {

using compiler::Tensor;

std::string_view to_string(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::kMax: return "max";
    case CalibrationMethod::kPercentile: return "percentile";
    case CalibrationMethod::kKl: return "kl";
  }
  return "?";
}

CalibrationMethod parse_calibration_method(std::string_view name) {
  if (name == "max") return CalibrationMethod::kMax;
  if (name == "percentile") return CalibrationMethod::kPercentile;
  if (name == "kl") return CalibrationMethod::kKl;
  throw Error(fmt::format("unknown calibration method '{}' (expected max, percentile or kl)", name));
}

double Calibration::threshold_of(const ir::Graph& g, ir::ValueId v) const {
  auto it = threshold.find(v);
  if (it == threshold.end()) {
    throw Error(fmt::format("calibration has no threshold for value '{}'", g.value(v).name));
  }
  return it->second;
}

void accumulate(ValueStats& s, const Tensor& t) {
  if (s.histogram.empty()) s.histogram.assign(kHistogramBins, 0);
  const float* p = t.data<float>();
  double mx = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double a = std::fabs(double{p[i]});
    if (std::isfinite(a)) mx = std::max(mx, a);
  }
  s.max_abs = std::max(s.max_abs, mx);
  s.count += t.size();
  if (mx > 0 && s.range == 0) s.range = mx;
  // Grow the range by doubling, merging bin pairs (exact: bin i of the new histogram holds old bins 2i, 2i+1).
  while (mx > s.range) {
    for (size_t i = 0; i < kHistogramBins / 2; ++i) s.histogram[i] = s.histogram[2 * i] + s.histogram[2 * i + 1];
    std::fill(s.histogram.begin() + kHistogramBins / 2, s.histogram.end(), 0);
    s.range *= 2;
  }
  const double scale = s.range > 0 ? static_cast<double>(kHistogramBins) / s.range : 0.0;
  for (size_t i = 0; i < t.size(); ++i) {
    const double a = std::fabs(double{p[i]});
    if (!std::isfinite(a)) continue;
    if (a == 0) {  // exact at every scale; binned, the zeros after a ReLU would swamp the first bin
      ++s.zeros;
      continue;
    }
    const auto bin = std::min(kHistogramBins - 1, static_cast<size_t>(a * scale));
    ++s.histogram[bin];
  }
}

namespace {

// KL(P || Q) over the first n bins; both are normalized here.
double kl_divergence(const std::vector<double>& p, const std::vector<double>& q) {
  double sp = 0, sq = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    sp += p[i];
    sq += q[i];
  }
  if (sp == 0 || sq == 0) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) continue;
    const double pi = p[i] / sp;
    const double qi = q[i] / sq;
    kl += pi * std::log(pi / std::max(qi, 1e-12));  // a P bin without Q mass is heavily penalized
  }
  return kl;
}

// TensorRT-style entropy calibration: for each candidate i (bins [0, i)), P = the histogram clipped at i
// (outliers added to the last bin), Q = P's bins merged into 128 levels and expanded back (each level's
// mass spread evenly over its nonzero bins). The threshold is the upper edge of the best i.
double kl_threshold(const ValueStats& s) {
  constexpr size_t kLevels = 128;
  size_t last = 0;  // one past the last nonzero bin
  for (size_t i = 0; i < s.histogram.size(); ++i) {
    if (s.histogram[i]) last = i + 1;
  }
  const double width = s.range / static_cast<double>(kHistogramBins);
  if (last <= kLevels) return s.max_abs;
  double best_kl = std::numeric_limits<double>::infinity();
  size_t best_i = last;
  std::vector<double> p, q;
  for (size_t i = kLevels; i <= last; ++i) {
    p.assign(s.histogram.begin(), s.histogram.begin() + static_cast<std::ptrdiff_t>(i));
    double outliers = 0;
    for (size_t j = i; j < last; ++j) outliers += static_cast<double>(s.histogram[j]);
    p[i - 1] += outliers;
    q.assign(i, 0.0);
    for (size_t level = 0; level < kLevels; ++level) {
      const size_t begin = level * i / kLevels, end = (level + 1) * i / kLevels;
      double mass = 0;
      size_t nonzero = 0;
      for (size_t j = begin; j < end; ++j) {
        mass += static_cast<double>(s.histogram[j]);
        if (s.histogram[j]) ++nonzero;
      }
      if (nonzero == 0) continue;
      for (size_t j = begin; j < end; ++j) {
        if (s.histogram[j]) q[j] = mass / static_cast<double>(nonzero);
      }
    }
    const double kl = kl_divergence(p, q);
    if (kl < best_kl) {
      best_kl = kl;
      best_i = i;
    }
  }
  return std::min(s.max_abs, static_cast<double>(best_i) * width);
}

double percentile_threshold(const ValueStats& s, double percentile) {
  if (s.count <= s.zeros) return 0;
  const double want = std::clamp(percentile, 0.0, 100.0) / 100.0 * static_cast<double>(s.count - s.zeros);
  const double width = s.range / static_cast<double>(kHistogramBins);
  double cum = 0;
  for (size_t i = 0; i < s.histogram.size(); ++i) {
    cum += static_cast<double>(s.histogram[i]);
    if (cum >= want) return std::min(s.max_abs, static_cast<double>(i + 1) * width);
  }
  return s.max_abs;
}

}  // namespace

double threshold_from_stats(const ValueStats& s, CalibrationMethod m, double percentile) {
  if (s.max_abs <= 0 || !std::isfinite(s.max_abs)) return 1.0;  // always zero: any scale will do
  double t = s.max_abs;
  switch (m) {
    case CalibrationMethod::kMax: break;
    case CalibrationMethod::kPercentile: t = percentile_threshold(s, percentile); break;
    case CalibrationMethod::kKl: t = kl_threshold(s); break;
  }
  // Never 0 (a value that is nearly always 0 but not always): fall back to the max.
  return t > 0 ? t : s.max_abs;
}

Calibration calibrate(const ir::Graph& g, const std::vector<Tensor>& samples, CalibrationMethod m, double percentile) {
  if (samples.empty()) throw Error(fmt::format("graph '{}': calibration needs at least one sample", g.name()));
  if (g.inputs().size() != 1) {
    throw Error(fmt::format("graph '{}': calibration supports one input, the graph has {}", g.name(), g.inputs().size()));
  }
  Calibration cal;
  cal.method = m;
  cal.percentile = percentile;
  const ir::ValueId in = g.inputs()[0];
  for (const Tensor& x : samples) {
    ir::run_float(g, {x}, [&](ir::ValueId v, const Tensor& t) {
      if (t.dtype() == compiler::DType::kFloat32) accumulate(cal.stats[v], t);
    });
    // After the run: run_float has checked the sample's dtype and shape.
    accumulate(cal.stats[in], x);
    ++cal.num_samples;
  }
  for (const auto& [v, s] : cal.stats) cal.threshold[v] = threshold_from_stats(s, m, percentile);
  return cal;
}

namespace {

ir::Shape drop_leading_ones(ir::Shape s) {
  while (!s.empty() && s.front() == 1) s.erase(s.begin());
  return s;
}

void append_samples(const std::filesystem::path& file, const ir::Shape& input_shape, std::vector<Tensor>& out) {
  const Tensor t = compiler::read_npy(file);
  if (t.dtype() != compiler::DType::kFloat32) {
    throw Error(fmt::format("calibration samples '{}': dtype {}, expected float32", file.string(),
                            compiler::to_string(t.dtype())));
  }
  const auto sample_elems = static_cast<size_t>(ir::num_elements(input_shape));
  if (t.shape() == input_shape) {
    out.push_back(t);
    return;
  }
  // (N, ...) where ... is the input shape without its batch dim, leading 1s aside.
  const ir::Shape want = drop_leading_ones(ir::Shape(input_shape.begin() + (input_shape.empty() ? 0 : 1), input_shape.end()));
  const ir::Shape got = t.rank() ? drop_leading_ones(ir::Shape(t.shape().begin() + 1, t.shape().end())) : ir::Shape{};
  const int64_t batch = input_shape.empty() ? 1 : input_shape[0];
  if (t.rank() == 0 || got != want || sample_elems == 0 || t.size() % sample_elems != 0 || t.dim(0) % batch != 0) {
    throw Error(fmt::format("calibration samples '{}': shape {} does not hold samples of the input shape {} "
                            "(expected (N, ...) with ... = {})",
                            file.string(), t.shape_string(), ir::shape_str(input_shape), ir::shape_str(want)));
  }
  const size_t n = t.size() / sample_elems;
  for (size_t i = 0; i < n; ++i) {
    Tensor s(compiler::DType::kFloat32, input_shape);
    std::memcpy(s.raw(), t.raw() + i * s.nbytes(), s.nbytes());
    out.push_back(std::move(s));
  }
}

}  // namespace

std::vector<Tensor> load_samples(const std::filesystem::path& path, const ir::Shape& input_shape) {
  std::vector<Tensor> out;
  if (std::filesystem::is_directory(path)) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(path)) {
      if (e.is_regular_file() && e.path().extension() == ".npy") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw Error(fmt::format("calibration samples: no .npy files in '{}'", path.string()));
    for (const auto& f : files) append_samples(f, input_shape, out);
  } else if (std::filesystem::exists(path)) {
    append_samples(path, input_shape, out);
  } else {
    throw Error(fmt::format("calibration samples: '{}' does not exist", path.string()));
  }
  if (out.empty()) throw Error(fmt::format("calibration samples: '{}' holds no samples", path.string()));
  return out;
}

}  // namespace vta::quant
