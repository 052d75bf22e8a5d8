// vta board-emu: the board emulator in the foreground, so that `--target zynq` (any vta command, or a
// program of one's own on the Zynq backend) runs against the Verilated core through files that stand in
// for /dev/uio0, /dev/udmabuf0 and u-dma-buf's sysfs directory. Prints the VTA_ZYNQ_* settings to use.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "vta/board/board_emulator.h"
#include "vta/isa/error.h"

namespace vta::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

struct BoardEmuOptions {
  std::string config;
  std::string dir;
  uint64_t phys = 0x1000;
  uint64_t size_mb = 64;
  bool never_done = false;
  int64_t vanish_at_run = -1;
};

int run_board_emu(const BoardEmuOptions& o) {
  board::BoardEmulatorOptions e;
  e.dir = o.dir;
  e.mem_phys_addr = o.phys;
  e.mem_size = o.size_mb << 20;
  e.faults.never_done = o.never_done;
  if (o.vanish_at_run >= 0) e.faults.vanish_at_run = static_cast<uint64_t>(o.vanish_at_run);
  board::BoardEmulator emu(load_config(o.config), e);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  fmt::print("board emulator serving in {} ({} MB at physical {:#x}); on the host side:\n"
             "  export VTA_ZYNQ_REGS={} VTA_ZYNQ_MEM={} VTA_ZYNQ_SYSFS={}\n"
             "then any command with --target zynq. Stop with Ctrl-C.\n",
             o.dir, o.size_mb, o.phys, emu.regs_path().string(), emu.mem_path().string(), emu.sysfs_dir().string());
  std::fflush(stdout);
  emu.serve(g_stop);
  fmt::print("board emulator: {} run(s) served\n", emu.runs());
  return 0;
}

}  // namespace

void register_board_emu(CLI::App& app, Action& action) {
  auto opts = std::make_shared<BoardEmuOptions>();
  CLI::App* sub = app.add_subcommand("board-emu", "Emulate a Zynq board (the RTL core behind device files) for --target zynq");
  set_footer(*sub,
             "Creates DIR/regs (the core's register window, as /dev/uio0), DIR/mem (contiguous memory, as "
             "/dev/udmabuf0) and DIR/sysfs (u-dma-buf's phys_addr, size and sync files) and serves the "
             "Verilated core (tsim) behind them until interrupted. The Zynq backend runs unchanged against "
             "them: set VTA_ZYNQ_REGS, VTA_ZYNQ_MEM and VTA_ZYNQ_SYSFS as printed. --never-done and "
             "--vanish-at-run inject the board faults docs/boards.md describes.");
  add_config_option(*sub, opts->config);
  sub->add_option("--dir", opts->dir, "Directory for the device files")->required();
  sub->add_option("--phys", opts->phys, "Physical address of the contiguous memory (default 0x1000)");
  sub->add_option("--size-mb", opts->size_mb, "Size of the contiguous memory in MB (default 64)")
      ->check(CLI::Range(1, 4096));
  sub->add_flag("--never-done", opts->never_done, "Fault: take starts but never report done");
  sub->add_option("--vanish-at-run", opts->vanish_at_run, "Fault: stop serving once run N (0-based) has started");
  sub->callback([opts, &action] { action = [opts] { return run_board_emu(*opts); }; });
}

}  // namespace vta::cli
