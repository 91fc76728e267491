// Writes Onyx Graphs back to ONNX files (ModelProto) and Tensors to TensorProto files.
// Files are written to "<path>.tmp", fsynced and renamed over `path`.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx {

// ir_version and opsets come from `graph` (IR 8 when unset); producer is "onyx";
// initializers are stored as raw_data. Graph/sparse attributes (which Onyx does not
// import) cannot be written and give Unimplemented.
absl::Status SaveOnnxModel(const Graph& graph, const std::string& path);

// Serializes `graph` to ModelProto bytes (what SaveOnnxModel writes).
absl::StatusOr<std::string> SerializeOnnxModel(const Graph& graph);

// Writes `t` as a serialized TensorProto named `name`.
absl::Status SaveTensorProtoFile(const Tensor& t, const std::string& name,
                                 const std::string& path);

}  // namespace onyx
