// A device-independent program for the core: the instruction stream, its micro-op kernels, packed
// constants and symbolic DRAM buffers. The compiler produces it (ProgramBuilder); the runtime binds it
// to a Device (Session::load) by allocating every buffer and relocating the instructions' DRAM fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vta/isa/hw_config.h"
#include "vta/isa/instruction.h"

namespace vta::runtime {

using BufferId = uint32_t;

// What a buffer is for, which decides how binding treats it.
enum class BufferRole : uint8_t {
  kInput,     // written by the host before each run
  kOutput,    // read by the host after each run
  kConstant,  // packed weights, biases: `data` is copied once at bind time
  kScratch,   // intermediate activations, only the core touches them
  kMicroOps,  // the program's micro-op kernels (`data`), one per program
  kExternal,  // bound by the caller to memory it owns (the JIT CommandQueue)
};
std::string_view to_string(BufferRole role);

struct ProgramBuffer {
  std::string name;
  BufferRole role = BufferRole::kScratch;
  uint64_t bytes = 0;
  uint64_t alignment = 64;     // raised to the element size of every memory type that addresses it
  std::vector<uint8_t> data;   // kConstant and kMicroOps: the contents (size == bytes)
  // Byte ranges the stream reads and writes ([lo, hi), empty when lo == hi): what a run must flush
  // before and invalidate after.
  uint64_t read_lo = 0, read_hi = 0, write_lo = 0, write_hi = 0;
};

// LOAD/STORE instruction `insn` addresses `buffer`: its dram_base holds the element offset within the
// buffer, and binding adds the buffer's device address (in elements).
struct Relocation {
  uint32_t insn = 0;
  BufferId buffer = 0;
  bool operator==(const Relocation&) const = default;
};

struct Program {
  isa::HwConfig config = isa::HwConfig::default_config();
  std::vector<ProgramBuffer> buffers;
  std::vector<isa::Instruction> instructions;  // ends with FINISH
  std::vector<Relocation> relocations;         // sorted by instruction
  uint64_t kernel_cache_hits = 0, kernel_cache_misses = 0;  // while building

  BufferId find_buffer(std::string_view name) const;  // throws vta::Error naming it when absent
  // The instruction stream as text: buffers, then one line per instruction (relocated operands printed
  // as `name+offset`); the form `vta compile --emit asm` prints and golden tests pin.
  std::string to_asm() const;
};

}  // namespace vta::runtime
