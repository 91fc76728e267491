// The emulated cuDNN's handle, tensor, filter and convolution descriptors, and
// cudnnAddTensor: the entry points of runtime/cuda/cudnn_api.h that are not a
// convolution pass (cudnn_emu_conv.cc) or pooling (cudnn_emu_pool.cc). Built
// with them as libcudnn.so.<major>, found by Onyx's dlopen before any real
// cuDNN. Descriptors check their arguments as cuDNN 9 documents, so a wrong
// setup in Onyx fails here with CUDNN_STATUS_BAD_PARAM as it would on a GPU.
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/cuda_emu/cudnn_emu.h"
#include "tests/cuda_emu/emu_runtime.h"

namespace onyx_emu {

int64_t SpanElements(const cudnnTensorStruct& t) {
  int64_t last = 0;
  for (int d = 0; d < t.rank; ++d) last += static_cast<int64_t>(t.dims[d] - 1) * t.strides[d];
  return last + 1;
}

int64_t Elements(const cudnnTensorStruct& t) {
  int64_t n = 1;
  for (int d = 0; d < t.rank; ++d) n *= t.dims[d];
  return n;
}

int64_t Elements(const cudnnFilterStruct& f) {
  int64_t n = 1;
  for (int d = 0; d < f.rank; ++d) n *= f.dims[d];
  return n;
}

void RequireDevice(const char* call, const char* what, const void* data, int64_t elements) {
  if (onyx_emu::IsDeviceRange(data, static_cast<size_t>(elements) * sizeof(float))) return;
  std::fprintf(stderr,
               "onyx CUDA emulator: %s: %s (%lld floats at %p) is not inside one device "
               "allocation\n",
               call, what, static_cast<long long>(elements), data);
  std::abort();
}

}  // namespace onyx_emu

using onyx_emu::Ready;

// ---- Handle ----

cudnnStatus_t cudnnCreate(cudnnHandle_t* handle) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *handle = new cudnnContext;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroy(cudnnHandle_t handle) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  delete handle;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetStream(cudnnHandle_t handle, cudaStream_t stream) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  if (!onyx_emu::IsValidStream(stream)) return CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH;
  handle->stream = stream;  // streams are synchronous here: calls run at once
  return CUDNN_STATUS_SUCCESS;
}

const char* cudnnGetErrorString(cudnnStatus_t status) {
  switch (status) {
    case CUDNN_STATUS_SUCCESS: return "CUDNN_STATUS_SUCCESS";
    case CUDNN_STATUS_NOT_INITIALIZED: return "CUDNN_STATUS_NOT_INITIALIZED";
    case CUDNN_STATUS_BAD_PARAM: return "CUDNN_STATUS_BAD_PARAM";
    case CUDNN_STATUS_BAD_PARAM_NULL_POINTER: return "CUDNN_STATUS_BAD_PARAM_NULL_POINTER";
    case CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH: return "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH";
    case CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH: return "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH";
    case CUDNN_STATUS_NOT_SUPPORTED: return "CUDNN_STATUS_NOT_SUPPORTED";
    case CUDNN_STATUS_NOT_SUPPORTED_SHAPE: return "CUDNN_STATUS_NOT_SUPPORTED_SHAPE";
    case CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE: return "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE";
    case CUDNN_STATUS_NOT_SUPPORTED_LAYOUT: return "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT";
    case CUDNN_STATUS_INTERNAL_ERROR: return "CUDNN_STATUS_INTERNAL_ERROR";
    case CUDNN_STATUS_EXECUTION_FAILED: return "CUDNN_STATUS_EXECUTION_FAILED";
    default: return "CUDNN_UNKNOWN_STATUS";
  }
}

// ---- Tensors ----

