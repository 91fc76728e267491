// CUDA activation kernels: one templated grid-stride kernel pair instantiated
// per functor of activation_math.h (the math is not written again here).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/activation/activation_cuda.h"
#include "ops/activation/activation_math.h"

namespace onyx::cuda {
namespace {

template <typename Fn>
__device__ __forceinline__ float4 Forward4(const Fn& fn, float4 v) {
  return make_float4(fn.Forward(v.x), fn.Forward(v.y), fn.Forward(v.z), fn.Forward(v.w));
}

template <typename Fn>
__device__ __forceinline__ float4 Backward4(const Fn& fn, float4 dy, float4 s) {
  return make_float4(fn.Backward(dy.x, s.x), fn.Backward(dy.y, s.y), fn.Backward(dy.z, s.z),
                     fn.Backward(dy.w, s.w));
}

// kUnroll > 0: each thread loads kUnroll float4s (one grid stride apart, so
// every load stays coalesced) before it computes and stores any: more bytes
// in flight per thread than one load at a time, which a one-read, one-write
// kernel needs to approach the memory bandwidth. Leftover float4s go one at a
// time, and the first threads of the grid take the n % 4 scalars at the end.
// kUnroll == 0: scalar loads (a pointer is not 16-byte aligned).
template <typename Fn, int kUnroll>
__global__ void ForwardKernel(Fn fn, const float* x, float* y, int64_t n) {
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (kUnroll > 0) {
    const int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    int64_t i = start;
    for (; i + (kUnroll - 1) * stride < n4; i += kUnroll * stride) {
      float4 v[kUnroll];
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) v[k] = x4[i + k * stride];
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) y4[i + k * stride] = Forward4(fn, v[k]);
    }
    for (; i < n4; i += stride) y4[i] = Forward4(fn, x4[i]);
    const int64_t tail = n4 * 4 + start;
    if (tail < n) y[tail] = fn.Forward(x[tail]);
  } else {
    for (int64_t i = start; i < n; i += stride) y[i] = fn.Forward(x[i]);
  }
}

template <typename Fn, int kUnroll>
__global__ void BackwardKernel(Fn fn, const float* dy, const float* saved, float* dx, int64_t n) {
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (kUnroll > 0) {
    const int64_t n4 = n / 4;
    const float4* dy4 = reinterpret_cast<const float4*>(dy);
    const float4* s4 = reinterpret_cast<const float4*>(saved);
    float4* dx4 = reinterpret_cast<float4*>(dx);
    int64_t i = start;
    for (; i + (kUnroll - 1) * stride < n4; i += kUnroll * stride) {
      float4 g[kUnroll], v[kUnroll];
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) {
        g[k] = dy4[i + k * stride];
        v[k] = s4[i + k * stride];
      }
#pragma unroll
      for (int k = 0; k < kUnroll; ++k) dx4[i + k * stride] = Backward4(fn, g[k], v[k]);
    }
    for (; i < n4; i += stride) dx4[i] = Backward4(fn, dy4[i], s4[i]);
    const int64_t tail = n4 * 4 + start;
    if (tail < n) dx[tail] = fn.Backward(dy[tail], saved[tail]);
  } else {
    for (int64_t i = start; i < n; i += stride) dx[i] = fn.Backward(dy[i], saved[i]);
  }
}

bool Aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

// Calls launch(functor) with the functor `params` describes.
template <typename Launch>
cudaError_t WithFunctor(const ActivationParams& p, Launch&& launch) {
  switch (p.kind) {
    case Activation::kRelu: return launch(ReluFn{});
    case Activation::kLeakyRelu: return launch(LeakyReluFn{p.alpha});
    case Activation::kSigmoid: return launch(SigmoidFn{});
    case Activation::kTanh: return launch(TanhFn{});
    case Activation::kSoftplus: return launch(SoftplusFn{});
    case Activation::kElu: return launch(EluFn{p.alpha});
    case Activation::kSelu: return launch(SeluFn{p.alpha, p.gamma});
    case Activation::kCelu: return launch(CeluFn{p.alpha});
    case Activation::kGelu: return launch(GeluFn{});
    case Activation::kGeluTanh: return launch(GeluTanhFn{});
    case Activation::kMish: return launch(MishFn{});
    case Activation::kHardSigmoid: return launch(HardSigmoidFn{p.alpha, p.beta});
    case Activation::kHardSwish: return launch(HardSwishFn{});
    case Activation::kSwish: return launch(SwishFn{p.alpha});
    case Activation::kThresholdedRelu: return launch(ThresholdedReluFn{p.alpha});
  }
  return cudaErrorInvalidValue;
}

}  // namespace

