#include "runtime/cuda/cudnn_api.h"

#include <string>

#include "absl/strings/str_format.h"
#include "runtime/cuda/shared_library.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

#ifdef ONYX_CUDNN_DIR
constexpr const char* kCudnnDir = ONYX_CUDNN_DIR;
#else
constexpr const char* kCudnnDir = nullptr;
#endif

absl::StatusOr<CudnnApi> OpenApi() {
  // The soname of the major version these headers belong to.
  ONYX_ASSIGN_OR_RETURN(SharedLibrary library,
                        SharedLibrary::Open(absl::StrFormat("libcudnn.so.%d", CUDNN_MAJOR),
                                            kCudnnDir, "Conv, ConvGrad and pooling on CUDA"));
  CudnnApi api;
  library.Resolve("cudnnCreate", &api.create);
  library.Resolve("cudnnDestroy", &api.destroy);
  library.Resolve("cudnnSetStream", &api.set_stream);
  library.Resolve("cudnnGetErrorString", &api.error_string);
  library.Resolve("cudnnCreateTensorDescriptor", &api.create_tensor);
  library.Resolve("cudnnSetTensorNdDescriptor", &api.set_tensor_nd);
  library.Resolve("cudnnDestroyTensorDescriptor", &api.destroy_tensor);
  library.Resolve("cudnnCreateFilterDescriptor", &api.create_filter);
  library.Resolve("cudnnSetFilterNdDescriptor", &api.set_filter_nd);
  library.Resolve("cudnnDestroyFilterDescriptor", &api.destroy_filter);
  library.Resolve("cudnnAddTensor", &api.add_tensor);
  library.Resolve("cudnnCreateConvolutionDescriptor", &api.create_conv);
  library.Resolve("cudnnSetConvolutionNdDescriptor", &api.set_conv_nd);
  library.Resolve("cudnnSetConvolutionGroupCount", &api.set_conv_groups);
  library.Resolve("cudnnSetConvolutionMathType", &api.set_conv_math);
  library.Resolve("cudnnGetConvolutionNdForwardOutputDim", &api.conv_output_dim);
  library.Resolve("cudnnDestroyConvolutionDescriptor", &api.destroy_conv);
  library.Resolve("cudnnGetConvolutionForwardAlgorithm_v7", &api.get_forward_algorithm);
  library.Resolve("cudnnGetConvolutionForwardWorkspaceSize", &api.forward_workspace_size);
  library.Resolve("cudnnConvolutionForward", &api.convolution_forward);
  library.Resolve("cudnnGetConvolutionBackwardDataAlgorithm_v7", &api.get_backward_data_algorithm);
  library.Resolve("cudnnGetConvolutionBackwardDataWorkspaceSize",
                  &api.backward_data_workspace_size);
  library.Resolve("cudnnConvolutionBackwardData", &api.convolution_backward_data);
  library.Resolve("cudnnGetConvolutionBackwardFilterAlgorithm_v7",
                  &api.get_backward_filter_algorithm);
  library.Resolve("cudnnGetConvolutionBackwardFilterWorkspaceSize",
                  &api.backward_filter_workspace_size);
  library.Resolve("cudnnConvolutionBackwardFilter", &api.convolution_backward_filter);
  library.Resolve("cudnnConvolutionBackwardBias", &api.convolution_backward_bias);
  library.Resolve("cudnnCreatePoolingDescriptor", &api.create_pooling);
  library.Resolve("cudnnSetPoolingNdDescriptor", &api.set_pooling_nd);
  library.Resolve("cudnnDestroyPoolingDescriptor", &api.destroy_pooling);
  library.Resolve("cudnnGetPoolingNdForwardOutputDim", &api.pooling_output_dim);
  library.Resolve("cudnnPoolingForward", &api.pooling_forward);
  ONYX_RETURN_IF_ERROR(library.Check());
  return api;  // the library stays open for the life of the process
}

}  // namespace

absl::StatusOr<const CudnnApi*> LoadCudnn() {
  static const absl::StatusOr<CudnnApi>* const api = new absl::StatusOr<CudnnApi>(OpenApi());
  if (!api->ok()) return api->status();
  return &**api;
}

bool CudnnMapped() { return LibraryMapped("libcudnn"); }

absl::Status CudnnStatus(cudnnStatus_t status, const char* what) {
  if (status == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  absl::StatusOr<const CudnnApi*> api = LoadCudnn();
  const std::string reason =
      api.ok() ? (*api)->error_string(status) : absl::StrFormat("cuDNN status %d", status);
  const std::string message = absl::StrFormat("%s: %s", what, reason);
  if (CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED) {
    return absl::UnimplementedError(message);
  }
  return absl::InternalError(message);
}

}  // namespace onyx::cuda
