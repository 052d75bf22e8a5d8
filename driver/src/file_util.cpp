#include "src/file_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "vta/isa/error.h"

namespace vta::driver::detail {
namespace {

std::string describe_errno() {
  const int err = errno;
  return err != 0 ? std::string(std::strerror(err)) : std::string("I/O error");
}

}  // namespace

uint64_t regular_file_size(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    throw Error(fmt::format("{}: file does not exist", path.string()));
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw Error(fmt::format("{}: not a regular file", path.string()));
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(fmt::format("{}: cannot get file size: {}", path.string(), ec.message()));
  return static_cast<uint64_t>(size);
}

std::vector<uint8_t> read_binary_file(const std::filesystem::path& path) {
  const uint64_t size = regular_file_size(path);
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open for reading: {}", path.string(), describe_errno()));
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (size > 0) {
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (static_cast<uint64_t>(in.gcount()) != size) {
      throw Error(fmt::format("{}: short read ({} of {} bytes)", path.string(), in.gcount(), size));
    }
  }
  return bytes;
}

std::string read_text_file(const std::filesystem::path& path) {
  const auto bytes = read_binary_file(path);
  return std::string(bytes.begin(), bytes.end());
}

void write_binary_file(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(fmt::format("{}: cannot open for writing: {}", path.string(), describe_errno()));
  if (!bytes.empty()) {
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  out.close();
  if (!out) throw Error(fmt::format("{}: write failed: {}", path.string(), describe_errno()));
}

void write_text_file(const std::filesystem::path& path, const std::string& text) {
  write_binary_file(path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

}  // namespace vta::driver::detail
