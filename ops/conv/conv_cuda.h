// Shared by the cuDNN Conv and ConvGrad kernels (conv_cuda.cc): the tensor and
// filter descriptors of one convolution, and the choice among cuDNN's ranked
// algorithms.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/conv/conv_cuda_mapping.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/cuda/cudnn_descriptors.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {

// Largest workspace an algorithm may ask for; faster ones that want more are skipped.
inline constexpr size_t kMaxConvWorkspaceBytes = size_t{512} << 20;

// X, Y (or dY), the bias as [1, M, 1...] and W of one convolution.
struct ConvTensorDescs {
  TensorDesc x, y, bias;
  FilterDesc w;
};

inline absl::Status MakeConvTensorDescs(const conv::CudnnConvDims& d, ConvTensorDescs& descs) {
  ONYX_ASSIGN_OR_RETURN(descs.x, MakeTensorDesc(d.x));
  ONYX_ASSIGN_OR_RETURN(descs.y, MakeTensorDesc(d.y));
  ONYX_ASSIGN_OR_RETURN(descs.bias, MakeTensorDesc(d.bias));
  ONYX_ASSIGN_OR_RETURN(descs.w, MakeFilterDesc(d.w));
  return absl::OkStatus();
}

// A convolution descriptor for `d`, checked to give the ONNX output dims.
inline absl::StatusOr<ConvDesc> MakeCheckedConvDesc(const conv::CudnnConvDims& d,
                                                    const ConvTensorDescs& descs) {
  ONYX_ASSIGN_OR_RETURN(ConvDesc conv, MakeConvDesc(d.pads, d.strides, d.dilations, d.groups));
  ONYX_ASSIGN_OR_RETURN(std::vector<int> out,
                        ConvOutputDims(conv, descs.x, descs.w, static_cast<int>(d.y.size())));
  ONYX_RETURN_IF_ERROR(CheckOutputDims(out, d.y));
  return conv;
}

// From cuDNN's heuristic ranking (best first, `returned` entries of `perf`): the
// first algorithm that works with FMA math (no TF32, so results stay within
// float rounding of the CPU kernels) and fits the workspace cap, else the first
// that fits. Sets `conv`'s math type to the chosen one; Unimplemented if none.
template <typename Perf>
absl::StatusOr<Perf> PickConvAlgorithm(const CudnnApi& api, const Perf* perf, int returned,
                                       cudnnConvolutionDescriptor_t conv, const char* pass) {
  for (bool fma_only : {true, false}) {
    for (int i = 0; i < returned; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxConvWorkspaceBytes) {
        continue;
      }
      if (fma_only && perf[i].mathType != CUDNN_FMA_MATH) continue;
      ONYX_RETURN_IF_ERROR(
          CudnnStatus(api.set_conv_math(conv, perf[i].mathType), "cudnnSetConvolutionMathType"));
      return perf[i];
    }
  }
  return absl::UnimplementedError(absl::StrFormat(
      "cuDNN offers no %s algorithm within a %d-byte workspace", pass, kMaxConvWorkspaceBytes));
}

}  // namespace onyx::cuda
