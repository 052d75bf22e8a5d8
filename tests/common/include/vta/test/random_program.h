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
// In these programs the modules take turns; StressProgramGenerator (below) is the mode in which they run
// concurrently, with pushed-ahead tokens, double-buffered slots and every field near its top, plus
// illegal programs with one injected error. RandomProgramGenerator's programs are unchanged by it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
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

// Illegal-program classes of the stress generator (StressProgramGenerator::next_illegal).
enum class IllegalKind : uint8_t {
  kNone,
  kBadOpcode,        // opcode 5..7
  kBadMemoryType,    // LOAD/STORE memory type 5..7
  kLoadOut,          // LOAD of OUT with x_size != 0
  kStoreNonOut,      // STORE of UOP/WGT/INP/ACC with x_size != 0
  kBadAluOpcode,     // ALU opcode 5..7
  kDepFlag,          // load pop_prev/push_prev, store pop_next/push_next
  kDeadlock,         // a pop no instruction pushes for
  kOutOfRange,       // an SRAM index past the buffer (the core's index check, ERROR_CODE 7)
  kMisplacedFinish,  // FINISH before the end (the core's fetch check, ERROR_CODE 8)
};

inline const char* to_string(IllegalKind k) {
  switch (k) {
    case IllegalKind::kNone: return "none";
    case IllegalKind::kBadOpcode: return "bad_opcode";
    case IllegalKind::kBadMemoryType: return "bad_memory_type";
    case IllegalKind::kLoadOut: return "load_out";
    case IllegalKind::kStoreNonOut: return "store_non_out";
    case IllegalKind::kBadAluOpcode: return "bad_alu_opcode";
    case IllegalKind::kDepFlag: return "dep_flag";
    case IllegalKind::kDeadlock: return "deadlock";
    case IllegalKind::kOutOfRange: return "out_of_range";
    case IllegalKind::kMisplacedFinish: return "misplaced_finish";
  }
  return "?";
}

// The ERROR_CODE the RTL core reports for a class (docs/hardware.md), 0 when not known.
inline uint32_t hardware_error_code(IllegalKind k) {
  switch (k) {
    case IllegalKind::kBadOpcode: return 1;
    case IllegalKind::kBadMemoryType:
    case IllegalKind::kLoadOut:
    case IllegalKind::kStoreNonOut: return 2;
    case IllegalKind::kBadAluOpcode: return 3;
    case IllegalKind::kDepFlag: return 4;
    case IllegalKind::kDeadlock: return 6;
    case IllegalKind::kOutOfRange: return 7;        // the core's index check (register_map.h kErrIndex)
    case IllegalKind::kMisplacedFinish: return 8;  // the fetch module's check (kErrFinish)
    default: return 0;
  }
}

struct GeneratedProgram {
  std::vector<RegionImage> regions;  // data regions and the instruction stream (last)
  uint64_t insn_address = 0;
  uint32_t insn_count = 0;
  std::vector<isa::Instruction> program;
  // Stress mode only: the error injected on purpose and the instruction every backend must name.
  IllegalKind illegal = IllegalKind::kNone;
  uint32_t error_index = 0;
  std::string note;  // what the stress generator injected (raw bit patches do not show in `program`)

