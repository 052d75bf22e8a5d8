#include "vta/isa/instruction_codec.h"

#include <fmt/format.h>

#include "field_packing.h"
#include "vta/isa/error.h"

namespace vta::isa {
namespace detail {

std::vector<FieldLayout> pack_fields(const std::vector<FieldSpec>& specs, uint32_t word_bits, uint32_t* total_bits) {
  std::vector<FieldLayout> out;
  uint32_t pos = 0;
  for (const auto& s : specs) {
    // A field never straddles a word boundary: it moves to the start of the next word.
    if (pos / word_bits != (pos + s.width - 1) / word_bits) pos = (pos / word_bits + 1) * word_bits;
    out.push_back({s.name, pos, s.width, s.is_signed});
    pos += s.width;
  }
  if (total_bits) *total_bits = pos;
  return out;
}

}  // namespace detail

namespace {

using FW = FixedFieldWidths;

// Every instruction kind lists its fields once, in encoding order, through a visitor that sees the name,
// the width and a reference to the value. Encode, decode and the layout tables all come from it.
struct Widths {
  uint32_t uop, acc, inp, wgt;
  explicit Widths(const HwConfig& c)
      : uop(c.uop().log_depth), acc(c.acc().log_depth), inp(c.inp().log_depth), wgt(c.wgt().log_depth) {}
};

template <class F>
void visit_common(Opcode& opcode, DepFlags& dep, F&& f) {
  f("opcode", FW::kOpcode, false, opcode);
  f("pop_prev", 1u, false, dep.pop_prev);
  f("pop_next", 1u, false, dep.pop_next);
  f("push_prev", 1u, false, dep.push_prev);
  f("push_next", 1u, false, dep.push_next);
}

template <class F>
void visit_loop(LoopNest& l, const Widths& w, F&& f) {
  f("reset", 1u, false, l.reset);
  f("uop_bgn", w.uop, false, l.uop_bgn);
  f("uop_end", w.uop + 1, false, l.uop_end);
  f("iter_out", FW::kLoopIter, false, l.iter_out);
  f("iter_in", FW::kLoopIter, false, l.iter_in);
}

template <class F>
void visit_fields(MemInsn& m, const Widths&, F&& f) {
  visit_common(m.opcode, m.dep, f);
  f("memory_type", FW::kMemoryType, false, m.memory_type);
  f("sram_base", FW::kSramAddress, false, m.sram_base);
  f("dram_base", FW::kDramAddress, false, m.dram_base);
  f("y_size", FW::kSize, false, m.y_size);
  f("x_size", FW::kSize, false, m.x_size);
  f("x_stride", FW::kStride, false, m.x_stride);
  f("y_pad_0", FW::kPad, false, m.y_pad_0);
  f("y_pad_1", FW::kPad, false, m.y_pad_1);
  f("x_pad_0", FW::kPad, false, m.x_pad_0);
  f("x_pad_1", FW::kPad, false, m.x_pad_1);
}

template <class F>
void visit_fields(GemmInsn& g, const Widths& w, F&& f) {
  Opcode op = Opcode::kGemm;
  visit_common(op, g.dep, f);
  visit_loop(g.loop, w, f);
  f("dst_factor_out", w.acc, false, g.loop.dst_factor_out);
  f("dst_factor_in", w.acc, false, g.loop.dst_factor_in);
  f("src_factor_out", w.inp, false, g.loop.src_factor_out);
  f("src_factor_in", w.inp, false, g.loop.src_factor_in);
  f("wgt_factor_out", w.wgt, false, g.wgt_factor_out);
  f("wgt_factor_in", w.wgt, false, g.wgt_factor_in);
}

template <class F>
void visit_fields(AluInsn& a, const Widths& w, F&& f) {
  Opcode op = Opcode::kAlu;
  visit_common(op, a.dep, f);
  visit_loop(a.loop, w, f);
  // ALU sources are accumulator entries, so both factor pairs use the acc index width.
  f("dst_factor_out", w.acc, false, a.loop.dst_factor_out);
  f("dst_factor_in", w.acc, false, a.loop.dst_factor_in);
  f("src_factor_out", w.acc, false, a.loop.src_factor_out);
  f("src_factor_in", w.acc, false, a.loop.src_factor_in);
  f("alu_opcode", FW::kAluOpcode, false, a.alu_opcode);
  f("use_imm", 1u, false, a.use_imm);
  f("imm", FW::kAluImmediate, true, a.imm);
}

template <class F>
void visit_fields(FinishInsn& fi, const Widths&, F&& f) {
  Opcode op = Opcode::kFinish;
  visit_common(op, fi.dep, f);
}

template <class Insn>
std::vector<detail::FieldSpec> specs_of(const Widths& w) {
  std::vector<detail::FieldSpec> specs;
  Insn insn{};
  visit_fields(insn, w, [&](const char* name, uint32_t width, bool is_signed, auto&) {
    specs.push_back({name, width, is_signed});
  });
  return specs;
}

uint64_t mask_of(uint32_t width) { return width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1; }

void put_bits(RawInstruction& raw, uint32_t offset, uint32_t width, uint64_t value) {
  uint64_t& word = offset < 64 ? raw.lo : raw.hi;
  const uint32_t shift = offset % 64;
  word |= (value & mask_of(width)) << shift;
}

uint64_t get_bits(const RawInstruction& raw, uint32_t offset, uint32_t width) {
  const uint64_t word = offset < 64 ? raw.lo : raw.hi;
  return (word >> (offset % 64)) & mask_of(width);
}

template <class Insn>
RawInstruction encode_as(Insn insn, const Widths& w, const std::vector<FieldLayout>& layout) {
  RawInstruction raw;
  size_t i = 0;
  visit_fields(insn, w, [&](const char* name, uint32_t width, bool is_signed, auto& ref) {
    const auto& field = layout[i++];
    int64_t v = static_cast<int64_t>(ref);
    const bool fits = is_signed ? (v >= -(int64_t{1} << (width - 1)) && v < (int64_t{1} << (width - 1)))
                                : (v >= 0 && static_cast<uint64_t>(v) <= mask_of(width));
    if (!fits) throw ProgramError(fmt::format("field {} = {} does not fit in {} bits", name, v, width));
    put_bits(raw, field.offset, field.width, static_cast<uint64_t>(v));
  });
  return raw;
}

template <class Insn>
Insn decode_as(const RawInstruction& raw, const Widths& w, const std::vector<FieldLayout>& layout) {
  Insn insn{};
  size_t i = 0;
  visit_fields(insn, w, [&](const char*, uint32_t width, bool is_signed, auto& ref) {
    const auto& field = layout[i++];
    uint64_t v = get_bits(raw, field.offset, field.width);
    using T = std::remove_reference_t<decltype(ref)>;
    if (is_signed && width < 64 && (v >> (width - 1)) & 1) v |= ~mask_of(width);  // sign-extend
    ref = static_cast<T>(v);
  });
  return insn;
}

}  // namespace

namespace detail {
std::vector<FieldSpec> mem_fields() { return specs_of<MemInsn>(Widths(HwConfig::default_config())); }
std::vector<FieldSpec> gemm_fields(const HwConfig& c) { return specs_of<GemmInsn>(Widths(c)); }
std::vector<FieldSpec> alu_fields(const HwConfig& c) { return specs_of<AluInsn>(Widths(c)); }
std::vector<FieldSpec> finish_fields() { return specs_of<FinishInsn>(Widths(HwConfig::default_config())); }
std::vector<FieldSpec> uop_fields(const HwConfig& c) {
  return {{"dst_idx", c.uop_dst_bits()}, {"src_idx", c.uop_src_bits()}, {"wgt_idx", c.uop_wgt_bits()}};
}
}  // namespace detail

InstructionCodec::InstructionCodec(const HwConfig& config) : config_(config) {
  const Widths w(config_);
  mem_layout_ = detail::pack_fields(specs_of<MemInsn>(w), 64, nullptr);
  gemm_layout_ = detail::pack_fields(specs_of<GemmInsn>(w), 64, nullptr);
  alu_layout_ = detail::pack_fields(specs_of<AluInsn>(w), 64, nullptr);
  finish_layout_ = detail::pack_fields(specs_of<FinishInsn>(w), 64, nullptr);
  uop_layout_ = detail::pack_fields(detail::uop_fields(config_), 32, nullptr);
}

const std::vector<FieldLayout>& InstructionCodec::layout_ref(Opcode op) const {
  switch (op) {
    case Opcode::kLoad:
    case Opcode::kStore: return mem_layout_;
    case Opcode::kGemm: return gemm_layout_;
    case Opcode::kAlu: return alu_layout_;
    case Opcode::kFinish: return finish_layout_;
  }
  throw Error("invalid opcode");
}

RawInstruction InstructionCodec::encode(const Instruction& insn) const {
  const Widths w(config_);
  if (const auto* m = std::get_if<MemInsn>(&insn)) {
    if (m->opcode != Opcode::kLoad && m->opcode != Opcode::kStore)
      throw ProgramError("a memory instruction must be LOAD or STORE");
  }
  const auto& layout = layout_ref(opcode_of(insn));
  return std::visit([&](const auto& i) { return encode_as(i, w, layout); }, insn);
}

Instruction InstructionCodec::decode(const RawInstruction& raw) const {
  const Widths w(config_);
  const auto opcode = static_cast<uint32_t>(raw.lo & mask_of(FW::kOpcode));
  switch (opcode) {
    case static_cast<uint32_t>(Opcode::kLoad):
    case static_cast<uint32_t>(Opcode::kStore): {
      auto m = decode_as<MemInsn>(raw, w, mem_layout_);
      if (!is_valid_memory_type(static_cast<uint32_t>(m.memory_type)))
        throw ProgramError(fmt::format("unknown memory type {}", static_cast<uint32_t>(m.memory_type)));
      return m;
    }
    case static_cast<uint32_t>(Opcode::kGemm): return decode_as<GemmInsn>(raw, w, gemm_layout_);
    case static_cast<uint32_t>(Opcode::kAlu): return decode_as<AluInsn>(raw, w, alu_layout_);
    case static_cast<uint32_t>(Opcode::kFinish): return decode_as<FinishInsn>(raw, w, finish_layout_);
    default: throw ProgramError(fmt::format("unknown opcode {}", opcode));
  }
}

uint32_t InstructionCodec::encode_uop(const MicroOp& uop) const {
  const auto& layout = uop_layout_;
  const uint32_t values[] = {uop.dst_idx, uop.src_idx, uop.wgt_idx};
  uint64_t raw = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (values[i] > mask_of(layout[i].width))
      throw ProgramError(fmt::format("micro-op field {} = {} does not fit in {} bits", layout[i].name, values[i],
                                     layout[i].width));
    raw |= uint64_t{values[i]} << layout[i].offset;
  }
  return static_cast<uint32_t>(raw);
}

