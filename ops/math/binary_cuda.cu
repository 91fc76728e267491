// CUDA Add/Sub/Mul/Div with broadcasting: a flat kernel when both operands are
// contiguous over the output, a strided-index kernel otherwise.
#include <cstdint>

#include "ops/activation/activation_cuda.h"
#include "ops/math/binary_cuda.h"

namespace onyx::cuda {
namespace {

constexpr int kThreads = 256;

template <BinaryKind kKind, typename T>
__device__ __forceinline__ T Apply(T a, T b) {
  if constexpr (kKind == BinaryKind::kAdd) return a + b;
  if constexpr (kKind == BinaryKind::kSub) return a - b;
  if constexpr (kKind == BinaryKind::kMul) return a * b;
  if constexpr (kKind == BinaryKind::kDiv) return a / b;
}

template <BinaryKind kKind, typename T>
__global__ void FlatKernel(const T* a, const T* b, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    out[i] = Apply<kKind>(a[i], b[i]);
  }
}

template <BinaryKind kKind, typename T>
__global__ void BroadcastKernel(BroadcastPlan plan, const T* a, const T* b, T* out) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
       i < plan.num_elements; i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rest = i, ia = 0, ib = 0;
    for (int d = plan.rank - 1; d >= 0; --d) {
      const int64_t coord = rest % plan.dims[d];
      rest /= plan.dims[d];
      ia += coord * plan.a_strides[d];
      ib += coord * plan.b_strides[d];
    }
    out[i] = Apply<kKind>(a[ia], b[ib]);
  }
}

template <BinaryKind kKind, typename T>
cudaError_t Launch(const BroadcastPlan& plan, const T* a, const T* b, T* out,
                   cudaStream_t stream) {
  const int64_t n = plan.num_elements;
  if (n == 0) return cudaSuccess;
  const int blocks = GridStrideBlocks(n, kThreads);
  const bool flat = plan.rank == 1 && plan.a_strides[0] == 1 && plan.b_strides[0] == 1;
  if (flat) {
    FlatKernel<kKind, T><<<blocks, kThreads, 0, stream>>>(a, b, out, n);
  } else {
    BroadcastKernel<kKind, T><<<blocks, kThreads, 0, stream>>>(plan, a, b, out);
  }
  return cudaGetLastError();
}

}  // namespace

template <typename T>
cudaError_t BinaryElementwise(BinaryKind kind, const BroadcastPlan& plan, const T* a, const T* b,
                              T* out, cudaStream_t stream) {
  switch (kind) {
    case BinaryKind::kAdd: return Launch<BinaryKind::kAdd>(plan, a, b, out, stream);
    case BinaryKind::kSub: return Launch<BinaryKind::kSub>(plan, a, b, out, stream);
    case BinaryKind::kMul: return Launch<BinaryKind::kMul>(plan, a, b, out, stream);
    case BinaryKind::kDiv: return Launch<BinaryKind::kDiv>(plan, a, b, out, stream);
  }
  return cudaErrorInvalidValue;
}

template cudaError_t BinaryElementwise<float>(BinaryKind, const BroadcastPlan&, const float*,
                                              const float*, float*, cudaStream_t);
template cudaError_t BinaryElementwise<double>(BinaryKind, const BroadcastPlan&, const double*,
                                               const double*, double*, cudaStream_t);

}  // namespace onyx::cuda
