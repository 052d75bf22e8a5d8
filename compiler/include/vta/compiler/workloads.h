// Published benchmark workloads, shared by the tests and `vta bench` so both run the same layers.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "vta/compiler/conv2d.h"
#include "vta/compiler/requantize.h"

namespace vta::compiler {

// A conv2d layer at batch 1: input H x W x IC, OC output channels, K x K kernel, symmetric pad, stride.
struct Conv2dWorkload {
  const char* name;
  int h, w, ic, oc, k, pad, stride;
  int occurrences = 1;  // how often the layer occurs in its network (for whole-network totals)
};

// ResNet-18's conv2d workloads as Apache VTA's benchmarks number them (C1 is the 7x7 stem), with how often
// each occurs in one inference (20 convolutions: C2 in both blocks of stage 1; C5, C8, C11 in the second
// conv of each stage's first block and both of its second block).
inline constexpr Conv2dWorkload kResNet18Conv2d[] = {
    {"C1", 224, 224, 3, 64, 7, 3, 2, 1},    {"C2", 56, 56, 64, 64, 3, 1, 1, 4},   {"C3", 56, 56, 64, 128, 3, 1, 2, 1},
    {"C4", 56, 56, 64, 128, 1, 0, 2, 1},    {"C5", 28, 28, 128, 128, 3, 1, 1, 3}, {"C6", 28, 28, 128, 256, 3, 1, 2, 1},
    {"C7", 28, 28, 128, 256, 1, 0, 2, 1},   {"C8", 14, 14, 256, 256, 3, 1, 1, 3}, {"C9", 14, 14, 256, 512, 3, 1, 2, 1},
    {"C10", 14, 14, 256, 512, 1, 0, 2, 1},  {"C11", 7, 7, 512, 512, 3, 1, 1, 3},
};

// Conv2d shapes of other networks (VGG-, MobileNet-, AlexNet-like widths, odd sizes and channel counts,
// 1x1 and 5x5 kernels), each once: `vta bench conv2d --workload shapes`, how the compiler does on layers
// it was not tuned on. Named by input channels x size -> output channels, kernel and stride.
inline constexpr Conv2dWorkload kOtherConv2d[] = {
    {"64x56-64k3", 56, 56, 64, 64, 3, 1, 1, 1},      {"32x32-64k3", 32, 32, 32, 64, 3, 1, 1, 1},
    {"64x16-64k3", 16, 16, 64, 64, 3, 1, 1, 1},      {"128x8-128k3", 8, 8, 128, 128, 3, 1, 1, 1},
    {"64x28-64k1", 28, 28, 64, 64, 1, 0, 1, 1},      {"128x14-256k1", 14, 14, 128, 256, 1, 0, 1, 1},
    {"256x7-512k1", 7, 7, 256, 512, 1, 0, 1, 1},     {"16x32-32k3", 32, 32, 16, 32, 3, 1, 1, 1},
    {"32x64-32k3", 64, 64, 32, 32, 3, 1, 1, 1},      {"96x28-64k3", 28, 28, 96, 64, 3, 1, 1, 1},
    {"48x20-80k3s2", 20, 20, 48, 80, 3, 1, 2, 1},    {"256x10-256k3", 10, 10, 256, 256, 3, 1, 1, 1},
    {"3x112-32k3s2", 112, 112, 3, 32, 3, 1, 2, 1},   {"128x56-128k1", 56, 56, 128, 128, 1, 0, 1, 1},
    {"384x13-256k3", 13, 13, 384, 256, 3, 1, 1, 1},  {"64x30-64k5", 30, 30, 64, 64, 5, 2, 1, 1},
    {"40x17-24k3", 17, 17, 40, 24, 3, 1, 1, 1},      {"512x9-512k3", 9, 9, 512, 512, 3, 1, 1, 1},
};

// The ResNet-18 layer with this geometry at batch 1 (input IC x H x W, OC outputs, K x K kernel, OH output
// rows), or nullptr: how a model's conv steps are matched to the published per-layer figures.
inline const Conv2dWorkload* resnet18_layer(int64_t ic, int64_t h, int64_t w, int64_t oc, int64_t k, int64_t oh) {
  for (const Conv2dWorkload& l : kResNet18Conv2d)
    if (l.ic == ic && l.h == h && l.w == w && l.oc == oc && l.k == k && (l.h + 2 * l.pad - l.k) / l.stride + 1 == oh)
      return &l;
  return nullptr;
}

// One layer with random data, as `vta bench conv2d`, `vta bench tlm` and `vta dse` run it: int8 input and
// weights, int32 bias, clip((conv + bias) >> shift, 0, 127) with the shift random data needs. The same
// seed gives the same tensors (x, then w, then b from one generator).
struct RandomConv2d {
  Tensor x, w, b;
  Conv2dParams params;
};
inline RandomConv2d random_conv2d(const Conv2dWorkload& l, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d8(-128, 127), db(-20000, 20000);
  const auto rnd8 = [&](size_t n) {
    std::vector<int8_t> v(n);
    for (auto& e : v) e = static_cast<int8_t>(d8(rng));
    return v;
  };
  const std::vector<int8_t> x = rnd8(size_t(l.ic) * l.h * l.w);
  const std::vector<int8_t> w = rnd8(size_t(l.oc) * l.ic * l.k * l.k);
  std::vector<int32_t> b(size_t(l.oc));
  for (auto& v : b) v = db(rng);
  RandomConv2d r{Tensor::from_values<int8_t>({1, l.ic, l.h, l.w}, x), Tensor::from_values<int8_t>({l.oc, l.ic, l.k, l.k}, w),
                 Tensor::from_values<int32_t>({l.oc}, b),
                 Conv2dParams::with(uint32_t(l.stride), uint32_t(l.pad), shift_for_random_data(int64_t{l.ic} * l.k * l.k))};
  r.params.requant.relu = true;
  return r;
}

// REFERENCE FIGURES (published, not measured here): Apache VTA (TVM v0.14.0 functional simulator, default
// config, TopHub vta_v0.10 schedules), copied from tests/data/conformance/tvm-vta-fsim/resnet18_counters.md.
// "total" includes inp, wgt, acc, uop and out bytes; "bound" moves every input, weight, output byte and the
// int32 bias once; fsim_ms is the recorded time of one invocation on Apache VTA's functional simulator
// ("fsim ms/inv", this kind of machine). Apache VTA does not offload C1 (it runs on the host CPU), so C1 has
// no entry.
struct ApacheVtaConv2d {
  const char* name;
  uint64_t total_bytes, lower_bound_bytes, gemm_uops, alu_uops;
  double fsim_ms;
};
inline constexpr ApacheVtaConv2d kApacheVtaResNet18[] = {
    {"C2", 948448, 438528, 451584, 50176, 37.7},    {"C3", 820984, 375296, 225792, 25088, 20.2},
    {"C4", 501392, 309760, 25088, 25088, 2.4},      {"C5", 827184, 348672, 451584, 25088, 38.9},
    {"C6", 749008, 446464, 225792, 12544, 19.5},    {"C7", 297616, 184320, 25088, 12544, 4.6},
    {"C8", 843216, 691200, 451584, 12544, 87.0},    {"C9", 1309912, 1256960, 225792, 6272, 42.0},
    {"C10", 244880, 208384, 25088, 6272, 3.0},      {"C11", 2439384, 2411520, 451584, 6272, 49.4},
};
inline constexpr uint64_t kApacheVtaAllTotal = 8982024, kApacheVtaAllBound = 6671104;  // C2..C11 ("all" row)
inline constexpr double kApacheVtaAllFsimMs = 304.7;                                   // C2..C11
inline const ApacheVtaConv2d* apache_vta_reference(std::string_view layer) {
  for (const ApacheVtaConv2d& r : kApacheVtaResNet18)
    if (layer == r.name) return &r;
  return nullptr;
}

}  // namespace vta::compiler
