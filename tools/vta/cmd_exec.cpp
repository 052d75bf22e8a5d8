// vta exec: replay a program trace on a backend, dump the requested regions and compare with what the
// trace expects. An Apache VTA recording (run000.insn.bin ...) is imported on the fly.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "vta/driver/device.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/error.h"

namespace vta::cli {
namespace {

namespace fs = std::filesystem;

struct ExecOptions {
  std::string trace_dir;
  std::string target = "fsim";
  std::string dump_dir;
  bool check = false;
  bool json = false;
  std::string waveform;  // tsim only: FST waveform file
};

// A fresh private directory under the system temp dir, removed when the guard goes out of scope.
class TempDir {
 public:
  explicit TempDir(const std::string& stem) {
    std::string pattern = (fs::temp_directory_path() / (stem + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw Error(fmt::format("cannot create a temporary directory from {}", pattern));
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const char* status_name(driver::RunStatus s) {
  switch (s) {
    case driver::RunStatus::kOk: return "ok";
    case driver::RunStatus::kTimeout: return "timeout";
    case driver::RunStatus::kError: return "error";
  }
  return "unknown";
}

int run_exec(const ExecOptions& o) {
  fs::path dir(o.trace_dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw Error(fmt::format("{}: no such directory", o.trace_dir));
  if (!fs::is_directory(dir, ec)) throw Error(fmt::format("{}: not a directory", o.trace_dir));

  std::unique_ptr<TempDir> imported;
  if (fs::exists(dir / "run000.insn.bin", ec) && !fs::exists(dir / "manifest.json", ec)) {
    imported = std::make_unique<TempDir>("vta-import");
    driver::import_vta_recording(dir, imported->path());
    if (!o.json) fmt::print("imported Apache VTA recording {} (temporary trace)\n", dir.string());
    dir = imported->path();
  }

  const driver::ProgramTrace trace = driver::ProgramTrace::load(dir);
  if (!o.waveform.empty()) {
    if (o.target != "tsim") throw Error("--trace FILE.fst needs --target tsim");
    ::setenv("VTA_TSIM_TRACE", o.waveform.c_str(), 1);  // read by the tsim backend when it opens
  }
  const auto device = driver::open_device(o.target, trace.config);

  std::optional<fs::path> dump;
  if (!o.dump_dir.empty()) {
    dump = fs::path(o.dump_dir);
    fs::create_directories(*dump, ec);
    if (ec) throw Error(fmt::format("cannot create {}: {}", o.dump_dir, ec.message()));
  }

  const driver::ReplayResult result = driver::replay(trace, dir, *device, dump);
  const auto& run = result.run;
  const bool has_expectations =
      trace.expected_counters.has_value() ||
      std::any_of(trace.regions.begin(), trace.regions.end(), [](const auto& r) { return r.expected_file.has_value(); });
  const bool check_failed = o.check && (!result.mismatches.empty() || result.counter_mismatch.has_value());

  if (o.json) {
    nlohmann::json j;
    j["trace"] = o.trace_dir;
    j["target"] = device->name();
    j["config"] = trace.config.name();
    j["instructions"] = trace.insn_count;
    j["status"] = status_name(run.status);
    j["message"] = run.message;
    j["warnings"] = run.warnings;
    j["wall_seconds"] = run.wall_seconds;
    j["counters"] = run.counters.to_json();
    if (o.check) {
      nlohmann::json mm = nlohmann::json::array();
      for (const auto& m : result.mismatches)
        mm.push_back({{"region", m.region}, {"first_offset", m.first_offset}, {"differing_bytes", m.differing_bytes}});
      j["check"] = {{"passed", !check_failed},
                    {"region_mismatches", mm},
                    {"counter_mismatch", result.counter_mismatch.value_or("")}};
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("trace        {}\n", o.trace_dir);
    fmt::print("config       {}\n", trace.config.name());
    fmt::print("target       {}\n", device->name());
    fmt::print("instructions {}\n", trace.insn_count);
    fmt::print("status       {}\n", status_name(run.status));
    fmt::print("wall time    {:.6f} s\n", run.wall_seconds);
    fmt::print("counters:\n");
    print_counters(stdout, run.counters);
    if (dump) fmt::print("dumped regions and stats.json into {}\n", dump->string());
  }

  for (const auto& w : run.warnings) fmt::print(stderr, "vta: warning: {}\n", w);
  if (!run.ok()) {
    fmt::print(stderr, "vta: error: run failed ({}): {}\n", status_name(run.status), run.message);
    return 1;
  }
  if (o.check) {
    if (!has_expectations) {
      fmt::print(stderr, "vta: warning: --check: the trace records no expected bytes or counters\n");
    } else if (check_failed) {
      fmt::print(stderr, "check: FAIL\n");
      for (const auto& m : result.mismatches) {
        fmt::print(stderr, "  region {}: {} byte(s) differ, first at offset {} (0x{:x})\n", m.region,
                   m.differing_bytes, m.first_offset, m.first_offset);
      }
      if (result.counter_mismatch) fmt::print(stderr, "  counters: {}\n", *result.counter_mismatch);
      return 1;
    } else if (!o.json) {
      fmt::print("check: PASS (expected memory{} match)\n", trace.expected_counters ? " and counters" : "");
    }
  }
  return 0;
}

}  // namespace

void register_exec(CLI::App& app, Action& action) {
  auto opts = std::make_shared<ExecOptions>();
  CLI::App* sub = app.add_subcommand("exec", "Run a program trace (or an Apache VTA recording) on a backend");
  set_footer(*sub,
      "TRACE_DIR holds manifest.json and the raw .bin regions it names (see docs/trace-format.md). An Apache "
      "VTA recording (run000.insn.bin, run000.meta.txt, run000.dram_pre/post.bin) is imported to a temporary "
      "trace first. Prints the run's status, wall time and counters. Exits 1 on any error (bad trace, program "
      "error, deadlock) and, with --check, when memory or counters differ from the trace's expectations.");
  sub->add_option("TRACE_DIR", opts->trace_dir, "Trace directory or Apache VTA recording directory")->required();
  add_target_option(*sub, opts->target);
  sub->add_option("--dump,-d", opts->dump_dir,
                  "Write the regions the manifest marks for dumping (<name>.bin) and stats.json into this "
                  "directory");
  sub->add_flag("--check", opts->check,
                "Compare memory after the run and the counters with the trace's expectations; print the "
                "mismatches and exit 1 if any");
  sub->add_option("--trace", opts->waveform, "tsim only: write an FST waveform of the run to this file");
  sub->add_flag("--json", opts->json, "Print the result (status, wall time, counters, check) as JSON");
  sub->callback([opts, &action] { action = [opts] { return run_exec(*opts); }; });
}

}  // namespace vta::cli
