// NumPy .npy files (format versions 1.0, 2.0 and 3.0): C order, little endian; dtypes int8, uint8,
// int32, float32. Anything else (Fortran order, big endian, other dtypes, a malformed header) is a
// vta::Error naming the file and the problem.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vta/compiler/tensor.h"

namespace vta::compiler {

// Parses the bytes of a .npy file; `name` is used in error messages.
Tensor parse_npy(const std::vector<uint8_t>& bytes, const std::string& name = "<npy>");
Tensor read_npy(const std::filesystem::path& path);

// Serializes as format 1.0 (2.0 when the header does not fit 1.0's 16-bit length).
std::vector<uint8_t> serialize_npy(const Tensor& tensor);
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace vta::compiler
