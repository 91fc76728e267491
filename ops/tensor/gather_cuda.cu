// CUDA Gather: one grid-stride kernel over output words, templated on the word.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/tensor/gather_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

template <typename W>
__global__ void GatherKernel(const W* x, const int64_t* indices, W* y, int64_t total,
                             int64_t axis_dim, int64_t num_indices, int64_t row_words) {
  for (int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; t < total;
       t += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t w = t % row_words;
    const int64_t rest = t / row_words;
    const int64_t j = rest % num_indices;
    const int64_t o = rest / num_indices;
    y[t] = x[(o * axis_dim + indices[j]) * row_words + w];
  }
}

template <typename W>
cudaError_t Launch(const void* x, const int64_t* indices, void* y, int64_t outer, int64_t axis_dim,
                   int64_t num_indices, int64_t row_bytes, cudaStream_t stream) {
  const int64_t row_words = row_bytes / static_cast<int64_t>(sizeof(W));
  const int64_t total = outer * num_indices * row_words;
  GatherKernel<W><<<GridStrideBlocks(total, kThreads), kThreads, 0, stream>>>(
      static_cast<const W*>(x), indices, static_cast<W*>(y), total, axis_dim, num_indices,
      row_words);
  return cudaGetLastError();
}

}  // namespace

cudaError_t GatherRows(const void* x, const int64_t* indices, void* y, int64_t outer,
                       int64_t axis_dim, int64_t num_indices, int64_t row_bytes,
                       cudaStream_t stream) {
  if (outer <= 0 || num_indices <= 0 || row_bytes <= 0) return cudaSuccess;
  const uintptr_t align = reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(y) |
                          static_cast<uintptr_t>(row_bytes);
  if (align % 16 == 0)
    return Launch<uint4>(x, indices, y, outer, axis_dim, num_indices, row_bytes, stream);
  if (align % 8 == 0)
    return Launch<uint64_t>(x, indices, y, outer, axis_dim, num_indices, row_bytes, stream);
  if (align % 4 == 0)
    return Launch<uint32_t>(x, indices, y, outer, axis_dim, num_indices, row_bytes, stream);
  if (align % 2 == 0)
    return Launch<uint16_t>(x, indices, y, outer, axis_dim, num_indices, row_bytes, stream);
  return Launch<uint8_t>(x, indices, y, outer, axis_dim, num_indices, row_bytes, stream);
}

}  // namespace onyx::cuda
