// Launchers of the CUDA pooling-backward kernels (pool_grad_cuda.cu): float32
// and float64, one thread per dX element (a gather, pool_grad_math.h), so no
// atomics and no separate zero-fill. Plain C++ so host code can call them.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "ops/pool/pool_grad_math.h"

namespace onyx::cuda {

// MaxPoolGrad: dx (planes * in_plane elements) from dy and the forward input x.
cudaError_t MaxPoolBackward(const pool::PoolGradDims& g, const float* dy, const float* x, float* dx,
                            cudaStream_t stream);
cudaError_t MaxPoolBackward(const pool::PoolGradDims& g, const double* dy, const double* x,
                            double* dx, cudaStream_t stream);

// AveragePoolGrad: dx from dy with the forward's divisor rule.
cudaError_t AveragePoolBackward(const pool::PoolGradDims& g, bool count_include_pad,
                                const float* dy, float* dx, cudaStream_t stream);
cudaError_t AveragePoolBackward(const pool::PoolGradDims& g, bool count_include_pad,
                                const double* dy, double* dx, cudaStream_t stream);

// GlobalAveragePoolGrad: dx[p * size + i] = dy[p] / size for `planes` planes.
cudaError_t GlobalAveragePoolBackward(const float* dy, float* dx, int64_t planes, int64_t size,
                                      cudaStream_t stream);
cudaError_t GlobalAveragePoolBackward(const double* dy, double* dx, int64_t planes, int64_t size,
                                      cudaStream_t stream);

}  // namespace onyx::cuda
