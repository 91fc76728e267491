// CUDA kernels of MaxPoolGrad, AveragePoolGrad and GlobalAveragePoolGrad: one
// grid-stride loop per op over the dX elements, each computed by the shared
// per-element math of pool_grad_math.h (the same code the CPU tests run).
#include "ops/activation/activation_cuda.h"
#include "ops/pool/pool_grad_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void MaxPoolBackwardKernel(pool::PoolGradDims g, const T* dy, const T* x, T* dx,
                                      int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dx[i] = pool::MaxPoolGradAt(g, dy, x, i);
  }
}

template <typename T>
__global__ void AveragePoolBackwardKernel(pool::PoolGradDims g, bool count_include_pad, const T* dy,
                                          T* dx, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dx[i] = pool::AveragePoolGradAt(g, count_include_pad, dy, i);
  }
}

template <typename T>
__global__ void GlobalAveragePoolBackwardKernel(const T* dy, T* dx, int64_t size, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dx[i] = dy[i / size] / static_cast<T>(size);  // as the CPU: one division per element
  }
}

template <typename T>
cudaError_t LaunchMax(const pool::PoolGradDims& g, const T* dy, const T* x, T* dx,
                      cudaStream_t stream) {
  const int64_t n = g.planes * g.in_plane();
  if (n <= 0) return cudaSuccess;
  MaxPoolBackwardKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(g, dy, x, dx, n);
  return cudaGetLastError();
}

template <typename T>
cudaError_t LaunchAverage(const pool::PoolGradDims& g, bool count_include_pad, const T* dy, T* dx,
                          cudaStream_t stream) {
  const int64_t n = g.planes * g.in_plane();
  if (n <= 0) return cudaSuccess;
  AveragePoolBackwardKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(
      g, count_include_pad, dy, dx, n);
  return cudaGetLastError();
}

template <typename T>
cudaError_t LaunchGlobalAverage(const T* dy, T* dx, int64_t planes, int64_t size,
                                cudaStream_t stream) {
  const int64_t n = planes * size;
  if (n <= 0) return cudaSuccess;
  GlobalAveragePoolBackwardKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(dy, dx,
                                                                                          size, n);
  return cudaGetLastError();
}

}  // namespace

cudaError_t MaxPoolBackward(const pool::PoolGradDims& g, const float* dy, const float* x, float* dx,
                            cudaStream_t stream) {
  return LaunchMax(g, dy, x, dx, stream);
}
cudaError_t MaxPoolBackward(const pool::PoolGradDims& g, const double* dy, const double* x,
                            double* dx, cudaStream_t stream) {
  return LaunchMax(g, dy, x, dx, stream);
}
cudaError_t AveragePoolBackward(const pool::PoolGradDims& g, bool count_include_pad,
                                const float* dy, float* dx, cudaStream_t stream) {
  return LaunchAverage(g, count_include_pad, dy, dx, stream);
}
cudaError_t AveragePoolBackward(const pool::PoolGradDims& g, bool count_include_pad,
                                const double* dy, double* dx, cudaStream_t stream) {
  return LaunchAverage(g, count_include_pad, dy, dx, stream);
}
cudaError_t GlobalAveragePoolBackward(const float* dy, float* dx, int64_t planes, int64_t size,
                                      cudaStream_t stream) {
  return LaunchGlobalAverage(dy, dx, planes, size, stream);
}
cudaError_t GlobalAveragePoolBackward(const double* dy, double* dx, int64_t planes, int64_t size,
                                      cudaStream_t stream) {
  return LaunchGlobalAverage(dy, dx, planes, size, stream);
}

}  // namespace onyx::cuda
