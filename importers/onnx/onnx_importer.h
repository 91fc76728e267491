// Reads ONNX models (ModelProto) into Onyx's Graph IR and TensorProto files into
// Tensors. No protobuf types cross this header.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx {

// Most nodes a model may hold unless told otherwise.
inline constexpr int64_t kDefaultMaxNodes = int64_t{1} << 20;

struct LoadOptions {
  // Largest tensor (initializer or attribute) accepted, in bytes.
  int64_t max_tensor_bytes = kDefaultMaxTensorBytes;
  // Largest sum of all initializer and attribute tensor bytes.
  int64_t max_total_bytes = int64_t{1} << 62;
  // Most nodes in the graph.
  int64_t max_nodes = kDefaultMaxNodes;
};

// Largest model or tensor file parsed (protobuf's own 2 GiB ceiling).
inline constexpr int64_t kMaxProtoFileBytes = (int64_t{2} << 30) - 1;
// Deepest message nesting parsed (protobuf's default): nested subgraph
// attributes deeper than this are refused instead of exhausting the stack.
inline constexpr int kMaxProtoNesting = 100;

// Loads `path`; external data is resolved relative to the model's folder.
absl::StatusOr<Graph> LoadOnnxModel(const std::string& path, const LoadOptions& options = {});

// Parses serialized ModelProto `bytes`. External data paths are relative to
// `model_dir`; an empty `model_dir` refuses external data.
absl::StatusOr<Graph> ParseOnnxModel(const std::string& bytes, const std::string& model_dir,
                                     const LoadOptions& options = {});

// Reads a serialized TensorProto (the ONNX backend tests' input_K.pb / output_K.pb).
absl::StatusOr<Tensor> LoadTensorProtoFile(const std::string& path);
absl::StatusOr<Tensor> ParseTensorProto(const std::string& bytes);

}  // namespace onyx
