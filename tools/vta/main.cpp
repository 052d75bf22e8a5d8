// vta: the command-line front end of the stack. It only parses arguments and calls the libraries.
#include <exception>
#include <new>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "vta/isa/error.h"

#ifndef VTA_VERSION
#define VTA_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "vta: tools for a VTA-compatible deep-learning accelerator stack.\n"
      "Inspect hardware configs, disassemble and run instruction traces on a simulated device, and\n"
      "benchmark the functional simulator. Run `vta <command> --help` for a command's options.",
      "vta"};
  app.set_version_flag("--version", std::string("vta ") + VTA_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  vta::cli::Action action;
  try {
    vta::cli::register_info(app, action);
    vta::cli::register_disasm(app, action);
    vta::cli::register_exec(app, action);
    vta::cli::register_import(app, action);
    vta::cli::register_bench(app, action);
    vta::cli::register_demo(app, action);
    vta::cli::register_op(app, action);
    vta::cli::register_dse(app, action);
#if VTA_HAVE_BOARD_EMU
    vta::cli::register_board_emu(app, action);
#endif
#if VTA_HAVE_ONNX
    vta::cli::register_model(app, action);
#endif
  } catch (const std::exception& e) {
    fmt::print(stderr, "vta: error: {}\n", e.what());
    return 1;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Usage errors (unknown option, missing argument, value out of range): exit status 2.
    fmt::print(stderr, "vta: error: {}\nRun `vta --help` (or `vta <command> --help`) for usage.\n", e.what());
    return 2;
  }

  try {
    return action ? action() : 0;
  } catch (const vta::Error& e) {
    fmt::print(stderr, "vta: error: {}\n", e.what());
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "vta: error: out of memory\n");
  } catch (const std::exception& e) {
    fmt::print(stderr, "vta: error: {}\n", e.what());
  } catch (...) {
    fmt::print(stderr, "vta: error: unknown failure\n");
  }
  return 1;
}
