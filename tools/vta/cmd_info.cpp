// vta info: a config's derived values (JSON) or its instruction field layouts (Markdown tables).
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/isa/instruction_codec.h"

namespace vta::cli {
namespace {

struct InfoOptions {
  std::string config;
  bool layout = false;
};

std::string bit_range(const isa::FieldLayout& f) {
  const uint32_t hi = f.offset + f.width - 1;
  return f.width == 1 ? fmt::format("[{}]", f.offset) : fmt::format("[{}:{}]", hi, f.offset);
}

void print_layout_table(const std::string& title, const std::vector<isa::FieldLayout>& fields) {
  fmt::print("### {}\n\n", title);
  fmt::print("| bits | field | width |\n|---|---|---|\n");
  for (const auto& f : fields) {
    fmt::print("| `{}` | {}{} | {} |\n", bit_range(f), f.name, f.is_signed ? " (signed)" : "", f.width);
  }
  fmt::print("\n");
}

int run_info(const InfoOptions& o) {
  const isa::HwConfig config = load_config(o.config);
  if (!o.layout) {
    fmt::print("{}\n", config.derived_json().dump(2));
    return 0;
  }
  const isa::InstructionCodec codec(config);
  fmt::print("Instruction field layouts for config {} (128-bit instructions, 32-bit micro-ops).\n\n",
             config.name());
  print_layout_table("LOAD / STORE (opcode 0 / 1)", codec.layout(isa::Opcode::kLoad));
  print_layout_table("GEMM (opcode 2)", codec.layout(isa::Opcode::kGemm));
  print_layout_table("ALU (opcode 4)", codec.layout(isa::Opcode::kAlu));
  print_layout_table("FINISH (opcode 3)", codec.layout(isa::Opcode::kFinish));
  print_layout_table("Micro-op", codec.uop_layout());
  return 0;
}

}  // namespace

void register_info(CLI::App& app, Action& action) {
  auto opts = std::make_shared<InfoOptions>();
  CLI::App* sub = app.add_subcommand("info", "Show a hardware config's derived values or instruction layouts");
  set_footer(*sub,
      "Prints the config's derived values as JSON: VTA name, content hash, the config keys, the geometry of "
      "every on-chip buffer (element bits/bytes, depth, index bits, size) and Apache VTA's derived constant "
      "names. With --layout, prints the bit layout of each instruction kind and of the micro-op instead.");
  add_config_option(*sub, opts->config);
  sub->add_flag("--layout,-l", opts->layout,
                "Print the bit layout of every instruction kind and of the micro-op as Markdown tables");
  sub->callback([opts, &action] { action = [opts] { return run_info(*opts); }; });
}

}  // namespace vta::cli
