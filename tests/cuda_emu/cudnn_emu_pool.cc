// The emulated cuDNN's pooling: Nd descriptors, the output-dim query and the
// forward pass (max, max deterministic, and average counting or leaving out the
// padding) as naive loops with double sums, from cuDNN 9's documented
// semantics. Padded positions never enter a max; NaNs do when the descriptor
// says CUDNN_PROPAGATE_NAN.
#include <cmath>
#include <limits>

#include "tests/cuda_emu/cudnn_emu.h"
#include "tests/cuda_emu/emu_runtime.h"

namespace onyx_emu {
namespace {

// cuDNN's output extent of one spatial axis; <= 0 when the window does not fit.
int PoolExtent(int in, int window, int pad, int stride) {
  const int span = in + 2 * pad - window;
  return span < 0 ? 0 : span / stride + 1;
}

// The descriptors agree (ranks, fitting windows, and y's dims when given): else BAD_PARAM.
cudnnStatus_t CheckPool(const cudnnPoolingStruct* pool, const cudnnTensorStruct* x,
                        const cudnnTensorStruct* y) {
  if (!Ready(pool) || !Ready(x) || (y != nullptr && !Ready(y))) return CUDNN_STATUS_BAD_PARAM;
  if (x->rank != pool->spatial + 2) return CUDNN_STATUS_BAD_PARAM;
  for (int d = 0; d < pool->spatial; ++d) {
    if (PoolExtent(x->dims[d + 2], pool->window[d], pool->pads[d], pool->strides[d]) <= 0) {
      return CUDNN_STATUS_BAD_PARAM;
    }
  }
  if (y == nullptr) return CUDNN_STATUS_SUCCESS;
  if (y->rank != x->rank || y->dims[0] != x->dims[0] || y->dims[1] != x->dims[1]) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  for (int d = 0; d < pool->spatial; ++d) {
    if (y->dims[d + 2] !=
        PoolExtent(x->dims[d + 2], pool->window[d], pool->pads[d], pool->strides[d])) {
      return CUDNN_STATUS_BAD_PARAM;
    }
  }
  return CUDNN_STATUS_SUCCESS;
}

// The pooled value of the window at output coordinate `y_index` (n, c, out...).
double PoolWindow(const cudnnPoolingStruct& pool, const cudnnTensorStruct& x, const float* data,
                  const int* y_index) {
  const bool max = pool.mode == CUDNN_POOLING_MAX || pool.mode == CUDNN_POOLING_MAX_DETERMINISTIC;
  double best = -std::numeric_limits<double>::infinity();
  double sum = 0;
  bool nan = false;
  int64_t inside = 0, window_size = 1;
  for (int d = 0; d < pool.spatial; ++d) window_size *= pool.window[d];
  int k[CUDNN_DIM_MAX] = {};
  do {
    int x_index[CUDNN_DIM_MAX] = {y_index[0], y_index[1]};
    bool in_bounds = true;
    for (int d = 0; d < pool.spatial; ++d) {
      const int at = y_index[d + 2] * pool.strides[d] - pool.pads[d] + k[d];
      in_bounds = in_bounds && at >= 0 && at < x.dims[d + 2];
      x_index[d + 2] = at;
    }
    if (!in_bounds) continue;  // padding: never a max, zero in a sum
    const double value = data[Offset(x, x_index)];
    ++inside;
    sum += value;
    if (std::isnan(value)) {
      nan = true;
    } else if (value > best) {
      best = value;
    }
  } while (NextIndex(k, pool.window, pool.spatial));
  if (max) {
    return nan && pool.nan == CUDNN_PROPAGATE_NAN ? std::numeric_limits<double>::quiet_NaN()
                                                  : best;
  }
  if (pool.mode == CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING) return sum / window_size;
  return inside == 0 ? 0.0 : sum / inside;
}

}  // namespace
}  // namespace onyx_emu