  std::string listing() const {
    std::string s;
    for (size_t i = 0; i < program.size(); ++i) s += std::to_string(i) + ": " + isa::disassemble(program[i]) + "\n";
    if (!note.empty()) s += "injected: " + note + "\n";
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

// ---------------------------------------------------------------------------------------------------
// Stress mode: programs in which load, compute and store run at the same time.
//
// RandomProgramGenerator above chains every block so that the three modules take turns and no token queue
// holds more than one token. StressProgramGenerator builds software-pipelined programs instead:
//
//   - INP, WGT, ACC and UOP are split into S = 1..4 slots (double buffering at S = 2); step i of n uses slot
//     i % S. Load step i fills INP/WGT slots, compute step i runs GEMM/ALU on them into its ACC slot, store
//     step i stores that slot. Tokens: load i waits for compute i-S (compute->load), compute i waits for
//     load i and store i-S, store i waits for compute i. So load i+1 runs while compute i and store i-1
//     do, and every queue holds up to S tokens. Either the first S steps skip their pops or the tokens are
//     pushed ahead by token-only instructions at the start (compute->load and store->compute).
//   - Token bursts: up to the hardware queue depth (isa::CoreQueueDepths::kToken) of extra tokens pushed by
//     token-only no-ops right after one push and popped right after the matching pop, so the queue fills
//     while the k-th push still meets the k-th pop. No queue ever receives more than kToken pushes in all.
//   - Indices biased to the top of every slot, slots packed at the top of every buffer or spread; DRAM
//     regions at low addresses, anywhere, or at the very top of the 32-bit dram_base range; strides up to
//     65535 with one region per row; pads up to 15; multi-row, strided and y-padded UOP loads; loop extents
//     up to 16383 and factors over their whole field (any value where the loop has one iteration), within
//     a micro-op budget; every field of a no-op filled with junk.
//   - Stores of step j write an area of DRAM that only they write; loads of step j + 2S (and ACC loads of
//     compute step j + S) read it back, ordered by the token chain store -> compute -> load.
//   - FINISH may pop the last store's token (the VTA runtime's pattern) or a last load token, and push
//     tokens nobody pops (StressOptions::leftover_tokens).
//   - The program order is a random interleaving of the three modules' streams in which every pop comes
//     after its push (long runs of one module fill its command queue): the hardware dispatches in program
//     order into finite command queues, and with such an order it cannot deadlock.
// Every SRAM entry a program reads was written earlier by the same program, so results never depend on
// what a previous program left on chip.
//
// next_illegal() injects exactly one error into such a program (IllegalKind) and records the instruction
// index both backends must report. Only classes fsim and the RTL both detect are on by default.

struct StressOptions {
  uint64_t max_uops = 0;                 // GEMM/ALU micro-op budget per program; 0 = chosen per program
  bool out_of_range_errors = true;      // enable IllegalKind::kOutOfRange
  bool misplaced_finish_errors = true;  // enable IllegalKind::kMisplacedFinish
  bool leftover_tokens = true;           // FINISH may push tokens nobody pops (fsim-strict rejects them)
};

class StressProgramGenerator {
 public:
  StressProgramGenerator(const isa::HwConfig& config, uint64_t seed, StressOptions options = {})
      : cfg_(config), codec_(config), rng_(seed), opt_(options) {
    for (const auto& f : codec_.layout(isa::Opcode::kGemm)) gemm_bits_.push_back({f.name, f.width});
    for (const auto& f : codec_.layout(isa::Opcode::kAlu)) alu_bits_.push_back({f.name, f.width});
    for (const auto& f : codec_.layout(isa::Opcode::kLoad))
      if (f.name == "memory_type") mem_type_lsb_ = f.offset;
  }

  GeneratedProgram next() { return build(IllegalKind::kNone); }

  GeneratedProgram next_illegal() {
    const std::vector<IllegalKind> kinds = illegal_kinds();
    return build(kinds[range(0, kinds.size() - 1)]);
  }

  std::vector<IllegalKind> illegal_kinds() const {
    std::vector<IllegalKind> k = {IllegalKind::kBadOpcode,   IllegalKind::kBadMemoryType, IllegalKind::kLoadOut,
                                  IllegalKind::kStoreNonOut, IllegalKind::kBadAluOpcode,  IllegalKind::kDepFlag,
                                  IllegalKind::kDeadlock};
    if (opt_.out_of_range_errors) k.push_back(IllegalKind::kOutOfRange);
    if (opt_.misplaced_finish_errors) k.push_back(IllegalKind::kMisplacedFinish);
    return k;
  }

 private:
  using MT = isa::MemoryType;
  using Stream = std::vector<isa::Instruction>;
  struct Slot {
    uint32_t base = 0, width = 0;
  };
  struct Area {
    uint64_t address = 0, bytes = 0;
  };
  struct Tile {
    uint32_t y = 1, x = 1, st = 1, yp0 = 0, yp1 = 0, xp0 = 0, xp1 = 0;
    uint64_t rows() const { return uint64_t{yp0} + y + yp1; }
    uint64_t cols() const { return uint64_t{xp0} + x + xp1; }
    uint64_t size() const { return rows() * cols(); }
    uint64_t span() const { return y == 0 ? 0 : uint64_t{y - 1} * st + x; }  // DRAM elements
  };
  // Token queues: load->compute, compute->load, compute->store, store->compute.
  enum Queue : uint8_t { kL2C = 0, kC2L = 1, kC2S = 2, kS2C = 3 };

  static constexpr uint64_t kElemLimit = uint64_t{1} << 32;  // dram_base is a 32-bit element index
  static constexpr uint32_t kMaxIter = (1u << isa::FixedFieldWidths::kLoopIter) - 1;
  static constexpr uint32_t kMax16 = 0xffff;

  uint64_t range(uint64_t lo, uint64_t hi) { return lo + rng_() % (hi - lo + 1); }  // inclusive
  bool chance(uint64_t one_in) { return rng_() % one_in == 0; }
  // Inclusive, biased to `hi`: the top of a buffer or a field is where index arithmetic breaks.
  uint64_t top(uint64_t lo, uint64_t hi) {
    switch (rng_() % 4) {
      case 0: return hi;
      case 1: return hi - std::min<uint64_t>(hi - lo, rng_() % 4);
      default: return range(lo, hi);
    }
  }
  // Any value of a field that does not matter (high bits included).
  uint32_t junk(uint32_t max) { return static_cast<uint32_t>(chance(3) ? max : chance(2) ? 0 : range(0, max)); }
  static uint32_t bits_of(const std::vector<std::pair<std::string, uint32_t>>& v, const std::string& name) {
    for (const auto& [n, w] : v)
      if (n == name) return w;
    return 0;
  }
  static uint32_t field_max(uint32_t bits) { return bits >= 32 ? ~0u : (1u << bits) - 1; }
  uint64_t eb(MT t) const { return t == MT::kUop ? 4 : cfg_.buffer(t).element_bytes; }
  const Slot& slot(MT t, uint32_t s) const { return slots_[static_cast<size_t>(t)][s]; }

  // ---- DRAM regions ----------------------------------------------------------------------------------

  bool is_free(uint64_t a, uint64_t b) const {
    for (const auto& [x, y] : used_)
      if (a < y + 64 && x < b + 64) return false;
    return true;
  }

  // An address for `bytes` bytes, aligned to `align`, ending at or below `limit`: low, anywhere, or at the
  // very top (large dram_base values: the high bits of the field).
  uint64_t place(uint64_t bytes, uint64_t align, uint64_t limit) {
    for (int attempt = 0; attempt < 24 && bytes + (1u << 17) < limit; ++attempt) {
      uint64_t a = 0;
      const uint64_t where = rng_() % 4;
      switch (where) {
        case 0: a = limit - bytes - range(0, 1u << 16); break;
        case 1: a = range(0, limit - bytes); break;
        default: a = low_cursor_ + range(0, 8192); break;
      }
      a = a / align * align;
      if (a + bytes <= limit && is_free(a, a + bytes)) {
        if (where >= 2) low_cursor_ = a + bytes + 4096;
        return a;
      }
    }
    for (uint64_t a = (low_cursor_ + align - 1) / align * align;; a += 4096 / align * align + align) {
      if (is_free(a, a + bytes)) {
        low_cursor_ = std::max(low_cursor_, a + bytes + 4096);
        return a;
      }
    }
  }

  std::vector<uint8_t> random_bytes(uint64_t n) {
    std::vector<uint8_t> v(n);
    for (uint64_t i = 0; i < n; i += 8) {
      const uint64_t r = rng_();
      std::memcpy(&v[i], &r, std::min<uint64_t>(8, n - i));
    }
    return v;
  }

  // Shift amounts around the ACC width and zero, where the SHR rules change.
  int32_t shift_amount() {
    const auto w = static_cast<int32_t>(cfg_.acc_width());
    if (chance(3)) return static_cast<int32_t>(range(0, 2 * w + 8)) - (w + 4);
    const int32_t edges[] = {0, 1, -1, w - 1, w, w + 1, -(w - 1), -w, -(w + 1)};
    return edges[range(0, std::size(edges) - 1)];
  }

  // Adds a region of random bytes (ACC: a quarter of the lanes small shift amounts; UOP: micro-ops from
  // `uop`) and returns it.
  RegionImage& add_region(uint64_t address, uint64_t bytes, MT type, const std::function<uint32_t()>* uop) {
    used_.push_back({address, address + bytes});
    regions_.push_back({address, random_bytes(bytes)});
    std::vector<uint8_t>& b = regions_.back().bytes;
    if (type == MT::kUop && uop) {
      for (uint64_t i = 0; i + 4 <= b.size(); i += 4) {
        const uint32_t raw = (*uop)();
        std::memcpy(&b[i], &raw, 4);
      }
    } else if (type == MT::kAcc) {
      const uint32_t lane = cfg_.acc_width() / 8;
      for (uint64_t i = 0; i + lane <= b.size(); i += lane) {
        if (!chance(4)) continue;
        const auto x = static_cast<uint32_t>(shift_amount());
        for (uint32_t k = 0; k < lane; ++k) b[i + k] = static_cast<uint8_t>(x >> (8 * k));
      }
    }
    return regions_.back();
  }

  // Fresh DRAM rows for a tile of memory type `t`: one region when the rows are close together, one
  // region per row when the stride is large. Returns dram_base (elements).
  uint32_t fresh_rows(MT t, const Tile& tile, const std::function<uint32_t()>* uop = nullptr) {
    if (tile.y == 0) return static_cast<uint32_t>(rng_());  // reads nothing: any base
    const uint64_t e = eb(t), span = tile.span();
    if (span * e <= (64u << 10) || tile.st < tile.x || tile.y > 8) {
      const uint64_t a = place(span * e, e, kElemLimit * e);
      add_region(a, span * e, t, uop);
      return static_cast<uint32_t>(a / e);
    }
    for (int attempt = 0;; ++attempt) {
      const uint64_t limit = kElemLimit - span;
      uint64_t b = attempt > 32 ? (low_cursor_ + e - 1) / e + uint64_t{static_cast<uint32_t>(attempt)} * 4096
                   : chance(2)  ? limit - range(0, 1u << 12)
                                : range(0, limit);
      bool ok = b < limit;
      for (uint32_t r = 0; ok && r < tile.y; ++r) {
        const uint64_t a = (b + uint64_t{r} * tile.st) * e;
        ok = is_free(a, a + tile.x * e);
      }
      if (!ok) continue;
      for (uint32_t r = 0; r < tile.y; ++r) add_region((b + uint64_t{r} * tile.st) * e, tile.x * e, t, uop);
      if (attempt > 32) low_cursor_ = std::max(low_cursor_, (b + span) * e + 4096);
      return static_cast<uint32_t>(b);
    }
  }

  // Rows inside the area a store step wrote (read back as type `t`), if the tile fits.
  bool area_rows(MT t, const Tile& tile, const Area& area, uint32_t& dram_base) {
    const uint64_t e = eb(t);
    if (tile.y == 0 || area.address % e != 0 || (area.address + area.bytes) / e >= kElemLimit) return false;
    if (tile.span() * e > area.bytes) return false;
    dram_base = static_cast<uint32_t>(area.address / e + range(0, area.bytes / e - tile.span()));
    return true;
  }

  // ---- tiles and instructions -------------------------------------------------------------------------

  uint32_t pad() {
    if (chance(8)) return static_cast<uint32_t>(top(0, 15));
    return chance(2) ? 0 : static_cast<uint32_t>(range(1, 3));
  }

  uint32_t stride(uint32_t x, uint32_t y) {
    if (chance(6)) return static_cast<uint32_t>(range(0, x));  // overlapping rows; 0 repeats one row
    if (y <= 4 && chance(8)) return static_cast<uint32_t>(top(x, kMax16));  // rows far apart
    return static_cast<uint32_t>(std::min<uint64_t>(range(x, uint64_t{x} + 3), kMax16));
  }

  // A tile of at most `w` SRAM elements.
  Tile random_tile(uint64_t w, bool pads) {
    Tile t;
    t.x = static_cast<uint32_t>(chance(6) ? top(1, std::min<uint64_t>(w, kMax16)) : range(1, std::min<uint64_t>(w, 8)));
    const uint64_t maxy = std::min<uint64_t>(w / t.x, kMax16);
    t.y = static_cast<uint32_t>(chance(16) ? 0 : chance(6) ? top(1, maxy) : range(1, std::min<uint64_t>(maxy, 4)));
    if (pads) t.yp0 = pad(), t.yp1 = pad(), t.xp0 = pad(), t.xp1 = pad();
    if (t.size() > w) t.yp0 = t.yp1 = t.xp0 = t.xp1 = 0;
    t.st = stride(t.x, t.y);
    return t;
  }

  static isa::MemInsn mem(isa::Opcode op, MT type, uint32_t sram_base, const Tile& t) {
    isa::MemInsn m;
    m.opcode = op;
    m.memory_type = type;
    m.sram_base = sram_base;
    m.y_size = t.y, m.x_size = t.x, m.x_stride = t.st;
    m.y_pad_0 = t.yp0, m.y_pad_1 = t.yp1, m.x_pad_0 = t.xp0, m.x_pad_1 = t.xp1;
    return m;
  }

  // Token-only instruction with junk in every other field.
  isa::MemInsn noop(isa::Opcode op, MT type) {
    isa::MemInsn m;
    m.opcode = op;
    m.memory_type = type;
    m.sram_base = junk(kMax16);
    m.dram_base = static_cast<uint32_t>(rng_());
    m.y_size = junk(kMax16);
    m.x_stride = junk(kMax16);
    m.y_pad_0 = junk(15), m.y_pad_1 = junk(15), m.x_pad_0 = junk(15), m.x_pad_1 = junk(15);
    return m;
  }
  isa::Instruction load_noop() { return noop(isa::Opcode::kLoad, chance(2) ? MT::kInp : MT::kWgt); }
  isa::Instruction store_noop() { return noop(isa::Opcode::kStore, static_cast<MT>(range(0, 4))); }
  isa::Instruction compute_noop() {
    const uint32_t uop_depth = cfg_.uop().depth;
    switch (range(0, 4)) {
      case 0: return noop(isa::Opcode::kLoad, MT::kUop);
      case 1: return noop(isa::Opcode::kLoad, MT::kAcc);
      case 2: return noop(isa::Opcode::kLoad, MT::kOut);  // a token-only LOAD of OUT is legal
      default: {  // GEMM/ALU with an empty loop: an empty micro-op range or a zero extent
        isa::LoopNest l;
        if (chance(2)) {
          l.uop_bgn = l.uop_end = static_cast<uint32_t>(top(0, uop_depth - 1));  // uop_bgn < depth: field width
          l.iter_out = junk(kMaxIter), l.iter_in = junk(kMaxIter);
        } else {
          l.uop_bgn = static_cast<uint32_t>(range(0, uop_depth - 1));
          l.uop_end = static_cast<uint32_t>(range(l.uop_bgn, uop_depth));
          (chance(2) ? l.iter_out : l.iter_in) = 0;
          (chance(2) ? l.iter_in : l.iter_out) = junk(kMaxIter);
        }
        const auto& bits = chance(2) ? gemm_bits_ : alu_bits_;
        l.dst_factor_out = junk(field_max(bits_of(bits, "dst_factor_out")));
        l.dst_factor_in = junk(field_max(bits_of(bits, "dst_factor_in")));
        l.src_factor_out = junk(field_max(bits_of(bits, "src_factor_out")));
        l.src_factor_in = junk(field_max(bits_of(bits, "src_factor_in")));
        if (&bits == &gemm_bits_) {
          isa::GemmInsn g;
          g.loop = l;
          g.wgt_factor_out = junk(field_max(bits_of(bits, "wgt_factor_out")));
          g.wgt_factor_in = junk(field_max(bits_of(bits, "wgt_factor_in")));
          return g;
        }
        isa::AluInsn a;
        a.loop = l;
        a.alu_opcode = static_cast<isa::AluOpcode>(range(0, isa::kAluOpcodeCount - 1));
        a.use_imm = chance(2);
        a.imm = static_cast<int32_t>(range(0, 65535)) - 32768;
        return a;
      }
    }
  }

  // A LOAD that writes exactly the slot (every entry defined before anything reads it): rows x columns a
  // factorization of the width, pads included.
  isa::MemInsn define_load(MT t, const Slot& sl, int64_t last_area) {
    const uint32_t w = sl.width;
    std::vector<uint32_t> divisors;
    for (uint32_t d = 1; uint64_t{d} * d <= w; ++d)
      if (w % d == 0) divisors.insert(divisors.end(), {d, w / d});
    const uint32_t rows = divisors[range(0, divisors.size() - 1)], cols = w / rows;
    Tile tile;
    tile.xp0 = cols > 1 && chance(3) ? static_cast<uint32_t>(range(0, std::min<uint32_t>(15, cols - 1))) : 0;
    tile.xp1 = cols - tile.xp0 > 1 && chance(3) ? static_cast<uint32_t>(range(0, std::min<uint32_t>(15, cols - tile.xp0 - 1))) : 0;
    tile.x = cols - tile.xp0 - tile.xp1;
    tile.yp0 = rows > 1 && chance(3) ? static_cast<uint32_t>(range(0, std::min<uint32_t>(15, rows - 1))) : 0;
    tile.yp1 = rows - tile.yp0 > 1 && chance(3) ? static_cast<uint32_t>(range(0, std::min<uint32_t>(15, rows - tile.yp0 - 1))) : 0;
    tile.y = rows - tile.yp0 - tile.yp1;
    tile.st = stride(tile.x, tile.y);
    isa::MemInsn m = mem(isa::Opcode::kLoad, t, sl.base, tile);
    m.dram_base = dram_for_load(t, tile, last_area);
    return m;
  }

  // DRAM rows for a LOAD: read back from a store step's area (steps 0..last_area are ordered before it
  // by tokens) or fresh random rows.
  uint32_t dram_for_load(MT t, const Tile& tile, int64_t last_area) {
    uint32_t base = 0;
    if (last_area >= 0 && chance(3) && area_rows(t, tile, areas_[range(0, static_cast<uint64_t>(last_area))], base))
      return base;
    return fresh_rows(t, tile);
  }

  isa::MemInsn tile_load(MT t, const Slot& sl, int64_t last_area) {
    const Tile tile = random_tile(sl.width, true);
    isa::MemInsn m = mem(isa::Opcode::kLoad, t, static_cast<uint32_t>(sl.base + top(0, sl.width - tile.size())), tile);
    m.dram_base = dram_for_load(t, tile, last_area);
    return m;
  }

  isa::Instruction store_item(uint32_t step, const Slot& acc) {
    if (chance(8)) return store_noop();
    Tile tile;
    tile.x = static_cast<uint32_t>(chance(6) ? top(1, std::min<uint64_t>(acc.width, kMax16)) : range(1, std::min<uint32_t>(acc.width, 8)));
    const uint64_t maxy = std::min<uint64_t>(acc.width / tile.x, kMax16);
    tile.y = static_cast<uint32_t>(chance(12) ? 0 : chance(6) ? top(1, maxy) : range(1, std::min<uint64_t>(maxy, 4)));
    tile.st = stride(tile.x, tile.y);
    isa::MemInsn m = mem(isa::Opcode::kStore, MT::kOut, 0, tile);
    m.sram_base = static_cast<uint32_t>(acc.base + top(0, acc.width - uint64_t{tile.y} * tile.x));
    const uint64_t e = eb(MT::kOut);
    const Area& area = chance(3) ? scratch_ : areas_[step];
    if (tile.y == 0)
      m.dram_base = static_cast<uint32_t>(rng_());
    else if (!chance(5) && tile.span() * e <= area.bytes)
      m.dram_base = static_cast<uint32_t>(area.address / e + range(0, area.bytes / e - tile.span()));
    else
      m.dram_base = fresh_rows(MT::kOut, tile);
    return m;
  }

  uint32_t extent() {
    switch (range(0, 19)) {
      case 0: return kMaxIter;
      case 1:
      case 2: return static_cast<uint32_t>(range(513, kMaxIter));
      case 3:
      case 4:
      case 5: return static_cast<uint32_t>(range(33, 512));
      case 6:
      case 7:
      case 8:
      case 9: return static_cast<uint32_t>(range(5, 32));
      default: return static_cast<uint32_t>(range(1, 4));
    }
  }

  // Factors of one index for loop extents (io, ii): the index span stays below `room`; a factor whose
  // loop runs once, or of an index nothing reads, takes any value of its field.
  std::pair<uint32_t, uint32_t> factors(uint32_t io, uint32_t ii, uint64_t room, uint32_t bits, bool used,
                                        uint64_t& span) {
    const uint32_t fmax = field_max(bits);
    span = 0;
    if (!used) return {junk(fmax), junk(fmax)};
    const auto pick = [&](uint32_t iters) -> uint32_t {
      if (iters <= 1) return junk(fmax);
      const uint64_t hi = std::min<uint64_t>(room / (iters - 1), fmax);
      const auto f = static_cast<uint32_t>(chance(4) ? 0 : top(0, hi));
      room -= uint64_t{iters - 1} * f;
      span += uint64_t{iters - 1} * f;
      return f;
    };
    if (chance(2)) {
      const uint32_t fo = pick(io);
      return {fo, pick(ii)};
    }
    const uint32_t fi = pick(ii);
    return {pick(io), fi};
  }

  // LOAD UOP + GEMM or ALU over the slots of step slot `s`.
  void loop_insn(Stream& out, uint32_t s, bool gemm) {
    const Slot &acc = slot(MT::kAcc, s), &inp = slot(MT::kInp, s), &wgt = slot(MT::kWgt, s), &us = slot(MT::kUop, s);
    const bool reset = chance(gemm ? 10 : 20);
    isa::AluInsn alu;
    alu.alu_opcode = static_cast<isa::AluOpcode>(range(0, isa::kAluOpcodeCount - 1));
    alu.use_imm = chance(2);
    alu.imm = static_cast<int32_t>(range(0, 65535)) - 32768;
    if (alu.alu_opcode == isa::AluOpcode::kShr && !chance(8)) alu.imm = shift_amount();
    const bool reads_inp = gemm && !reset, reads_src = !gemm && !reset && !alu.use_imm;
    // Zero micro-ops (UOP padding) touch index 0 plus the loop offsets: only inside slots that start at 0.
    const bool pad_ok = acc.base == 0 && (!reads_inp || (inp.base == 0 && wgt.base == 0));

    Tile t;
    t.x = static_cast<uint32_t>(chance(8) ? top(1, std::min<uint32_t>(us.width, 64)) : range(1, std::min<uint32_t>(us.width, 8)));
    t.y = static_cast<uint32_t>(chance(2) ? 1 : range(1, std::max<uint64_t>(1, std::min<uint64_t>(4, us.width / t.x))));
    if (chance(16)) t.y = 0;
    t.xp0 = chance(4) ? static_cast<uint32_t>(range(1, 2)) : 0, t.xp1 = chance(4) ? static_cast<uint32_t>(range(1, 2)) : 0;
    t.yp0 = chance(4) ? static_cast<uint32_t>(range(1, 2)) : 0, t.yp1 = chance(4) ? static_cast<uint32_t>(range(1, 2)) : 0;
    if (t.size() > us.width) t.xp0 = t.xp1 = t.yp0 = t.yp1 = 0;
    if (t.size() > us.width) t.y = 1;
    t.st = stride(t.x, t.y);
    const auto tile_base = static_cast<uint32_t>(us.base + top(0, us.width - t.size()));
    uint32_t bgn = tile_base, end = static_cast<uint32_t>(tile_base + t.size());
    if (pad_ok || t.size() == uint64_t{t.y} * t.x) {
      if (chance(4)) {  // a sub-range, possibly empty
        bgn = static_cast<uint32_t>(range(bgn, end));
        end = static_cast<uint32_t>(range(bgn, end));
      }
    } else if (t.y == 0) {
      end = bgn;
    } else {  // micro-ops of one row only
      const uint64_t row = tile_base + (t.yp0 + range(0, t.y - 1)) * t.cols() + t.xp0;
      bgn = static_cast<uint32_t>(row + (chance(2) ? 0 : range(0, t.x - 1)));
      end = static_cast<uint32_t>(chance(2) ? row + t.x : range(bgn, row + t.x));
    }
    if (bgn == cfg_.uop().depth) bgn = end = bgn - 1;  // an empty tile at the very top: uop_bgn has log2(depth) bits
    const uint64_t count = end - bgn;

    isa::LoopNest l;
    l.reset = reset;
    l.uop_bgn = bgn, l.uop_end = end;
    l.iter_out = extent(), l.iter_in = extent();
    if (count > 0 && uint64_t{l.iter_out} * l.iter_in * count > budget_) {
      l.iter_out = static_cast<uint32_t>(std::clamp<uint64_t>(budget_ / count, 1, l.iter_out));
      l.iter_in = static_cast<uint32_t>(std::clamp<uint64_t>(budget_ / (count * l.iter_out), 1, l.iter_in));
    }
    budget_ -= std::min(budget_, uint64_t{l.iter_out} * l.iter_in * count);

    const auto& bits = gemm ? gemm_bits_ : alu_bits_;
    uint64_t dspan = 0, sspan = 0, wspan = 0;
    std::tie(l.dst_factor_out, l.dst_factor_in) =
        factors(l.iter_out, l.iter_in, acc.width - 1, bits_of(bits, "dst_factor_out"), true, dspan);
    const Slot& src = gemm ? inp : acc;
    std::tie(l.src_factor_out, l.src_factor_in) =
        factors(l.iter_out, l.iter_in, src.width - 1, bits_of(bits, "src_factor_out"), reads_inp || reads_src, sspan);
    uint32_t wfo = 0, wfi = 0;
    if (gemm) std::tie(wfo, wfi) = factors(l.iter_out, l.iter_in, wgt.width - 1, bits_of(bits, "wgt_factor_out"), reads_inp, wspan);

    const uint32_t src_max = field_max(cfg_.uop_src_bits()), wgt_max = field_max(cfg_.uop_wgt_bits());
    const bool src_read = reads_inp || reads_src;
    const std::function<uint32_t()> uop = [&]() {
      isa::MicroOp u;
      u.dst_idx = static_cast<uint32_t>(acc.base + top(0, acc.width - 1 - dspan));
      u.src_idx = src_read || chance(2) ? static_cast<uint32_t>(src.base + top(0, src.width - 1 - sspan)) : junk(src_max);
      u.wgt_idx = gemm && (reads_inp || chance(2)) ? static_cast<uint32_t>(wgt.base + top(0, wgt.width - 1 - wspan))
                                                   : junk(wgt_max);
      if (!gemm && !chance(4)) u.wgt_idx = 0;
      return codec_.encode_uop(u);
    };
    isa::MemInsn load = mem(isa::Opcode::kLoad, MT::kUop, tile_base, t);
    load.dram_base = fresh_rows(MT::kUop, t, &uop);
    out.push_back(load);
    if (gemm) {
      isa::GemmInsn g;
      g.loop = l;
      g.wgt_factor_out = wfo, g.wgt_factor_in = wfi;
      out.push_back(g);
    } else {
      alu.loop = l;
      out.push_back(alu);
    }
  }

  void compute_item(Stream& out, uint32_t step, uint32_t s) {
    switch (range(0, 9)) {
      case 0: out.push_back(compute_noop()); return;
      case 1:
      case 2: out.push_back(tile_load(MT::kAcc, slot(MT::kAcc, s), static_cast<int64_t>(step) - S_)); return;
      case 3:
      case 4:
      case 5:
      case 6: loop_insn(out, s, true); return;
      default: loop_insn(out, s, false); return;
    }
  }

  // ---- tokens -----------------------------------------------------------------------------------------

  // Queues an instruction of module `m` pops and pushes, as bit masks over Queue.
  static std::pair<uint8_t, uint8_t> token_use(const isa::Instruction& insn) {
    const isa::DepFlags& d = isa::dep_flags(insn);
    uint8_t pops = 0, pushes = 0;
    switch (isa::module_of(insn)) {
      case isa::Module::kLoad:
        pops = d.pop_next ? 1u << kC2L : 0;
        pushes = d.push_next ? 1u << kL2C : 0;
        break;
      case isa::Module::kCompute:
        pops = static_cast<uint8_t>((d.pop_prev ? 1u << kL2C : 0) | (d.pop_next ? 1u << kS2C : 0));
        pushes = static_cast<uint8_t>((d.push_prev ? 1u << kC2L : 0) | (d.push_next ? 1u << kC2S : 0));
        break;
      case isa::Module::kStore:
        pops = d.pop_prev ? 1u << kC2S : 0;
        pushes = d.push_prev ? 1u << kS2C : 0;
        break;
    }
    return {pops, pushes};
  }

  // Producer/consumer streams and flags of queue q.
  struct QueueEnds {
    Stream* producer;
    bool isa::DepFlags::*push;
    Stream* consumer;
    bool isa::DepFlags::*pop;
  };
  QueueEnds ends(Queue q, Stream& L, Stream& C, Stream& St) {
    switch (q) {
      case kL2C: return {&L, &isa::DepFlags::push_next, &C, &isa::DepFlags::pop_prev};
      case kC2L: return {&C, &isa::DepFlags::push_prev, &L, &isa::DepFlags::pop_next};
      case kC2S: return {&C, &isa::DepFlags::push_next, &St, &isa::DepFlags::pop_prev};
      default: return {&St, &isa::DepFlags::push_prev, &C, &isa::DepFlags::pop_next};
    }
  }

  static size_t count_flag(const Stream& s, bool isa::DepFlags::*flag) {
    return static_cast<size_t>(std::count_if(s.begin(), s.end(), [&](const auto& i) { return isa::dep_flags(i).*flag; }));
  }

  // k extra tokens on queue q right after its m-th push, popped right after its m-th pop: the queue fills
  // up while every step's pop still meets its own push.
  void burst(Queue q, uint32_t k, Stream& L, Stream& C, Stream& St) {
    QueueEnds e = ends(q, L, C, St);
    const size_t pushes = count_flag(*e.producer, e.push);
    if (pushes == 0 || k == 0) return;
    const size_t m = range(0, pushes - 1);
    const auto insert_after_nth = [&](Stream& s, bool isa::DepFlags::*flag, const auto& make) {
      size_t seen = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        if (!(isa::dep_flags(s[i]).*flag) || seen++ != m) continue;
        Stream extra;
        for (uint32_t j = 0; j < k; ++j) {
          extra.push_back(make());
          isa::dep_flags(extra.back()).*flag = true;
        }
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(i) + 1, extra.begin(), extra.end());
        return;
      }
    };
    const auto make_for = [&](Stream* s) -> std::function<isa::Instruction()> {
      if (s == &L) return [this] { return load_noop(); };
      if (s == &St) return [this] { return store_noop(); };
      return [this] { return compute_noop(); };
    };
    insert_after_nth(*e.producer, e.push, make_for(e.producer));
    insert_after_nth(*e.consumer, e.pop, make_for(e.consumer));
  }