MicroOp InstructionCodec::decode_uop(uint32_t raw) const {
  const uint32_t d = config_.uop_dst_bits(), s = config_.uop_src_bits(), g = config_.uop_wgt_bits();
  return MicroOp{static_cast<uint32_t>(raw & mask_of(d)), static_cast<uint32_t>((raw >> d) & mask_of(s)),
                 static_cast<uint32_t>((uint64_t{raw} >> (d + s)) & mask_of(g))};
}

std::vector<FieldLayout> InstructionCodec::layout(Opcode op) const { return layout_ref(op); }

std::vector<FieldLayout> InstructionCodec::uop_layout() const { return uop_layout_; }

std::vector<RawInstruction> raw_instructions_from_bytes(std::span<const uint8_t> bytes) {
  if (bytes.size() % 16 != 0)
    throw ProgramError(fmt::format("instruction stream of {} bytes is not a multiple of 16", bytes.size()));
  std::vector<RawInstruction> out(bytes.size() / 16);
  for (size_t i = 0; i < out.size(); ++i) {
    uint64_t lo = 0, hi = 0;
    for (int b = 7; b >= 0; --b) {
      lo = (lo << 8) | bytes[i * 16 + static_cast<size_t>(b)];
      hi = (hi << 8) | bytes[i * 16 + 8 + static_cast<size_t>(b)];
    }
    out[i] = {lo, hi};
  }
  return out;
}

void raw_instructions_to_bytes(std::span<const RawInstruction> insns, std::vector<uint8_t>& out) {
  out.reserve(out.size() + insns.size() * 16);
  for (const auto& r : insns) {
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<uint8_t>(r.lo >> (8 * b)));
    for (int b = 0; b < 8; ++b) out.push_back(static_cast<uint8_t>(r.hi >> (8 * b)));
  }
}

}  // namespace vta::isa
