// Published benchmark workloads, shared by the tests and `vta bench` so both run the same layers.
#pragma once

namespace vta::compiler {

// A conv2d layer at batch 1: input H x W x IC, OC output channels, K x K kernel, symmetric pad, stride.
struct Conv2dWorkload {
  const char* name;
  int h, w, ic, oc, k, pad, stride;
};

// ResNet-18's conv2d workloads as Apache VTA's benchmarks number them (C1 is the 7x7 stem).
inline constexpr Conv2dWorkload kResNet18Conv2d[] = {
    {"C1", 224, 224, 3, 64, 7, 3, 2},   {"C2", 56, 56, 64, 64, 3, 1, 1},   {"C3", 56, 56, 64, 128, 3, 1, 2},
    {"C4", 56, 56, 64, 128, 1, 0, 2},   {"C5", 28, 28, 128, 128, 3, 1, 1}, {"C6", 28, 28, 128, 256, 3, 1, 2},
    {"C7", 28, 28, 128, 256, 1, 0, 2},  {"C8", 14, 14, 256, 256, 3, 1, 1}, {"C9", 14, 14, 256, 512, 3, 1, 2},
    {"C10", 14, 14, 256, 512, 1, 0, 2}, {"C11", 7, 7, 512, 512, 3, 1, 1},
};

}  // namespace vta::compiler
