// CUDA kernels of Softmax / LogSoftmax (opset 1, 11, 13) and their
// SoftmaxGrad / LogSoftmaxGrad backward ops, float32.
#include <array>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/activation/softmax_cuda.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

using View = std::array<int64_t, 3>;  // [outer, reduced, inner]

// Opset < 13 coerces to 2-D at `axis`; >= 13 normalizes the single `axis`.
absl::StatusOr<View> ViewOf(const Node& node, const Tensor& t, bool coerce_2d, int64_t axis) {
  const int rank = t.rank();
  if (rank == 0 || axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: axis %d is out of range for %s", node.Describe(), axis, t.DebugString()));
  }
  const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
  View view = {1, 1, 1};
  for (int i = 0; i < rank; ++i) view[i < a ? 0 : (coerce_2d || i == a ? 1 : 2)] *= t.dim(i);
  return view;
}

absl::Status RequireFloat(const Node& node, const Tensor& t) {
  if (t.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrFormat(
      "%s: the CUDA kernel takes float32, got %s", node.Describe(), t.DebugString()));
}

class SoftmaxCudaKernel final : public Kernel {
 public:
  SoftmaxCudaKernel(bool log, bool coerce_2d, int64_t axis)
      : log_(log), coerce_2d_(coerce_2d), axis_(axis) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(RequireFloat(ctx.node(), *x));
    ONYX_ASSIGN_OR_RETURN(View v, ViewOf(ctx.node(), *x, coerce_2d_, axis_));
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, x->shape()));
    return CudaStatus(SoftmaxForward(log_, x->data<float>(), y->data<float>(), v[0], v[1], v[2],
                                     backend->stream()),
                      "softmax forward kernel");
  }

 private:
  bool log_, coerce_2d_;
  int64_t axis_;
};

class SoftmaxGradCudaKernel final : public Kernel {
 public:
  SoftmaxGradCudaKernel(bool log, bool coerce_2d, int64_t axis)
      : log_(log), coerce_2d_(coerce_2d), axis_(axis) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* y, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *dy));
    if (dy->dtype() != y->dtype() || dy->shape() != y->shape()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY %s and Y %s must have the same dtype and shape",
                          node.Describe(), dy->DebugString(), y->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(View v, ViewOf(node, *y, coerce_2d_, axis_));
    ONYX_ASSIGN_OR_RETURN(Tensor * dx,
                          ctx.AllocateOutputMaybeInPlace(0, 0, DataType::kFloat32, y->shape()));
    return CudaStatus(SoftmaxBackward(log_, dy->data<float>(), y->data<float>(),
                                      dx->data<float>(), v[0], v[1], v[2], backend->stream()),
                      "softmax backward kernel");
  }

 private:
  bool log_, coerce_2d_;
  int64_t axis_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateSoftmaxCudaKernel(const Node& node,
                                                                int64_t opset) {
  const bool log = node.op_type == "LogSoftmax";
  const bool coerce_2d = opset < 13;
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", coerce_2d ? 1 : -1));
  return std::unique_ptr<Kernel>(new SoftmaxCudaKernel(log, coerce_2d, axis));
}

// Attribute `opset` carries the forward node's opset (default 13), as on the CPU.
absl::StatusOr<std::unique_ptr<Kernel>> CreateSoftmaxGradCudaKernel(const Node& node,
                                                                    int64_t /*opset*/) {
  const bool log = node.op_type == "LogSoftmaxGrad";
  ONYX_ASSIGN_OR_RETURN(int64_t forward_opset, node.GetInt("opset", 13));
  const bool coerce_2d = forward_opset < 13;
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", coerce_2d ? 1 : -1));
  return std::unique_ptr<Kernel>(new SoftmaxGradCudaKernel(log, coerce_2d, axis));
}

}  // namespace

void RegisterSoftmaxCudaOps(OpRegistry& registry) {
  for (int v : {1, 11, 13}) {
    registry.Register(kOnnxDomain, "Softmax", v, Device::kCuda, CreateSoftmaxCudaKernel);
    registry.Register(kOnnxDomain, "LogSoftmax", v, Device::kCuda, CreateSoftmaxCudaKernel);
  }
  registry.Register(kOnyxDomain, "SoftmaxGrad", 1, Device::kCuda, CreateSoftmaxGradCudaKernel);
  registry.Register(kOnyxDomain, "LogSoftmaxGrad", 1, Device::kCuda,
                    CreateSoftmaxGradCudaKernel);
}

}  // namespace onyx::cuda
