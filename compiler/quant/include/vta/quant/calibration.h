// Calibration: per-value activation thresholds T (the float range [-T, T] that int8 covers) collected by
// running the float executor (vta::ir::run_float) over sample inputs.
//
//   kMax         T = max |x| over every sample;
//   kPercentile  T = the `percentile`-th percentile of |x| (from a histogram);
//   kKl          TensorRT's entropy calibration: the threshold minimizing KL(P || Q) between the clipped
//                reference histogram P and its 128-level quantized version Q.
//
// Statistics are collected one sample at a time (the executor's callback form), never all intermediates
// of all samples at once. |x| is binned into kHistogramBins bins over [0, R]; R starts at the first
// sample's max and doubles (merging bin pairs, exactly) whenever a larger value appears. Exact zeros are
// counted apart, not binned: they are exact at every scale, and the zeros after a ReLU (often half the
// values) would otherwise dominate the first bin and drag the KL threshold far down. Percentiles are of
// the nonzero |x|.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vta/compiler/tensor.h"
#include "vta/ir/graph.h"

namespace vta::quant {

enum class CalibrationMethod : uint8_t { kMax, kPercentile, kKl };

// "max", "percentile", "kl".
std::string_view to_string(CalibrationMethod m);
// The inverse of to_string; anything else is a vta::Error listing the three names.
CalibrationMethod parse_calibration_method(std::string_view name);

inline constexpr size_t kHistogramBins = 2048;

struct ValueStats {
  double max_abs = 0;              // max |x| seen
  double range = 0;                // the histogram covers [0, range]; 0 before any nonzero value
  std::vector<uint64_t> histogram;  // kHistogramBins counts of nonzero |x|
  uint64_t count = 0;              // elements seen
  uint64_t zeros = 0;              // of which exactly 0 (not in the histogram)
};

struct Calibration {
  CalibrationMethod method = CalibrationMethod::kMax;
  double percentile = 99.99;
  size_t num_samples = 0;
  std::map<ir::ValueId, double> threshold;  // T > 0 for every float activation (1 when always 0)
  std::map<ir::ValueId, ValueStats> stats;

  bool has(ir::ValueId v) const { return threshold.count(v) != 0; }
  // T of `v`; a vta::Error naming the value when it was not calibrated.
  double threshold_of(const ir::Graph& g, ir::ValueId v) const;
};

// Runs `g` (one float input) on each sample and derives a threshold for the graph input and every float
// node output. Throws when `samples` is empty or a sample does not match the input.
Calibration calibrate(const ir::Graph& g, const std::vector<compiler::Tensor>& samples, CalibrationMethod m,
                      double percentile = 99.99);

// The thresholds from collected statistics (exposed for tests on known distributions).
double threshold_from_stats(const ValueStats& s, CalibrationMethod m, double percentile = 99.99);
// Adds the elements of `t` (float32) to `s`.
void accumulate(ValueStats& s, const compiler::Tensor& t);

// Calibration samples for an input of shape `input_shape` (float32): a .npy file whose first dimension is
// the batch (e.g. (N,1,28,28) or (N,28,28) for an input (1,1,28,28): N samples), a .npy of exactly the
// input shape (one sample), or a directory of such .npy files (sorted by name, all concatenated).
std::vector<compiler::Tensor> load_samples(const std::filesystem::path& path, const ir::Shape& input_shape);

}  // namespace vta::quant
