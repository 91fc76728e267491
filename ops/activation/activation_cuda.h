// Launchers of the CUDA activation kernels (float32), over the shared functors
// in activation_math.h. Plain C++ so host code and tests can call them.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

enum class Activation {
  kRelu, kLeakyRelu, kSigmoid, kTanh, kSoftplus, kElu, kSelu, kCelu, kGelu, kGeluTanh,
  kMish, kHardSigmoid, kHardSwish, kSwish, kThresholdedRelu,
};

// The functor's parameters; unused ones are ignored (defaults are ONNX's).
struct ActivationParams {
  Activation kind = Activation::kRelu;
  float alpha = 0.f;
  float beta = 0.f;
  float gamma = 0.f;
};

// True when the backward reads the forward output y rather than its input x.
bool BackwardReadsOutput(Activation kind);

// How an activation launch is shaped when every pointer is 16-byte aligned
// (otherwise a scalar grid-stride kernel runs with `threads`). A parameter so
// the GPU benchmark can sweep it.
struct LaunchShape {
  int unroll;         // float4s a thread loads before it computes: 1, 2 or 4
  int threads;        // per block, a multiple of 32 up to 1024
  int blocks_per_sm;  // grid cap for the grid-stride loop; 0: no cap (one pass)
};

// The fastest shape of `gpu_activation_bench --sweep` on an H200, forward and
// backward alike (BENCHMARKS.md): one pass of 128-thread blocks, two float4s per thread.
inline constexpr LaunchShape kDefaultShape{2, 128, 0};

// y[i] = f(x[i]); x == y is allowed. One grid-stride kernel per functor, with
// 128-bit loads and stores when every pointer is 16-byte aligned.
cudaError_t ActivationForward(const ActivationParams& params, const float* x, float* y,
                              int64_t n, cudaStream_t stream,
                              const LaunchShape& shape = kDefaultShape);
// dx[i] = f'(saved[i]) * dy[i], saved being x or y (BackwardReadsOutput); dx may
// alias dy.
cudaError_t ActivationBackward(const ActivationParams& params, const float* dy,
                               const float* saved, float* dx, int64_t n, cudaStream_t stream,
                               const LaunchShape& shape = kDefaultShape);

// Grid size for a grid-stride loop over `work_items` with `threads` per block:
// enough blocks to fill every SM several times, no more than the work needs.
int GridStrideBlocks(int64_t work_items, int threads);

}  // namespace onyx::cuda
