// CopyLeadingBlock (conv_transpose_cuda.h): one grid-stride loop over Y.
#include "ops/activation/activation_cuda.h"
#include "ops/conv/conv_transpose_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

__global__ void CopyLeadingBlockKernel(BlockCopyDims d, const float* src, float* dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i2 = i % d.dst[2], i1 = i / d.dst[2] % d.dst[1];
    const int64_t rest = i / (d.dst[1] * d.dst[2]);
    const int64_t i0 = rest % d.dst[0], plane = rest / d.dst[0];
    const bool inside = i0 < d.src[0] && i1 < d.src[1] && i2 < d.src[2];
    dst[i] = inside ? src[((plane * d.src[0] + i0) * d.src[1] + i1) * d.src[2] + i2] : 0.f;
  }
}

}  // namespace

cudaError_t CopyLeadingBlock(const BlockCopyDims& dims, const float* src, float* dst,
                             cudaStream_t stream) {
  const int64_t n = dims.planes * dims.dst[0] * dims.dst[1] * dims.dst[2];
  if (n <= 0) return cudaSuccess;
  CopyLeadingBlockKernel<<<GridStrideBlocks(n, kThreads), kThreads, 0, stream>>>(dims, src, dst, n);
  return cudaGetLastError();
}

}  // namespace onyx::cuda
