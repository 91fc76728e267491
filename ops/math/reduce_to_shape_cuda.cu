// ReduceToShape on CUDA: each output element sums its reduce set in double,
// in a fixed order, so runs are bit-for-bit repeatable.
#include <algorithm>
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

// The sum of output o over chunk blockIdx.y: the final value, or a partial.
__device__ inline void Store(const ReduceDims& dims, int64_t o, double sum, float* out,
                             double* partial) {
  if (partial == nullptr) {
    out[o] = static_cast<float>(sum);
  } else {
    partial[blockIdx.y * dims.num_outputs + o] = sum;
  }
}

// Thread per (output, chunk = blockIdx.y); adjacent outputs are adjacent
// inputs (inner kept), so a warp's loads are coalesced.
__global__ void ThreadPerOutput(ReduceDims dims, const float* in, float* out, double* partial) {
  const int64_t r0 = blockIdx.y * dims.chunk_size;
  const int64_t r1 = r0 + dims.chunk_size < dims.reduce_count ? r0 + dims.chunk_size
                                                                : dims.reduce_count;
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       o < dims.num_outputs; o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float* base = in + Offset(o, dims.num_kept, dims.kept_size, dims.kept_stride);
    double sum = 0.0;
    for (int64_t r = r0; r < r1; ++r) sum += base[ReducedOffset(r, dims)];
    Store(dims, o, sum, out, partial);
  }
}

// Block per (output, chunk = blockIdx.y): thread t sums r = r0 + t, r0 + t +
// kBlock, ..., then a fixed tree.
__global__ void BlockPerOutput(ReduceDims dims, const float* in, float* out, double* partial) {
  __shared__ double partials[kBlock];
  const int64_t r0 = blockIdx.y * dims.chunk_size;
  const int64_t r1 = r0 + dims.chunk_size < dims.reduce_count ? r0 + dims.chunk_size
                                                                : dims.reduce_count;
  for (int64_t o = blockIdx.x; o < dims.num_outputs; o += gridDim.x) {
    const float* base = in + Offset(o, dims.num_kept, dims.kept_size, dims.kept_stride);
    double sum = 0.0;
    for (int64_t r = r0 + threadIdx.x; r < r1; r += kBlock) sum += base[ReducedOffset(r, dims)];
    partials[threadIdx.x] = sum;
    __syncthreads();
    for (int width = kBlock / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) partials[threadIdx.x] += partials[threadIdx.x + width];
      __syncthreads();
    }
    if (threadIdx.x == 0) Store(dims, o, partials[0], out, partial);
    __syncthreads();  // partials is rewritten for the next output
  }
}

// out[o] = the chunks' partials of o added in chunk order.
__global__ void AddPartials(const double* partial, int64_t chunks, int64_t num_outputs,
                            float* out) {
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < num_outputs;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double sum = 0.0;
    for (int64_t c = 0; c < chunks; ++c) sum += partial[c * num_outputs + o];
    out[o] = static_cast<float>(sum);
  }
}

}  // namespace

cudaError_t SumToShape(const ReduceDims& dims, const float* in, float* out, double* scratch,
                       cudaStream_t stream) {
  if (dims.num_outputs == 0) return cudaSuccess;
  if (dims.reduce_count == 0) {
    return cudaMemsetAsync(out, 0, dims.num_outputs * sizeof(float), stream);
  }
  constexpr int64_t kMaxBlocksX = 65535;
  double* partial = dims.chunks > 1 ? scratch : nullptr;
  if (dims.chunks > 1 && scratch == nullptr) return cudaErrorInvalidValue;
  const unsigned chunks = static_cast<unsigned>(dims.chunks);
  if (dims.by_thread) {
    // Whole warps, no more threads than outputs need.
    const int threads =
        static_cast<int>(std::min<int64_t>(kBlock, (dims.num_outputs + 31) / 32 * 32));
    const int64_t blocks =
        std::min<int64_t>((dims.num_outputs + threads - 1) / threads, kMaxBlocksX);
    ThreadPerOutput<<<dim3(static_cast<unsigned>(blocks), chunks), threads, 0, stream>>>(
        dims, in, out, partial);
  } else {
    const int64_t blocks = std::min<int64_t>(dims.num_outputs, kMaxBlocksX);
    BlockPerOutput<<<dim3(static_cast<unsigned>(blocks), chunks), kBlock, 0, stream>>>(
        dims, in, out, partial);
  }
  if (partial == nullptr) return cudaGetLastError();
  const cudaError_t launched = cudaGetLastError();
  if (launched != cudaSuccess) return launched;
  AddPartials<<<GridStrideBlocks(dims.num_outputs, kBlock), kBlock, 0, stream>>>(
      partial, dims.chunks, dims.num_outputs, out);
  return cudaGetLastError();
}

}  // namespace onyx::cuda
