// Harness onnx: the ONNX front end (frontend::import_onnx_bytes) and the default graph passes that
// `vta compile` runs next. Property: an imported graph passes the default passes and prints, or one of
// them rejects it with a vta::Error.
#include "fuzz_common.h"
#include "vta/frontend/onnx_import.h"
#include "vta/ir/passes.h"
#include "vta/ir/printer.h"

namespace vta::fuzz {

void onnx(Bytes data) {
  accepts([&] {
    std::vector<std::string> notes;
    ir::Graph graph = frontend::import_onnx_bytes(as_string(data), "fuzz.onnx", &notes);
    VTA_FUZZ_CHECK(!ir::to_text(graph).empty(), "empty graph text");
    ir::run_default_passes(graph);
    VTA_FUZZ_CHECK(!ir::to_text(graph).empty(), "empty graph text after the passes");
  });
}

}  // namespace vta::fuzz
