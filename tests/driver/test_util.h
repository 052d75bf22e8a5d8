// Helpers shared by the driver tests: temporary directories, file I/O and a small hand-built program.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vta/driver/device.h"
#include "vta/isa/instruction.h"

namespace vta::driver::test {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

std::vector<uint8_t> read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);
std::string read_text(const std::filesystem::path& path);
void write_text(const std::filesystem::path& path, const std::string& text);

// Encodes `insns` with the device's config into 16-byte little-endian instructions.
std::vector<uint8_t> encode_program(const isa::HwConfig& config, const std::vector<isa::Instruction>& insns);

// A tiny token-correct program for the default config, built with isa::InstructionCodec:
// LOAD UOP, LOAD INP, LOAD WGT, GEMM reset, GEMM, ALU SHR imm, STORE, FINISH, computing
// out = int8((inp . wgt^T) >> shift) for one 1x16 input block and one 16x16 weight block.
struct SmallProgram {
  DeviceBuffer insns, uops, inp, wgt, out;
  uint32_t insn_count = 0;
  std::vector<uint8_t> expected_out;  // computed independently of the simulator
  isa::ExecutionCounters expected_counters;
};
SmallProgram build_small_program(Device& device, uint32_t seed = 1, int32_t shift = 2);

// Copies a program's instructions into a fresh buffer and returns it.
DeviceBuffer upload_program(Device& device, const std::vector<isa::Instruction>& insns);

}  // namespace vta::driver::test
