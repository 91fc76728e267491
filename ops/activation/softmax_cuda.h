// Launchers of the CUDA Softmax / LogSoftmax kernels (float32). A tensor is
// viewed as [outer, reduced, inner]; each of the outer*inner rows is normalized
// along `reduced` (elements `inner` apart). A warp per row for short rows, a
// block per row for long ones; max-subtracted, so no exp overflows.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

// Rows at most this long get a warp each, longer ones a block.
inline constexpr int64_t kSoftmaxWarpRowLimit = 1024;

// Softmax: y = exp(x - max) / sum(exp(x - max)); LogSoftmax: y = x - max - log(sum).
cudaError_t SoftmaxForward(bool log, const float* x, float* y, int64_t outer, int64_t reduced,
                           int64_t inner, cudaStream_t stream);
// Softmax: dx = y * (dy - sum(dy * y)); LogSoftmax: dx = dy - exp(y) * sum(dy).
cudaError_t SoftmaxBackward(bool log, const float* dy, const float* y, float* dx, int64_t outer,
                            int64_t reduced, int64_t inner, cudaStream_t stream);

}  // namespace onyx::cuda
