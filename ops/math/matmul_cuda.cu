// Gemm's bias on CUDA: y[i, j] += beta * c[i * row_stride + j * col_stride]
// (strides 0 where C broadcasts), after cuBLAS has written alpha * op(A) op(B).
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/math/matmul_cuda.h"

namespace onyx::cuda {
namespace {

__global__ void AddBiasKernel(float* y, const float* c, float beta, int64_t m, int64_t n,
                              int64_t row_stride, int64_t col_stride) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < m * n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / n, col = i % n;
    y[i] += beta * c[r * row_stride + col * col_stride];
  }
}

}  // namespace

cudaError_t AddGemmBias(float* y, const float* c, float beta, int64_t m, int64_t n,
                        int64_t row_stride, int64_t col_stride, cudaStream_t stream) {
  if (m * n == 0) return cudaSuccess;
  constexpr int kThreads = 256;
  AddBiasKernel<<<GridStrideBlocks(m * n, kThreads), kThreads, 0, stream>>>(
      y, c, beta, m, n, row_stride, col_stride);
  return cudaGetLastError();
}

}  // namespace onyx::cuda