cudnnStatus_t cudnnCreateTensorDescriptor(cudnnTensorDescriptor_t* desc) {
  if (desc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnTensorStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyTensorDescriptor(cudnnTensorDescriptor_t desc) {
  delete desc;  // destroying nullptr is a no-op, as in cuDNN
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetTensorNdDescriptor(cudnnTensorDescriptor_t desc, cudnnDataType_t type,
                                         int rank, const int dims[], const int strides[]) {
  if (desc == nullptr || dims == nullptr || strides == nullptr) return CUDNN_STATUS_BAD_PARAM;
  // cuDNN takes ranks 4..CUDNN_DIM_MAX here (lower ranks are padded with unit dims).
  if (rank < 4 || rank > CUDNN_DIM_MAX) return CUDNN_STATUS_NOT_SUPPORTED;
  if (type != CUDNN_DATA_FLOAT) return CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE;  // emulator: float only
  int64_t elements = 1;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] <= 0 || strides[d] <= 0) return CUDNN_STATUS_BAD_PARAM;
    elements *= dims[d];
  }
  if (elements > (int64_t{1} << 31)) return CUDNN_STATUS_NOT_SUPPORTED;  // cuDNN's 2 Gi limit
  desc->rank = rank;
  for (int d = 0; d < rank; ++d) {
    desc->dims[d] = dims[d];
    desc->strides[d] = strides[d];
  }
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

// C = alpha * A + beta * C, A broadcast along its unit dimensions.
cudnnStatus_t cudnnAddTensor(cudnnHandle_t handle, const void* alpha,
                             const cudnnTensorDescriptor_t a_desc, const void* a,
                             const void* beta, const cudnnTensorDescriptor_t c_desc, void* c) {
  if (handle == nullptr || alpha == nullptr || beta == nullptr || !Ready(a_desc) ||
      !Ready(c_desc) || a_desc->rank != c_desc->rank) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  for (int d = 0; d < c_desc->rank; ++d) {
    if (a_desc->dims[d] != c_desc->dims[d] && a_desc->dims[d] != 1) return CUDNN_STATUS_BAD_PARAM;
  }
  onyx_emu::RequireDevice("cudnnAddTensor", "A", a, onyx_emu::SpanElements(*a_desc));
  onyx_emu::RequireDevice("cudnnAddTensor", "C", c, onyx_emu::SpanElements(*c_desc));
  const float alpha_value = *static_cast<const float*>(alpha);
  const float beta_value = *static_cast<const float*>(beta);
  const auto* a_data = static_cast<const float*>(a);
  auto* c_data = static_cast<float*>(c);
  onyx_emu::DeviceAccess access;
  int index[CUDNN_DIM_MAX] = {};
  int a_index[CUDNN_DIM_MAX] = {};
  do {
    for (int d = 0; d < c_desc->rank; ++d) a_index[d] = a_desc->dims[d] == 1 ? 0 : index[d];
    float& out = c_data[onyx_emu::Offset(*c_desc, index)];
    out = onyx_emu::Blend(a_data[onyx_emu::Offset(*a_desc, a_index)], alpha_value, beta_value, out);
  } while (onyx_emu::NextIndex(index, c_desc->dims, c_desc->rank));
  return CUDNN_STATUS_SUCCESS;
}

// ---- Filters ----

cudnnStatus_t cudnnCreateFilterDescriptor(cudnnFilterDescriptor_t* desc) {
  if (desc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnFilterStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyFilterDescriptor(cudnnFilterDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetFilterNdDescriptor(cudnnFilterDescriptor_t desc, cudnnDataType_t type,
                                         cudnnTensorFormat_t format, int rank, const int dims[]) {
  if (desc == nullptr || dims == nullptr || rank < 3) return CUDNN_STATUS_BAD_PARAM;
  if (rank > CUDNN_DIM_MAX) return CUDNN_STATUS_NOT_SUPPORTED;
  if (format != CUDNN_TENSOR_NCHW && format != CUDNN_TENSOR_NHWC &&
      format != CUDNN_TENSOR_NCHW_VECT_C) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  if (format != CUDNN_TENSOR_NCHW) return CUDNN_STATUS_NOT_SUPPORTED_LAYOUT;  // emulator: NCHW only
  if (type != CUDNN_DATA_FLOAT) return CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] <= 0) return CUDNN_STATUS_BAD_PARAM;
  }
  desc->rank = rank;
  for (int d = 0; d < rank; ++d) desc->dims[d] = dims[d];
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

// ---- Convolution descriptors ----

cudnnStatus_t cudnnCreateConvolutionDescriptor(cudnnConvolutionDescriptor_t* desc) {
  if (desc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnConvolutionStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyConvolutionDescriptor(cudnnConvolutionDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionNdDescriptor(cudnnConvolutionDescriptor_t desc, int spatial,
                                              const int pads[], const int strides[],
                                              const int dilations[], cudnnConvolutionMode_t mode,
                                              cudnnDataType_t compute_type) {
  if (desc == nullptr || pads == nullptr || strides == nullptr || dilations == nullptr ||
      spatial <= 0 || (mode != CUDNN_CONVOLUTION && mode != CUDNN_CROSS_CORRELATION)) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  if (spatial > CUDNN_DIM_MAX - 2) return CUDNN_STATUS_NOT_SUPPORTED;
  if (compute_type != CUDNN_DATA_FLOAT) return CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE;
  for (int d = 0; d < spatial; ++d) {
    if (pads[d] < 0 || strides[d] <= 0 || dilations[d] <= 0) return CUDNN_STATUS_BAD_PARAM;
  }
  desc->spatial = spatial;
  for (int d = 0; d < spatial; ++d) {
    desc->pads[d] = pads[d];
    desc->strides[d] = strides[d];
    desc->dilations[d] = dilations[d];
  }
  desc->mode = mode;
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionGroupCount(cudnnConvolutionDescriptor_t desc, int groups) {
  if (desc == nullptr || groups < 1) return CUDNN_STATUS_BAD_PARAM;
  desc->groups = groups;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetConvolutionMathType(cudnnConvolutionDescriptor_t desc, cudnnMathType_t math) {
  if (desc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  switch (math) {
    case CUDNN_DEFAULT_MATH:
    case CUDNN_TENSOR_OP_MATH:
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION:
    case CUDNN_FMA_MATH:
      desc->math = math;  // the emulator computes in double whatever the math type
      return CUDNN_STATUS_SUCCESS;
  }
  return CUDNN_STATUS_BAD_PARAM;
}
