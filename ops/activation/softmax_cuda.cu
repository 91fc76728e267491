// CUDA Softmax / LogSoftmax forward and backward: warp-per-row and
// block-per-row kernels sharing one row routine over a reduction policy.
#include <cfloat>
#include <cstdint>

#include "ops/activation/softmax_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kWarpKernelThreads = 256;  // 8 rows per block
constexpr int kBlockKernelThreads = 512;

struct MaxOp {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct SumOp {
  __device__ float operator()(float a, float b) const { return a + b; }
};

template <typename Op>
__device__ float WarpReduce(float v, Op op) {
  for (int offset = kWarp / 2; offset > 0; offset >>= 1) {
    v = op(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}

// Reduction over the threads that share a row: one warp.
struct WarpRow {
  int lane;
  template <typename Op>
  __device__ float Reduce(float v, Op op) const { return WarpReduce(v, op); }
};

// Reduction over a whole block (blockDim.x a multiple of 32, at most 1024).
struct BlockRow {
  float* scratch;  // 32 floats of shared memory
  template <typename Op>
  __device__ float Reduce(float v, Op op) const {
    const int lane = threadIdx.x % kWarp;
    const int warp = threadIdx.x / kWarp;
    v = WarpReduce(v, op);
    __syncthreads();  // scratch may still be read from the previous reduction
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    const int warps = blockDim.x / kWarp;
    float r = scratch[0];
    for (int w = 1; w < warps; ++w) r = op(r, scratch[w]);
    return r;
  }
};

// One row: `first` is this thread's first element index, `step` the threads per row.
template <bool kLog, typename Row>
__device__ void ForwardRow(const Row& row, const float* x, float* y, int64_t reduced,
                           int64_t inner, int first, int step) {
  float m = -FLT_MAX;
  for (int64_t k = first; k < reduced; k += step) m = fmaxf(m, x[k * inner]);
  m = row.Reduce(m, MaxOp{});
  float s = 0.f;
  for (int64_t k = first; k < reduced; k += step) s += expf(x[k * inner] - m);
  s = row.Reduce(s, SumOp{});
  if constexpr (kLog) {
    const float shift = m + logf(s);
    for (int64_t k = first; k < reduced; k += step) y[k * inner] = x[k * inner] - shift;
  } else {
    const float inv = 1.f / s;
    for (int64_t k = first; k < reduced; k += step) y[k * inner] = expf(x[k * inner] - m) * inv;
  }
}

template <bool kLog, typename Row>
__device__ void BackwardRow(const Row& row, const float* dy, const float* y, float* dx,
                            int64_t reduced, int64_t inner, int first, int step) {
  float s = 0.f;
  for (int64_t k = first; k < reduced; k += step) {
    s += kLog ? dy[k * inner] : dy[k * inner] * y[k * inner];
  }
  s = row.Reduce(s, SumOp{});
  for (int64_t k = first; k < reduced; k += step) {
    const int64_t at = k * inner;
    dx[at] = kLog ? dy[at] - expf(y[at]) * s : y[at] * (dy[at] - s);
  }
}

// Start of row r: rows enumerate (outer o, inner i) as r = o * inner + i.
__device__ __forceinline__ int64_t RowBase(int64_t r, int64_t reduced, int64_t inner) {
  return (r / inner) * reduced * inner + r % inner;
}

// kForward selects ForwardRow(a = x, b unused, out = y) or BackwardRow(a = dy, b = y, out = dx).
template <bool kForward, bool kLog>
__global__ void WarpPerRowKernel(const float* a, const float* b, float* out, int64_t rows,
                                 int64_t reduced, int64_t inner) {
  const int lane = threadIdx.x % kWarp;
  const int64_t warps_per_block = blockDim.x / kWarp;
  // Whole warps step together, so the shuffles always see 32 active lanes.
  for (int64_t r = blockIdx.x * warps_per_block + threadIdx.x / kWarp; r < rows;
       r += static_cast<int64_t>(gridDim.x) * warps_per_block) {
    const int64_t base = RowBase(r, reduced, inner);
    WarpRow row{lane};
    if constexpr (kForward) {
      ForwardRow<kLog>(row, a + base, out + base, reduced, inner, lane, kWarp);
    } else {
      BackwardRow<kLog>(row, a + base, b + base, out + base, reduced, inner, lane, kWarp);
    }
  }
}

template <bool kForward, bool kLog>
__global__ void BlockPerRowKernel(const float* a, const float* b, float* out, int64_t rows,
                                  int64_t reduced, int64_t inner) {
  __shared__ float scratch[kWarp];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = RowBase(r, reduced, inner);
    BlockRow row{scratch};
    if constexpr (kForward) {
      ForwardRow<kLog>(row, a + base, out + base, reduced, inner, threadIdx.x, blockDim.x);
    } else {
      BackwardRow<kLog>(row, a + base, b + base, out + base, reduced, inner, threadIdx.x,
                        blockDim.x);
    }
  }
}

int CappedBlocks(int64_t needed) {
  constexpr int64_t kMaxBlocks = 65535;
  return static_cast<int>(needed < 1 ? 1 : (needed > kMaxBlocks ? kMaxBlocks : needed));
}

template <bool kForward, bool kLog>
cudaError_t Launch(const float* a, const float* b, float* out, int64_t outer, int64_t reduced,
                   int64_t inner, cudaStream_t stream) {
  const int64_t rows = outer * inner;
  if (rows == 0 || reduced == 0) return cudaSuccess;
  if (reduced <= kSoftmaxWarpRowLimit) {
    const int64_t rows_per_block = kWarpKernelThreads / kWarp;
    WarpPerRowKernel<kForward, kLog>
        <<<CappedBlocks((rows + rows_per_block - 1) / rows_per_block), kWarpKernelThreads, 0,
           stream>>>(a, b, out, rows, reduced, inner);
  } else {
    BlockPerRowKernel<kForward, kLog>
        <<<CappedBlocks(rows), kBlockKernelThreads, 0, stream>>>(a, b, out, rows, reduced,
                                                                  inner);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t SoftmaxForward(bool log, const float* x, float* y, int64_t outer, int64_t reduced,
                           int64_t inner, cudaStream_t stream) {
  return log ? Launch<true, true>(x, nullptr, y, outer, reduced, inner, stream)
             : Launch<true, false>(x, nullptr, y, outer, reduced, inner, stream);
}

cudaError_t SoftmaxBackward(bool log, const float* dy, const float* y, float* dx, int64_t outer,
                            int64_t reduced, int64_t inner, cudaStream_t stream) {
  return log ? Launch<false, true>(dy, y, dx, outer, reduced, inner, stream)
             : Launch<false, false>(dy, y, dx, outer, reduced, inner, stream);
}

}  // namespace onyx::cuda
