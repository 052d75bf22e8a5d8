// The fixture base of the instruction-semantics tests (fsim_instruction_tests.h): program helpers that
// place data and programs through a ProgramExecutor, so the same test bodies run on fsim and on tsim.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "fsim_test_util.h"

namespace vta::fsim::test {

// Program helpers over an executor (default config: BATCH 1 x BLOCK 16, 8-bit INP/WGT/OUT, 32-bit ACC).
class InstructionTestBase : public ::testing::Test {
 protected:
  static constexpr uint32_t kLanes = 16;  // default config: BATCH 1 x BLOCK 16

  InstructionTestBase() : cfg_(load_config("default")), codec_(cfg_) {}

  // Where the programs run (created on first use).
  virtual ProgramExecutor& exec() = 0;

  isa::ExecutionCounters counters() { return exec().counters(); }

  // Runs a program as given (flags untouched).
  void run_raw(const std::vector<Instruction>& prog) {
    const uint64_t addr = place_program(exec(), codec_, prog);
    exec().run(addr, static_cast<uint32_t>(prog.size()));
  }

  // Runs a program with tokens that force program order (and FINISH appended).
  std::vector<Instruction> run(const std::vector<Instruction>& prog) {
    std::vector<Instruction> full = serialize_tokens(prog);
    run_raw(full);
    return full;
  }

  // Allocates DRAM holding `values` (lanes of one memory type); returns the dram_base element index.
  template <typename T>
  uint32_t put(MemoryType type, const std::vector<T>& values) {
    const uint32_t eb = cfg_.buffer(type).element_bytes;
    const uint64_t bytes = values.size() * sizeof(T);
    EXPECT_EQ(bytes % eb, 0u);
    const uint64_t addr = exec().allocate(bytes, eb);
    exec().write(addr, values.data(), bytes);
    return static_cast<uint32_t>(addr / eb);
  }

  uint32_t put_uops(const std::vector<MicroOp>& uops) { return place_uops(exec(), codec_, uops); }

  // Allocates an OUT area of `elements` elements filled with 0x5a; returns the element index.
  uint32_t out_area(uint32_t elements) {
    const uint32_t eb = cfg_.out().element_bytes;
    const uint64_t addr = exec().allocate(uint64_t{elements} * eb, eb);
    std::vector<uint8_t> fill(uint64_t{elements} * eb, 0x5a);
    exec().write(addr, fill.data(), fill.size());
    return static_cast<uint32_t>(addr / eb);
  }

  std::vector<int8_t> read_out(uint32_t out_base, uint32_t elements) {
    std::vector<int8_t> v(uint64_t{elements} * kLanes);
    exec().read(uint64_t{out_base} * cfg_.out().element_bytes, v.data(), v.size());
    return v;
  }

  // Reads `count` full 32-bit ACC entries starting at `first` (destroys them): stores the low byte,
  // shifts right by 8 with the ALU, four times.
  std::vector<int32_t> read_acc(uint32_t first, uint32_t count) {
    const uint32_t slot = cfg_.uop().depth - 1;
    const uint32_t uop_base = put_uops({MicroOp{first, first, 0}});
    const uint32_t out = out_area(4 * count);
    std::vector<Instruction> prog = {load(MemoryType::kUop, slot, uop_base, 1, 1, 1)};
    for (uint32_t b = 0; b < 4; ++b) {
      prog.push_back(store(first, out + b * count, 1, count, count));
      prog.push_back(alu(AluOpcode::kShr, Loop{slot, slot + 1, 1, count, 0, 1, 0, 1}, true, 8));
    }
    run(prog);
    const std::vector<int8_t> bytes = read_out(out, 4 * count);
    std::vector<int32_t> values(uint64_t{count} * kLanes);
    for (uint32_t e = 0; e < count; ++e)
      for (uint32_t l = 0; l < kLanes; ++l) {
        uint32_t v = 0;
        for (uint32_t b = 0; b < 4; ++b)
          v |= uint32_t{static_cast<uint8_t>(bytes[(uint64_t{b} * count + e) * kLanes + l])} << (8 * b);
        values[uint64_t{e} * kLanes + l] = static_cast<int32_t>(v);
      }
    return values;
  }

  template <typename T>
  std::vector<T> random_values(size_t n, int64_t lo, int64_t hi) {
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(lo + static_cast<int64_t>(rng_() % static_cast<uint64_t>(hi - lo + 1)));
    return v;
  }

  isa::HwConfig cfg_;
  isa::InstructionCodec codec_;
  std::mt19937_64 rng_{1234};
};

}  // namespace vta::fsim::test
