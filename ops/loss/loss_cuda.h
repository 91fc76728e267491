// Launchers of the CUDA elementwise losses (float32) over the shared functors
// of ops/loss/loss_math.h: the forward (per element, or reduced through double
// partials per block summed by one final block in a fixed order, so results do
// not depend on thread timing) and the backward.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace onyx::cuda {

enum class ElementwiseLoss { kMse, kBce, kBceWithLogits };

// Blocks of the reduced forward, and the device doubles of scratch it needs.
int ElementwiseLossBlocks(int64_t n);

// BceLoss takes probabilities: every launcher of its forward writes into
// `bad_index` (one device int64) the smallest i with x[i] outside [0, 1] (or
// NaN), -1 (all bits set) when there is none. Other losses leave it untouched
// and may pass null.

// loss[i] = l(x[i], t[i]).
cudaError_t ElementwiseLossForwardNone(ElementwiseLoss kind, const float* x, const float* t,
                                       int64_t n, float* loss, int64_t* bad_index,
                                       cudaStream_t stream);
// loss[0] = Σ_i l(x[i], t[i]) / divisor, summed in double (divisor = 1 for "sum",
// n for "mean"; n = 0 then gives 0/0 = NaN, as on the CPU). `scratch` holds
// ElementwiseLossBlocks(n) device doubles.
cudaError_t ElementwiseLossForwardReduced(ElementwiseLoss kind, const float* x, const float* t,
                                          int64_t n, double divisor, float* loss, double* scratch,
                                          int64_t* bad_index, cudaStream_t stream);
// dx[i] = g_i · dl/dx(x[i], t[i]) with g_i = dloss[i] when `per_element`, else
// float(dloss[0] / divisor) (dloss is read on the device).
cudaError_t ElementwiseLossBackward(ElementwiseLoss kind, const float* x, const float* t, int64_t n,
                                    const float* dloss, bool per_element, double divisor, float* dx,
                                    cudaStream_t stream);

}  // namespace onyx::cuda
