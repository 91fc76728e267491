// cuDNN entry points (the legacy descriptor API of cuDNN 9), opened with dlopen
// on first use, as cuBLAS is (cublas_api.h): linking libcudnn would map it and
// the sub-libraries it loads into every process, CPU-only runs included.
// Every symbol below is exported by the libcudnn.so.9 shim, which forwards to
// libcudnn_ops / libcudnn_cnn / libcudnn_graph.
#pragma once

#include <cudnn.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onyx::cuda {

struct CudnnApi {
  decltype(&cudnnCreate) create = nullptr;
  decltype(&cudnnDestroy) destroy = nullptr;
  decltype(&cudnnSetStream) set_stream = nullptr;
  decltype(&cudnnGetErrorString) error_string = nullptr;
  // Tensors and filters.
  decltype(&cudnnCreateTensorDescriptor) create_tensor = nullptr;
  decltype(&cudnnSetTensorNdDescriptor) set_tensor_nd = nullptr;
  decltype(&cudnnDestroyTensorDescriptor) destroy_tensor = nullptr;
  decltype(&cudnnCreateFilterDescriptor) create_filter = nullptr;
  decltype(&cudnnSetFilterNdDescriptor) set_filter_nd = nullptr;
  decltype(&cudnnDestroyFilterDescriptor) destroy_filter = nullptr;
  decltype(&cudnnAddTensor) add_tensor = nullptr;
  // Convolution.
  decltype(&cudnnCreateConvolutionDescriptor) create_conv = nullptr;
  decltype(&cudnnSetConvolutionNdDescriptor) set_conv_nd = nullptr;
  decltype(&cudnnSetConvolutionGroupCount) set_conv_groups = nullptr;
  decltype(&cudnnSetConvolutionMathType) set_conv_math = nullptr;
  decltype(&cudnnGetConvolutionNdForwardOutputDim) conv_output_dim = nullptr;
  decltype(&cudnnDestroyConvolutionDescriptor) destroy_conv = nullptr;
  decltype(&cudnnGetConvolutionForwardAlgorithm_v7) get_forward_algorithm = nullptr;
  decltype(&cudnnGetConvolutionForwardWorkspaceSize) forward_workspace_size = nullptr;
  decltype(&cudnnConvolutionForward) convolution_forward = nullptr;
  decltype(&cudnnGetConvolutionBackwardDataAlgorithm_v7) get_backward_data_algorithm = nullptr;
  decltype(&cudnnGetConvolutionBackwardDataWorkspaceSize) backward_data_workspace_size = nullptr;
  decltype(&cudnnConvolutionBackwardData) convolution_backward_data = nullptr;
  decltype(&cudnnGetConvolutionBackwardFilterAlgorithm_v7) get_backward_filter_algorithm = nullptr;
  decltype(&cudnnGetConvolutionBackwardFilterWorkspaceSize) backward_filter_workspace_size =
      nullptr;
  decltype(&cudnnConvolutionBackwardFilter) convolution_backward_filter = nullptr;
  decltype(&cudnnConvolutionBackwardBias) convolution_backward_bias = nullptr;
  // Pooling.
  decltype(&cudnnCreatePoolingDescriptor) create_pooling = nullptr;
  decltype(&cudnnSetPoolingNdDescriptor) set_pooling_nd = nullptr;
  decltype(&cudnnDestroyPoolingDescriptor) destroy_pooling = nullptr;
  decltype(&cudnnGetPoolingNdForwardOutputDim) pooling_output_dim = nullptr;
  decltype(&cudnnPoolingForward) pooling_forward = nullptr;
};

// Opens libcudnn once per process (thread-safe) and resolves every entry point;
// FailedPrecondition naming the library and the loader's reason when it cannot.
absl::StatusOr<const CudnnApi*> LoadCudnn();

// Whether libcudnn (or one of its sub-libraries) is mapped into this process.
bool CudnnMapped();

// A cuDNN status as absl::Status, the call named: Unimplemented for
// CUDNN_STATUS_NOT_SUPPORTED* (the session then runs the CPU kernel), else Internal.
absl::Status CudnnStatus(cudnnStatus_t status, const char* what);

}  // namespace onyx::cuda
