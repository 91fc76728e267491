// com.onyx ReduceToShape(grad, like) on CUDA, float32: grad summed over the
// dims along which a tensor of like's shape was broadcast to grad's shape.
// `like` is read for its shape only (never copied to the device).
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/math/cuda_plans.h"
#include "ops/math/math_cuda_util.h"
#include "ops/math/reduce_to_shape_cuda.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// Unimplemented (the CPU kernel runs) past the kernel's fixed dim arrays.
absl::Status CheckFits(const Node& node, const math::ReducePlan& plan, const Shape& grad,
                       const Shape& target) {
  if (plan.kept.size() <= ReduceDims::kMaxDims && plan.reduced.size() <= ReduceDims::kMaxDims) {
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: summing %s to %s alternates kept and summed dims more than %d times",
      node.Describe(), ShapeToString(grad), ShapeToString(target), ReduceDims::kMaxDims));
}

}  // namespace

absl::Status SumToShapeOnDevice(CudaBackend& backend, const Node& node, const Tensor& grad,
                                Tensor& out) {
  auto plan = math::PlanReduceToShape(grad.shape(), out.shape());
  if (!plan.ok()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s", node.Describe(), plan.status().message()));
  }
  ONYX_RETURN_IF_ERROR(CheckFits(node, *plan, grad.shape(), out.shape()));
  ReduceDims dims;
  dims.num_kept = static_cast<int>(plan->kept.size());
  dims.num_reduced = static_cast<int>(plan->reduced.size());
  for (int d = 0; d < dims.num_kept; ++d) {
    dims.kept_size[d] = plan->kept[d].size;
    dims.kept_stride[d] = plan->kept[d].stride;
  }
  for (int d = 0; d < dims.num_reduced; ++d) {
    dims.reduced_size[d] = plan->reduced[d].size;
    dims.reduced_stride[d] = plan->reduced[d].stride;
  }
  dims.num_outputs = plan->num_outputs;
  dims.reduce_count = plan->reduce_count;
  const math::ReduceLaunch launch = math::PlanReduceLaunch(*plan);
  dims.by_thread = launch.by_thread;
  dims.chunks = launch.chunks;
  dims.chunk_size = launch.chunk_size;
  // The partials' buffer returns to the stream-ordered cache once the sums
  // are queued: later work on the stream reuses it only after them.
  Tensor scratch;
  if (launch.chunks > 1) {
    ONYX_ASSIGN_OR_RETURN(scratch, backend.Allocate(DataType::kFloat64,
                                                    {launch.chunks * plan->num_outputs},
                                                    kDefaultMaxTensorBytes));
  }
  return CudaStatus(SumToShape(dims, grad.data<float>(), out.data<float>(),
                               launch.chunks > 1 ? scratch.data<double>() : nullptr,
                               backend.stream()),
                    "ReduceToShape kernel");
}

namespace {

class ReduceToShapeCudaKernel final : public Kernel {
 public:
  InputMemory input_memory(int i) const override {
    return i == 1 ? InputMemory::kShapeOnly : InputMemory::kDevice;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* grad, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* like, ctx.RequiredInput(1));
    if (grad->dtype() != DataType::kFloat32) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: the CUDA kernel takes float32, got grad %s", node.Describe(), grad->DebugString()));
    }
    if (grad->shape() == like->shape()) {  // nothing to sum: share the buffer
      ctx.SetOutput(0, *grad);
      return absl::OkStatus();
    }
    // Check the shapes before allocating (a bad `like` must not allocate).
    auto plan = math::PlanReduceToShape(grad->shape(), like->shape());
    if (!plan.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %s", node.Describe(), plan.status().message()));
    }
    ONYX_RETURN_IF_ERROR(CheckFits(node, *plan, grad->shape(), like->shape()));
    ONYX_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DataType::kFloat32, like->shape()));
    return SumToShapeOnDevice(*backend, node, *grad, *out);
  }
};

}  // namespace

void RegisterReduceToShapeCudaOps(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "ReduceToShape", 1, Device::kCuda,
                    [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      return std::make_unique<ReduceToShapeCudaKernel>();
                    });
}

}  // namespace onyx::cuda
