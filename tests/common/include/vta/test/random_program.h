// Generator of random legal VTA programs for differential tests (fsim kernel vs kernel in tests/fsim,
// tsim vs fsim in tests/hardware). Shared through the header-only target vta_test_common. Programs are token-correct and race-free, so every schedule gives the same result:
//
//   block b:  load part    (LOAD INP/WGT)          first pops compute->load (b > 0), last pushes load->compute
//             compute part (LOAD UOP/ACC, GEMM, ALU) first pops load->compute and store->compute (b > 0),
//                                                  last pushes compute->store and compute->load (not last block)
//             store part   (STORE)                 first pops compute->store, last pushes store->compute (not last)
//   FINISH
//
// Every SRAM index, micro-op range and DRAM row is in range; sizes, strides, padding, loop factors, ALU
// operations, immediates and token-only no-ops are random. DRAM regions sit at fixed addresses per config.
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "vta/isa/disassembler.h"
#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"
#include "vta/isa/instruction_codec.h"

namespace vta::test {

struct RegionImage {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

struct GeneratedProgram {
  std::vector<RegionImage> regions;  // data regions and the instruction stream (last)
  uint64_t insn_address = 0;
  uint32_t insn_count = 0;
  std::vector<isa::Instruction> program;

  std::string listing() const {
    std::string s;
    for (size_t i = 0; i < program.size(); ++i) s += std::to_string(i) + ": " + isa::disassemble(program[i]) + "\n";
    return s;
  }
};

class RandomProgramGenerator {
 public:
  RandomProgramGenerator(const isa::HwConfig& config, uint64_t seed) : cfg_(config), codec_(config), rng_(seed) {
    uint64_t cursor = 0x100000;
    const auto place = [&](Region& r, isa::MemoryType type, uint64_t elements) {
      const uint64_t eb = type == isa::MemoryType::kUop ? 4 : cfg_.buffer(type).element_bytes;
      const uint64_t align = std::max<uint64_t>(eb, 4096);
      cursor = (cursor + align - 1) / align * align;
      r.address = cursor;
      r.element_bytes = eb;
      r.elements = elements;
      cursor += elements * eb + 4096;  // a gap, so a stray row would fault instead of reading a neighbour
    };
    place(inp_, isa::MemoryType::kInp, 96);
    place(wgt_, isa::MemoryType::kWgt, 40);
    place(acc_, isa::MemoryType::kAcc, 96);
    place(out_, isa::MemoryType::kOut, 96);
    place(uop_, isa::MemoryType::kUop, 1024);
    cursor = (cursor + 4095) / 4096 * 4096;
    insn_address_ = cursor;
    win_inp_ = std::min<uint64_t>(cfg_.inp().depth, 48);
    win_wgt_ = std::min<uint64_t>(cfg_.wgt().depth, 32);
    win_acc_ = std::min<uint64_t>(cfg_.acc().depth, 48);
    win_uop_ = std::min<uint64_t>(cfg_.uop().depth, 96);
  }

  GeneratedProgram next() {
    GeneratedProgram g;
    uop_image_.assign(uop_.elements * 4, 0);
    uop_cursor_ = 0;
    std::vector<isa::Instruction> prog;
    const uint32_t blocks = static_cast<uint32_t>(range(1, 4));
    for (uint32_t b = 0; b < blocks; ++b) {
      const bool first_block = b == 0, last_block = b + 1 == blocks;

      std::vector<isa::Instruction> lp;
      if (first_block) {  // start from random data in the whole working windows
        lp.push_back(window_load(isa::MemoryType::kInp, inp_, win_inp_));
        lp.push_back(window_load(isa::MemoryType::kWgt, wgt_, win_wgt_));
      }
      for (uint64_t n = range(0, 4); n > 0; --n) lp.push_back(random_load_module_insn());
      if (lp.empty()) lp.push_back(noop(isa::Opcode::kLoad, chance(2) ? isa::MemoryType::kInp : isa::MemoryType::kWgt));
      isa::dep_flags(lp.front()).pop_next = !first_block;
      isa::dep_flags(lp.back()).push_next = true;

      std::vector<isa::Instruction> cp;
      if (first_block) cp.push_back(window_load(isa::MemoryType::kAcc, acc_, win_acc_));
      for (uint64_t n = range(1, 6); n > 0; --n) add_compute_item(cp);
      isa::dep_flags(cp.front()).pop_prev = true;
      isa::dep_flags(cp.front()).pop_next = !first_block;
      isa::dep_flags(cp.back()).push_next = true;
      isa::dep_flags(cp.back()).push_prev = !last_block;

      std::vector<isa::Instruction> sp;
      for (uint64_t n = range(0, 3); n > 0; --n) sp.push_back(random_store());
      if (sp.empty()) sp.push_back(noop(isa::Opcode::kStore, static_cast<isa::MemoryType>(range(0, 4))));
      isa::dep_flags(sp.front()).pop_prev = true;
      isa::dep_flags(sp.back()).push_prev = !last_block;

      // Program order interleaves the parts; the modules see only their own queue order anyway.
      for (auto* part : {&lp, &cp, &sp}) prog.insert(prog.end(), part->begin(), part->end());
    }
    prog.push_back(isa::FinishInsn{});

    g.regions.push_back({inp_.address, random_bytes(inp_.bytes())});
    g.regions.push_back({wgt_.address, random_bytes(wgt_.bytes())});
    g.regions.push_back({acc_.address, acc_values()});
    g.regions.push_back({out_.address, random_bytes(out_.bytes())});
    g.regions.push_back({uop_.address, uop_image_});
    std::vector<isa::RawInstruction> raw;
    for (const auto& insn : prog) raw.push_back(codec_.encode(insn));
    RegionImage insns{insn_address_, {}};
    isa::raw_instructions_to_bytes(raw, insns.bytes);
    g.regions.push_back(std::move(insns));
    g.insn_address = insn_address_;
    g.insn_count = static_cast<uint32_t>(prog.size());
    g.program = std::move(prog);
    return g;
  }

