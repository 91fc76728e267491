// Owning cuDNN descriptors (destroyed through the dlopen'ed table) and their
// setup from plain int arrays. Errors are Internal / Unimplemented (see
// CudnnStatus) with the cuDNN call named; kernels prefix their node.
#pragma once

#include <cudnn.h>

#include <memory>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/graph.h"

namespace onyx::cuda {

class CudaBackend;

// What a cuDNN kernel needs per run: the entry points and the backend's handle.
struct CudnnContext {
  const CudnnApi* api = nullptr;
  cudnnHandle_t handle = nullptr;
};
// Loads libcudnn (first use) and the backend's handle; errors name `node`.
absl::StatusOr<CudnnContext> CudnnFor(const Node& node, CudaBackend& backend);

// `status` with `node` named in front, its code kept (OK stays OK).
absl::Status AtNode(const Node& node, const absl::Status& status);

struct CudnnDescriptorDeleter {
  void operator()(std::remove_pointer_t<cudnnTensorDescriptor_t>* d) const;
  void operator()(std::remove_pointer_t<cudnnFilterDescriptor_t>* d) const;
  void operator()(std::remove_pointer_t<cudnnConvolutionDescriptor_t>* d) const;
  void operator()(std::remove_pointer_t<cudnnPoolingDescriptor_t>* d) const;
};
using TensorDesc =
    std::unique_ptr<std::remove_pointer_t<cudnnTensorDescriptor_t>, CudnnDescriptorDeleter>;
using FilterDesc =
    std::unique_ptr<std::remove_pointer_t<cudnnFilterDescriptor_t>, CudnnDescriptorDeleter>;
using ConvDesc =
    std::unique_ptr<std::remove_pointer_t<cudnnConvolutionDescriptor_t>, CudnnDescriptorDeleter>;
using PoolDesc =
    std::unique_ptr<std::remove_pointer_t<cudnnPoolingDescriptor_t>, CudnnDescriptorDeleter>;

// A packed row-major float tensor of `dims` (rank 4 or 5: N, C, spatial...).
absl::StatusOr<TensorDesc> MakeTensorDesc(const std::vector<int>& dims);
// A float NCHW / NCDHW filter [M, C/group, K...].
absl::StatusOr<FilterDesc> MakeFilterDesc(const std::vector<int>& dims);
// Cross-correlation (what ONNX Conv computes) in float, FMA math (no TF32, so
// results stay within float rounding of the CPU kernels), `groups` groups.
absl::StatusOr<ConvDesc> MakeConvDesc(const std::vector<int>& pads, const std::vector<int>& strides,
                                      const std::vector<int>& dilations, int groups);
// Pooling over `window` with symmetric `pads`; NaNs propagate through max.
absl::StatusOr<PoolDesc> MakePoolDesc(cudnnPoolingMode_t mode, const std::vector<int>& window,
                                      const std::vector<int>& pads,
                                      const std::vector<int>& strides);

// The output dims cuDNN derives for a convolution / pooling of `x` (host-side
// descriptor arithmetic: no GPU needed). The kernels check them against the
// ONNX geometry before running.
absl::StatusOr<std::vector<int>> ConvOutputDims(const ConvDesc& conv, const TensorDesc& x,
                                                const FilterDesc& w, int rank);
absl::StatusOr<std::vector<int>> PoolOutputDims(const PoolDesc& pool, const TensorDesc& x,
                                                int rank);

// Unimplemented (the session then runs the CPU kernel) when cuDNN's output
// dims `cudnn` differ from the ONNX geometry's `expected`.
absl::Status CheckOutputDims(const std::vector<int>& cudnn, const std::vector<int>& expected);

}  // namespace onyx::cuda