  // A random interleaving of the three streams in which every pop follows its push; runs of one module
  // of random length. FINISH (last of the compute stream) comes last.
  Stream merge(std::array<Stream, 3>& streams) {
    Stream out;
    std::array<size_t, 3> pos{};
    std::array<uint32_t, 4> tokens{};
    const uint64_t stick = range(40, 97);
    size_t cur = range(0, 2);
    for (;;) {
      std::vector<size_t> ready;
      for (size_t m = 0; m < 3; ++m) {
        if (pos[m] >= streams[m].size()) continue;
        const isa::Instruction& insn = streams[m][pos[m]];
        if (std::holds_alternative<isa::FinishInsn>(insn) &&
            (pos[0] < streams[0].size() || pos[2] < streams[2].size()))
          continue;
        const uint8_t pops = token_use(insn).first;
        bool ok = true;
        for (uint8_t q = 0; q < 4; ++q) ok = ok && (!(pops & (1u << q)) || tokens[q] > 0);
        if (ok) ready.push_back(m);
      }
      if (ready.empty()) break;
      if (std::find(ready.begin(), ready.end(), cur) == ready.end() || range(0, 99) >= stick)
        cur = ready[range(0, ready.size() - 1)];
      const isa::Instruction& insn = streams[cur][pos[cur]++];
      const auto [pops, pushes] = token_use(insn);
      for (uint8_t q = 0; q < 4; ++q) tokens[q] += ((pushes >> q) & 1u) - ((pops >> q) & 1u);
      out.push_back(insn);
    }
    for (size_t m = 0; m < 3; ++m)
      if (pos[m] < streams[m].size()) throw std::logic_error("StressProgramGenerator: token order broken");
    return out;
  }

