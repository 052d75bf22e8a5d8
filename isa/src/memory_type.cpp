#include "vta/isa/memory_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace vta::isa {
namespace {

constexpr std::array<std::string_view, 5> kOpcodeNames = {"LOAD", "STORE", "GEMM", "FINISH", "ALU"};
constexpr std::array<std::string_view, 5> kMemoryTypeNames = {"UOP", "WGT", "INP", "ACC", "OUT"};
constexpr std::array<std::string_view, 8> kAluNames = {"MIN", "MAX", "ADD", "SHR", "MUL", "op5", "op6", "op7"};
constexpr std::array<std::string_view, 3> kModuleNames = {"load", "compute", "store"};

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

}  // namespace

std::string_view to_string(Opcode op) {
  auto i = static_cast<size_t>(op);
  return i < kOpcodeNames.size() ? kOpcodeNames[i] : std::string_view("UNKNOWN");
}

std::string_view to_string(MemoryType type) {
  auto i = static_cast<size_t>(type);
  return i < kMemoryTypeNames.size() ? kMemoryTypeNames[i] : std::string_view("UNKNOWN");
}

std::string_view to_string(AluOpcode op) { return kAluNames[static_cast<size_t>(op) & 7u]; }

std::string_view to_string(Module m) { return kModuleNames[static_cast<size_t>(m)]; }

std::optional<MemoryType> memory_type_from_string(std::string_view name) {
  const std::string u = upper(name);
  for (size_t i = 0; i < kMemoryTypeNames.size(); ++i)
    if (u == kMemoryTypeNames[i]) return static_cast<MemoryType>(i);
  return std::nullopt;
}

std::optional<AluOpcode> alu_opcode_from_string(std::string_view name) {
  const std::string u = upper(name);
  for (uint8_t i = 0; i < kAluOpcodeCount; ++i)
    if (u == kAluNames[i]) return static_cast<AluOpcode>(i);
  return std::nullopt;
}

bool is_valid_memory_type(uint32_t raw) { return raw < kMemoryTypeNames.size(); }

}  // namespace vta::isa
