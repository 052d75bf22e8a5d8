// ONNX front end: reads an ONNX model (default domain, opset 11 to 17) into a typed ir::Graph.
//
// Initializers, graph inputs that are initializers, and Constant nodes become constants (float32, int8,
// uint8, int32; int64 is converted to int32, double to float32). Graph inputs take their shapes from the
// model; a symbolic batch dimension becomes 1 (with a note), any other unknown dimension is an error.
// Every error is a vta::Error: "cannot parse ONNX model 'NAME': ..." for a missing, empty, truncated or
// non-protobuf file, "ONNX model 'NAME': ..." otherwise, listing every unsupported op or attribute value
// at once, each as "unsupported ONNX op 'LSTM' (node 'lstm_1')".
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "vta/ir/graph.h"

namespace vta::frontend {

// `notes`, when given, receives remarks about liberties taken (e.g. a symbolic batch dimension set to 1).
ir::Graph import_onnx(const std::filesystem::path& path, std::vector<std::string>* notes = nullptr);
// The serialized ModelProto in `bytes`; `name` is used in messages and as the default graph name.
ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& name,
                            std::vector<std::string>* notes = nullptr);

inline constexpr int kMinOnnxOpset = 11;
inline constexpr int kMaxOnnxOpset = 17;

}  // namespace vta::frontend
