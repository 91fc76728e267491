// Launchers of the CUDA optimizer updates (float32), one element per thread
// over the shared functors of runtime/training/update_math.h. State pointers a
// variant does not use (vmax without AMSGrad, ...) may be null. Also the few
// gradient kernels the trainer's device-resident step needs.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

#include "runtime/training/update_math.h"

namespace onyx::cuda {

cudaError_t SgdUpdate(const update_math::MomentumCoeffs<float>& c, bool momentum, bool nesterov,
                      float* x, const float* g, float* v, int64_t n, cudaStream_t stream);
cudaError_t AdamUpdate(const update_math::AdamCoeffs<float>& c, bool amsgrad, float* x,
                       const float* g, float* m, float* v, float* vmax, int64_t n,
                       cudaStream_t stream);
cudaError_t RmspropUpdate(const update_math::RmspropCoeffs<float>& c, bool centered,
                          bool momentum, float* x, const float* g, float* sq, float* ga,
                          float* buf, int64_t n, cudaStream_t stream);
cudaError_t AdagradUpdate(const update_math::AdagradCoeffs<float>& c, float* x, const float* g,
                          float* h, int64_t n, cudaStream_t stream);

// Gradient helpers of the device-resident trainer (float math, one rounding each).
// y = alpha * x (y may be x).
cudaError_t ScaleFloats(float* y, const float* x, float alpha, int64_t n, cudaStream_t stream);
// acc = acc + alpha * x (not fused: alpha 1 gives exactly acc + x).
cudaError_t AddScaledFloats(float* acc, const float* x, float alpha, int64_t n,
                            cudaStream_t stream);
// *total += sum of x[i]^2 in double, in a fixed order (one partial per block of
// a fixed grid, then one block adds the partials), so a run repeats bit for bit.
// `partials` holds kSumSquaresBlocks doubles of device scratch.
inline constexpr int kSumSquaresBlocks = 256;
cudaError_t AddSumOfSquares(const float* x, int64_t n, double* partials, double* total,
                            cudaStream_t stream);

}  // namespace onyx::cuda
