// CUDA Slice (1, 10, 11, 13) and com.onyx SliceGrad for every dtype. starts,
// ends, axes and steps are read on the host (InputMemory::kHost) and resolved
// by the CPU kernel's own helpers (ReadSliceArgs, ResolveSlice: ONNX clamping,
// negative steps), so both devices select the same window; the copy is one
// strided-copy kernel. SliceGrad writes dY into the window of a zeroed dX and
// reads only X's shape (kShapeOnly).
//
// Slice's X is kWhereItIs, so the session leaves it where it is: on the
// device it is sliced here; on the host (shape arithmetic) the CPU kernel runs
// it in place (Unimplemented), with no device round trip.
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "ops/tensor/transpose_cuda.h"
#include "ops/tensor/transpose_cuda_plan.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

using tensor::SliceArgs;

// starts, ends, axes and steps come from input `first` on; the session places
// them on the host (kHost). Internal rather than a host read of device memory.
absl::Status CheckArgsOnHost(const KernelContext& ctx, int first) {
  for (int i = first; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t != nullptr && t->on_device()) {
      return absl::InternalError(absl::StrFormat("%s: input %d %s is not on the host",
                                                 ctx.node().Describe(), i, t->DebugString()));
    }
  }
  return absl::OkStatus();
}

class SliceCudaKernel final : public Kernel {
 public:
  explicit SliceCudaKernel(std::optional<SliceArgs> attrs) : attrs_(std::move(attrs)) {}

  InputMemory input_memory(int i) const override {
    return i == 0 ? InputMemory::kWhereItIs : InputMemory::kHost;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (!x->on_device()) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: input %s is on the host; the CPU kernel runs it there",
                          ctx.node().Describe(), x->DebugString()));
    }
    ONYX_RETURN_IF_ERROR(CheckArgsOnHost(ctx, 1));
    ONYX_ASSIGN_OR_RETURN(const SliceArgs args,
                          tensor::ReadSliceArgs(ctx, attrs_ ? &*attrs_ : nullptr, 1));
    ONYX_ASSIGN_OR_RETURN(const tensor::SliceWindow window,
                          tensor::ResolveSlice(ctx.node(), x->shape(), args));
    ONYX_ASSIGN_OR_RETURN(const tensor::CopyPlan plan,
                          tensor::MakeCopyPlan(window.shape, window.strides,
                                               tensor::ContiguousStrides(window.shape)));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), window.shape));
    if (plan.num_elements == 0) return absl::OkStatus();
    const size_t es = DataTypeSize(x->dtype());
    const char* src = static_cast<const char*>(x->raw_data()) + window.offset * es;
    return CudaStatus(StridedCopy(es, plan, src, y->raw_data(), backend->stream()), "Slice kernel");
  }

 private:
  std::optional<SliceArgs> attrs_;  // Slice-1 only
};

// SliceGrad(dY, X, starts, ends, axes, steps) -> dX (forward_opset < 10: the
// arguments are attributes, as in tensor_grad_cpu.cc).
class SliceGradCudaKernel final : public Kernel {
 public:
  explicit SliceGradCudaKernel(std::optional<SliceArgs> attrs) : attrs_(std::move(attrs)) {}

  InputMemory input_memory(int i) const override {
    if (i == 0) return InputMemory::kDevice;
    return i == 1 ? InputMemory::kShapeOnly : InputMemory::kHost;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckArgsOnHost(ctx, 2));
    ONYX_ASSIGN_OR_RETURN(const SliceArgs args,
                          tensor::ReadSliceArgs(ctx, attrs_ ? &*attrs_ : nullptr, 2));
    ONYX_ASSIGN_OR_RETURN(const tensor::SliceWindow window,
                          tensor::ResolveSlice(node, x->shape(), args));
    if (dy->shape() != window.shape) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: dY is %s but the slice of %s has shape %s", node.Describe(),
                          dy->DebugString(), x->DebugString(), ShapeToString(window.shape)));
    }
    ONYX_ASSIGN_OR_RETURN(
        const tensor::CopyPlan plan,
        tensor::MakeCopyPlan(window.shape, tensor::ContiguousStrides(dy->shape()), window.strides));
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, dy->dtype(), x->shape()));
    const size_t es = DataTypeSize(dy->dtype());
    if (dx->num_elements() == 0) return absl::OkStatus();
    ONYX_RETURN_IF_ERROR(
        CudaStatus(cudaMemsetAsync(dx->raw_data(), 0, static_cast<size_t>(dx->num_elements()) * es,
                                   backend->stream()),
                   "SliceGrad zero fill"));
    if (plan.num_elements == 0) return absl::OkStatus();
    char* dst = static_cast<char*>(dx->raw_data()) + window.offset * es;
    return CudaStatus(StridedCopy(es, plan, dy->raw_data(), dst, backend->stream()),
                      "SliceGrad kernel");
  }

 private:
  std::optional<SliceArgs> attrs_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateSliceCudaKernel(const Node& node, int64_t opset) {
  std::optional<SliceArgs> attrs;
  if (opset < 10) {
    ONYX_ASSIGN_OR_RETURN(attrs, tensor::SliceAttributes(node));
  }
  return std::unique_ptr<Kernel>(new SliceCudaKernel(std::move(attrs)));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateSliceGradCudaKernel(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(const int64_t opset, node.GetInt("forward_opset", 13));
  std::optional<SliceArgs> attrs;
  if (opset < 10) {
    SliceArgs& a = attrs.emplace();
    ONYX_ASSIGN_OR_RETURN(a.starts, node.GetInts("starts", {}));
    ONYX_ASSIGN_OR_RETURN(a.ends, node.GetInts("ends", {}));
    ONYX_ASSIGN_OR_RETURN(a.axes, node.GetInts("axes", {}));
  }
  return std::unique_ptr<Kernel>(new SliceGradCudaKernel(std::move(attrs)));
}

}  // namespace

void RegisterSliceCudaOps(OpRegistry& registry) {
  for (int v : {1, 10, 11, 13}) {
    registry.Register(kOnnxDomain, "Slice", v, Device::kCuda, CreateSliceCudaKernel);
  }
  registry.Register(kOnyxDomain, "SliceGrad", 1, Device::kCuda, CreateSliceGradCudaKernel);
}

}  // namespace onyx::cuda
