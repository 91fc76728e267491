// CUDA LayerNormalization forward and backward. A row is reduced by a group of
// G threads (a warp, or the whole 256-thread block): warp shuffles, then, for
// G > 32, the per-warp sums added in a fixed order through shared memory, so
// every reduction is deterministic. The parameter gradients sum over rows in
// fixed-size row chunks (double partials), then over chunks in order.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/norm/layernorm_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kWarpRowLimit = 1024;
constexpr int kColTile = 32;  // columns per block of the parameter-gradient pass
constexpr int kColRows = 8;   // threads down the rows of a column tile
constexpr int kMaxChunks = 64;

// 1 / sqrt(v) with a correctly rounded sqrt, as the CPU kernel (rsqrtf is 2 ulp).
__device__ __forceinline__ float Rsqrt(float v) { return 1.f / sqrtf(v); }
__device__ __forceinline__ double Rsqrt(double v) { return 1.0 / sqrt(v); }

// Sum of `v` over the G threads of this thread's group. For G = kThreads every
// thread of the block must call it (the callers' loops are block-uniform).
template <int G, typename T>
__device__ __forceinline__ T GroupSum(T v, T* shared) {
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  if constexpr (G == 32) {
    return v;
  } else {
    const int warp = threadIdx.x / 32;
    if (threadIdx.x % 32 == 0) shared[warp] = v;
    __syncthreads();
    T total = T(0);
    for (int w = 0; w < G / 32; ++w) total += shared[w];
    __syncthreads();  // `shared` is reused by the next call
    return total;
  }
}

// Mean and 1/sqrt(var + eps) of one row, two passes.
template <int G, typename T>
__device__ __forceinline__ void RowStats(const T* xr, int64_t inner, T epsilon, int lane, T* shared,
                                         T& mean, T& inv_std) {
  T sum = T(0);
  for (int64_t j = lane; j < inner; j += G) sum += xr[j];
  mean = GroupSum<G>(sum, shared) / static_cast<T>(inner);
  T sq = T(0);
  for (int64_t j = lane; j < inner; j += G) {
    const T d = xr[j] - mean;
    sq += d * d;
  }
  inv_std = Rsqrt(GroupSum<G>(sq, shared) / static_cast<T>(inner) + epsilon);
}

template <int G, typename T>
__global__ void ForwardKernel(const T* x, const T* scale, const T* bias, T* y, T* mean_out,
                              T* inv_std_out, int64_t outer, int64_t inner, T epsilon) {
  __shared__ T shared[kThreads / 32];
  constexpr int kGroups = kThreads / G;
  const int lane = threadIdx.x % G;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kGroups; base < outer;
       base += static_cast<int64_t>(gridDim.x) * kGroups) {
    const int64_t r = base + threadIdx.x / G;
    if (r >= outer) continue;  // G = 32 only: a whole warp skips; G = kThreads: kGroups = 1
    const T* xr = x + r * inner;
    T* yr = y + r * inner;
    T mean, inv_std;
    RowStats<G>(xr, inner, epsilon, lane, shared, mean, inv_std);
    for (int64_t j = lane; j < inner; j += G) {
      const T v = (xr[j] - mean) * inv_std * scale[j];
      yr[j] = bias ? v + bias[j] : v;
    }
    if (lane == 0) {
      if (mean_out) mean_out[r] = mean;
      if (inv_std_out) inv_std_out[r] = inv_std;
    }
  }
}

template <int G, typename T>
__global__ void BackwardRowKernel(const T* dy, const T* x, const T* scale, T* dx, T* row_mean,
                                  T* row_inv_std, int64_t outer, int64_t inner, T epsilon) {
  __shared__ T shared[kThreads / 32];
  constexpr int kGroups = kThreads / G;
  const int lane = threadIdx.x % G;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kGroups; base < outer;
       base += static_cast<int64_t>(gridDim.x) * kGroups) {
    const int64_t r = base + threadIdx.x / G;
    if (r >= outer) continue;
    const T* xr = x + r * inner;
    const T* dyr = dy + r * inner;
    T mean, inv_std;
    RowStats<G>(xr, inner, epsilon, lane, shared, mean, inv_std);
    if (lane == 0) {
      row_mean[r] = mean;
      row_inv_std[r] = inv_std;
    }
    if (dx == nullptr) continue;  // uniform across the group
    T sum_g = T(0), sum_gx = T(0);
    for (int64_t j = lane; j < inner; j += G) {
      const T g = dyr[j] * scale[j];
      sum_g += g;
      sum_gx += g * (xr[j] - mean) * inv_std;
    }
    const T mean_g = GroupSum<G>(sum_g, shared) / static_cast<T>(inner);
    const T mean_gx = GroupSum<G>(sum_gx, shared) / static_cast<T>(inner);
    T* dxr = dx + r * inner;
    for (int64_t j = lane; j < inner; j += G) {
      const T x_hat = (xr[j] - mean) * inv_std;
      dxr[j] = inv_std * (dyr[j] * scale[j] - mean_g - x_hat * mean_gx);
    }
  }
}