 private:
  struct Region {
    uint64_t address = 0, element_bytes = 0, elements = 0;
    uint64_t bytes() const { return element_bytes * elements; }
    uint32_t first_element() const { return static_cast<uint32_t>(address / element_bytes); }
  };

  uint64_t range(uint64_t lo, uint64_t hi) { return lo + rng_() % (hi - lo + 1); }  // inclusive
  bool chance(uint64_t one_in) { return rng_() % one_in == 0; }

  std::vector<uint8_t> random_bytes(uint64_t n) {
    std::vector<uint8_t> v(n);
    for (auto& b : v) b = static_cast<uint8_t>(rng_());
    return v;
  }

  // Shift amounts around the ACC width and zero, where the SHR rules change.
  int32_t shift_amount() {
    const auto w = static_cast<int32_t>(cfg_.acc_width());
    if (chance(3)) return static_cast<int32_t>(range(0, 2 * w + 8)) - (w + 4);
    const int32_t edges[] = {0, 1, -1, w - 1, w, w + 1, -(w - 1), -w, -(w + 1)};
    return edges[range(0, std::size(edges) - 1)];
  }

  // ACC data: random lanes, a quarter of them small values that make meaningful shift amounts.
  std::vector<uint8_t> acc_values() {
    std::vector<uint8_t> v = random_bytes(acc_.bytes());
    const uint32_t lane_bytes = cfg_.acc_width() / 8;
    for (size_t lane = 0; lane + lane_bytes <= v.size(); lane += lane_bytes) {
      if (!chance(4)) continue;
      const auto x = static_cast<uint32_t>(shift_amount());
      for (uint32_t b = 0; b < lane_bytes; ++b) v[lane + b] = static_cast<uint8_t>(x >> (8 * b));
    }
    return v;
  }

  isa::MemInsn noop(isa::Opcode op, isa::MemoryType type) {
    isa::MemInsn m;
    m.opcode = op;
    m.memory_type = type;
    // Junk in the other fields: a no-op must ignore them.
    m.sram_base = static_cast<uint32_t>(range(0, 0xffff));
    m.dram_base = static_cast<uint32_t>(rng_());
    m.y_size = static_cast<uint32_t>(range(0, 5));
    m.x_stride = static_cast<uint32_t>(range(0, 5));
    m.y_pad_0 = static_cast<uint32_t>(range(0, 15));
    m.x_pad_1 = static_cast<uint32_t>(range(0, 15));
    return m;
  }

  // A dense LOAD of the first `window` elements of a buffer.
  isa::MemInsn window_load(isa::MemoryType type, const Region& dram, uint64_t window) {
    isa::MemInsn m;
    m.opcode = isa::Opcode::kLoad;
    m.memory_type = type;
    m.y_size = 1;
    m.x_size = static_cast<uint32_t>(window);
    m.x_stride = m.x_size;
    m.dram_base = dram.first_element() + static_cast<uint32_t>(range(0, dram.elements - window));
    return m;
  }

