// CUDA kernels of the unary elementwise ops (Sqrt Exp Log Neg Abs Erf
// Reciprocal Sign Floor Ceil Round Sin Cos Softsign) and their com.onyx
// <Op>Grad, float32 and float64 (integer Neg/Abs/Sign report Unimplemented and
// run on the CPU kernel through the session's fallback).
#include "ops/elementwise/unary_cuda.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

absl::Status RequireFloat(const Node& node, const Tensor& t, const char* what) {
  if (t.dtype() == DataType::kFloat32 || t.dtype() == DataType::kFloat64) {
    return absl::OkStatus();
  }
  return absl::UnimplementedError(
      absl::StrFormat("%s: the CUDA kernel takes float32/float64 %s, got %s", node.Describe(), what,
                      t.DebugString()));
}

class UnaryCudaKernel final : public Kernel {
 public:
  explicit UnaryCudaKernel(UnaryOp op) : op_(op) {}

  // As the binary kernels: integer inputs stay on the host for the CPU kernel.
  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(RequireFloat(ctx.node(), *x, "X"));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    const cudaError_t error = x->dtype() == DataType::kFloat32
                                  ? UnaryForward<float>(op_, x->data<float>(), y->data<float>(),
                                                        x->num_elements(), backend->stream())
                                  : UnaryForward<double>(op_, x->data<double>(), y->data<double>(),
                                                         x->num_elements(), backend->stream());
    return CudaStatus(error, "unary elementwise kernel");
  }

 private:
  UnaryOp op_;
};

class UnaryGradCudaKernel final : public Kernel {
 public:
  explicit UnaryGradCudaKernel(UnaryOp op) : op_(op) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* s, ctx.RequiredInput(1));
    if (dy->dtype() != s->dtype() || dy->shape() != s->shape()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY %s and the saved input %s must have the same dtype and shape",
                          node.Describe(), dy->DebugString(), s->DebugString()));
    }
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *dy, "dY"));
    ONYX_ASSIGN_OR_RETURN(Tensor * dx,
                          ctx.AllocateOutputMaybeInPlace(0, 0, dy->dtype(), dy->shape()));
    const cudaError_t error =
        dy->dtype() == DataType::kFloat32
            ? UnaryBackward<float>(op_, dy->data<float>(), s->data<float>(), dx->data<float>(),
                                   dy->num_elements(), backend->stream())
            : UnaryBackward<double>(op_, dy->data<double>(), s->data<double>(), dx->data<double>(),
                                    dy->num_elements(), backend->stream());
    return CudaStatus(error, "unary elementwise backward kernel");
  }

 private:
  UnaryOp op_;
};

struct UnaryEntry {
  const char* op;
  UnaryOp kind;
  int versions[2];
};

constexpr UnaryEntry kUnaryOps[] = {
    {"Sqrt", UnaryOp::kSqrt, {6, 13}},
    {"Exp", UnaryOp::kExp, {6, 13}},
    {"Log", UnaryOp::kLog, {6, 13}},
    {"Neg", UnaryOp::kNeg, {6, 13}},
    {"Abs", UnaryOp::kAbs, {6, 13}},
    {"Erf", UnaryOp::kErf, {9, 13}},
    {"Reciprocal", UnaryOp::kReciprocal, {6, 13}},
    {"Sign", UnaryOp::kSign, {9, 13}},
    {"Floor", UnaryOp::kFloor, {6, 13}},
    {"Ceil", UnaryOp::kCeil, {6, 13}},
    {"Round", UnaryOp::kRound, {11, 22}},
    {"Sin", UnaryOp::kSin, {7, 22}},
    {"Cos", UnaryOp::kCos, {7, 22}},
    {"Softsign", UnaryOp::kSoftsign, {1, 22}},
};

}  // namespace

void RegisterUnaryCudaOps(OpRegistry& registry) {
  for (const UnaryEntry& e : kUnaryOps) {
    const UnaryOp kind = e.kind;
    KernelFactory forward = [kind](const Node&,
                                   int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      return std::unique_ptr<Kernel>(new UnaryCudaKernel(kind));
    };
    for (int v : e.versions) registry.Register(kOnnxDomain, e.op, v, Device::kCuda, forward);
    // Neg has no com.onyx NegGrad on the CPU (its gradient is a Neg node).
    if (kind == UnaryOp::kNeg) continue;
    KernelFactory backward = [kind](const Node&,
                                    int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      return std::unique_ptr<Kernel>(new UnaryGradCudaKernel(kind));
    };
    registry.Register(kOnyxDomain, std::string(e.op) + "Grad", 1, Device::kCuda, backward);
  }
}

}  // namespace onyx::cuda
