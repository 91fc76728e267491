// CUDA strided copy: a tiled batched transpose (32x32 tiles through shared
// memory, one padded column against bank conflicts) and a generic index kernel
// for every other plan, templated on the element word (uint8..uint64).
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/tensor/transpose_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;
constexpr int kTileRows = 8;  // a 32x8 block moves a 32x32 tile, 4 elements per thread

// out[b, c, r] = in[b, r, c] for an input [batch, rows, cols]. Grid: x over
// column tiles, y over row tiles, z over batches (grid-stride beyond 65535).
template <typename W>
__global__ void TiledTransposeKernel(const W* in, W* out, int64_t batch, int64_t rows, int64_t cols,
                                     int64_t row_tiles) {
  __shared__ W tile[kTile][kTile + 1];
  const int64_t col_tiles = (cols + kTile - 1) / kTile;
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const W* src = in + b * rows * cols;
    W* dst = out + b * rows * cols;
    for (int64_t ty = blockIdx.y; ty < row_tiles; ty += gridDim.y) {
      for (int64_t tx = blockIdx.x; tx < col_tiles; tx += gridDim.x) {
        const int64_t r0 = ty * kTile, c0 = tx * kTile;
        for (int i = threadIdx.y; i < kTile; i += kTileRows) {
          const int64_t r = r0 + i, c = c0 + threadIdx.x;
          if (r < rows && c < cols) tile[i][threadIdx.x] = src[r * cols + c];
        }
        __syncthreads();
        for (int i = threadIdx.y; i < kTile; i += kTileRows) {
          const int64_t c = c0 + i, r = r0 + threadIdx.x;  // output row c, column r
          if (c < cols && r < rows) dst[c * rows + r] = tile[threadIdx.x][i];
        }
        __syncthreads();
      }
    }
  }
}

template <typename W>
__global__ void IndexCopyKernel(tensor::CopyPlan plan, const W* src, W* dst) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < plan.num_elements; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i, s = 0, d = 0;
    for (int k = plan.rank - 1; k >= 0; --k) {
      const int64_t coord = rest % plan.dims[k];
      rest /= plan.dims[k];
      s += coord * plan.src_strides[k];
      d += coord * plan.dst_strides[k];
    }
    dst[d] = src[s];
  }
}

template <typename W>
cudaError_t Launch(const tensor::CopyPlan& plan, const void* src_v, void* dst_v,
                   cudaStream_t stream) {
  const W* src = static_cast<const W*>(src_v);
  W* dst = static_cast<W*>(dst_v);
  tensor::BatchedTranspose t;
  if (tensor::AsBatchedTranspose(plan, &t)) {
    const int64_t row_tiles = (t.rows + kTile - 1) / kTile;
    const int64_t col_tiles = (t.cols + kTile - 1) / kTile;
    const dim3 grid(static_cast<unsigned>(col_tiles < 65535 ? col_tiles : 65535),
                    static_cast<unsigned>(row_tiles < 65535 ? row_tiles : 65535),
                    static_cast<unsigned>(t.batch < 65535 ? t.batch : 65535));
    TiledTransposeKernel<W>
        <<<grid, dim3(kTile, kTileRows), 0, stream>>>(src, dst, t.batch, t.rows, t.cols, row_tiles);
    return cudaGetLastError();
  }
  IndexCopyKernel<W>
      <<<GridStrideBlocks(plan.num_elements, kThreads), kThreads, 0, stream>>>(plan, src, dst);
  return cudaGetLastError();
}

}  // namespace

cudaError_t StridedCopy(size_t elem_size, const tensor::CopyPlan& plan, const void* src, void* dst,
                        cudaStream_t stream) {
  if (plan.num_elements == 0 || plan.rank == 0) return cudaSuccess;
  if (elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8) {
    return cudaErrorInvalidValue;
  }
  if (plan.rank == 1 && plan.src_strides[0] == 1 && plan.dst_strides[0] == 1) {
    return cudaMemcpyAsync(dst, src, static_cast<size_t>(plan.num_elements) * elem_size,
                           cudaMemcpyDeviceToDevice, stream);
  }
  size_t word = elem_size;
  const tensor::CopyPlan wide = tensor::WidenToWords(
      plan, elem_size, reinterpret_cast<uintptr_t>(src), reinterpret_cast<uintptr_t>(dst), &word);
  switch (word) {
    case 1:
      return Launch<uint8_t>(wide, src, dst, stream);
    case 2:
      return Launch<uint16_t>(wide, src, dst, stream);
    case 4:
      return Launch<uint32_t>(wide, src, dst, stream);
    case 8:
      return Launch<uint64_t>(wide, src, dst, stream);
    case 16:
      return Launch<uint4>(wide, src, dst, stream);
    default:
      return cudaErrorInvalidValue;
  }
}

}  // namespace onyx::cuda
