// ReduceToShape on CUDA: each output element sums its reduce set in double,
// in a fixed order, so runs are bit-for-bit repeatable.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/math/reduce_to_shape_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kBlock = 256;

// Input offset of row-major index `linear` over `n` dims of `size`/`stride`.
__device__ inline int64_t Offset(int64_t linear, int n, const int64_t* size,
                                 const int64_t* stride) {
  int64_t offset = 0;
  for (int d = n - 1; d >= 0; --d) {
    const int64_t s = size[d];
    offset += (linear % s) * stride[d];
    linear /= s;
  }
  return offset;
}

// Offset of reduce index r: the one- and two-dim cases (bias and per-channel
// gradients) take one division or none; the branch is uniform across threads.
__device__ inline int64_t ReducedOffset(int64_t r, const ReduceDims& dims) {
  if (dims.num_reduced == 1) return r * dims.reduced_stride[0];
  if (dims.num_reduced == 2) {
    const int64_t q = r / dims.reduced_size[1];
    return q * dims.reduced_stride[0] + (r - q * dims.reduced_size[1]) * dims.reduced_stride[1];
  }
  return Offset(r, dims.num_reduced, dims.reduced_size, dims.reduced_stride);
}

// One thread per output; adjacent outputs are adjacent inputs (inner_kept).
__global__ void ThreadPerOutput(ReduceDims dims, const float* in, float* out) {
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       o < dims.num_outputs; o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float* base = in + Offset(o, dims.num_kept, dims.kept_size, dims.kept_stride);
    double sum = 0.0;
    for (int64_t r = 0; r < dims.reduce_count; ++r) {
      sum += base[ReducedOffset(r, dims)];
    }
    out[o] = static_cast<float>(sum);
  }
}

// One block per output: thread t sums r = t, t + kBlock, ..., then a fixed tree.
__global__ void BlockPerOutput(ReduceDims dims, const float* in, float* out) {
  __shared__ double partial[kBlock];
  for (int64_t o = blockIdx.x; o < dims.num_outputs; o += gridDim.x) {
    const float* base = in + Offset(o, dims.num_kept, dims.kept_size, dims.kept_stride);
    double sum = 0.0;
    for (int64_t r = threadIdx.x; r < dims.reduce_count; r += kBlock) {
      sum += base[ReducedOffset(r, dims)];
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int width = kBlock / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) partial[threadIdx.x] += partial[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o] = static_cast<float>(partial[0]);
    __syncthreads();  // partial is rewritten for the next output
  }
}

}  // namespace

cudaError_t SumToShape(const ReduceDims& dims, const float* in, float* out, cudaStream_t stream) {
  if (dims.num_outputs == 0) return cudaSuccess;
  if (dims.reduce_count == 0) {
    return cudaMemsetAsync(out, 0, dims.num_outputs * sizeof(float), stream);
  }
  // Many outputs laid out along the input's inner dim: a thread each reads
  // coalesced rows. Otherwise the block's threads share each output's sum.
  constexpr int64_t kManyOutputs = 2048;
  if (dims.inner_kept && dims.num_outputs >= kManyOutputs) {
    ThreadPerOutput<<<GridStrideBlocks(dims.num_outputs, kBlock), kBlock, 0, stream>>>(dims, in,
                                                                                      out);
  } else {
    constexpr int64_t kMaxBlocks = 65535;
    const int blocks = static_cast<int>(dims.num_outputs < kMaxBlocks ? dims.num_outputs
                                                                      : kMaxBlocks);
    BlockPerOutput<<<blocks, kBlock, 0, stream>>>(dims, in, out);
  }
  return cudaGetLastError();
}

}  // namespace onyx::cuda
