#include "runtime/cuda/cudnn_api.h"

#include <dlfcn.h>

#include <fstream>
#include <string>

#include "absl/strings/str_format.h"

namespace onyx::cuda {
namespace {

// The soname of the cuDNN these headers belong to: libcudnn.so.9.
std::string CudnnSoname() { return absl::StrFormat("libcudnn.so.%d", CUDNN_MAJOR); }

// The loader's search path first (LD_LIBRARY_PATH, ld.so.cache), then the
// toolkit folder this binary was built against (where cuDNN is installed here).
void* OpenCudnn(std::string* error) {
  const std::string soname = CudnnSoname();
  if (void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  *error = dlerror();
#ifdef ONYX_CUDNN_DIR
  const std::string in_toolkit = std::string(ONYX_CUDNN_DIR) + "/" + soname;
  if (void* handle = dlopen(in_toolkit.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
  *error += std::string("; ") + dlerror();
#endif
  return nullptr;
}

template <typename Fn>
void Resolve(void* library, const char* symbol, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(dlsym(library, symbol));
  if (*fn == nullptr) *missing += absl::StrFormat(" %s", symbol);
}

absl::StatusOr<CudnnApi> OpenApi() {
  std::string error;
  void* library = OpenCudnn(&error);
  if (library == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrFormat("cannot load %s (needed for Conv, ConvGrad and pooling on CUDA): %s",
                        CudnnSoname(), error));
  }
  CudnnApi api;
  std::string missing;
  Resolve(library, "cudnnCreate", &api.create, &missing);
  Resolve(library, "cudnnDestroy", &api.destroy, &missing);
  Resolve(library, "cudnnSetStream", &api.set_stream, &missing);
  Resolve(library, "cudnnGetErrorString", &api.error_string, &missing);
  Resolve(library, "cudnnCreateTensorDescriptor", &api.create_tensor, &missing);
  Resolve(library, "cudnnSetTensorNdDescriptor", &api.set_tensor_nd, &missing);
  Resolve(library, "cudnnDestroyTensorDescriptor", &api.destroy_tensor, &missing);
  Resolve(library, "cudnnCreateFilterDescriptor", &api.create_filter, &missing);
  Resolve(library, "cudnnSetFilterNdDescriptor", &api.set_filter_nd, &missing);
  Resolve(library, "cudnnDestroyFilterDescriptor", &api.destroy_filter, &missing);
  Resolve(library, "cudnnAddTensor", &api.add_tensor, &missing);
  Resolve(library, "cudnnCreateConvolutionDescriptor", &api.create_conv, &missing);
  Resolve(library, "cudnnSetConvolutionNdDescriptor", &api.set_conv_nd, &missing);
  Resolve(library, "cudnnSetConvolutionGroupCount", &api.set_conv_groups, &missing);
  Resolve(library, "cudnnSetConvolutionMathType", &api.set_conv_math, &missing);
  Resolve(library, "cudnnGetConvolutionNdForwardOutputDim", &api.conv_output_dim, &missing);
  Resolve(library, "cudnnDestroyConvolutionDescriptor", &api.destroy_conv, &missing);
  Resolve(library, "cudnnGetConvolutionForwardAlgorithm_v7", &api.get_forward_algorithm, &missing);
  Resolve(library, "cudnnGetConvolutionForwardWorkspaceSize", &api.forward_workspace_size,
          &missing);
  Resolve(library, "cudnnConvolutionForward", &api.convolution_forward, &missing);
  Resolve(library, "cudnnGetConvolutionBackwardDataAlgorithm_v7", &api.get_backward_data_algorithm,
          &missing);
  Resolve(library, "cudnnGetConvolutionBackwardDataWorkspaceSize",
          &api.backward_data_workspace_size, &missing);
  Resolve(library, "cudnnConvolutionBackwardData", &api.convolution_backward_data, &missing);
  Resolve(library, "cudnnGetConvolutionBackwardFilterAlgorithm_v7",
          &api.get_backward_filter_algorithm, &missing);
  Resolve(library, "cudnnGetConvolutionBackwardFilterWorkspaceSize",
          &api.backward_filter_workspace_size, &missing);
  Resolve(library, "cudnnConvolutionBackwardFilter", &api.convolution_backward_filter, &missing);
  Resolve(library, "cudnnConvolutionBackwardBias", &api.convolution_backward_bias, &missing);
  Resolve(library, "cudnnCreatePoolingDescriptor", &api.create_pooling, &missing);
  Resolve(library, "cudnnSetPoolingNdDescriptor", &api.set_pooling_nd, &missing);
  Resolve(library, "cudnnDestroyPoolingDescriptor", &api.destroy_pooling, &missing);
  Resolve(library, "cudnnGetPoolingNdForwardOutputDim", &api.pooling_output_dim, &missing);
  Resolve(library, "cudnnPoolingForward", &api.pooling_forward, &missing);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("%s lacks the entry points:%s", CudnnSoname(), missing));
  }
  return api;  // the library stays open for the life of the process
}

}  // namespace

absl::StatusOr<const CudnnApi*> LoadCudnn() {
  static const absl::StatusOr<CudnnApi>* const api = new absl::StatusOr<CudnnApi>(OpenApi());
  if (!api->ok()) return api->status();
  return &**api;
}

bool CudnnMapped() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libcudnn") != std::string::npos) return true;
  }
  return false;
}

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
