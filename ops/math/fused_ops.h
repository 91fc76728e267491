// Internal to ops/math: the com.onyx fused ops the graph passes emit
// (FusedMatMul, FusedGemm) and the shared pieces of their kernels.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/shape.h"

namespace onyx::math {

// Y[batch, m, n] = A[a_batch, m, k] x B[b_batch, k, n] with NumPy rules.
struct FusedMatMulDims {
  Shape batch, a_batch, b_batch;  // a_batch/b_batch padded with 1s to batch's rank
  int64_t m = 0, k = 0, n = 0;
  Shape out;  // the ONNX output shape (promoted 1-D dims dropped)
};
absl::StatusOr<FusedMatMulDims> ResolveFusedMatMulDims(const Node& node, const Shape& a,
                                                       const Shape& b);

absl::StatusOr<std::unique_ptr<Kernel>> CreateFusedMatMulKernel(const Node& node, int64_t opset);
absl::StatusOr<std::unique_ptr<Kernel>> CreateFusedGemmKernel(const Node& node, int64_t opset);
// com.onyx PackedAttention kernel and shape function (packed_attention_cpu.cc).
void RegisterPackedAttention(OpRegistry& registry);

}  // namespace onyx::math