  uint32_t pad() {
    if (chance(16)) return static_cast<uint32_t>(range(0, 15));
    return chance(2) ? 0 : static_cast<uint32_t>(range(1, 3));
  }

  // A LOAD of a random padded, strided 2D tile into the window at the start of the buffer.
  isa::MemInsn random_tile_load(isa::MemoryType type, const Region& dram, uint64_t window) {
    const uint64_t depth = cfg_.buffer(type).depth;
    isa::MemInsn m;
    m.opcode = isa::Opcode::kLoad;
    m.memory_type = type;
    m.x_size = static_cast<uint32_t>(range(1, 4));
    m.y_size = chance(10) ? 0 : static_cast<uint32_t>(range(1, 3));
    m.x_stride = static_cast<uint32_t>(chance(6) ? range(0, m.x_size) : range(m.x_size, m.x_size + 3));
    m.y_pad_0 = pad();
    m.y_pad_1 = pad();
    m.x_pad_0 = pad();
    m.x_pad_1 = pad();
    uint64_t tile = (uint64_t{m.y_pad_0} + m.y_size + m.y_pad_1) * (uint64_t{m.x_pad_0} + m.x_size + m.x_pad_1);
    if (tile > depth) {
      m.y_pad_0 = m.y_pad_1 = m.x_pad_0 = m.x_pad_1 = 0;
      tile = uint64_t{m.y_size} * m.x_size;
    }
    const uint64_t max_base = std::min(window, depth - tile);
    m.sram_base = static_cast<uint32_t>(range(0, max_base));
    const uint64_t span = m.y_size == 0 ? 1 : uint64_t{m.y_size - 1} * m.x_stride + m.x_size;
    m.dram_base = dram.first_element() + static_cast<uint32_t>(range(0, dram.elements - span));
    return m;
  }

  isa::Instruction random_load_module_insn() {
    const bool wgt = chance(2);
    if (chance(8)) return noop(isa::Opcode::kLoad, wgt ? isa::MemoryType::kWgt : isa::MemoryType::kInp);
    return wgt ? random_tile_load(isa::MemoryType::kWgt, wgt_, win_wgt_)
               : random_tile_load(isa::MemoryType::kInp, inp_, win_inp_);
  }

  isa::Instruction random_store() {
    if (chance(8)) return noop(isa::Opcode::kStore, static_cast<isa::MemoryType>(range(0, 4)));
    isa::MemInsn m;
    m.opcode = isa::Opcode::kStore;
    m.memory_type = isa::MemoryType::kOut;
    m.x_size = static_cast<uint32_t>(range(1, 4));
    m.y_size = static_cast<uint32_t>(range(0, 3));
    m.x_stride = static_cast<uint32_t>(chance(6) ? range(0, m.x_size) : range(m.x_size, m.x_size + 3));
    m.sram_base = static_cast<uint32_t>(range(0, win_acc_ - uint64_t{m.y_size} * m.x_size));
    const uint64_t span = m.y_size == 0 ? 1 : uint64_t{m.y_size - 1} * m.x_stride + m.x_size;
    m.dram_base = out_.first_element() + static_cast<uint32_t>(range(0, out_.elements - span));
    return m;
  }

  // Micro-ops for a loop nest: writes them to the UOP region and returns the LOAD UOP that brings them
  // on chip (with optional zero-uop padding) plus the range to use.
  struct UopLoad {
    isa::MemInsn load;
    uint32_t bgn = 0, end = 0;
  };
  UopLoad load_uops(const std::vector<isa::MicroOp>& uops) {
    UopLoad u;
    isa::MemInsn& m = u.load;
    m.opcode = isa::Opcode::kLoad;
    m.memory_type = isa::MemoryType::kUop;
    m.x_size = static_cast<uint32_t>(uops.size());
    m.y_size = 1;
    m.x_stride = m.x_size;
    m.x_pad_0 = chance(4) ? 1 : 0;
    m.x_pad_1 = chance(4) ? 1 : 0;
    const uint64_t tile = m.x_pad_0 + m.x_size + m.x_pad_1;
    m.sram_base = static_cast<uint32_t>(range(0, win_uop_ - tile));
    if (uop_cursor_ + uops.size() > uop_.elements) uop_cursor_ = 0;
    m.dram_base = uop_.first_element() + static_cast<uint32_t>(uop_cursor_);
    for (const auto& op : uops) {
      const uint32_t raw = codec_.encode_uop(op);
      for (int b = 0; b < 4; ++b) uop_image_[uop_cursor_ * 4 + b] = static_cast<uint8_t>(raw >> (8 * b));
      ++uop_cursor_;
    }
    u.bgn = m.sram_base;
    u.end = static_cast<uint32_t>(m.sram_base + tile);
    if (chance(4)) {  // a sub-range, possibly empty
      u.bgn = static_cast<uint32_t>(range(m.sram_base, u.end));
      u.end = static_cast<uint32_t>(range(u.bgn, u.end));
    }
    return u;
  }

