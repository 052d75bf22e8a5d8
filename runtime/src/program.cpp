#include "vta/runtime/program.h"

#include <fmt/format.h>

#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"

namespace vta::runtime {

std::string_view to_string(BufferRole role) {
  switch (role) {
    case BufferRole::kInput: return "input";
    case BufferRole::kOutput: return "output";
    case BufferRole::kConstant: return "constant";
    case BufferRole::kScratch: return "scratch";
    case BufferRole::kMicroOps: return "uops";
    case BufferRole::kExternal: return "external";
  }
  return "?";
}

BufferId Program::find_buffer(std::string_view name) const {
  for (size_t i = 0; i < buffers.size(); ++i) {
    if (buffers[i].name == name) return static_cast<BufferId>(i);
  }
  throw Error(fmt::format("program has no buffer named '{}'", name));
}

std::string Program::to_asm() const {
  std::string out;
  for (size_t i = 0; i < buffers.size(); ++i) {
    const ProgramBuffer& b = buffers[i];
    out += fmt::format("buffer {} {} {} {} bytes align {}\n", i, b.name, to_string(b.role), b.bytes, b.alignment);
  }
  size_t r = 0;
  for (size_t i = 0; i < instructions.size(); ++i) {
    std::string line = isa::disassemble(instructions[i]);
    for (; r < relocations.size() && relocations[r].insn == i; ++r) {
      // The encoded dram field is an offset into the named buffer until binding.
      line += fmt::format("  @{}", buffers.at(relocations[r].buffer).name);
    }
    out += fmt::format("{:6}  {}\n", i, line);
  }
  return out;
}

}  // namespace vta::runtime
