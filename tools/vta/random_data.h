// Deterministic pseudo-random int8 data (splitmix64), the inputs of `vta demo`, `vta bench` and bench/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vta::tools {

// `count` values in [lo, hi], the same for the same seed on every platform.
inline std::vector<int8_t> random_int8(size_t count, uint64_t seed, int lo = -128, int hi = 127) {
  std::vector<int8_t> out(count);
  uint64_t state = seed;
  const auto span = static_cast<uint64_t>(hi - lo + 1);
  for (auto& v : out) {
    state += 0x9e3779b97f4a7c15ull;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    v = static_cast<int8_t>(lo + static_cast<int>(z % span));
  }
  return out;
}

}  // namespace vta::tools
