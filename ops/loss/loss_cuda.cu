// CUDA elementwise losses: grid-stride per-thread sums in double, a block
// reduction in shared memory, one double atomicAdd per block.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/loss/loss_cuda.h"
#include "ops/loss/loss_math.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

template <typename Fn>
__global__ void ForwardKernel(Fn fn, const float* x, const float* t, int64_t n, double scale,
                              double* sum) {
  __shared__ double partial[kThreads];
  double acc = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    acc += static_cast<double>(fn.Forward(x[i], t[i]));
  }
  partial[threadIdx.x] = acc;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(sum, partial[0] * scale);
}

template <typename Fn>
__global__ void BackwardKernel(Fn fn, const float* x, const float* t, int64_t n, float scale,
                               float* dx) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dx[i] = scale * fn.Backward(x[i], t[i]);
  }
}

template <typename Launch>
cudaError_t WithFunctor(ElementwiseLoss kind, Launch&& launch) {
  switch (kind) {
    case ElementwiseLoss::kMse: return launch(loss_math::MseFn{});
    case ElementwiseLoss::kBce: return launch(loss_math::BceFn{});
    case ElementwiseLoss::kBceWithLogits: return launch(loss_math::BceWithLogitsFn{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

cudaError_t ElementwiseLossForward(ElementwiseLoss kind, const float* x, const float* t,
                                   int64_t n, double scale, double* sum, cudaStream_t stream) {
  cudaError_t error = cudaMemsetAsync(sum, 0, sizeof(double), stream);
  if (error != cudaSuccess || n <= 0) return error;
  const int blocks = GridStrideBlocks(n, kThreads);
  return WithFunctor(kind, [&](auto fn) {
    ForwardKernel<<<blocks, kThreads, 0, stream>>>(fn, x, t, n, scale, sum);
    return cudaGetLastError();
  });
}

cudaError_t ElementwiseLossBackward(ElementwiseLoss kind, const float* x, const float* t,
                                    int64_t n, float scale, float* dx, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int blocks = GridStrideBlocks(n, kThreads);
  return WithFunctor(kind, [&](auto fn) {
    BackwardKernel<<<blocks, kThreads, 0, stream>>>(fn, x, t, n, scale, dx);
    return cudaGetLastError();
  });
}

}  // namespace onyx::cuda
