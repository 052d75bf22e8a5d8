// vta import: convert an Apache VTA recording into this stack's trace directory format.
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"

namespace vta::cli {
namespace {

namespace fs = std::filesystem;

struct ImportOptions {
  std::string recording_dir;
  std::string trace_dir;
};

int run_import(const ImportOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.recording_dir, ec)) throw Error(fmt::format("{}: not a directory", o.recording_dir));
  fs::create_directories(o.trace_dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", o.trace_dir, ec.message()));
  driver::import_vta_recording(o.recording_dir, o.trace_dir);
  const auto trace = driver::ProgramTrace::load(o.trace_dir);
  fmt::print("wrote trace {}: config {}, {} instructions, {} regions{}\n", o.trace_dir, trace.config.name(),
             trace.insn_count, trace.regions.size(), trace.expected_counters ? ", expected counters" : "");
  return 0;
}

}  // namespace

void register_import(CLI::App& app, Action& action) {
  auto opts = std::make_shared<ImportOptions>();
  CLI::App* sub = app.add_subcommand("import", "Convert an Apache VTA recording into a trace directory");
  set_footer(*sub,
      "Reads run000.insn.bin, run000.meta.txt, run000.dram_pre.bin, run000.dram_post.bin and the optional "
      "meta.json of a recording made with Apache VTA's functional simulator, and writes a trace directory "
      "that `vta exec` and `vta disasm` read. The recorded post-run memory and counters become the trace's "
      "expectations (checked by `vta exec --check`).");
  sub->add_option("VTA_RECORDING_DIR", opts->recording_dir, "Directory of the Apache VTA recording")->required();
  sub->add_option("OUT_TRACE_DIR", opts->trace_dir, "Trace directory to write (created if missing)")->required();
  sub->callback([opts, &action] { action = [opts] { return run_import(*opts); }; });
}

}  // namespace vta::cli
