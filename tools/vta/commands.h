// The `vta` subcommands. Each cmd_*.cpp registers one subcommand on the application; when CLI11 parses
// it, the subcommand stores its action in `action`, which main() runs after parsing (so library errors
// are reported in one place, outside CLI11's parser).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "vta/isa/counters.h"
#include "vta/isa/hw_config.h"

namespace vta::cli {

// What a parsed subcommand does; returns the process exit code.
using Action = std::function<int()>;

void register_info(CLI::App& app, Action& action);
void register_disasm(CLI::App& app, Action& action);
void register_exec(CLI::App& app, Action& action);
void register_import(CLI::App& app, Action& action);
void register_bench(CLI::App& app, Action& action);
void register_bench_conv2d(CLI::App& bench, Action& action);  // cmd_bench_conv2d.cpp: `vta bench conv2d`
void register_bench_tsim(CLI::App& bench, Action& action);    // cmd_bench_tsim.cpp: `vta bench tsim`
void register_bench_tlm(CLI::App& bench, Action& action);     // cmd_bench_tlm.cpp: `vta bench tlm`
void register_demo(CLI::App& app, Action& action);
void register_op(CLI::App& app, Action& action);
void register_dse(CLI::App& app, Action& action);   // cmd_dse.cpp: `vta dse`, `vta dse merge`
void register_model(CLI::App& app, Action& action);  // cmd_model.cpp: `vta compile`, `vta run`
void register_board_emu(CLI::App& app, Action& action);  // cmd_board_emu.cpp: `vta board-emu`

// --- helpers shared by the subcommands (common.cpp) ---

// The config in `path`, or VTA's default config when `path` is empty.
isa::HwConfig load_config(const std::string& path);

// Adds `--config FILE` to a subcommand.
CLI::Option* add_config_option(CLI::App& sub, std::string& path);

// Adds `--target NAME`, checked against driver::known_targets().
CLI::Option* add_target_option(CLI::App& sub, std::string& target);

// Sets a subcommand's long help text (shown after its options), wrapped to the terminal-friendly width.
void set_footer(CLI::App& sub, const std::string& text);

// A two-column "name  value" table of counters.
void print_counters(std::FILE* out, const isa::ExecutionCounters& counters, const std::string& indent = "  ");

// 1234567 -> "1.23 M" (SI prefixes, for rates).
std::string si(double value);

}  // namespace vta::cli
