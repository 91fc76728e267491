// MaxPool (opset 1..22, output Y only), AveragePool (1..22, count_include_pad),
// GlobalMaxPool and GlobalAveragePool on cuDNN, float32, 1-D (as 2-D) to 3-D.
// Descriptors are built once per input shape and cached. What cuDNN cannot
// compute (pool_cuda_mapping.h: dilations, uneven pads, a longer ceil_mode
// output, the Indices output) and other dtypes fall back to the CPU kernel.
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/pool/pool_cuda_mapping.h"
#include "ops/pool/pool_geometry.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/cuda/cudnn_descriptors.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

enum class PoolOp { kMax, kAverage, kGlobalMax, kGlobalAverage };

// Everything that depends only on the input shape.
struct PoolPlan {
  Shape x_shape, y_shape;
  TensorDesc x, y;
  PoolDesc pool;
};

class PoolCudaKernel final : public Kernel {
 public:
  PoolCudaKernel(PoolOp op, pool::PoolAttrs attrs) : op_(op), attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() != DataType::kFloat32) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: the cuDNN pooling kernel takes float32 X, got %s", node.Describe(),
                          x->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(const CudnnContext cudnn, CudnnFor(node, *backend));
    if (plan_ == nullptr || plan_->x_shape != x->shape()) {
      plan_.reset();
      ONYX_ASSIGN_OR_RETURN(pool::CudnnPoolDims dims, Map(node, x->shape()));
      auto plan = std::make_unique<PoolPlan>();
      plan->x_shape = x->shape();
      plan->y_shape.assign(dims.y.begin(), dims.y.end());
      if (plan->y_shape.size() != x->shape().size()) {  // 1-D: drop the unit axis
        plan->y_shape.erase(plan->y_shape.begin() + 2);
      }
      ONYX_RETURN_IF_ERROR(AtNode(node, MakeDescriptors(dims, *plan)));
      plan_ = std::move(plan);
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, plan_->y_shape));
    const float one = 1.f, zero = 0.f;
    return AtNode(node, CudnnStatus(cudnn.api->pooling_forward(
                                        cudnn.handle, plan_->pool.get(), &one, plan_->x.get(),
                                        x->raw_data(), &zero, plan_->y.get(), y->raw_data()),
                                    "cudnnPoolingForward"));
  }

 private:
  bool global() const { return op_ == PoolOp::kGlobalMax || op_ == PoolOp::kGlobalAverage; }

  absl::StatusOr<pool::CudnnPoolDims> Map(const Node& node, const Shape& x) const {
    if (global()) return pool::MapGlobalPoolToCudnn(node, x);
    ONYX_ASSIGN_OR_RETURN(pool::PoolGeometry g, pool::MakePoolGeometry(node, attrs_, x));
    return pool::MapPoolToCudnn(node, x, g);
  }

  cudnnPoolingMode_t Mode() const {
    switch (op_) {
      case PoolOp::kMax:
      case PoolOp::kGlobalMax:
        return CUDNN_POOLING_MAX;
      case PoolOp::kGlobalAverage:  // no padding: both average modes agree
        return CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
      case PoolOp::kAverage:
        break;
    }
    return attrs_.count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                    : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
  }

  absl::Status MakeDescriptors(const pool::CudnnPoolDims& dims, PoolPlan& plan) const {
    ONYX_ASSIGN_OR_RETURN(plan.x, MakeTensorDesc(dims.x));
    ONYX_ASSIGN_OR_RETURN(plan.y, MakeTensorDesc(dims.y));
    ONYX_ASSIGN_OR_RETURN(plan.pool, MakePoolDesc(Mode(), dims.window, dims.pads, dims.strides));
    ONYX_ASSIGN_OR_RETURN(std::vector<int> out,
                          PoolOutputDims(plan.pool, plan.x, static_cast<int>(dims.y.size())));
    return CheckOutputDims(out, dims.y);
  }

  PoolOp op_;
  pool::PoolAttrs attrs_;           // unused by the global pools
  std::unique_ptr<PoolPlan> plan_;  // for the last input shape
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeWindowPool(const Node& node, int64_t) {
  const bool max = node.op_type == "MaxPool";
  if (max && node.outputs.size() > 1 && !node.outputs[1].empty()) {
    // cuDNN keeps no argmax, so the Indices output (and its storage_order) needs the CPU kernel.
    return absl::UnimplementedError(
        absl::StrFormat("%s: the cuDNN MaxPool kernel has no Indices output", node.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(pool::PoolAttrs attrs, pool::ParsePoolAttrs(node));
  return std::unique_ptr<Kernel>(
      new PoolCudaKernel(max ? PoolOp::kMax : PoolOp::kAverage, std::move(attrs)));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeGlobalPool(const Node& node, int64_t) {
  const PoolOp op = node.op_type == "GlobalMaxPool" ? PoolOp::kGlobalMax : PoolOp::kGlobalAverage;
  return std::unique_ptr<Kernel>(new PoolCudaKernel(op, pool::PoolAttrs{}));
}

}  // namespace

void RegisterPoolGradCudaOps(OpRegistry& registry);  // pool_grad_cuda.cc

void RegisterPoolCudaOps(OpRegistry& registry) {
  const Device cuda = Device::kCuda;
  for (int v : {1, 8, 10, 11, 12, 22}) {
    registry.Register(kOnnxDomain, "MaxPool", v, cuda, MakeWindowPool);
  }
  for (int v : {1, 7, 10, 11, 19, 22}) {
    registry.Register(kOnnxDomain, "AveragePool", v, cuda, MakeWindowPool);
  }
  for (int v : {1, 22}) {
    registry.Register(kOnnxDomain, "GlobalAveragePool", v, cuda, MakeGlobalPool);
    registry.Register(kOnnxDomain, "GlobalMaxPool", v, cuda, MakeGlobalPool);
  }
  RegisterPoolGradCudaOps(registry);
}

}  // namespace onyx::cuda
