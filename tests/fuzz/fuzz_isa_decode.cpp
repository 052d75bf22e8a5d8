// Harness isa_decode: the instruction and micro-op codec and the disassembler.
// Input: byte 0 picks a shipped config; the rest is an instruction stream (16 bytes each) and, read again
// as 32-bit words, micro-ops. Properties: a decoded instruction re-encodes to the input word with the
// bits outside its fields cleared and decodes back to itself; the same for micro-ops; the byte form of a
// stream round-trips.
#include <fmt/format.h>

#include "fuzz_common.h"
#include "vta/isa/disassembler.h"
#include "vta/isa/instruction_codec.h"

namespace vta::fuzz {

void isa_decode(Bytes data) {
  ByteReader in(data);
  const auto& configs = shipped_configs();
  const isa::HwConfig& config = configs[in.u8() % configs.size()];
  const isa::InstructionCodec codec(config);
  const Bytes stream = in.rest();

  // The whole input as a stream: rejected unless its size is a multiple of 16.
  accepts([&] {
    const auto raws = isa::raw_instructions_from_bytes(stream);
    std::vector<uint8_t> back;
    isa::raw_instructions_to_bytes(raws, back);
    VTA_FUZZ_CHECK(std::equal(back.begin(), back.end(), stream.begin(), stream.end()), "stream bytes round trip");
  });

  const auto raws = isa::raw_instructions_from_bytes(stream.first(stream.size() / 16 * 16));
  for (const isa::RawInstruction& raw : raws) {
    isa::Instruction insn;
    if (!accepts([&] { insn = codec.decode(raw); })) continue;
    const std::string text = isa::disassemble(insn);
    VTA_FUZZ_CHECK(!text.empty(), "empty disassembly");
    isa::RawInstruction mask;
    for (const isa::FieldLayout& f : codec.layout(isa::opcode_of(insn))) {
      for (uint32_t b = f.offset; b < f.offset + f.width; ++b) (b < 64 ? mask.lo : mask.hi) |= uint64_t{1} << (b % 64);
    }
    const isa::RawInstruction again = codec.encode(insn);
    VTA_FUZZ_CHECK(again.lo == (raw.lo & mask.lo) && again.hi == (raw.hi & mask.hi),
                   fmt::format("re-encoding {:016x}{:016x} ({}) gave {:016x}{:016x}", raw.hi, raw.lo, text, again.hi,
                               again.lo));
    VTA_FUZZ_CHECK(codec.decode(again) == insn, "decode(encode(insn)) != insn for " + text);
  }

  const uint32_t uop_bits = config.uop_dst_bits() + config.uop_src_bits() + config.uop_wgt_bits();
  const uint32_t uop_mask = uop_bits >= 32 ? ~uint32_t{0} : (uint32_t{1} << uop_bits) - 1;
  for (size_t i = 0; i + 4 <= stream.size(); i += 4) {
    const uint32_t word = uint32_t{stream[i]} | uint32_t{stream[i + 1]} << 8 | uint32_t{stream[i + 2]} << 16 |
                          uint32_t{stream[i + 3]} << 24;
    const isa::MicroOp uop = codec.decode_uop(word);
    VTA_FUZZ_CHECK(!isa::disassemble(uop).empty(), "empty micro-op disassembly");
    VTA_FUZZ_CHECK(codec.encode_uop(uop) == (word & uop_mask), fmt::format("micro-op {:08x} does not round-trip", word));
  }
}

}  // namespace vta::fuzz
