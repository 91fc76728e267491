// MatMul (opset 1, 9, 13) and Gemm (7, 9, 11, 13) on cuBLAS, float32. Row-major
// products are computed as their column-major transposes: C^T = B^T A^T.
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/math/cuda_plans.h"
#include "ops/math/math_cuda_util.h"
#include "ops/math/matmul_cuda.h"
#include "ops/register_all.h"
#include "runtime/cuda/cublas_api.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {

absl::Status RowMajorGemm(cublasHandle_t handle, bool trans_a, bool trans_b, int64_t m, int64_t n,
                          int64_t k, float alpha, const float* a, int64_t stride_a, const float* b,
                          int64_t stride_b, float beta, float* y, int64_t batch) {
  ONYX_ASSIGN_OR_RETURN(const CublasApi* api, LoadCublas());
  const int lda = static_cast<int>(trans_a ? m : k);
  const int ldb = static_cast<int>(trans_b ? k : n);
  return CublasStatus(
      api->sgemm_strided_batched(handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                 static_cast<int>(m), static_cast<int>(k), &alpha, b, ldb,
                                 stride_b, a, lda, stride_a, &beta, y, static_cast<int>(n),
                                 m * n, static_cast<int>(batch)),
      "cublasSgemmStridedBatched");
}

absl::Status CheckIntRange(const Node& node, std::initializer_list<int64_t> sizes) {
  for (int64_t s : sizes) {
    if (s > INT32_MAX) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: a size of %d exceeds cuBLAS's int range", node.Describe(), s));
    }
  }
  return absl::OkStatus();
}

namespace {

class MatMulCudaKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *a, "A"));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *b, "B"));
    if (a->rank() == 0 || b->rank() == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: MatMul inputs must have rank >= 1, got A %s and B %s", node.Describe(),
          a->DebugString(), b->DebugString()));
    }
    // NumPy promotion: 1-D A is [1, K], 1-D B is [K, 1]; the added dim is dropped.
    Shape sa = a->shape(), sb = b->shape();
    if (sa.size() == 1) sa.insert(sa.begin(), 1);
    if (sb.size() == 1) sb.push_back(1);
    const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
    if (sb[sb.size() - 2] != k) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: A %s and B %s: inner dims %d and %d differ", node.Describe(), a->DebugString(),
          b->DebugString(), k, sb[sb.size() - 2]));
    }
    const Shape batch_a(sa.begin(), sa.end() - 2), batch_b(sb.begin(), sb.end() - 2);
    auto batch = BroadcastShapes(batch_a, batch_b);
    if (!batch.ok()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: batch dims of A %s and B %s do not broadcast", node.Describe(),
          a->DebugString(), b->DebugString()));
    }
    Shape out = *batch;
    if (a->rank() > 1) out.push_back(m);
    if (b->rank() > 1) out.push_back(n);
    ONYX_RETURN_IF_ERROR(CheckIntRange(node, {m, n, k, NumElements(*batch)}));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, out));
    const int64_t batches = NumElements(*batch);
    if (batches == 0 || m == 0 || n == 0) return absl::OkStatus();
    ONYX_ASSIGN_OR_RETURN(cublasHandle_t handle, backend->Cublas());
    if (k == 0) {  // empty sum: zeros
      return CudaStatus(cudaMemsetAsync(y->raw_data(), 0, y->byte_size(), backend->stream()),
                        "cudaMemsetAsync");
    }
    // A few strided-batched calls: each operand repeats one matrix (stride 0)
    // or walks its matrices over the longest run of batch dims that allows.
    Shape padded_a = batch_a, padded_b = batch_b;
    padded_a.insert(padded_a.begin(), batch->size() - batch_a.size(), 1);
    padded_b.insert(padded_b.begin(), batch->size() - batch_b.size(), 1);
    const math::StridedBatches plan = math::PlanStridedBatches(*batch, padded_a, padded_b);
    for (size_t c = 0; c < plan.offsets.size(); ++c) {
      ONYX_RETURN_IF_ERROR(RowMajorGemm(
          handle, false, false, m, n, k, 1.f, a->data<float>() + plan.offsets[c][0] * m * k,
          plan.stride[0] * m * k, b->data<float>() + plan.offsets[c][1] * k * n,
          plan.stride[1] * k * n, 0.f,
          y->data<float>() + static_cast<int64_t>(c) * plan.count * m * n, plan.count));
    }
    return absl::OkStatus();
  }
};

