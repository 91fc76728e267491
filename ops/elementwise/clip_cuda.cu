// Clip and ClipGrad on CUDA: grid-stride elementwise loops whose comparisons
// are the CPU kernel's (pow_clip_cpu.cc), so NaNs and bounds behave the same.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/elementwise/clip_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void ClipKernel(const float* x, float lo, float hi, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = x[i] < lo ? lo : x[i];
    y[i] = v > hi ? hi : v;
  }
}

__global__ void ClipGradKernel(const float* dy, const float* x, float lo, float hi, float* dx,
                               int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = x[i];
    dx[i] = (v >= lo && v <= hi) ? dy[i] : 0.f;
  }
}

}  // namespace

cudaError_t ClipForward(const float* x, float lo, float hi, float* y, int64_t n,
                        cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ClipKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(x, lo, hi, y, n);
  return cudaGetLastError();
}

cudaError_t ClipBackward(const float* dy, const float* x, float lo, float hi, float* dx,
                         int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ClipGradKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(dy, x, lo, hi, dx, n);
  return cudaGetLastError();
}

}  // namespace onyx::cuda