  // ---- one program -----------------------------------------------------------------------------------

  void choose_layout() {
    S_ = static_cast<uint32_t>(chance(2) ? 2 : range(1, 4));
    n_ = static_cast<uint32_t>(chance(4) ? range(1, 3) : range(3, 9));
    budget_ = opt_.max_uops ? opt_.max_uops : chance(16) ? 32768 : 3000;
    for (MT t : {MT::kUop, MT::kWgt, MT::kInp, MT::kAcc}) {
      const uint32_t depth = cfg_.buffer(t).depth, maxw = depth / S_;
      // Mostly small slots (speed), sometimes up to a cap or the whole share of the buffer.
      const uint32_t cap = t == MT::kUop ? 256 : t == MT::kWgt ? 32 : 128;
      const auto w = static_cast<uint32_t>(chance(32)  ? maxw
                                           : chance(4) ? top(1, std::min(maxw, cap))
                                                       : range(1, std::min<uint32_t>(maxw, 16)));
      const bool packed_at_top = chance(2);
      auto& v = slots_[static_cast<size_t>(t)];
      v.assign(S_, {});
      for (uint32_t s = 0; s < S_; ++s)
        v[s] = {static_cast<uint32_t>(packed_at_top ? depth - (S_ - s) * w : s * maxw + top(0, maxw - w)), w};
    }
    // DRAM areas of the store steps, readable as every memory type.
    uint64_t min_eb = ~uint64_t{0};
    for (MT t : {MT::kWgt, MT::kInp, MT::kAcc, MT::kOut}) min_eb = std::min(min_eb, eb(t));
    const auto area = [&] {
      const uint64_t bytes = range(1, 16) * 1024;
      const uint64_t a = place(bytes, 4096, kElemLimit * min_eb);
      add_region(a, bytes, MT::kOut, nullptr);
      return Area{a, bytes};
    };
    areas_.clear();
    for (uint32_t j = 0; j < n_; ++j) areas_.push_back(area());
    scratch_ = area();
  }

