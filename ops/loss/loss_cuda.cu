// CUDA elementwise losses: grid-stride loops over the loss_math.h functors; the
// reduced forward keeps a double per thread, one partial per block (a tree in
// shared memory), then one block sums the partials in a fixed order.
#include <cstdint>
#include <type_traits>

#include "ops/activation/activation_cuda.h"
#include "ops/loss/loss_cuda.h"
#include "ops/loss/loss_math.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

// BceLoss's domain check ([0, 1], NaN rejected as on the CPU); other losses take any x.
template <typename Fn>
__device__ __forceinline__ void CheckDomain(float x, int64_t i, unsigned long long* bad_index) {
  if constexpr (std::is_same_v<Fn, loss_math::BceFn>) {
    if (!(x >= 0.f && x <= 1.f)) atomicMin(bad_index, static_cast<unsigned long long>(i));
  }
}

template <typename Fn>
__global__ void __launch_bounds__(kThreads)
    ForwardNoneKernel(Fn fn, const float* x, const float* t, int64_t n, float* loss,
                      unsigned long long* bad_index) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    CheckDomain<Fn>(x[i], i, bad_index);
    loss[i] = fn.Forward(x[i], t[i]);
  }
}

__device__ double BlockSum(double v, double* shared) {
  __syncthreads();
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  return shared[0];
}

template <typename Fn>
__global__ void __launch_bounds__(kThreads)
    ForwardPartialsKernel(Fn fn, const float* x, const float* t, int64_t n, double* partials,
                          unsigned long long* bad_index) {
  __shared__ double shared[kThreads];
  double acc = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    CheckDomain<Fn>(x[i], i, bad_index);
    acc += static_cast<double>(fn.Forward(x[i], t[i]));
  }
  const double block = BlockSum(acc, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = block;
}

__global__ void __launch_bounds__(kThreads)
    FinishKernel(const double* partials, int blocks, double divisor, float* loss) {
  __shared__ double shared[kThreads];
  double acc = 0;
  for (int i = threadIdx.x; i < blocks; i += kThreads) acc += partials[i];
  const double total = BlockSum(acc, shared);
  if (threadIdx.x == 0) loss[0] = static_cast<float>(total / divisor);
}

template <typename Fn>
__global__ void __launch_bounds__(kThreads)
    BackwardKernel(Fn fn, const float* x, const float* t, int64_t n, const float* dloss,
                   bool per_element, double divisor, float* dx) {
  // The CPU kernel rounds dloss / count to the dtype first, then multiplies.
  const float g = per_element ? 0.f : static_cast<float>(static_cast<double>(dloss[0]) / divisor);
  for (int64_t i = blockIdx.x * static_cast<int64_t>(kThreads) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * kThreads) {
    dx[i] = (per_element ? dloss[i] : g) * fn.Backward(x[i], t[i]);
  }
}

template <typename Launch>
cudaError_t WithFunctor(ElementwiseLoss kind, Launch&& launch) {
  switch (kind) {
    case ElementwiseLoss::kMse:
      return launch(loss_math::MseFn{});
    case ElementwiseLoss::kBce:
      return launch(loss_math::BceFn{});
    case ElementwiseLoss::kBceWithLogits:
      return launch(loss_math::BceWithLogitsFn{});
  }
  return cudaErrorInvalidValue;
}

// Sets BceLoss's bad index to -1 (all bits) before a forward.
cudaError_t ResetBadIndex(ElementwiseLoss kind, int64_t* bad_index, cudaStream_t stream) {
  if (kind != ElementwiseLoss::kBce) return cudaSuccess;
  if (bad_index == nullptr) return cudaErrorInvalidValue;
  return cudaMemsetAsync(bad_index, 0xff, sizeof(int64_t), stream);
}

}  // namespace

int ElementwiseLossBlocks(int64_t n) { return GridStrideBlocks(n, kThreads); }

cudaError_t ElementwiseLossForwardNone(ElementwiseLoss kind, const float* x, const float* t,
                                       int64_t n, float* loss, int64_t* bad_index,
                                       cudaStream_t stream) {
  cudaError_t error = ResetBadIndex(kind, bad_index, stream);
  if (error != cudaSuccess || n <= 0) return error;
  const int blocks = ElementwiseLossBlocks(n);
  auto* bad = reinterpret_cast<unsigned long long*>(bad_index);
  return WithFunctor(kind, [&](auto fn) {
    ForwardNoneKernel<<<blocks, kThreads, 0, stream>>>(fn, x, t, n, loss, bad);
    return cudaGetLastError();
  });
}

cudaError_t ElementwiseLossForwardReduced(ElementwiseLoss kind, const float* x, const float* t,
                                          int64_t n, double divisor, float* loss, double* scratch,
                                          int64_t* bad_index, cudaStream_t stream) {
  cudaError_t error = ResetBadIndex(kind, bad_index, stream);
  if (error != cudaSuccess) return error;
  const int blocks = ElementwiseLossBlocks(n);
  auto* bad = reinterpret_cast<unsigned long long*>(bad_index);
  if (n > 0) {
    error = WithFunctor(kind, [&](auto fn) {
      ForwardPartialsKernel<<<blocks, kThreads, 0, stream>>>(fn, x, t, n, scratch, bad);
      return cudaGetLastError();
    });
  } else {
    error = cudaMemsetAsync(scratch, 0, sizeof(double) * blocks, stream);
  }
  if (error != cudaSuccess) return error;
  FinishKernel<<<1, kThreads, 0, stream>>>(scratch, blocks, divisor, loss);
  return cudaGetLastError();
}

cudaError_t ElementwiseLossBackward(ElementwiseLoss kind, const float* x, const float* t, int64_t n,
                                    const float* dloss, bool per_element, double divisor, float* dx,
                                    cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int blocks = ElementwiseLossBlocks(n);
  return WithFunctor(kind, [&](auto fn) {
    BackwardKernel<<<blocks, kThreads, 0, stream>>>(fn, x, t, n, dloss, per_element, divisor, dx);
    return cudaGetLastError();
  });
}

}  // namespace onyx::cuda
