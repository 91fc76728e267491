// CUDA activation kernels: one templated grid-stride kernel pair instantiated
// per functor of activation_math.h (the math is not written again here).
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/activation/activation_math.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

template <typename Fn>
__device__ __forceinline__ float4 Forward4(const Fn& fn, float4 v) {
  return make_float4(fn.Forward(v.x), fn.Forward(v.y), fn.Forward(v.z), fn.Forward(v.w));
}

template <typename Fn>
__device__ __forceinline__ float4 Backward4(const Fn& fn, float4 dy, float4 s) {
  return make_float4(fn.Backward(dy.x, s.x), fn.Backward(dy.y, s.y), fn.Backward(dy.z, s.z),
                     fn.Backward(dy.w, s.w));
}

// kVec: the body walks float4s (pointers 16-byte aligned), and the first
// threads of the grid take the n % 4 scalars left at the end.
template <typename Fn, bool kVec>
__global__ void ForwardKernel(Fn fn, const float* x, float* y, int64_t n) {
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (kVec) {
    const int64_t n4 = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float4* y4 = reinterpret_cast<float4*>(y);
    for (int64_t i = start; i < n4; i += stride) y4[i] = Forward4(fn, x4[i]);
    const int64_t tail = n4 * 4 + start;
    if (tail < n) y[tail] = fn.Forward(x[tail]);
  } else {
    for (int64_t i = start; i < n; i += stride) y[i] = fn.Forward(x[i]);
  }
}

template <typename Fn, bool kVec>
__global__ void BackwardKernel(Fn fn, const float* dy, const float* saved, float* dx,
                               int64_t n) {
  const int64_t start = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  if constexpr (kVec) {
    const int64_t n4 = n / 4;
    const float4* dy4 = reinterpret_cast<const float4*>(dy);
    const float4* s4 = reinterpret_cast<const float4*>(saved);
    float4* dx4 = reinterpret_cast<float4*>(dx);
    for (int64_t i = start; i < n4; i += stride) dx4[i] = Backward4(fn, dy4[i], s4[i]);
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

int GridStrideBlocks(int64_t work_items, int threads) {
  static const int max_blocks = [] {
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
      cudaGetLastError();
      sms = 132;
    }
    return sms * 16;  // 16 blocks of 256 threads: 4096 threads per SM in flight
  }();
  const int64_t needed = (work_items + threads - 1) / threads;
  return static_cast<int>(needed < max_blocks ? (needed > 0 ? needed : 1) : max_blocks);
}

bool BackwardReadsOutput(Activation kind) {
  bool reads_output = false;
  WithFunctor(ActivationParams{kind}, [&](auto fn) {
    reads_output = decltype(fn)::kSaved == Saved::kOutput;
    return cudaSuccess;
  });
  return reads_output;
}

cudaError_t ActivationForward(const ActivationParams& params, const float* x, float* y,
                              int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool vec = Aligned16(x) && Aligned16(y);
  const int blocks = GridStrideBlocks(vec ? (n + 3) / 4 : n, kThreads);
  return WithFunctor(params, [&](auto fn) {
    if (vec) {
      ForwardKernel<decltype(fn), true><<<blocks, kThreads, 0, stream>>>(fn, x, y, n);
    } else {
      ForwardKernel<decltype(fn), false><<<blocks, kThreads, 0, stream>>>(fn, x, y, n);
    }
    return cudaGetLastError();
  });
}

cudaError_t ActivationBackward(const ActivationParams& params, const float* dy,
                               const float* saved, float* dx, int64_t n, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const bool vec = Aligned16(dy) && Aligned16(saved) && Aligned16(dx);
  const int blocks = GridStrideBlocks(vec ? (n + 3) / 4 : n, kThreads);
  return WithFunctor(params, [&](auto fn) {
    if (vec) {
      BackwardKernel<decltype(fn), true><<<blocks, kThreads, 0, stream>>>(fn, dy, saved, dx, n);
    } else {
      BackwardKernel<decltype(fn), false><<<blocks, kThreads, 0, stream>>>(fn, dy, saved, dx,
                                                                           n);
    }
    return cudaGetLastError();
  });
}

}  // namespace onyx::cuda
