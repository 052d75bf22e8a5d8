// Numbers from environment variables, for the backends' VTA_* settings (private to vta::driver).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "vta/isa/error.h"

namespace vta::driver::detail {

// The value of `name` (decimal, 0x hex or 0 octal), nullopt when unset or empty; vta::Error naming the
// variable when it is not a number in [0, max].
inline std::optional<uint64_t> env_number(const char* name, uint64_t max = std::numeric_limits<uint64_t>::max()) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 0);
  if (errno != 0 || *end != '\0' || value > max || text[0] == '-')
    throw Error(fmt::format("environment variable {}='{}' is not a number in [0, {}]", name, text, max));
  return value;
}

}  // namespace vta::driver::detail
