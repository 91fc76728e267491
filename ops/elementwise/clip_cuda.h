// Launchers of the CUDA Clip and ClipGrad kernels (float32). Plain C++ for
// host code and nvcc.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

// y[i] = min(max(x[i], lo), hi) as the CPU kernel writes it (hi wins when
// lo > hi; NaN stays NaN; a NaN bound clips nothing). y may alias x.
cudaError_t ClipForward(const float* x, float lo, float hi, float* y, int64_t n,
                        cudaStream_t stream);
// dx[i] = dy[i] where lo <= x[i] <= hi, else 0 (NaN x: 0). dx may alias dy.
cudaError_t ClipBackward(const float* dy, const float* x, float lo, float hi, float* dx,
                         int64_t n, cudaStream_t stream);

}  // namespace onyx::cuda
