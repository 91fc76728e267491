// Launchers of the CUDA unary elementwise kernels (float32, float64) over the
// functors of unary_math.h, shared with the CPU kernels (the math is written once).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace onyx::cuda {

enum class UnaryOp {
  kSqrt,
  kExp,
  kLog,
  kNeg,
  kAbs,
  kErf,
  kReciprocal,
  kSign,
  kFloor,
  kCeil,
  kRound,
  kSin,
  kCos,
  kSoftsign,
};

// y[i] = f(x[i]); x == y is allowed. T is float or double.
template <typename T>
cudaError_t UnaryForward(UnaryOp op, const T* x, T* y, int64_t n, cudaStream_t stream);

// dx[i] = f'(saved[i]) * dy[i] (saved: x or y, as the functor's kSaved says);
// dx may alias dy.
template <typename T>
cudaError_t UnaryBackward(UnaryOp op, const T* dy, const T* saved, T* dx, int64_t n,
                          cudaStream_t stream);

}  // namespace onyx::cuda
