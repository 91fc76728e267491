// CUDA unary elementwise kernels: one grid-stride kernel pair instantiated per
// functor of unary_math.h and per float type.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/elementwise/unary_cuda.h"
#include "ops/elementwise/unary_math.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

template <typename Fn, typename T>
__global__ void ForwardKernel(Fn fn, const T* x, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    y[i] = fn.template Forward<T>(x[i]);
  }
}

template <typename Fn, typename T>
__global__ void BackwardKernel(Fn fn, const T* dy, const T* saved, T* dx, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dx[i] = fn.template Backward<T>(dy[i], saved[i]);
  }
}

template <typename Launch>
cudaError_t WithFunctor(UnaryOp op, Launch&& launch) {
  using namespace elementwise;  // NOLINT: the functor names
  switch (op) {
    case UnaryOp::kSqrt:
      return launch(SqrtFn{});
    case UnaryOp::kExp:
      return launch(ExpFn{});
    case UnaryOp::kLog:
      return launch(LogFn{});
    case UnaryOp::kNeg:
      return launch(NegFn{});
    case UnaryOp::kAbs:
      return launch(AbsFn{});
    case UnaryOp::kErf:
      return launch(ErfFn{});
    case UnaryOp::kReciprocal:
      return launch(ReciprocalFn{});
    case UnaryOp::kSign:
      return launch(SignFn{});
    case UnaryOp::kFloor:
      return launch(FloorFn{});
    case UnaryOp::kCeil:
      return launch(CeilFn{});
    case UnaryOp::kRound:
      return launch(RoundFn{});
    case UnaryOp::kSin:
      return launch(SinFn{});
    case UnaryOp::kCos:
      return launch(CosFn{});
    case UnaryOp::kSoftsign:
      return launch(SoftsignFn{});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

template <typename T>
cudaError_t UnaryForward(UnaryOp op, const T* x, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int blocks = GridStrideBlocks(n, kThreads);
  return WithFunctor(op, [&](auto fn) {
    ForwardKernel<decltype(fn), T><<<blocks, kThreads, 0, stream>>>(fn, x, y, n);
    return cudaGetLastError();
  });
}

template <typename T>
cudaError_t UnaryBackward(UnaryOp op, const T* dy, const T* saved, T* dx, int64_t n,
                          cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int blocks = GridStrideBlocks(n, kThreads);
  return WithFunctor(op, [&](auto fn) {
    BackwardKernel<decltype(fn), T><<<blocks, kThreads, 0, stream>>>(fn, dy, saved, dx, n);
    return cudaGetLastError();
  });
}

template cudaError_t UnaryForward<float>(UnaryOp, const float*, float*, int64_t, cudaStream_t);
template cudaError_t UnaryForward<double>(UnaryOp, const double*, double*, int64_t, cudaStream_t);
template cudaError_t UnaryBackward<float>(UnaryOp, const float*, const float*, float*, int64_t,
                                          cudaStream_t);
template cudaError_t UnaryBackward<double>(UnaryOp, const double*, const double*, double*, int64_t,
                                           cudaStream_t);

}  // namespace onyx::cuda
