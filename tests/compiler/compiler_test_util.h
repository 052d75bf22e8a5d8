// Helpers for the compiler tests: configs, random tensors, and running conv2d/dense on a device
// against the plain CPU reference (vta::reference).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
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
  // Random data: inputs and weights in [-128, 127] and biases in [-20000, 20000]; a smaller data_max
  // draws them from [-data_max, data_max] and [-data_max^2, data_max^2], so that a small shift (0) does
  // not saturate every output.
  int data_max = 127;

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
// The conv2d the lowerings implement, written plainly (independent of packing, tiling and the device):
//   c[n,o,y,x] = clamp((sum_{c in group(o)} x*w + b[o]) >> shift[o], lo, hi)   (int32 wrapping sums)
// with weight OIHW, I = C / groups, b empty for no bias and shift empty for the case's per-tensor shift;
// then, when `residual` is given, out = clamp(((c << shift_conv) + (res << shift_res) + round) >> shift2,
// lo2, hi2), round = 2^(shift2 - 1) when shift2 > 0. NCHW in and out.
inline std::vector<int8_t> cpu_conv_full(const ConvCase& k, int groups, const std::vector<int8_t>& x,
                                         const std::vector<int8_t>& w, const std::vector<int32_t>& b,
                                         const std::vector<int32_t>& shift,
                                         const std::optional<compiler::ResidualAdd>& residual = std::nullopt,
                                         const std::vector<int8_t>& res = {}) {
  const int cg = k.c / groups, og = k.o / groups;
  const int oh = (k.h + k.pt + k.pb - k.kh) / k.sh + 1, ow = (k.w + k.pl + k.pr - k.kw) / k.sw + 1;
  const int lo = k.relu ? std::max(k.lo, 0) : k.lo;
  const auto requant = [](int64_t v, int32_t sh, int l, int h) { return std::clamp(static_cast<int32_t>(v >> sh), l, h); };
  std::vector<int8_t> out(static_cast<size_t>(k.n) * k.o * oh * ow);
  for (int n = 0; n < k.n; ++n)
    for (int o = 0; o < k.o; ++o)
      for (int y = 0; y < oh; ++y)
        for (int xx = 0; xx < ow; ++xx) {
          uint32_t acc = 0;
          for (int ci = 0; ci < cg; ++ci) {
            const int c = (o / og) * cg + ci;
            for (int ky = 0; ky < k.kh; ++ky)
              for (int kx = 0; kx < k.kw; ++kx) {
                const int iy = y * k.sh - k.pt + ky, ix = xx * k.sw - k.pl + kx;
                if (iy < 0 || iy >= k.h || ix < 0 || ix >= k.w) continue;
                const int32_t p = int32_t{x[static_cast<size_t>(((n * k.c + c) * k.h + iy) * k.w + ix)]} *
                                  w[static_cast<size_t>(((o * cg + ci) * k.kh + ky) * k.kw + kx)];
                acc += static_cast<uint32_t>(p);
              }
          }
          if (!b.empty()) acc += static_cast<uint32_t>(b[static_cast<size_t>(o)]);
          const size_t at = static_cast<size_t>(((n * k.o + o) * oh + y) * ow + xx);
          const int32_t sh = shift.empty() ? k.eff_shift() : shift[static_cast<size_t>(o)];
          int32_t v = requant(static_cast<int32_t>(acc), sh, lo, k.hi);
          if (residual) {
            const compiler::ResidualAdd& r = *residual;
            const int32_t sh2 = r.requant.shift;
            const int64_t sum = (int64_t{v} << r.shift_conv) + (int64_t{res[at]} << r.shift_res) +
                                (sh2 > 0 ? int64_t{1} << (sh2 - 1) : 0);
            v = requant(sum, sh2, r.requant.lo(), r.requant.clip_hi);
          }
          out[at] = static_cast<int8_t>(v);
        }
  return out;
}

// A random conv2d case: N 1..3, C and O 1..40 (mostly not multiples of 16), kernels 1..3, inputs up to
// max_hw, strides 1..2, pads below the kernel, relu and bias at random.
inline ConvCase random_conv_case(std::mt19937& rng, int index, int max_hw) {
  auto r = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ConvCase k;
  k.name = fmt::format("random{}", index);
  k.n = r(1, 3);
  k.c = r(1, 40);
  k.o = r(1, 40);
  k.kh = r(1, 3);
  k.kw = r(1, 3);
  k.h = r(k.kh, max_hw);
  k.w = r(k.kw, max_hw);
  k.sh = r(1, 2);
  k.sw = r(1, 2);
  k.pt = r(0, k.kh - 1), k.pb = r(0, k.kh - 1), k.pl = r(0, k.kw - 1), k.pr = r(0, k.kw - 1);
  k.relu = r(0, 1) == 1;
  k.bias = r(0, 3) != 0;
  return k;
}

struct ConvData {
  std::vector<int8_t> x, w;
  std::vector<int32_t> b;
  Tensor tx, tw, tb;
};

inline ConvData make_data(const ConvCase& k, uint32_t seed) {
  std::mt19937 rng(seed);
  ConvData d;
  const bool full = k.data_max == 127;
  const int lo = full ? -128 : -k.data_max, bias_max = full ? 20000 : k.data_max * k.data_max;
  d.x = random_i8(static_cast<size_t>(k.n) * k.c * k.h * k.w, rng, lo, k.data_max);
  d.w = random_i8(static_cast<size_t>(k.o) * k.c * k.kh * k.kw, rng, lo, k.data_max);
  if (k.bias) d.b = random_i32(static_cast<size_t>(k.o), rng, -bias_max, bias_max);
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

// How many different values `v` holds.
inline size_t distinct_values(std::vector<int8_t> v) {
  std::sort(v.begin(), v.end());
  return static_cast<size_t>(std::unique(v.begin(), v.end()) - v.begin());
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
  // The output must not be trivially constant for these random cases (checks the test's own power): a
  // shift or clip that flattened it would let a wrong tiling, packing or requantization go unseen.
  EXPECT_GE(distinct_values(o.expect), std::min<size_t>(8, o.expect.size() / 2))
      << "the reference output is nearly constant; the case cannot see a wrong result";
}

}  // namespace vta::ctest
