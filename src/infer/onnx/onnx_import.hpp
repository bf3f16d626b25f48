// infer/onnx/onnx_import.hpp — ONNX (protobuf) -> tickrt IR.
//
// Setup path only. Uses Debian's libonnx_proto + libprotobuf; this is the one part of the engine that
// depends on them (library tickrt_infer_onnx), so the rest builds with the standard library alone.
// Errors name the file, the node (name and op) or the tensor, and the reason. Never crashes on a
// malformed or truncated file: protobuf's parser reports failure and every field is range-checked.
#pragma once

#include <string>

#include "core/status.hpp"
#include "infer/ir/graph.hpp"

namespace tickrt::infer {

// Reads an ONNX ModelProto file. External tensor data (data_location = EXTERNAL) is read from files
// relative to the model's folder; offsets/lengths are checked against the file size.
Result<Graph> import_onnx_file(const std::string& path);
Result<Graph> import_onnx_bytes(const void* data, std::size_t size, const std::string& origin,
                                const std::string& base_dir = ".");
// Reads one serialized TensorProto (the ONNX backend tests' input_N.pb / output_N.pb).
Result<TensorData> import_tensor_proto_file(const std::string& path);

}  // namespace tickrt::infer
