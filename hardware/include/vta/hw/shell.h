// Running the external tools of a hardware build (Yosys through fpga_report.py, Verilator through CMake)
// from the stack's own code: `vta dse --synth` and tsim's on-demand models.
#pragma once

#include <filesystem>
#include <string>

namespace vta::hw {

// `s` as one POSIX shell word (single-quoted).
std::string shell_quote(const std::string& s);

// Runs `command` through the shell with stdout and stderr in `log`; returns its exit status (0 = success).
int run_logged(const std::string& command, const std::filesystem::path& log);

}  // namespace vta::hw
