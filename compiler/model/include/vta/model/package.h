// The compiled-model package (.vtapkg): one versioned file holding everything a run needs, i.e. the
// hardware config, the int8 model (tensors, steps, weights) and every core step's Program with its host
// layout. Layout: the 8-byte magic "VTAPKG\r\n", a little-endian u32 format version and u32 zero, a u64
// length and that many bytes of JSON (the description), then a u64 count of binary blobs, each a u64
// length and its bytes (weights, biases, constants, micro-ops, instruction streams), referred to from the
// JSON by index. See docs/model.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vta/model/compiled_model.h"

namespace vta::model {

inline constexpr uint32_t kPackageVersion = 3;  // 2: per-channel shifts, weight exps; 3: fused residual adds

// Serializes and writes; throws vta::Error when the file cannot be written.
std::vector<uint8_t> serialize_package(const CompiledModel& model);
void save_package(const std::filesystem::path& path, const CompiledModel& model);

// Reads and checks the magic, the version (a different version is an error naming both) and every field;
// a malformed or truncated file is a vta::Error naming the file and the problem, never a crash.
CompiledModel parse_package(const std::vector<uint8_t>& bytes, const std::string& name = "<package>");
CompiledModel load_package(const std::filesystem::path& path);

// True when the file starts with the package magic.
bool is_package(const std::filesystem::path& path);

}  // namespace vta::model
