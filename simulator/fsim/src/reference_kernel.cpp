// The reference kernel: a plain interpreter of the VTA data path, written for obviousness, not speed.
// On-chip buffers are byte arrays; every lane is read with a generic little-endian load plus sign
// extension and written back truncated to its width; every element access is bounds-checked on the spot.
// It is the oracle of the differential tests against the fast kernel, so it shares no arithmetic with it.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "kernel.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

namespace vta::fsim::detail {
namespace {

using isa::AluInsn;
using isa::GemmInsn;
using isa::MemInsn;
using isa::MemoryType;

// Reads lane `lane` (each `bits` wide, a multiple of 8) of a little-endian packed element, sign-extended.
int64_t get_lane(const uint8_t* element, uint32_t lane, uint32_t bits) {
  const uint32_t bytes = bits / 8;
  uint64_t value = 0;
  for (uint32_t i = 0; i < bytes; ++i) value |= uint64_t{element[lane * bytes + i]} << (8 * i);
  const uint64_t sign_bit = uint64_t{1} << (bits - 1);
  if (bits < 64 && (value & sign_bit) != 0) value |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(value);
}

// Writes the low `bits` bits of `value` (two's complement) into lane `lane`.
void set_lane(uint8_t* element, uint32_t lane, uint32_t bits, int64_t value) {
  const uint32_t bytes = bits / 8;
  const auto v = static_cast<uint64_t>(value);
  for (uint32_t i = 0; i < bytes; ++i) element[lane * bytes + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Wraps a value to a signed `bits`-bit two's-complement number.
int64_t wrap(int64_t value, uint32_t bits) {
  uint8_t tmp[8];
  set_lane(tmp, 0, bits, value);
  return get_lane(tmp, 0, bits);
}

struct Buffer {
  std::string name;
  uint64_t depth = 0;
  uint32_t element_bytes = 0;
  uint32_t lane_bits = 0;
  std::vector<uint8_t> bytes;
};

class ReferenceKernel final : public ExecKernel {
 public:
  ReferenceKernel(const isa::HwConfig& config, sim::DeviceMemory& memory)
      : config_(config), memory_(memory), codec_(config) {
    init(uop_, "UOP", config.uop(), 32);
    init(inp_, "INP", config.inp(), config.inp_width());
    init(wgt_, "WGT", config.wgt(), config.wgt_width());
    init(acc_, "ACC", config.acc(), config.acc_width());
  }

  void clear() override {
    for (Buffer* b : {&uop_, &inp_, &wgt_, &acc_}) std::fill(b->bytes.begin(), b->bytes.end(), uint8_t{0});
  }

  void load(const MemInsn& insn, uint64_t index) override {
    Buffer& buf = buffer_for(insn.memory_type, index);
    const uint64_t eb = buf.element_bytes;
    const uint64_t rows = uint64_t{insn.y_pad_0} + insn.y_size + insn.y_pad_1;
    const uint64_t cols = uint64_t{insn.x_pad_0} + insn.x_size + insn.x_pad_1;
    for (uint64_t r = 0; r < rows; ++r) {
      const bool data_row = r >= insn.y_pad_0 && r < uint64_t{insn.y_pad_0} + insn.y_size;
      const uint8_t* dram_row = nullptr;
      if (data_row) {
        const uint64_t y = r - insn.y_pad_0;
        const uint64_t address = uint64_t{insn.dram_base} * eb + y * insn.x_stride * eb;
        dram_row = dram(address, insn.x_size * eb, index);
      }
      for (uint64_t c = 0; c < cols; ++c) {
        uint8_t* dst = element(buf, insn.sram_base + r * cols + c, index);
        const bool data_col = c >= insn.x_pad_0 && c < uint64_t{insn.x_pad_0} + insn.x_size;
        if (data_row && data_col)
          std::memcpy(dst, dram_row + (c - insn.x_pad_0) * eb, eb);
        else
          std::memset(dst, 0, eb);
      }
    }
  }

  void store(const MemInsn& insn, uint64_t index) override {
    const uint32_t out_bits = config_.out_width();
    const uint64_t out_eb = config_.out().element_bytes;
    const uint32_t lanes = config_.batch() * config_.block_out();
    for (uint64_t y = 0; y < insn.y_size; ++y) {
      const uint64_t address = uint64_t{insn.dram_base} * out_eb + y * insn.x_stride * out_eb;
      uint8_t* dram_row = dram(address, insn.x_size * out_eb, index);
      for (uint64_t x = 0; x < insn.x_size; ++x) {
        // OUT shares the ACC index: the element is the ACC entry truncated lane by lane.
        const uint8_t* src = element(acc_, insn.sram_base + y * insn.x_size + x, index);
        for (uint32_t lane = 0; lane < lanes; ++lane)
          set_lane(dram_row + x * out_eb, lane, out_bits, get_lane(src, lane, acc_.lane_bits));
      }
    }
  }

  void gemm(const GemmInsn& insn, uint64_t index) override {
    const isa::LoopNest& loop = insn.loop;
    check_uop_range(loop, index);
    const uint32_t batch = config_.batch();
    const uint32_t block_in = config_.block_in();
    const uint32_t block_out = config_.block_out();
    for (uint64_t i = 0; i < loop.iter_out; ++i) {
      for (uint64_t j = 0; j < loop.iter_in; ++j) {
        for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
          const isa::MicroOp uop = micro_op(k, index);
          const uint64_t dst_idx = uop.dst_idx + i * loop.dst_factor_out + j * loop.dst_factor_in;
          const uint64_t src_idx = uop.src_idx + i * loop.src_factor_out + j * loop.src_factor_in;
          const uint64_t wgt_idx = uop.wgt_idx + i * insn.wgt_factor_out + j * insn.wgt_factor_in;
          uint8_t* acc = element(acc_, dst_idx, index);
          if (loop.reset) {
            std::memset(acc, 0, acc_.element_bytes);
            continue;
          }
          const uint8_t* inp = element(inp_, src_idx, index);
          const uint8_t* wgt = element(wgt_, wgt_idx, index);
          for (uint32_t b = 0; b < batch; ++b) {
            for (uint32_t o = 0; o < block_out; ++o) {
              // Sum modulo 2^64, then wrap to the ACC width (exact: ACC is at most 32 bits).
              uint64_t sum = static_cast<uint64_t>(get_lane(acc, b * block_out + o, acc_.lane_bits));
              for (uint32_t x = 0; x < block_in; ++x) {
                const int64_t a = get_lane(inp, b * block_in + x, inp_.lane_bits);
                const int64_t w = get_lane(wgt, o * block_in + x, wgt_.lane_bits);
                sum += static_cast<uint64_t>(a * w);
              }
              set_lane(acc, b * block_out + o, acc_.lane_bits, static_cast<int64_t>(sum));
            }
          }
        }
      }
    }
  }

  void alu(const AluInsn& insn, uint64_t index) override {
    const auto op = static_cast<uint32_t>(insn.alu_opcode);
    if (op >= isa::kAluOpcodeCount)
      throw ProgramError("ALU opcode " + std::to_string(op) + " is unassigned (valid: 0 MIN, 1 MAX, 2 ADD, 3 SHR, 4 MUL)",
                         index);
    const isa::LoopNest& loop = insn.loop;
    check_uop_range(loop, index);
    const uint32_t bits = acc_.lane_bits;
    const uint32_t lanes = config_.batch() * config_.block_out();
    // The immediate is a sign-extended 16-bit value taken as an ACC-width operand.
    const int64_t imm = wrap(insn.imm, bits);
    for (uint64_t i = 0; i < loop.iter_out; ++i) {
      for (uint64_t j = 0; j < loop.iter_in; ++j) {
        for (uint32_t k = loop.uop_bgn; k < loop.uop_end; ++k) {
          const isa::MicroOp uop = micro_op(k, index);
          const uint64_t dst_idx = uop.dst_idx + i * loop.dst_factor_out + j * loop.dst_factor_in;
          const uint64_t src_idx = uop.src_idx + i * loop.src_factor_out + j * loop.src_factor_in;
          uint8_t* dst = element(acc_, dst_idx, index);
          if (loop.reset) {
            std::memset(dst, 0, acc_.element_bytes);
            continue;
          }
          const uint8_t* src = insn.use_imm ? nullptr : element(acc_, src_idx, index);
          for (uint32_t lane = 0; lane < lanes; ++lane) {
            const int64_t a = get_lane(dst, lane, bits);
            const int64_t b = insn.use_imm ? imm : get_lane(src, lane, bits);
            set_lane(dst, lane, bits, alu_op(op, a, b, bits));
          }
        }
      }
    }
  }

 private:
  // One ALU lane; a and b are sign-extended ACC-width values, the result is wrapped by set_lane.
  static int64_t alu_op(uint32_t op, int64_t a, int64_t b, uint32_t bits) {
    switch (op) {
      case 0: return a < b ? a : b;  // MIN
      case 1: return a > b ? a : b;  // MAX
      case 2: return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));  // ADD
      case 3: {                                                                                  // SHR
        // Arithmetic shift right by b; a negative b shifts left by -b. Amounts of at least the ACC
        // width: a right shift fills with the sign bit, a left shift gives 0.
        if (b >= 0) {
          if (b >= static_cast<int64_t>(bits)) return a < 0 ? -1 : 0;
          return a >> b;
        }
        const int64_t left = -b;
        if (left >= static_cast<int64_t>(bits)) return 0;
        return static_cast<int64_t>(static_cast<uint64_t>(a) << left);
      }
      case 4: return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));  // MUL
      default: return 0;  // unreachable: rejected before the loop
    }
  }

  static void init(Buffer& b, const char* name, const isa::BufferGeometry& g, uint32_t lane_bits) {
    b.name = name;
    b.depth = g.depth;
    b.element_bytes = g.element_bytes;
    b.lane_bits = lane_bits;
    b.bytes.assign(uint64_t{g.depth} * g.element_bytes, 0);
  }

  Buffer& buffer_for(MemoryType type, uint64_t index) {
    switch (type) {
      case MemoryType::kUop: return uop_;
      case MemoryType::kInp: return inp_;
      case MemoryType::kWgt: return wgt_;
      case MemoryType::kAcc: return acc_;
      case MemoryType::kOut: break;
    }
    throw ProgramError("no on-chip buffer to load for memory type " + std::to_string(static_cast<int>(type)), index);
  }

  static uint8_t* element(Buffer& b, uint64_t element_index, uint64_t index) {
    if (element_index >= b.depth)
      throw ProgramError(b.name + " index " + std::to_string(element_index) + " out of range (buffer depth " +
                             std::to_string(b.depth) + ")",
                         index);
    return b.bytes.data() + element_index * b.element_bytes;
  }

  uint8_t* dram(uint64_t address, uint64_t bytes, uint64_t index) {
    try {
      return memory_.at(address, bytes);
    } catch (const MemoryError& e) {
      throw MemoryError("instruction " + std::to_string(index) + ": " + e.what());
    }
  }

  void check_uop_range(const isa::LoopNest& loop, uint64_t index) const {
    if (loop.uop_bgn > loop.uop_end)
      throw ProgramError("micro-op range [" + std::to_string(loop.uop_bgn) + ", " + std::to_string(loop.uop_end) +
                             ") has uop_bgn > uop_end",
                         index);
    if (loop.uop_end > uop_.depth)
      throw ProgramError("micro-op range [" + std::to_string(loop.uop_bgn) + ", " + std::to_string(loop.uop_end) +
                             ") exceeds the UOP buffer depth " + std::to_string(uop_.depth),
                         index);
  }

  isa::MicroOp micro_op(uint32_t k, uint64_t index) {
    const uint8_t* e = element(uop_, k, index);
    const auto raw = static_cast<uint32_t>(get_lane(e, 0, 32));
    return codec_.decode_uop(raw);
  }

  isa::HwConfig config_;
  sim::DeviceMemory& memory_;
  isa::InstructionCodec codec_;
  Buffer uop_, inp_, wgt_, acc_;
};

}  // namespace

std::unique_ptr<ExecKernel> make_reference_kernel(const isa::HwConfig& config, sim::DeviceMemory& memory) {
  return std::make_unique<ReferenceKernel>(config, memory);
}

}  // namespace vta::fsim::detail