  static uint64_t span(const isa::LoopNest& l, uint32_t f_out, uint32_t f_in) {
    return uint64_t{l.iter_out - 1} * f_out + uint64_t{l.iter_in - 1} * f_in;
  }

  isa::LoopNest random_loop() {
    isa::LoopNest l;
    l.iter_out = static_cast<uint32_t>(range(1, 3));
    l.iter_in = static_cast<uint32_t>(range(1, 3));
    l.dst_factor_out = static_cast<uint32_t>(range(0, 3));
    l.dst_factor_in = static_cast<uint32_t>(range(0, 3));
    l.src_factor_out = static_cast<uint32_t>(range(0, 3));
    l.src_factor_in = static_cast<uint32_t>(range(0, 3));
    return l;
  }

  void add_compute_item(std::vector<isa::Instruction>& out) {
    switch (range(0, 9)) {
      case 0:
      case 1: {
        out.push_back(chance(8) ? noop(isa::Opcode::kLoad, chance(2) ? isa::MemoryType::kAcc : isa::MemoryType::kUop)
                                : random_tile_load(isa::MemoryType::kAcc, acc_, win_acc_));
        return;
      }
      case 2:
      case 3:
      case 4:
      case 5: {
        isa::GemmInsn g;
        g.loop = random_loop();
        g.loop.reset = chance(10);
        g.wgt_factor_out = static_cast<uint32_t>(range(0, 3));
        g.wgt_factor_in = static_cast<uint32_t>(range(0, 3));
        const uint64_t ds = span(g.loop, g.loop.dst_factor_out, g.loop.dst_factor_in);
        const uint64_t ss = span(g.loop, g.loop.src_factor_out, g.loop.src_factor_in);
        const uint64_t ws = span(g.loop, g.wgt_factor_out, g.wgt_factor_in);
        std::vector<isa::MicroOp> uops(range(1, 4));
        for (auto& u : uops) {
          u.dst_idx = static_cast<uint32_t>(range(0, win_acc_ - 1 - ds));
          u.src_idx = static_cast<uint32_t>(range(0, win_inp_ - 1 - ss));
          u.wgt_idx = static_cast<uint32_t>(range(0, win_wgt_ - 1 - ws));
        }
        const UopLoad ul = load_uops(uops);
        g.loop.uop_bgn = ul.bgn;
        g.loop.uop_end = ul.end;
        out.push_back(ul.load);
        out.push_back(g);
        return;
      }
      default: {
        isa::AluInsn a;
        a.loop = random_loop();
        a.loop.reset = chance(20);
        a.alu_opcode = static_cast<isa::AluOpcode>(range(0, isa::kAluOpcodeCount - 1));
        a.use_imm = chance(2);
        a.imm = static_cast<int32_t>(range(0, 65535)) - 32768;
        if (a.alu_opcode == isa::AluOpcode::kShr && !chance(8)) a.imm = shift_amount();
        const uint64_t ds = span(a.loop, a.loop.dst_factor_out, a.loop.dst_factor_in);
        const uint64_t ss = span(a.loop, a.loop.src_factor_out, a.loop.src_factor_in);
        std::vector<isa::MicroOp> uops(range(1, 4));
        for (auto& u : uops) {
          u.dst_idx = static_cast<uint32_t>(range(0, win_acc_ - 1 - ds));
          u.src_idx = static_cast<uint32_t>(range(0, win_acc_ - 1 - ss));
        }
        const UopLoad ul = load_uops(uops);
        a.loop.uop_bgn = ul.bgn;
        a.loop.uop_end = ul.end;
        out.push_back(ul.load);
        out.push_back(a);
        return;
      }
    }
  }

  isa::HwConfig cfg_;
  isa::InstructionCodec codec_;
  std::mt19937_64 rng_;
  Region inp_, wgt_, acc_, out_, uop_;
  uint64_t insn_address_ = 0;
  uint64_t win_inp_ = 0, win_wgt_ = 0, win_acc_ = 0, win_uop_ = 0;
  std::vector<uint8_t> uop_image_;
  uint64_t uop_cursor_ = 0;
};

}  // namespace vta::test
