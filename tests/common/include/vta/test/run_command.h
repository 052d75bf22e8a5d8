// Runs a command line through the shell and captures its standard output: the CLI tests run the built
// `vta` binary as a user would.
#pragma once

#include <cstdio>
#include <string>

#include <sys/wait.h>

namespace vta::test {

struct CommandResult {
  int code = -1;    // the exit status; -1 when the command did not exit normally
  std::string out;  // standard output (append "2>&1" to the command for standard error too)
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace vta::test
