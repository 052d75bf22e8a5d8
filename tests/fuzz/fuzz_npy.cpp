// Harness npy: the NumPy .npy reader (compiler::parse_npy).
// Property: an accepted file's tensor serializes and parses back to an equal tensor.
#include "fuzz_common.h"
#include "vta/compiler/npy.h"

namespace vta::fuzz {

void npy(Bytes data) {
  const std::vector<uint8_t> bytes(data.begin(), data.end());
  compiler::Tensor tensor;
  if (!accepts([&] { tensor = compiler::parse_npy(bytes, "fuzz.npy"); })) return;
  const compiler::Tensor again = compiler::parse_npy(compiler::serialize_npy(tensor), "round-trip.npy");
  VTA_FUZZ_CHECK(again == tensor, "serialize_npy/parse_npy does not round-trip " + tensor.shape_string());
}

}  // namespace vta::fuzz