  std::string inject(IllegalKind& kind, Stream& prog, std::vector<isa::RawInstruction>& raw, uint32_t& index);

  GeneratedProgram build(IllegalKind kind) {
    regions_.clear();
    used_.clear();
    low_cursor_ = 0x100000;
    choose_layout();
    const bool ahead = chance(2);
    Stream L, C, St;
    if (ahead)
      for (uint32_t k = 0; k < std::min(S_, n_); ++k) {
        C.push_back(compute_noop());
        isa::dep_flags(C.back()).push_prev = true;
        St.push_back(store_noop());
        isa::dep_flags(St.back()).push_prev = true;
      }
    for (uint32_t i = 0; i < n_; ++i) {
      const uint32_t s = i % S_;
      const int64_t back_load = static_cast<int64_t>(i) - 2 * S_, back_acc = static_cast<int64_t>(i) - S_;
      Stream lp, cp, sp;
      if (i < S_) {
        const bool wgt_first = chance(2);
        for (MT t : {wgt_first ? MT::kWgt : MT::kInp, wgt_first ? MT::kInp : MT::kWgt})
          lp.push_back(define_load(t, slot(t, s), back_load));
      }
      for (uint64_t k = range(0, 4); k > 0; --k) {
        const MT t = chance(2) ? MT::kInp : MT::kWgt;
        lp.push_back(chance(8) ? load_noop() : isa::Instruction(tile_load(t, slot(t, s), back_load)));
      }
      if (lp.empty()) lp.push_back(load_noop());
      isa::dep_flags(lp.front()).pop_next = ahead || i >= S_;
      isa::dep_flags(lp.back()).push_next = true;

      if (i < S_) cp.push_back(define_load(MT::kAcc, slot(MT::kAcc, s), back_acc));
      for (uint64_t k = range(1, 6); k > 0; --k) compute_item(cp, i, s);
      isa::dep_flags(cp.front()).pop_prev = true;
      isa::dep_flags(cp.front()).pop_next = ahead || i >= S_;
      isa::dep_flags(cp.back()).push_next = true;
      isa::dep_flags(cp.back()).push_prev = i + S_ < n_;

      for (uint64_t k = range(0, 3); k > 0; --k) sp.push_back(store_item(i, slot(MT::kAcc, s)));
      if (sp.empty()) sp.push_back(store_noop());
      isa::dep_flags(sp.front()).pop_prev = true;
      isa::dep_flags(sp.back()).push_prev = i + S_ < n_;
      L.insert(L.end(), lp.begin(), lp.end());
      C.insert(C.end(), cp.begin(), cp.end());
      St.insert(St.end(), sp.begin(), sp.end());
    }
    // Token bursts; below, the last store, one more load no-op or FINISH adds at most one push per queue.
    if (!chance(3)) {
      for (uint64_t b = range(1, 3); b > 0; --b) {
        const auto q = static_cast<Queue>(range(0, 3));
        QueueEnds e = ends(q, L, C, St);
        const size_t total = count_flag(*e.producer, e.push);
        const size_t room = isa::CoreQueueDepths::kToken - 1 - std::min<size_t>(total, isa::CoreQueueDepths::kToken - 1);
        const uint64_t k = chance(10) ? room : std::min<uint64_t>(room, range(1, 8));
        burst(q, static_cast<uint32_t>(k), L, C, St);
      }
    }
    isa::FinishInsn fin;
    if (chance(2)) {  // FINISH waits for the last store (the VTA runtime's pattern)
      isa::dep_flags(St.back()).push_prev = true;
      fin.dep.pop_next = true;
    }
    if (chance(4)) {  // ... and/or for one more load token
      L.push_back(load_noop());
      isa::dep_flags(L.back()).push_next = true;
      fin.dep.pop_prev = true;
    }
    if (opt_.leftover_tokens && kind == IllegalKind::kNone && chance(16)) {
      fin.dep.push_prev = chance(2);
      fin.dep.push_next = !fin.dep.push_prev || chance(2);
    }
    C.push_back(fin);
    std::array<Stream, 3> streams = {std::move(L), std::move(C), std::move(St)};
    Stream prog = merge(streams);

    GeneratedProgram g;
    uint32_t index = 0;
    std::vector<isa::RawInstruction> raw;
    if (kind == IllegalKind::kNone) {
      for (const auto& insn : prog) raw.push_back(codec_.encode(insn));
    } else {
      g.note = inject(kind, prog, raw, index);
      g.error_index = index;
    }
    g.illegal = kind;
    g.regions = std::move(regions_);
    RegionImage insns;
    isa::raw_instructions_to_bytes(raw, insns.bytes);
    insns.address = place(insns.bytes.size(), 16, chance(4) ? uint64_t{1} << 40 : uint64_t{1} << 32);
    g.regions.push_back(std::move(insns));
    g.insn_address = g.regions.back().address;
    g.insn_count = static_cast<uint32_t>(prog.size());
    g.program = std::move(prog);
    regions_.clear();
    return g;
  }

