// Internal to importers/onnx: onnx::TensorProto <-> onyx::Tensor, including data held
// in external files. The only header here that exposes protobuf types.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "onnx_proto/onnx.pb.h"
#include "runtime/tensor.h"

namespace onyx::onnx_internal {

struct TensorReadOptions {
  // Folder that external data paths are relative to; empty refuses external data.
  std::string base_dir;
  int64_t max_tensor_bytes = kDefaultMaxTensorBytes;
};

// Validates dtype, dims and the size of the data actually present before
// allocating anything; errors name the tensor.
absl::StatusOr<Tensor> TensorFromProto(const onnx::TensorProto& proto,
                                       const TensorReadOptions& options);

// Fills `proto` with name, dims, data_type and little-endian raw_data.
absl::Status TensorToProto(const Tensor& tensor, const std::string& name,
                           onnx::TensorProto* proto);

// Reads data_location == EXTERNAL tensors (see external_data.cc).
absl::StatusOr<Tensor> ReadExternalTensor(const onnx::TensorProto& proto, DataType dtype,
                                          const Shape& shape, int64_t expected_bytes,
                                          const TensorReadOptions& options);

}  // namespace onyx::onnx_internal
