// Memory types and opcodes of the VTA 0.0.2 ISA, with their numeric encodings.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vta::isa {

enum class Opcode : uint8_t { kLoad = 0, kStore = 1, kGemm = 2, kFinish = 3, kAlu = 4 };

enum class MemoryType : uint8_t { kUop = 0, kWgt = 1, kInp = 2, kAcc = 3, kOut = 4 };
inline constexpr MemoryType kAllMemoryTypes[] = {MemoryType::kUop, MemoryType::kWgt, MemoryType::kInp,
                                                 MemoryType::kAcc, MemoryType::kOut};

// Upstream VTA's ALU opcode map; 5..7 are unassigned and rejected by the simulators.
enum class AluOpcode : uint8_t { kMin = 0, kMax = 1, kAdd = 2, kShr = 3, kMul = 4 };
inline constexpr uint8_t kAluOpcodeCount = 5;

std::string_view to_string(Opcode op);
std::string_view to_string(MemoryType type);
std::string_view to_string(AluOpcode op);  // "op5".."op7" for unassigned values
std::optional<MemoryType> memory_type_from_string(std::string_view name);  // "uop","wgt",... (any case)
std::optional<AluOpcode> alu_opcode_from_string(std::string_view name);    // "min","max","add","shr","mul"
bool is_valid_memory_type(uint32_t raw);

// The three concurrently running modules, in pipeline order.
enum class Module : uint8_t { kLoad = 0, kCompute = 1, kStore = 2 };
std::string_view to_string(Module m);

}  // namespace vta::isa