namespace {

int MultiprocessorCount() {
  static const int sms = [] {
    int device = 0, count = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
      cudaGetLastError();
      count = 132;
    }
    return count;
  }();
  return sms;
}

// Blocks of `threads` for `work_items`, at most blocks_per_sm per SM (0: no cap).
int CappedBlocks(int64_t work_items, int threads, int blocks_per_sm) {
  const int64_t needed = std::max<int64_t>(1, (work_items + threads - 1) / threads);
  const int64_t cap = blocks_per_sm > 0 ? int64_t{MultiprocessorCount()} * blocks_per_sm
                                        : int64_t{std::numeric_limits<int32_t>::max()};
  return static_cast<int>(std::min(needed, cap));
}

}  // namespace

int GridStrideBlocks(int64_t work_items, int threads) {
  return CappedBlocks(work_items, threads, 16);  // 16 blocks of 256: 4096 threads per SM
}

bool BackwardReadsOutput(Activation kind) {
  bool reads_output = false;
  WithFunctor(ActivationParams{kind}, [&](auto fn) {
    reads_output = decltype(fn)::kSaved == Saved::kOutput;
    return cudaSuccess;
  });
  return reads_output;
}

namespace {

// Runs launch(unroll, blocks) with `shape`'s unroll as a compile-time
// constant: 0 (scalar) unless every pointer is 16-byte aligned. A shape out of
// range is cudaErrorInvalidValue.
template <typename Launch>
cudaError_t WithShape(bool aligned, const LaunchShape& shape, int64_t n, Launch&& launch) {
  if (shape.threads < 32 || shape.threads > 1024 || shape.threads % 32 != 0 ||
      shape.blocks_per_sm < 0 || (shape.unroll != 1 && shape.unroll != 2 && shape.unroll != 4)) {
    return cudaErrorInvalidValue;
  }
  if (!aligned) {
    return launch(std::integral_constant<int, 0>{},
                  CappedBlocks(n, shape.threads, shape.blocks_per_sm));
  }
  const int blocks = CappedBlocks((n / 4 + shape.unroll - 1) / shape.unroll + 1, shape.threads,
                                  shape.blocks_per_sm);
  switch (shape.unroll) {
    case 1: return launch(std::integral_constant<int, 1>{}, blocks);
    case 2: return launch(std::integral_constant<int, 2>{}, blocks);
    default: return launch(std::integral_constant<int, 4>{}, blocks);
  }
}

}  // namespace

cudaError_t ActivationForward(const ActivationParams& params, const float* x, float* y, int64_t n,
                              cudaStream_t stream, const LaunchShape& shape) {
  if (n <= 0) return cudaSuccess;
  return WithFunctor(params, [&](auto fn) {
    return WithShape(Aligned16(x) && Aligned16(y), shape, n, [&](auto u, int blocks) {
      ForwardKernel<decltype(fn), decltype(u)::value>
          <<<blocks, shape.threads, 0, stream>>>(fn, x, y, n);
      return cudaGetLastError();
    });
  });
}

cudaError_t ActivationBackward(const ActivationParams& params, const float* dy, const float* saved,
                               float* dx, int64_t n, cudaStream_t stream,
                               const LaunchShape& shape) {
  if (n <= 0) return cudaSuccess;
  return WithFunctor(params, [&](auto fn) {
    return WithShape(Aligned16(dy) && Aligned16(saved) && Aligned16(dx), shape, n,
                     [&](auto u, int blocks) {
                       BackwardKernel<decltype(fn), decltype(u)::value>
                           <<<blocks, shape.threads, 0, stream>>>(fn, dy, saved, dx, n);
                       return cudaGetLastError();
                     });
  });
}

}  // namespace onyx::cuda
