// vta_ir_run_float MODEL.onnx INPUT.npy OUTPUT.npy [--no-passes] [--text FILE]
// Test tool: imports an ONNX model, runs the default passes (unless --no-passes) and the float reference
// executor on one input, and writes the first output; --text writes the graph's text form as run.
// Exit 0 on success, 1 on an error, 2 on bad usage.
#include <cstdio>
#include <fstream>
#include <string>

#include "vta/compiler/npy.h"
#include "vta/frontend/onnx_import.h"
#include "vta/ir/float_executor.h"
#include "vta/ir/passes.h"
#include "vta/ir/printer.h"

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  bool passes = true;
  std::string text_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-passes") {
      passes = false;
    } else if (a == "--text" && i + 1 < argc) {
      text_path = argv[++i];
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 3) {
    std::fprintf(stderr, "usage: vta_ir_run_float MODEL.onnx INPUT.npy OUTPUT.npy [--no-passes] [--text FILE]\n");
    return 2;
  }
  try {
    std::vector<std::string> notes;
    vta::ir::Graph g = vta::frontend::import_onnx(positional[0], &notes);
    for (const auto& n : notes) std::fprintf(stderr, "note: %s\n", n.c_str());
    if (passes) vta::ir::run_default_passes(g);
    if (!text_path.empty()) std::ofstream(text_path) << vta::ir::to_text(g);
    const auto out = vta::ir::run_float(g, {vta::compiler::read_npy(positional[1])});
    vta::compiler::write_npy(positional[2], out.at(0));
  } catch (const vta::Error& e) {
    std::fprintf(stderr, "vta_ir_run_float: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
