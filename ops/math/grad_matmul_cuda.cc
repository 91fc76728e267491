// com.onyx MatMulT and MatMulGrad (the backward of Gemm and MatMul) on cuBLAS,
// float32; other dtypes say Unimplemented and the session runs the CPU kernel.
// Semantics as grad_ops_cpu.cc. Broadcast batch dims become a few
// strided-batched calls (math::PlanStridedBatches); gradients of a broadcast
// operand are products over the full batch summed by the ReduceToShape kernel.
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/math/cuda_plans.h"
#include "ops/math/grad_matmul.h"
#include "ops/math/math_cuda_util.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

using math::FoldsBatchIntoRows;
using math::TransposedDims;

// Unimplemented past cuBLAS's int range (sizes, batch counts).
absl::Status CheckDims(const Node& node, const TransposedDims& d) {
  return CheckIntRange(node, {d.m, d.n, d.k, NumElements(d.batch)});
}

// y (d.out, dense) = alpha * op(a) op(b) with batch broadcasting.
absl::Status BatchedProduct(CudaBackend& backend, const TransposedDims& d, const float* a,
                            const float* b, float alpha, float* y) {
  const int64_t total = NumElements(d.out);
  if (total == 0) return absl::OkStatus();
  if (d.k == 0) {  // empty sums
    return CudaStatus(cudaMemsetAsync(y, 0, total * sizeof(float), backend.stream()),
                      "cudaMemsetAsync");
  }
  ONYX_ASSIGN_OR_RETURN(cublasHandle_t handle, backend.Cublas());
  const math::StridedBatches plan = math::PlanStridedBatches(d.batch, d.a_batch, d.b_batch);
  const int64_t a_mat = d.m * d.k, b_mat = d.k * d.n, y_mat = d.m * d.n;
  for (size_t c = 0; c < plan.offsets.size(); ++c) {
    ONYX_RETURN_IF_ERROR(RowMajorGemm(
        handle, d.trans_a, d.trans_b, d.m, d.n, d.k, alpha, a + plan.offsets[c][0] * a_mat,
        plan.stride[0] * a_mat, b + plan.offsets[c][1] * b_mat, plan.stride[1] * b_mat, 0.f,
        y + static_cast<int64_t>(c) * plan.count * y_mat, plan.count));
  }
  return absl::OkStatus();
}

// MatMulT(a, b) -> y = alpha * op(a) op(b); rank >= 2.
class MatMulTCudaKernel final : public Kernel {
 public:
  MatMulTCudaKernel(bool trans_a, bool trans_b, float alpha)
      : trans_a_(trans_a), trans_b_(trans_b), alpha_(alpha) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *a, "A"));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *b, "B"));
    ONYX_ASSIGN_OR_RETURN(
        TransposedDims d,
        math::ResolveTransposed(node.Describe(), a->shape(), trans_a_, b->shape(), trans_b_));
    ONYX_RETURN_IF_ERROR(CheckDims(node, d));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, d.out));
    return BatchedProduct(*backend, d, a->data<float>(), b->data<float>(), alpha_,
                          y->data<float>());
  }

 private:
  bool trans_a_, trans_b_;
  float alpha_;
};

