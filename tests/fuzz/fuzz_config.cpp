// Harness config: the hardware config JSON reader (HwConfig::from_string).
// Properties for an accepted config: to_json() reads back to an equal config with the same name and hash,
// the derived values and the instruction layouts can be produced.
#include <nlohmann/json.hpp>

#include "fuzz_common.h"
#include "vta/isa/instruction_codec.h"

namespace vta::fuzz {

void config(Bytes data) {
  isa::HwConfig config = isa::HwConfig::default_config();
  if (!accepts([&] { config = isa::HwConfig::from_string(as_string(data)); })) return;
  const isa::HwConfig again = isa::HwConfig::from_json(config.to_json());
  VTA_FUZZ_CHECK(again == config, "to_json() does not read back to the same config");
  VTA_FUZZ_CHECK(again.name() == config.name() && again.hash() == config.hash(), "name or hash changed on round trip");
  VTA_FUZZ_CHECK(!config.derived_json().dump().empty(), "empty derived JSON");
  const isa::InstructionCodec codec(config);
  for (isa::Opcode op : {isa::Opcode::kLoad, isa::Opcode::kGemm, isa::Opcode::kAlu, isa::Opcode::kFinish}) {
    for (const isa::FieldLayout& f : codec.layout(op)) {
      VTA_FUZZ_CHECK(f.offset + f.width <= 128, "instruction field " + f.name + " outside 128 bits");
    }
  }
  uint32_t uop_bits = 0;
  for (const isa::FieldLayout& f : codec.uop_layout()) uop_bits += f.width;
  VTA_FUZZ_CHECK(uop_bits <= 32, "micro-op fields over 32 bits");
}

}  // namespace vta::fuzz
