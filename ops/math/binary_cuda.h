// Launcher of the CUDA elementwise binary kernels (Add, Sub, Mul, Div) with
// NumPy broadcasting, float32 and float64.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace onyx::cuda {

enum class BinaryKind { kAdd, kSub, kMul, kDiv };

// Broadcast iteration: `rank` collapsed output dims and per-operand element
// strides over them (0 along broadcast dims).
struct BroadcastPlan {
  static constexpr int kMaxRank = 8;
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  int64_t a_strides[kMaxRank] = {};
  int64_t b_strides[kMaxRank] = {};
  int64_t num_elements = 0;
};

// out[i] = a[ia] op b[ib] over `plan`; T is float or double.
template <typename T>
cudaError_t BinaryElementwise(BinaryKind kind, const BroadcastPlan& plan, const T* a, const T* b,
                              T* out, cudaStream_t stream);

}  // namespace onyx::cuda