// MatMulGrad(dY, A, B) -> (dA, dB) for Y = MatMul(A, B), NumPy semantics (see
// grad_ops_cpu.cc); either output may be omitted.
class MatMulGradCudaKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    const std::string what = node.Describe();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *dy, "dY"));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *a, "A"));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *b, "B"));
    if (a->rank() == 0 || b->rank() == 0) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: A %s and B %s must have rank >= 1",
                                                        what, ShapeToString(a->shape()),
                                                        ShapeToString(b->shape())));
    }
    const Shape a2 = a->rank() == 1 ? Shape{1, a->dim(0)} : a->shape();
    const Shape b2 = b->rank() == 1 ? Shape{b->dim(0), 1} : b->shape();
    ONYX_ASSIGN_OR_RETURN(TransposedDims fwd, math::ResolveTransposed(what, a2, false, b2, false));
    Shape y_shape = fwd.batch;
    if (a->rank() != 1) y_shape.push_back(fwd.m);
    if (b->rank() != 1) y_shape.push_back(fwd.n);
    if (dy->shape() != y_shape) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: dY has shape %s but MatMul of A %s and B %s has shape %s", what,
                          ShapeToString(dy->shape()), ShapeToString(a->shape()),
                          ShapeToString(b->shape()), ShapeToString(y_shape)));
    }
    // dA = dY2 B2^T (batch + [M, K]), dB = A2^T dY2 (batch + [K, N]).
    ONYX_ASSIGN_OR_RETURN(TransposedDims da_dims,
                          math::ResolveTransposed(what, fwd.out, false, b2, true));
    ONYX_ASSIGN_OR_RETURN(TransposedDims db_dims,
                          math::ResolveTransposed(what, a2, true, fwd.out, false));
    const bool fold_db = FoldsBatchIntoRows(fwd);
    const int64_t rows = NumElements(fwd.batch) * fwd.m;
    ONYX_RETURN_IF_ERROR(CheckDims(node, da_dims));
    ONYX_RETURN_IF_ERROR(CheckDims(node, db_dims));
    ONYX_RETURN_IF_ERROR(CheckIntRange(node, {rows}));
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * da, ctx.AllocateOutput(0, DataType::kFloat32, a->shape()));
      ONYX_RETURN_IF_ERROR(
          ProductSummedTo(ctx, *backend, da_dims, dy->data<float>(), b->data<float>(), *da));
    }
    if (ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * db, ctx.AllocateOutput(1, DataType::kFloat32, b->shape()));
      if (fold_db) {
        // B is shared by every batch matrix: one [K, P*M] x [P*M, N] product.
        ONYX_ASSIGN_OR_RETURN(
            TransposedDims flat,
            math::ResolveTransposed(what, {rows, fwd.k}, true, {rows, fwd.n}, false));
        ONYX_RETURN_IF_ERROR(BatchedProduct(*backend, flat, a->data<float>(), dy->data<float>(),
                                            1.f, db->data<float>()));
      } else {
        ONYX_RETURN_IF_ERROR(
            ProductSummedTo(ctx, *backend, db_dims, a->data<float>(), dy->data<float>(), *db));
      }
    }
    return absl::OkStatus();
  }

 private:
  // out = the product d summed over the batch dims `out` was broadcast along;
  // written in place when there are none, else through a scratch product.
  static absl::Status ProductSummedTo(KernelContext& ctx, CudaBackend& backend,
                                      const TransposedDims& d, const float* x, const float* w,
                                      Tensor& out) {
    if (NumElements(d.out) == out.num_elements()) {
      return BatchedProduct(backend, d, x, w, 1.f, out.data<float>());
    }
    ONYX_ASSIGN_OR_RETURN(Tensor full,
                          backend.Allocate(DataType::kFloat32, d.out, ctx.max_tensor_bytes()));
    ONYX_RETURN_IF_ERROR(BatchedProduct(backend, d, x, w, 1.f, full.data<float>()));
    // `full` goes back to the stream-ordered cache after the sum is queued.
    return SumToShapeOnDevice(backend, ctx.node(), full, out);
  }
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeMatMulT(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("trans_a", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("trans_b", 0));
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  return std::unique_ptr<Kernel>(new MatMulTCudaKernel(trans_a != 0, trans_b != 0, alpha));
}

}  // namespace

void RegisterMathGradCudaOps(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "MatMulT", 1, Device::kCuda, MakeMatMulT);
  registry.Register(kOnyxDomain, "MatMulGrad", 1, Device::kCuda,
                    [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      return std::make_unique<MatMulGradCudaKernel>();
                    });
}

}  // namespace onyx::cuda
