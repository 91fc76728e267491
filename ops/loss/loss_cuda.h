// Launchers of the CUDA elementwise losses (float32) over the shared functors
// of ops/loss/loss_math.h: a reduced forward and the elementwise backward.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

enum class ElementwiseLoss { kMse, kBce, kBceWithLogits };

// *sum = scale * sum_i loss(x[i], t[i]), accumulated in double (`sum` is a
// device pointer; it is zeroed first). scale = 1 for "sum", 1/n for "mean".
cudaError_t ElementwiseLossForward(ElementwiseLoss kind, const float* x, const float* t,
                                   int64_t n, double scale, double* sum, cudaStream_t stream);
// dx[i] = scale * dloss/dx(x[i], t[i]); scale folds in the upstream gradient
// and the mean's 1/n.
cudaError_t ElementwiseLossBackward(ElementwiseLoss kind, const float* x, const float* t,
                                    int64_t n, float scale, float* dx, cudaStream_t stream);

}  // namespace onyx::cuda
