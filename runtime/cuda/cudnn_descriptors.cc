#include "runtime/cuda/cudnn_descriptors.h"

#include <climits>
#include <cstdint>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// A descriptor can only exist once the library loaded, so the table is there.
const CudnnApi& Api() { return **LoadCudnn(); }

}  // namespace

absl::Status AtNode(const Node& node, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrFormat("%s: %s", node.Describe(), status.message()));
}

absl::StatusOr<CudnnContext> CudnnFor(const Node& node, CudaBackend& backend) {
  CudnnContext context;
  absl::StatusOr<const CudnnApi*> api = LoadCudnn();
  if (!api.ok()) return AtNode(node, api.status());
  context.api = *api;
  absl::StatusOr<cudnnHandle_t> handle = backend.Cudnn();
  if (!handle.ok()) return AtNode(node, handle.status());
  context.handle = *handle;
  return context;
}

void CudnnDescriptorDeleter::operator()(std::remove_pointer_t<cudnnTensorDescriptor_t>* d) const {
  Api().destroy_tensor(d);
}
void CudnnDescriptorDeleter::operator()(std::remove_pointer_t<cudnnFilterDescriptor_t>* d) const {
  Api().destroy_filter(d);
}
void CudnnDescriptorDeleter::operator()(
    std::remove_pointer_t<cudnnConvolutionDescriptor_t>* d) const {
  Api().destroy_conv(d);
}
void CudnnDescriptorDeleter::operator()(std::remove_pointer_t<cudnnPoolingDescriptor_t>* d) const {
  Api().destroy_pooling(d);
}

absl::StatusOr<TensorDesc> MakeTensorDesc(const std::vector<int>& dims) {
  ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
  cudnnTensorDescriptor_t raw = nullptr;
  ONYX_RETURN_IF_ERROR(CudnnStatus(api->create_tensor(&raw), "cudnnCreateTensorDescriptor"));
  TensorDesc desc(raw);
  // cuDNN takes int strides: a tensor past INT_MAX elements is left to the CPU.
  std::vector<int> strides(dims.size(), 1);
  int64_t stride = 1;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    if (stride > INT_MAX) {
      return absl::UnimplementedError(absl::StrFormat(
          "a tensor of dims [%s] exceeds cuDNN's int strides", absl::StrJoin(dims, ",")));
    }
    strides[i] = static_cast<int>(stride);
    stride *= dims[i];
  }
  ONYX_RETURN_IF_ERROR(
      CudnnStatus(api->set_tensor_nd(raw, CUDNN_DATA_FLOAT, static_cast<int>(dims.size()),
                                     dims.data(), strides.data()),
                  "cudnnSetTensorNdDescriptor"));
  return desc;
}

absl::StatusOr<FilterDesc> MakeFilterDesc(const std::vector<int>& dims) {
  ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
  cudnnFilterDescriptor_t raw = nullptr;
  ONYX_RETURN_IF_ERROR(CudnnStatus(api->create_filter(&raw), "cudnnCreateFilterDescriptor"));
  FilterDesc desc(raw);
  ONYX_RETURN_IF_ERROR(CudnnStatus(api->set_filter_nd(raw, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                      static_cast<int>(dims.size()), dims.data()),
                                   "cudnnSetFilterNdDescriptor"));
  return desc;
}

absl::StatusOr<ConvDesc> MakeConvDesc(const std::vector<int>& pads, const std::vector<int>& strides,
                                      const std::vector<int>& dilations, int groups) {
  ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
  cudnnConvolutionDescriptor_t raw = nullptr;
  ONYX_RETURN_IF_ERROR(CudnnStatus(api->create_conv(&raw), "cudnnCreateConvolutionDescriptor"));
  ConvDesc desc(raw);
  ONYX_RETURN_IF_ERROR(
      CudnnStatus(api->set_conv_nd(raw, static_cast<int>(pads.size()), pads.data(), strides.data(),
                                   dilations.data(), CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                  "cudnnSetConvolutionNdDescriptor"));
  ONYX_RETURN_IF_ERROR(
      CudnnStatus(api->set_conv_groups(raw, groups), "cudnnSetConvolutionGroupCount"));
  ONYX_RETURN_IF_ERROR(
      CudnnStatus(api->set_conv_math(raw, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType"));
  return desc;
}

absl::StatusOr<PoolDesc> MakePoolDesc(cudnnPoolingMode_t mode, const std::vector<int>& window,
                                      const std::vector<int>& pads,
                                      const std::vector<int>& strides) {
  ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
  cudnnPoolingDescriptor_t raw = nullptr;
  ONYX_RETURN_IF_ERROR(CudnnStatus(api->create_pooling(&raw), "cudnnCreatePoolingDescriptor"));
  PoolDesc desc(raw);
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api->set_pooling_nd(raw, mode, CUDNN_PROPAGATE_NAN, static_cast<int>(window.size()),
                          window.data(), pads.data(), strides.data()),
      "cudnnSetPoolingNdDescriptor"));
  return desc;
}

absl::StatusOr<std::vector<int>> ConvOutputDims(const ConvDesc& conv, const TensorDesc& x,
                                                const FilterDesc& w, int rank) {
  ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
  std::vector<int> dims(rank);
  ONYX_RETURN_IF_ERROR(
      CudnnStatus(api->conv_output_dim(conv.get(), x.get(), w.get(), rank, dims.data()),
                  "cudnnGetConvolutionNdForwardOutputDim"));
  return dims;
}

absl::StatusOr<std::vector<int>> PoolOutputDims(const PoolDesc& pool, const TensorDesc& x,
                                                int rank) {
  ONYX_ASSIGN_OR_RETURN(const CudnnApi* api, LoadCudnn());
  std::vector<int> dims(rank);
  ONYX_RETURN_IF_ERROR(CudnnStatus(api->pooling_output_dim(pool.get(), x.get(), rank, dims.data()),
                                   "cudnnGetPoolingNdForwardOutputDim"));
  return dims;
}

absl::Status CheckOutputDims(const std::vector<int>& cudnn, const std::vector<int>& expected) {
  if (cudnn == expected) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrFormat("cuDNN computes output dims [%s], ONNX [%s]",
                                                  absl::StrJoin(cudnn, ","),
                                                  absl::StrJoin(expected, ",")));
}

}  // namespace onyx::cuda