// Block (kColTile, kColRows), grid (column tiles, chunks): the sums of dy * x_hat
// and dy over one chunk of rows for kColTile columns.
template <typename T>
__global__ void ParamPartialsKernel(const T* dy, const T* x, const T* row_mean,
                                    const T* row_inv_std, int64_t outer, int64_t inner,
                                    int64_t rows_per_chunk, double* part_scale, double* part_bias) {
  __shared__ double sa[kColRows][kColTile + 1];
  __shared__ double sb[kColRows][kColTile + 1];
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kColTile + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_chunk;
  const int64_t r1 = r0 + rows_per_chunk < outer ? r0 + rows_per_chunk : outer;
  double a = 0, b = 0;
  if (col < inner) {
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kColRows) {
      const double d = static_cast<double>(dy[r * inner + col]);
      a += d * static_cast<double>((x[r * inner + col] - row_mean[r]) * row_inv_std[r]);
      b += d;
    }
  }
  sa[threadIdx.y][threadIdx.x] = a;
  sb[threadIdx.y][threadIdx.x] = b;
  __syncthreads();
  if (threadIdx.y == 0 && col < inner) {
    double ta = 0, tb = 0;
    for (int k = 0; k < kColRows; ++k) {
      ta += sa[k][threadIdx.x];
      tb += sb[k][threadIdx.x];
    }
    part_scale[blockIdx.y * inner + col] = ta;
    part_bias[blockIdx.y * inner + col] = tb;
  }
}

template <typename T>
__global__ void ParamFinalKernel(const double* part_scale, const double* part_bias, int64_t chunks,
                                 int64_t inner, T* dscale, T* dbias) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < inner;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double a = 0, b = 0;
    for (int64_t c = 0; c < chunks; ++c) {
      a += part_scale[c * inner + j];
      b += part_bias[c * inner + j];
    }
    if (dscale) dscale[j] = static_cast<T>(a);
    if (dbias) dbias[j] = static_cast<T>(b);
  }
}

}  // namespace

template <typename T>
cudaError_t LayerNormForward(const T* x, const T* scale, const T* bias, T* y, T* mean_out,
                             T* inv_std_out, int64_t outer, int64_t inner, T epsilon,
                             cudaStream_t stream) {
  if (outer <= 0 || inner <= 0) return cudaSuccess;
  if (inner <= kWarpRowLimit) {
    ForwardKernel<32, T><<<GridStrideBlocks(outer, kThreads / 32), kThreads, 0, stream>>>(
        x, scale, bias, y, mean_out, inv_std_out, outer, inner, epsilon);
  } else {
    ForwardKernel<kThreads, T><<<GridStrideBlocks(outer, 1), kThreads, 0, stream>>>(
        x, scale, bias, y, mean_out, inv_std_out, outer, inner, epsilon);
  }
  return cudaGetLastError();
}

int64_t LayerNormGradChunks(int64_t outer) {
  const int64_t chunks = (outer + 63) / 64;  // at least 64 rows a chunk
  return chunks < 1 ? 1 : (chunks > kMaxChunks ? kMaxChunks : chunks);
}

template <typename T>
cudaError_t LayerNormBackward(const T* dy, const T* x, const T* scale, T* dx, T* dscale, T* dbias,
                              int64_t outer, int64_t inner, T epsilon, T* row_stats,
                              double* partials, cudaStream_t stream) {
  if (inner <= 0) return cudaSuccess;
  if (outer <= 0) {  // sums over no rows
    const size_t bytes = static_cast<size_t>(inner) * sizeof(T);
    if (dscale) {
      const cudaError_t e = cudaMemsetAsync(dscale, 0, bytes, stream);
      if (e != cudaSuccess) return e;
    }
    if (dbias) return cudaMemsetAsync(dbias, 0, bytes, stream);
    return cudaSuccess;
  }
  T* row_mean = row_stats;
  T* row_inv_std = row_stats + outer;
  if (inner <= kWarpRowLimit) {
    BackwardRowKernel<32, T><<<GridStrideBlocks(outer, kThreads / 32), kThreads, 0, stream>>>(
        dy, x, scale, dx, row_mean, row_inv_std, outer, inner, epsilon);
  } else {
    BackwardRowKernel<kThreads, T><<<GridStrideBlocks(outer, 1), kThreads, 0, stream>>>(
        dy, x, scale, dx, row_mean, row_inv_std, outer, inner, epsilon);
  }
  cudaError_t error = cudaGetLastError();
  if (error != cudaSuccess || (dscale == nullptr && dbias == nullptr)) return error;
  const int64_t chunks = LayerNormGradChunks(outer);
  const int64_t rows_per_chunk = (outer + chunks - 1) / chunks;
  const int64_t col_tiles = (inner + kColTile - 1) / kColTile;
  if (col_tiles > 0x7fffffff) return cudaErrorInvalidValue;
  double* part_scale = partials;
  double* part_bias = partials + chunks * inner;
  ParamPartialsKernel<T><<<dim3(static_cast<unsigned>(col_tiles), static_cast<unsigned>(chunks)),
                           dim3(kColTile, kColRows), 0, stream>>>(
      dy, x, row_mean, row_inv_std, outer, inner, rows_per_chunk, part_scale, part_bias);
  error = cudaGetLastError();
  if (error != cudaSuccess) return error;
  ParamFinalKernel<T><<<GridStrideBlocks(inner, kThreads), kThreads, 0, stream>>>(
      part_scale, part_bias, chunks, inner, dscale, dbias);
  return cudaGetLastError();
}

template cudaError_t LayerNormForward<float>(const float*, const float*, const float*, float*,
                                             float*, float*, int64_t, int64_t, float, cudaStream_t);
template cudaError_t LayerNormForward<double>(const double*, const double*, const double*, double*,
                                              double*, double*, int64_t, int64_t, double,
                                              cudaStream_t);
template cudaError_t LayerNormBackward<float>(const float*, const float*, const float*, float*,
                                              float*, float*, int64_t, int64_t, float, float*,
                                              double*, cudaStream_t);
template cudaError_t LayerNormBackward<double>(const double*, const double*, const double*, double*,
                                               double*, double*, int64_t, int64_t, double, double*,
                                               double*, cudaStream_t);

}  // namespace onyx::cuda
