// Helpers for the compiler tests: configs, random tensors, and running conv2d/dense on a device
// against the plain CPU reference (vta::reference).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vta/compiler/conv2d.h"
#include "vta/compiler/dense.h"
#include "vta/driver/device.h"
#include "vta/isa/hw_config.h"
#include "vta/reference/reference.h"
#include "vta/runtime/session.h"

namespace vta::ctest {

using compiler::Conv2dParams;
using compiler::DType;
using compiler::Tensor;

inline isa::HwConfig load_config(const std::string& name) {
  return isa::HwConfig::from_file(std::filesystem::path(VTA_CONFIG_DIR) / (name + ".json"));
}

inline std::vector<int8_t> random_i8(size_t n, std::mt19937& rng, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

inline std::vector<int32_t> random_i32(size_t n, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct ConvCase {
  std::string name;
  int n = 1, c = 16, h = 8, w = 8, o = 16, kh = 3, kw = 3;
  int sh = 1, sw = 1, pt = 1, pl = 1, pb = 1, pr = 1;
  int shift = -1;  // -1: chosen from the reduction size so that outputs spread over the int8 range
  bool relu = false;
  int lo = -128, hi = 127;
  bool bias = true;

  int eff_shift() const {
    if (shift >= 0) return shift;
    return compiler::shift_for_random_data(int64_t{c} * kh * kw);
  }
  reference::ConvGeometry geometry() const {
    reference::ConvGeometry g;
    g.n = n, g.c = c, g.h = h, g.w = w, g.o = o, g.kh = kh, g.kw = kw;
    g.stride_h = sh, g.stride_w = sw, g.pad_top = pt, g.pad_left = pl, g.pad_bottom = pb, g.pad_right = pr;
    return g;
  }
  Conv2dParams params() const {
    Conv2dParams p;
    p.stride_h = static_cast<uint32_t>(sh);
    p.stride_w = static_cast<uint32_t>(sw);
    p.pad_top = static_cast<uint32_t>(pt);
    p.pad_left = static_cast<uint32_t>(pl);
    p.pad_bottom = static_cast<uint32_t>(pb);
    p.pad_right = static_cast<uint32_t>(pr);
    p.requant.shift = eff_shift();
    p.requant.relu = relu;
    p.requant.clip_lo = lo;
    p.requant.clip_hi = hi;
    return p;
  }
  reference::RequantParams requant() const { return {eff_shift(), relu, lo, hi}; }
};

inline std::string describe(const ConvCase& k) {
  return fmt::format("{}: N{} C{} {}x{} -> O{} k{}x{} s{}x{} pads {},{},{},{} shift {}{}{} clip [{},{}]", k.name, k.n,
                     k.c, k.h, k.w, k.o, k.kh, k.kw, k.sh, k.sw, k.pt, k.pl, k.pb, k.pr, k.eff_shift(), k.relu ? " relu" : "",
                     k.bias ? " bias" : "", k.lo, k.hi);
}

// Random data for a case (deterministic per seed).
struct ConvData {
  std::vector<int8_t> x, w;
  std::vector<int32_t> b;
  Tensor tx, tw, tb;
};

inline ConvData make_data(const ConvCase& k, uint32_t seed) {
  std::mt19937 rng(seed);
  ConvData d;
  d.x = random_i8(static_cast<size_t>(k.n) * k.c * k.h * k.w, rng);
  d.w = random_i8(static_cast<size_t>(k.o) * k.c * k.kh * k.kw, rng);
  if (k.bias) d.b = random_i32(static_cast<size_t>(k.o), rng, -20000, 20000);
  d.tx = Tensor::from_values<int8_t>({k.n, k.c, k.h, k.w}, d.x);
  d.tw = Tensor::from_values<int8_t>({k.o, k.c, k.kh, k.kw}, d.w);
  if (k.bias) d.tb = Tensor::from_values<int32_t>({k.o}, d.b);
  return d;
}

struct ConvOutcome {
  compiler::OpRun run;
  std::vector<int8_t> expect;
};

// Runs the case on `target` with `config` and returns the run and the reference output.
inline ConvOutcome run_conv_case(const ConvCase& k, const std::string& target, const isa::HwConfig& config,
                                 uint32_t seed = 1, compiler::LoweringOptions options = {}) {
  const ConvData d = make_data(k, seed);
  auto device = driver::open_device(target, config);
  runtime::Session q(*device);
  ConvOutcome out;
  out.run = compiler::conv2d(q, d.tx, d.tw, k.bias ? &d.tb : nullptr, k.params(), options);
  out.expect = reference::conv2d(d.x, d.w, d.b, k.geometry(), k.requant());
  return out;
}

// Index of the first difference, or -1.
inline int64_t first_mismatch(const std::vector<int8_t>& got, const std::vector<int8_t>& want) {
  if (got.size() != want.size()) return 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (got[i] != want[i]) return static_cast<int64_t>(i);
  return -1;
}

inline void expect_conv_matches(const ConvCase& k, const std::string& target, const std::string& config_name,
                                uint32_t seed = 1, compiler::LoweringOptions options = {}) {
  SCOPED_TRACE(describe(k) + " on " + target + " / " + config_name);
  const ConvOutcome o = run_conv_case(k, target, load_config(config_name), seed, options);
  const std::vector<int8_t> got = o.run.output.to_vector<int8_t>();
  ASSERT_EQ(got.size(), o.expect.size());
  const int64_t bad = first_mismatch(got, o.expect);
  EXPECT_EQ(bad, -1) << "first mismatch at flat index " << bad << ": got "
                     << (bad >= 0 ? int(got[static_cast<size_t>(bad)]) : 0) << ", want "
                     << (bad >= 0 ? int(o.expect[static_cast<size_t>(bad)]) : 0) << "; tiling "
                     << o.run.tiling.to_string();
  // The output must not be trivially constant for these random cases (checks the test's own power).
}

}  // namespace vta::ctest
