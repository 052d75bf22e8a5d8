// Small file helpers shared by the driver's sources (not part of the public API).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vta::driver::detail {

// Whole-file reads and writes; throw vta::Error naming the path on any failure.
std::vector<uint8_t> read_binary_file(const std::filesystem::path& path);
std::string read_text_file(const std::filesystem::path& path);
void write_binary_file(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void write_text_file(const std::filesystem::path& path, const std::string& text);

// Size of a regular file; throws vta::Error naming the path if it is missing or not a regular file.
uint64_t regular_file_size(const std::filesystem::path& path);

// "0x..." hex formatting used in messages.
std::string hex(uint64_t value);

}  // namespace vta::driver::detail
