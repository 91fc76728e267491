// The emulated cuDNN's convolutions: the output-dim query, the *_v7 algorithm
// rankings and workspace sizes (one algorithm, no workspace), and the
// forward, backward-data, backward-filter and backward-bias passes as naive
// loops with double sums. Written from cuDNN 9's documented semantics, not
// from Onyx's kernels, so the GPU tests check Onyx's descriptor setup against
// the CPU (oneDNN) kernels.
#include <vector>

#include "tests/cuda_emu/cudnn_emu.h"
#include "tests/cuda_emu/emu_runtime.h"

namespace onyx_emu {
namespace {

// One convolution, checked: x [N, C, in...], w [M, C/groups, K...], y [N, M, out...].
struct ConvShape {
  const cudnnTensorStruct* x = nullptr;
  const cudnnFilterStruct* w = nullptr;
  const cudnnTensorStruct* y = nullptr;
  const cudnnConvolutionStruct* conv = nullptr;
  int spatial = 0;
  int groups = 1, in_per_group = 0, out_per_group = 0;
};

// cuDNN's output extent of one spatial axis; <= 0 when the window does not fit.
int OutputExtent(int in, int kernel, int pad, int stride, int dilation) {
  const int span = in + 2 * pad - ((kernel - 1) * dilation + 1);
  return span < 0 ? 0 : span / stride + 1;
}

// The descriptors agree with each other (ranks, channels, groups) and, when `y`
// is given, with the output dims cuDNN derives: else BAD_PARAM, as cuDNN returns.
cudnnStatus_t CheckConv(const cudnnTensorStruct* x, const cudnnFilterStruct* w,
                        const cudnnConvolutionStruct* conv, const cudnnTensorStruct* y,
                        ConvShape* shape) {
  if (!Ready(x) || !Ready(w) || !Ready(conv) || (y != nullptr && !Ready(y))) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  const int rank = x->rank;
  if (w->rank != rank || conv->spatial != rank - 2) return CUDNN_STATUS_BAD_PARAM;
  const int groups = conv->groups;
  if (x->dims[1] != w->dims[1] * groups || w->dims[0] % groups != 0) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  for (int d = 0; d < conv->spatial; ++d) {
    if (OutputExtent(x->dims[d + 2], w->dims[d + 2], conv->pads[d], conv->strides[d],
                     conv->dilations[d]) <= 0) {
      return CUDNN_STATUS_BAD_PARAM;
    }
  }
  if (y != nullptr) {
    if (y->rank != rank || y->dims[0] != x->dims[0] || y->dims[1] != w->dims[0]) {
      return CUDNN_STATUS_BAD_PARAM;
    }
    for (int d = 0; d < conv->spatial; ++d) {
      if (y->dims[d + 2] != OutputExtent(x->dims[d + 2], w->dims[d + 2], conv->pads[d],
                                         conv->strides[d], conv->dilations[d])) {
        return CUDNN_STATUS_BAD_PARAM;
      }
    }
  }
  if (shape != nullptr) {
    *shape = {x, w, y, conv, conv->spatial, groups, w->dims[1], w->dims[0] / groups};
  }
  return CUDNN_STATUS_SUCCESS;
}

// Calls visit(x_offset, w_offset, y_offset) for every (input, weight, output)
// triple one convolution multiplies, over the whole batch: the one loop nest
// that all three passes share, so they cannot disagree on the geometry.
template <typename Visit>
void ForEachTap(const ConvShape& s, Visit visit) {
  const cudnnTensorStruct& x = *s.x;
  const cudnnTensorStruct& y = *s.y;
  const int* kernel = s.w->dims + 2;
  const cudnnConvolutionStruct& conv = *s.conv;
  // Packed filter strides.
  int64_t w_strides[CUDNN_DIM_MAX];
  w_strides[s.w->rank - 1] = 1;
  for (int d = s.w->rank - 2; d >= 0; --d) w_strides[d] = w_strides[d + 1] * s.w->dims[d + 1];
  int y_index[CUDNN_DIM_MAX] = {};  // n, m, out...
  do {
    const int n = y_index[0], m = y_index[1], group = m / s.out_per_group;
    const int64_t y_offset = Offset(y, y_index);
    for (int c = 0; c < s.in_per_group; ++c) {
      int k[CUDNN_DIM_MAX] = {};
      do {
        int x_index[CUDNN_DIM_MAX] = {n, group * s.in_per_group + c};
        int64_t w_offset = m * w_strides[0] + c * w_strides[1];
        bool inside = true;
        for (int d = 0; d < s.spatial; ++d) {
          const int at = y_index[d + 2] * conv.strides[d] - conv.pads[d] + k[d] * conv.dilations[d];
          inside = inside && at >= 0 && at < x.dims[d + 2];
          x_index[d + 2] = at;
          // CUDNN_CONVOLUTION flips the filter; CUDNN_CROSS_CORRELATION does not.
          const int tap = conv.mode == CUDNN_CONVOLUTION ? kernel[d] - 1 - k[d] : k[d];
          w_offset += tap * w_strides[d + 2];
        }
        if (inside) visit(Offset(x, x_index), w_offset, y_offset);
      } while (NextIndex(k, kernel, s.spatial));
    }
  } while (NextIndex(y_index, y.dims, y.rank));
}

// Writes alpha * sums + beta * old into a tensor laid out by `t` (its strides).
void StoreTensor(const cudnnTensorStruct& t, const std::vector<double>& sums, const void* alpha,
                 const void* beta, float* data) {
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  int index[CUDNN_DIM_MAX] = {};
  do {
    float& out = data[Offset(t, index)];
    out = Blend(sums[Offset(t, index)], a, b, out);
  } while (NextIndex(index, t.dims, t.rank));
}

void RequireWorkspace(const char* call, const void* workspace, size_t bytes) {
  if (bytes > 0) RequireDevice(call, "the workspace", workspace, (bytes + 3) / 4);
}

// One algorithm, always: it works, needs no workspace and computes in FMA
// math (never TF32), so Onyx's ranking picks it on the first pass.
template <typename Perf, typename Algo>
cudnnStatus_t RankOne(cudnnStatus_t checked, int requested, int* returned, Perf* perf, Algo algo) {
  if (checked != CUDNN_STATUS_SUCCESS) return checked;
  if (requested <= 0 || returned == nullptr || perf == nullptr) return CUDNN_STATUS_BAD_PARAM;
  perf[0] = Perf{};
  perf[0].algo = algo;
  perf[0].status = CUDNN_STATUS_SUCCESS;
  perf[0].time = 0.f;
  perf[0].memory = 0;
  perf[0].determinism = CUDNN_DETERMINISTIC;
  perf[0].mathType = CUDNN_FMA_MATH;
  *returned = 1;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t NoWorkspace(cudnnStatus_t checked, size_t* bytes) {
  if (checked != CUDNN_STATUS_SUCCESS) return checked;
  if (bytes == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *bytes = 0;
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace
}  // namespace onyx_emu

using onyx_emu::CheckConv;
using onyx_emu::ConvShape;

cudnnStatus_t cudnnGetConvolutionNdForwardOutputDim(const cudnnConvolutionDescriptor_t conv,
                                                    const cudnnTensorDescriptor_t x,
                                                    const cudnnFilterDescriptor_t w, int rank,
                                                    int out[]) {
  if (const cudnnStatus_t s = CheckConv(x, w, conv, nullptr, nullptr); s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  if (out == nullptr || rank != x->rank) return CUDNN_STATUS_BAD_PARAM;
  out[0] = x->dims[0];
  out[1] = w->dims[0];
  for (int d = 0; d < conv->spatial; ++d) {
    out[d + 2] = onyx_emu::OutputExtent(x->dims[d + 2], w->dims[d + 2], conv->pads[d],
                                        conv->strides[d], conv->dilations[d]);
  }
  return CUDNN_STATUS_SUCCESS;
}

// ---- Algorithms and workspaces ----

cudnnStatus_t cudnnGetConvolutionForwardAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y, const int requested,
    int* returned, cudnnConvolutionFwdAlgoPerf_t* perf) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  return onyx_emu::RankOne(CheckConv(x, w, conv, y, nullptr), requested, returned, perf,
                           CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataAlgorithm_v7(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx, const int requested,
    int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  return onyx_emu::RankOne(CheckConv(dx, w, conv, dy, nullptr), requested, returned, perf,
                           CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterAlgorithm_v7(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw, const int requested,
    int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf) {
  if (handle == nullptr) return CUDNN_STATUS_BAD_PARAM;
  return onyx_emu::RankOne(CheckConv(x, dw, conv, dy, nullptr), requested, returned, perf,
                           CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1);
}

cudnnStatus_t cudnnGetConvolutionForwardWorkspaceSize(cudnnHandle_t handle,
                                                      const cudnnTensorDescriptor_t x,
                                                      const cudnnFilterDescriptor_t w,
                                                      const cudnnConvolutionDescriptor_t conv,
                                                      const cudnnTensorDescriptor_t y,
                                                      cudnnConvolutionFwdAlgo_t algo,
                                                      size_t* bytes) {
  if (handle == nullptr || algo < 0 || algo >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  return onyx_emu::NoWorkspace(CheckConv(x, w, conv, y, nullptr), bytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardDataWorkspaceSize(
    cudnnHandle_t handle, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx,
    cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes) {
  if (handle == nullptr || algo < 0 || algo >= CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  return onyx_emu::NoWorkspace(CheckConv(dx, w, conv, dy, nullptr), bytes);
}

cudnnStatus_t cudnnGetConvolutionBackwardFilterWorkspaceSize(
    cudnnHandle_t handle, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,
    const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw,
    cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes) {
  if (handle == nullptr || algo < 0 || algo >= CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  return onyx_emu::NoWorkspace(CheckConv(x, dw, conv, dy, nullptr), bytes);
}

// ---- The passes ----

// y = alpha * conv(x, w) + beta * y
cudnnStatus_t cudnnConvolutionForward(cudnnHandle_t handle, const void* alpha,
                                      const cudnnTensorDescriptor_t x_desc, const void* x,
                                      const cudnnFilterDescriptor_t w_desc, const void* w,
                                      const cudnnConvolutionDescriptor_t conv,
                                      cudnnConvolutionFwdAlgo_t algo, void* workspace,
                                      size_t workspace_bytes, const void* beta,
                                      const cudnnTensorDescriptor_t y_desc, void* y) {
  ConvShape s;
  if (handle == nullptr || alpha == nullptr || beta == nullptr || algo < 0 ||
      algo >= CUDNN_CONVOLUTION_FWD_ALGO_COUNT ||
      CheckConv(x_desc, w_desc, conv, y_desc, &s) != CUDNN_STATUS_SUCCESS) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  constexpr const char* kCall = "cudnnConvolutionForward";
  onyx_emu::RequireDevice(kCall, "x", x, onyx_emu::SpanElements(*x_desc));
  onyx_emu::RequireDevice(kCall, "w", w, onyx_emu::Elements(*w_desc));
  onyx_emu::RequireDevice(kCall, "y", y, onyx_emu::SpanElements(*y_desc));
  onyx_emu::RequireWorkspace(kCall, workspace, workspace_bytes);
  onyx_emu::DeviceAccess access;
  const auto* xs = static_cast<const float*>(x);
  const auto* ws = static_cast<const float*>(w);
  std::vector<double> sums(onyx_emu::SpanElements(*y_desc), 0.0);
  onyx_emu::ForEachTap(s, [&](int64_t xo, int64_t wo, int64_t yo) {
    sums[yo] += static_cast<double>(xs[xo]) * ws[wo];
  });
  onyx_emu::StoreTensor(*y_desc, sums, alpha, beta, static_cast<float*>(y));
  return CUDNN_STATUS_SUCCESS;
}

// dx = alpha * (the gradient of conv(x, w) with respect to x, given dy) + beta * dx
cudnnStatus_t cudnnConvolutionBackwardData(cudnnHandle_t handle, const void* alpha,
                                           const cudnnFilterDescriptor_t w_desc, const void* w,
                                           const cudnnTensorDescriptor_t dy_desc, const void* dy,
                                           const cudnnConvolutionDescriptor_t conv,
                                           cudnnConvolutionBwdDataAlgo_t algo, void* workspace,
                                           size_t workspace_bytes, const void* beta,
                                           const cudnnTensorDescriptor_t dx_desc, void* dx) {
  ConvShape s;
  if (handle == nullptr || alpha == nullptr || beta == nullptr || algo < 0 ||
      algo >= CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT ||
      CheckConv(dx_desc, w_desc, conv, dy_desc, &s) != CUDNN_STATUS_SUCCESS) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  constexpr const char* kCall = "cudnnConvolutionBackwardData";
  onyx_emu::RequireDevice(kCall, "w", w, onyx_emu::Elements(*w_desc));
  onyx_emu::RequireDevice(kCall, "dy", dy, onyx_emu::SpanElements(*dy_desc));
  onyx_emu::RequireDevice(kCall, "dx", dx, onyx_emu::SpanElements(*dx_desc));
  onyx_emu::RequireWorkspace(kCall, workspace, workspace_bytes);
  onyx_emu::DeviceAccess access;
  const auto* ws = static_cast<const float*>(w);
  const auto* dys = static_cast<const float*>(dy);
  std::vector<double> sums(onyx_emu::SpanElements(*dx_desc), 0.0);
  onyx_emu::ForEachTap(s, [&](int64_t xo, int64_t wo, int64_t yo) {
    sums[xo] += static_cast<double>(dys[yo]) * ws[wo];
  });
  onyx_emu::StoreTensor(*dx_desc, sums, alpha, beta, static_cast<float*>(dx));
  return CUDNN_STATUS_SUCCESS;
}

// dw = alpha * (the gradient of conv(x, w) with respect to w, given dy) + beta * dw
cudnnStatus_t cudnnConvolutionBackwardFilter(cudnnHandle_t handle, const void* alpha,
                                             const cudnnTensorDescriptor_t x_desc, const void* x,
                                             const cudnnTensorDescriptor_t dy_desc, const void* dy,
                                             const cudnnConvolutionDescriptor_t conv,
                                             cudnnConvolutionBwdFilterAlgo_t algo, void* workspace,
                                             size_t workspace_bytes, const void* beta,
                                             const cudnnFilterDescriptor_t dw_desc, void* dw) {
  ConvShape s;
  if (handle == nullptr || alpha == nullptr || beta == nullptr || algo < 0 ||
      algo >= CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT ||
      CheckConv(x_desc, dw_desc, conv, dy_desc, &s) != CUDNN_STATUS_SUCCESS) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  constexpr const char* kCall = "cudnnConvolutionBackwardFilter";
  const int64_t w_elements = onyx_emu::Elements(*dw_desc);
  onyx_emu::RequireDevice(kCall, "x", x, onyx_emu::SpanElements(*x_desc));
  onyx_emu::RequireDevice(kCall, "dy", dy, onyx_emu::SpanElements(*dy_desc));
  onyx_emu::RequireDevice(kCall, "dw", dw, w_elements);
  onyx_emu::RequireWorkspace(kCall, workspace, workspace_bytes);
  onyx_emu::DeviceAccess access;
  const auto* xs = static_cast<const float*>(x);
  const auto* dys = static_cast<const float*>(dy);
  std::vector<double> sums(w_elements, 0.0);
  onyx_emu::ForEachTap(s, [&](int64_t xo, int64_t wo, int64_t yo) {
    sums[wo] += static_cast<double>(dys[yo]) * xs[xo];
  });
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  auto* dws = static_cast<float*>(dw);
  for (int64_t i = 0; i < w_elements; ++i) dws[i] = onyx_emu::Blend(sums[i], a, b, dws[i]);
  return CUDNN_STATUS_SUCCESS;
}

// db = alpha * (dy summed over every axis but the channels) + beta * db; db is [1, C, 1...].
cudnnStatus_t cudnnConvolutionBackwardBias(cudnnHandle_t handle, const void* alpha,
                                           const cudnnTensorDescriptor_t dy_desc, const void* dy,
                                           const void* beta, const cudnnTensorDescriptor_t db_desc,
                                           void* db) {
  if (handle == nullptr || alpha == nullptr || beta == nullptr || !onyx_emu::Ready(dy_desc) ||
      !onyx_emu::Ready(db_desc) || db_desc->rank != dy_desc->rank ||
      db_desc->dims[1] != dy_desc->dims[1]) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  for (int d = 0; d < db_desc->rank; ++d) {
    if (d != 1 && db_desc->dims[d] != 1) return CUDNN_STATUS_BAD_PARAM;
  }
  constexpr const char* kCall = "cudnnConvolutionBackwardBias";
  onyx_emu::RequireDevice(kCall, "dy", dy, onyx_emu::SpanElements(*dy_desc));
  onyx_emu::RequireDevice(kCall, "db", db, onyx_emu::SpanElements(*db_desc));
  onyx_emu::DeviceAccess access;
  const auto* dys = static_cast<const float*>(dy);
  std::vector<double> sums(dy_desc->dims[1], 0.0);
  int index[CUDNN_DIM_MAX] = {};
  do {
    sums[index[1]] += dys[onyx_emu::Offset(*dy_desc, index)];
  } while (onyx_emu::NextIndex(index, dy_desc->dims, dy_desc->rank));
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  auto* dbs = static_cast<float*>(db);
  for (int c = 0; c < dy_desc->dims[1]; ++c) {
    float& out = dbs[static_cast<int64_t>(c) * db_desc->strides[1]];
    out = onyx_emu::Blend(sums[c], a, b, out);
  }
  return CUDNN_STATUS_SUCCESS;
}
