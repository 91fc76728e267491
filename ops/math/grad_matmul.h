// Batched y = alpha * op(a) * op(b), op(x) = x or x with its last two dims swapped,
// batch dims NumPy-broadcast: the product behind MatMulT and MatMulGrad (the
// backward of MatMul and Gemm). float32 on oneDNN matmul (transposes read through
// strides), float64 on a loop.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/shape.h"
#include "runtime/tensor.h"

namespace onyx::math {

// y[batch, m, n] = alpha * sum_k op(a)[a_batch, m, k] * op(b)[b_batch, k, n].
struct TransposedDims {
  bool trans_a = false, trans_b = false;
  Shape batch;    // broadcast batch dims of y
  Shape a_batch;  // a's batch dims padded with leading 1s to batch.size()
  Shape b_batch;
  int64_t m = 0, k = 0, n = 0;
  Shape out;  // batch + [m, n]
};

// True when B has no batch dims of size > 1 and A is not broadcast (the
// Linear-layer case X[..., M, K] * W[K, N]): B's gradient is then one product
// with the batch folded into the rows.
inline bool FoldsBatchIntoRows(const TransposedDims& fwd) {
  for (int64_t d : fwd.b_batch) {
    if (d != 1) return false;
  }
  return fwd.a_batch == fwd.batch;
}

// Both shapes must have rank >= 2; InvalidArgument (naming `what`) when the inner
// dims differ or the batch dims do not broadcast.
absl::StatusOr<TransposedDims> ResolveTransposed(const std::string& what, const Shape& a,
                                                 bool trans_a, const Shape& b, bool trans_b);

// Runs products and caches one oneDNN primitive per (shapes, transposes, alpha).
// Not thread-safe (one per kernel).
class TransposedMatMul {
 public:
  // Writes into `y`, already allocated with d.out and a's dtype (float32 or
  // float64; Unimplemented otherwise, naming `what`).
  absl::Status Run(const std::string& what, const TransposedDims& d, const Tensor& a,
                   const Tensor& b, float alpha, Tensor& y);

 private:
  struct DnnlEntry {
    dnnl::matmul prim;
    dnnl::memory::desc a, b, y;
  };
  // Null where oneDNN cannot take the problem (rank above DNNL_MAX_NDIMS, no
  // implementation): the loop runs then.
  absl::StatusOr<const DnnlEntry*> GetDnnl(const TransposedDims& d, const Shape& a_shape,
                                           const Shape& b_shape, float alpha);

  std::map<std::tuple<Shape, Shape, bool, bool, float>, std::unique_ptr<DnnlEntry>> cache_;
};

}  // namespace onyx::math