  isa::HwConfig cfg_;
  isa::InstructionCodec codec_;
  std::mt19937_64 rng_;
  StressOptions opt_;
  std::vector<std::pair<std::string, uint32_t>> gemm_bits_, alu_bits_;
  uint32_t mem_type_lsb_ = 0;
  // The program being built.
  uint32_t S_ = 2, n_ = 1;
  uint64_t budget_ = 0;
  std::array<std::vector<Slot>, 5> slots_;
  std::vector<RegionImage> regions_;
  std::vector<std::pair<uint64_t, uint64_t>> used_;
  uint64_t low_cursor_ = 0;
  std::vector<Area> areas_;
  Area scratch_;
};

// Injects one error of class `kind` into the merged program (falling back to a bad opcode when the
// program has no instruction the class applies to), encodes it into `raw` and sets `index` to the
// instruction both backends must report. Returns a description.
inline std::string StressProgramGenerator::inject(IllegalKind& kind, Stream& prog, std::vector<isa::RawInstruction>& raw,
                                                  uint32_t& index) {
  const auto pick = [&](const auto& pred) -> int64_t {
    std::vector<size_t> c;
    for (size_t i = 0; i < prog.size(); ++i)
      if (pred(i)) c.push_back(i);
    return c.empty() ? -1 : static_cast<int64_t>(c[range(0, c.size() - 1)]);
  };
  const auto as_mem = [&](size_t i) { return std::get_if<isa::MemInsn>(&prog[i]); };
  int64_t at = -1;
  std::string what;
  uint32_t raw_opcode = 0, raw_mem_type = 0;
  switch (kind) {
    case IllegalKind::kBadOpcode:
      at = static_cast<int64_t>(range(0, prog.size() - 1));
      raw_opcode = static_cast<uint32_t>(range(5, 7));
      what = "opcode " + std::to_string(raw_opcode);
      break;
    case IllegalKind::kBadMemoryType:
      at = pick([&](size_t i) { return as_mem(i) != nullptr; });
      raw_mem_type = static_cast<uint32_t>(range(5, 7));
      what = "memory type " + std::to_string(raw_mem_type);
      break;
    case IllegalKind::kLoadOut:
      at = pick([&](size_t i) {
        const auto* m = as_mem(i);
        return m && m->opcode == isa::Opcode::kLoad && m->x_size != 0 &&
               (m->memory_type == MT::kUop || m->memory_type == MT::kAcc);
      });
      if (at >= 0) as_mem(static_cast<size_t>(at))->memory_type = MT::kOut, what = "LOAD of OUT";
      break;
    case IllegalKind::kStoreNonOut:
      at = pick([&](size_t i) {
        const auto* m = as_mem(i);
        return m && m->opcode == isa::Opcode::kStore && m->x_size != 0;
      });
      if (at >= 0) {
        as_mem(static_cast<size_t>(at))->memory_type = static_cast<MT>(range(0, 3));
        what = "STORE of " + std::string(isa::to_string(as_mem(static_cast<size_t>(at))->memory_type));
      }
      break;
    case IllegalKind::kBadAluOpcode:
      at = pick([&](size_t i) { return std::holds_alternative<isa::AluInsn>(prog[i]); });
      if (at >= 0) {
        auto& a = std::get<isa::AluInsn>(prog[static_cast<size_t>(at)]);
        a.alu_opcode = static_cast<isa::AluOpcode>(range(isa::kAluOpcodeCount, 7));
        what = "ALU opcode " + std::to_string(static_cast<int>(a.alu_opcode));
      }
      break;
    case IllegalKind::kDepFlag:
      at = pick([&](size_t i) { return isa::module_of(prog[i]) != isa::Module::kCompute; });
      if (at >= 0) {
        isa::DepFlags& d = isa::dep_flags(prog[static_cast<size_t>(at)]);
        const bool load = isa::module_of(prog[static_cast<size_t>(at)]) == isa::Module::kLoad, first = chance(2);
        if (load) (first ? d.pop_prev : d.push_prev) = true;
        else (first ? d.pop_next : d.push_next) = true;
        what = std::string(load ? "LOAD with " : "STORE with ") +
               (load ? (first ? "pop_prev" : "push_prev") : (first ? "pop_next" : "push_next"));
      }
      break;
    case IllegalKind::kDeadlock: {
      // One more pop than pushes on a queue, after the consumer's last pop of it: everything before it
      // in program order completes (the order is valid), so it is the lowest stalled instruction.
      std::vector<Queue> qs = {kL2C, kC2L, kC2S, kS2C};
      std::shuffle(qs.begin(), qs.end(), rng_);
      for (Queue q : qs) {
        uint32_t pushes = 0, pops = 0;
        int64_t last_pop = -1;
        for (size_t i = 0; i < prog.size(); ++i) {
          const auto [po, pu] = token_use(prog[i]);
          pushes += (pu >> q) & 1u;
          if ((po >> q) & 1u) ++pops, last_pop = static_cast<int64_t>(i);
        }
        if (pushes != pops) continue;
        const isa::Module consumer = q == kC2L ? isa::Module::kLoad : q == kC2S ? isa::Module::kStore : isa::Module::kCompute;
        at = pick([&](size_t i) { return static_cast<int64_t>(i) > last_pop && isa::module_of(prog[i]) == consumer; });
        if (at < 0) continue;
        isa::DepFlags& d = isa::dep_flags(prog[static_cast<size_t>(at)]);
        switch (q) {
          case kL2C: d.pop_prev = true; break;
          case kC2L: d.pop_next = true; break;
          case kC2S: d.pop_prev = true; break;
          case kS2C: d.pop_next = true; break;
        }
        static constexpr const char* kNames[] = {"load->compute", "compute->load", "compute->store", "store->compute"};
        what = std::string("a pop of the empty ") + kNames[q] + " queue";
        break;
      }
      break;
    }
    case IllegalKind::kOutOfRange:
      at = pick([&](size_t i) {
        if (const auto* m = as_mem(i)) return m->x_size != 0 && m->y_size != 0;
        const isa::LoopNest* l = nullptr;
        if (const auto* gi = std::get_if<isa::GemmInsn>(&prog[i])) l = &gi->loop;
        if (const auto* ai = std::get_if<isa::AluInsn>(&prog[i])) l = &ai->loop;
        return l && l->uop_end > l->uop_bgn && l->iter_out > 0 && l->iter_in > 0;
      });
      if (at >= 0) {
        isa::Instruction& insn = prog[static_cast<size_t>(at)];
        if (auto* m = std::get_if<isa::MemInsn>(&insn)) {
          m->sram_base = cfg_.buffer(m->memory_type).depth;
          what = "SRAM base at the buffer depth";
        } else {
          isa::LoopNest& l = std::holds_alternative<isa::GemmInsn>(insn) ? std::get<isa::GemmInsn>(insn).loop
                                                                         : std::get<isa::AluInsn>(insn).loop;
          l.iter_out = std::min<uint32_t>(std::max<uint32_t>(l.iter_out, 2), 4);
          l.iter_in = std::min<uint32_t>(std::max<uint32_t>(l.iter_in, 2), 4);
          l.dst_factor_out = l.dst_factor_in = cfg_.acc().depth - 1;
          what = "dst index past the ACC depth";
        }
      }
      break;
    case IllegalKind::kMisplacedFinish:
      at = static_cast<int64_t>(range(0, prog.size() - 2));
      prog.insert(prog.begin() + at, isa::FinishInsn{});
      what = "FINISH before the end";
      break;
    default: break;
  }
  if (at < 0) {  // nothing to apply the class to: a bad opcode anywhere
    kind = IllegalKind::kBadOpcode;
    at = static_cast<int64_t>(range(0, prog.size() - 1));
    raw_opcode = static_cast<uint32_t>(range(5, 7));
    what = "opcode " + std::to_string(raw_opcode) + " (no instruction for the class)";
  }
  for (const auto& insn : prog) raw.push_back(codec_.encode(insn));
  isa::RawInstruction& r = raw[static_cast<size_t>(at)];
  if (raw_opcode) r.lo = (r.lo & ~uint64_t{7}) | raw_opcode;
  if (raw_mem_type) {
    uint64_t& word = mem_type_lsb_ < 64 ? r.lo : r.hi;
    const uint32_t sh = mem_type_lsb_ % 64;
    word = (word & ~(uint64_t{7} << sh)) | (uint64_t{raw_mem_type} << sh);
  }
  index = static_cast<uint32_t>(at);
  return std::string(to_string(kind)) + " at instruction " + std::to_string(at) + ": " + what;
}

}  // namespace vta::test