class GemmCudaKernel final : public Kernel {
 public:
  GemmCudaKernel(float alpha, float beta, bool trans_a, bool trans_b)
      : alpha_(alpha), beta_(beta), trans_a_(trans_a), trans_b_(trans_b) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    const Tensor* c = ctx.input(2);
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *a, "A"));
    ONYX_RETURN_IF_ERROR(RequireFloat32(node, *b, "B"));
    if (c != nullptr) ONYX_RETURN_IF_ERROR(RequireFloat32(node, *c, "C"));
    if (a->rank() != 2 || b->rank() != 2) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: Gemm needs 2-D A and B, got %s and %s", node.Describe(), a->DebugString(),
          b->DebugString()));
    }
    const int64_t m = trans_a_ ? a->dim(1) : a->dim(0);
    const int64_t k = trans_a_ ? a->dim(0) : a->dim(1);
    const int64_t kb = trans_b_ ? b->dim(1) : b->dim(0);
    const int64_t n = trans_b_ ? b->dim(0) : b->dim(1);
    if (k != kb) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: input B has shape %s, K must be %d", node.Describe(),
          ShapeToString(b->shape()), k));
    }
    int64_t row_stride = 0, col_stride = 0;
    if (c != nullptr && beta_ != 0.f) {
      const Shape& sc = c->shape();
      const bool ok = sc.size() <= 2 &&
                      (sc.size() < 1 || sc.back() == 1 || sc.back() == n) &&
                      (sc.size() < 2 || sc[0] == 1 || sc[0] == m);
      if (!ok) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "%s: C %s does not broadcast to [%d,%d]", node.Describe(), c->DebugString(), m, n));
      }
      col_stride = !sc.empty() && sc.back() != 1 ? 1 : 0;
      row_stride = sc.size() == 2 && sc[0] != 1 ? sc[1] : 0;
    }
    ONYX_RETURN_IF_ERROR(CheckIntRange(node, {m, n, k}));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, {m, n}));
    if (m == 0 || n == 0) return absl::OkStatus();
    if (k == 0) {
      ONYX_RETURN_IF_ERROR(CudaStatus(
          cudaMemsetAsync(y->raw_data(), 0, y->byte_size(), backend->stream()), "memset"));
    } else {
      ONYX_ASSIGN_OR_RETURN(cublasHandle_t handle, backend->Cublas());
      ONYX_RETURN_IF_ERROR(RowMajorGemm(handle, trans_a_, trans_b_, m, n, k, alpha_,
                                        a->data<float>(), 0, b->data<float>(), 0, 0.f,
                                        y->data<float>(), 1));
    }
    if (c != nullptr && beta_ != 0.f) {
      return CudaStatus(AddGemmBias(y->data<float>(), c->data<float>(), beta_, m, n, row_stride,
                                    col_stride, backend->stream()),
                        "Gemm bias kernel");
    }
    return absl::OkStatus();
  }

 private:
  float alpha_, beta_;
  bool trans_a_, trans_b_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeGemm(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.f));
  ONYX_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.f));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  return std::unique_ptr<Kernel>(new GemmCudaKernel(alpha, beta, trans_a != 0, trans_b != 0));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeMatMul(const Node&, int64_t) {
  return std::unique_ptr<Kernel>(new MatMulCudaKernel());
}

}  // namespace

void RegisterMatMulCudaOps(OpRegistry& registry) {
  for (int since : {1, 9, 13}) registry.Register(kOnnxDomain, "MatMul", since, Device::kCuda, MakeMatMul);
  for (int since : {7, 9, 11, 13}) registry.Register(kOnnxDomain, "Gemm", since, Device::kCuda, MakeGemm);
}

}  // namespace onyx::cuda
