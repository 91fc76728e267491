// Host helpers shared by the CUDA math kernels: the cuBLAS product behind
// MatMul, Gemm, MatMulT and MatMulGrad (matmul_cuda.cc) and the gradient sum
// over broadcast dims behind ReduceToShape and MatMulGrad
// (reduce_to_shape_cuda.cc).
#pragma once

#include <cstdint>
#include <initializer_list>

#include <cublas_v2.h>

#include "absl/status/status.h"
#include "runtime/graph.h"
#include "runtime/tensor.h"

namespace onyx::cuda {

// Row-major y[m, n] = alpha * op(a) op(b) + beta * y, batched with element
// strides (0 repeats one matrix for every batch); op transposes the stored
// matrix when trans_* (a stored [k, m], b stored [n, k]). Computed as the
// column-major transpose y^T = op(b)^T op(a)^T. Consecutive output matrices
// are m * n elements apart.
absl::Status RowMajorGemm(cublasHandle_t handle, bool trans_a, bool trans_b, int64_t m, int64_t n,
                          int64_t k, float alpha, const float* a, int64_t stride_a, const float* b,
                          int64_t stride_b, float beta, float* y, int64_t batch);

// Unimplemented, naming the node, when a size exceeds cuBLAS's int range (the
// session then runs the CPU kernel).
absl::Status CheckIntRange(const Node& node, std::initializer_list<int64_t> sizes);

class CudaBackend;

// out (float32, device, already allocated with its shape) = grad (float32,
// device) summed over the dims along which out's shape broadcasts into grad's
// (ReduceSumToShape's rule). Deterministic: a fixed order per output, summed
// in double. InvalidArgument naming `node` when the shapes do not fit;
// Unimplemented past ReduceDims::kMaxDims alternations of kept/summed dims.
absl::Status SumToShapeOnDevice(CudaBackend& backend, const Node& node, const Tensor& grad,
                                Tensor& out);

}  // namespace onyx::cuda