cudnnStatus_t cudnnCreatePoolingDescriptor(cudnnPoolingDescriptor_t* desc) {
  if (desc == nullptr) return CUDNN_STATUS_BAD_PARAM;
  *desc = new cudnnPoolingStruct;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnDestroyPoolingDescriptor(cudnnPoolingDescriptor_t desc) {
  delete desc;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnSetPoolingNdDescriptor(cudnnPoolingDescriptor_t desc,
                                          const cudnnPoolingMode_t mode,
                                          const cudnnNanPropagation_t nan, int spatial,
                                          const int window[], const int pads[],
                                          const int strides[]) {
  if (desc == nullptr || window == nullptr || pads == nullptr || strides == nullptr ||
      spatial <= 0) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  if (spatial > CUDNN_DIM_MAX - 2) return CUDNN_STATUS_NOT_SUPPORTED;
  switch (mode) {
    case CUDNN_POOLING_MAX:
    case CUDNN_POOLING_MAX_DETERMINISTIC:
    case CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING:
    case CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING:
      break;
    default:
      return CUDNN_STATUS_BAD_PARAM;
  }
  if (nan != CUDNN_NOT_PROPAGATE_NAN && nan != CUDNN_PROPAGATE_NAN) return CUDNN_STATUS_BAD_PARAM;
  for (int d = 0; d < spatial; ++d) {
    if (window[d] <= 0 || strides[d] <= 0 || pads[d] < 0) return CUDNN_STATUS_BAD_PARAM;
  }
  desc->mode = mode;
  desc->nan = nan;
  desc->spatial = spatial;
  for (int d = 0; d < spatial; ++d) {
    desc->window[d] = window[d];
    desc->pads[d] = pads[d];
    desc->strides[d] = strides[d];
  }
  desc->set = true;
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnGetPoolingNdForwardOutputDim(const cudnnPoolingDescriptor_t pool,
                                                const cudnnTensorDescriptor_t x, int rank,
                                                int out[]) {
  if (const cudnnStatus_t s = onyx_emu::CheckPool(pool, x, nullptr); s != CUDNN_STATUS_SUCCESS) {
    return s;
  }
  if (out == nullptr || rank != x->rank) return CUDNN_STATUS_BAD_PARAM;
  out[0] = x->dims[0];
  out[1] = x->dims[1];
  for (int d = 0; d < pool->spatial; ++d) {
    out[d + 2] =
        onyx_emu::PoolExtent(x->dims[d + 2], pool->window[d], pool->pads[d], pool->strides[d]);
  }
  return CUDNN_STATUS_SUCCESS;
}

// y = alpha * pool(x) + beta * y
cudnnStatus_t cudnnPoolingForward(cudnnHandle_t handle, const cudnnPoolingDescriptor_t pool,
                                  const void* alpha, const cudnnTensorDescriptor_t x_desc,
                                  const void* x, const void* beta,
                                  const cudnnTensorDescriptor_t y_desc, void* y) {
  if (handle == nullptr || alpha == nullptr || beta == nullptr ||
      onyx_emu::CheckPool(pool, x_desc, y_desc) != CUDNN_STATUS_SUCCESS) {
    return CUDNN_STATUS_BAD_PARAM;
  }
  onyx_emu::RequireDevice("cudnnPoolingForward", "x", x, onyx_emu::SpanElements(*x_desc));
  onyx_emu::RequireDevice("cudnnPoolingForward", "y", y, onyx_emu::SpanElements(*y_desc));
  const float a = *static_cast<const float*>(alpha), b = *static_cast<const float*>(beta);
  const auto* xs = static_cast<const float*>(x);
  auto* ys = static_cast<float*>(y);
  onyx_emu::DeviceAccess access;
  int index[CUDNN_DIM_MAX] = {};
  do {
    float& out = ys[onyx_emu::Offset(*y_desc, index)];
    out = onyx_emu::Blend(onyx_emu::PoolWindow(*pool, *x_desc, xs, index), a, b, out);
  } while (onyx_emu::NextIndex(index, y_desc->dims, y_desc->rank));
  return CUDNN_STATUS_SUCCESS;
}
