// FNV-1a, 64-bit: the stack's content fingerprints (config hash, sweep fingerprint, tsim's on-demand
// model cache key). Not cryptographic; stable across builds and hosts.
#pragma once

#include <cstdint>
#include <string_view>

namespace vta::isa {

// The stack's starting value (not FNV's published offset basis, which has one more digit): config hashes
// recorded in packages, registers and test data were computed from it, so it stays.
inline constexpr uint64_t kFnv1aSeed = 1469598103934665603ull;

// `h` folded with `bytes`; start from kFnv1aSeed, chain calls to hash several pieces.
inline uint64_t fnv1a(std::string_view bytes, uint64_t h = kFnv1aSeed) {
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace vta::isa
