// Helpers of the cuBLAS-backed MatMul and Gemm kernels.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

// y[i, j] += beta * c[i * row_stride + j * col_stride] over an m x n row-major y.
cudaError_t AddGemmBias(float* y, const float* c, float beta, int64_t m, int64_t n,
                        int64_t row_stride, int64_t col_stride, cudaStream_t stream);

}  // namespace onyx::cuda
