#include "vta/hw/shell.h"

#include <cstdlib>

namespace vta::hw {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_logged(const std::string& command, const std::filesystem::path& log) {
  return std::system((command + " >" + shell_quote(log.string()) + " 2>&1").c_str());
}

}  // namespace vta::hw
