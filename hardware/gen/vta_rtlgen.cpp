// vta-rtlgen: writes the SystemVerilog package `vta_pkg` for one hardware config.
//
// Every width, depth and instruction-field position in the package comes from vta::isa (HwConfig and
// InstructionCodec::layout / uop_layout); nothing is copied by hand, so the RTL always decodes exactly
// what the software encodes at that config.
//
//   vta-rtlgen --config config/default.json --out build/vta_pkg.sv [--cache-dir DIR] [--print-hash]
//
// The output is only rewritten when its content changes, so an edit of the JSON that does not affect the
// hardware (e.g. the "timing" object, which the package does not contain) triggers no RTL rebuild.
// With --cache-dir the package is also placed at DIR/<HwConfig::hash()>/vta_pkg.sv.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "vta/hw/pkg_generator.h"
#include "vta/isa/error.h"
#include "vta/isa/hw_config.h"

namespace {

using vta::isa::HwConfig;

// Writes `text` to `path` unless the file already holds exactly that text.
void write_if_changed(const std::filesystem::path& path, const std::string& text) {
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream old;
      old << in.rdbuf();
      if (old.str() == text) return;
    }
  }
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw vta::Error("cannot write " + tmp);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

int usage() {
  std::cerr << "usage: vta-rtlgen --config FILE.json [--out vta_pkg.sv] [--cache-dir DIR] [--print-hash]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, out_path, cache_dir;
  bool print_hash = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--config") config_path = next();
    else if (a == "--out") out_path = next();
    else if (a == "--cache-dir") cache_dir = next();
    else if (a == "--print-hash") print_hash = true;
    else return usage();
  }
  if (config_path.empty()) return usage();
  try {
    const HwConfig config = HwConfig::from_file(config_path);
    const std::string text = vta::hw::generate_vta_pkg(config);
    if (!out_path.empty()) write_if_changed(out_path, text);
    if (!cache_dir.empty()) write_if_changed(std::filesystem::path(cache_dir) / config.hash() / "vta_pkg.sv", text);
    if (print_hash) std::cout << config.hash() << "\n";
    if (out_path.empty() && cache_dir.empty() && !print_hash) std::cout << text;
  } catch (const std::exception& e) {
    std::cerr << "vta-rtlgen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
