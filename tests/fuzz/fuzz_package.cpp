// Harness package: the compiled-model package reader (model::parse_package, what `vta run` loads).
// Property: an accepted package serializes to bytes that parse again and serialize identically.
#include "fuzz_common.h"
#include "vta/model/package.h"

namespace vta::fuzz {

void package(Bytes data) {
  const std::vector<uint8_t> bytes(data.begin(), data.end());
  model::CompiledModel cm;
  if (!accepts([&] { cm = model::parse_package(bytes, "fuzz.vtapkg"); })) return;
  const std::vector<uint8_t> once = model::serialize_package(cm);
  const std::vector<uint8_t> twice = model::serialize_package(model::parse_package(once, "round-trip.vtapkg"));
  VTA_FUZZ_CHECK(once == twice, "an accepted package does not serialize stably");
  VTA_FUZZ_CHECK(!cm.plan_text().empty(), "empty plan text");
}

}  // namespace vta::fuzz
