// Conv (opset 1, 11, 22) and com.onyx ConvGrad (dY, X, W) -> (dX, dW, dB) on
// cuDNN, float32: 1-D (as 2-D), 2-D and 3-D, strides, dilations, groups,
// explicit or auto pads, optional bias. Descriptors, algorithms and workspace
// sizes are built once per (X, W) shape and cached; workspaces come from the
// session's caching allocator on every run. What cuDNN cannot express
// (conv_cuda_mapping.h) and other dtypes return Unimplemented, so the session
// runs the CPU kernel instead.
#include "ops/conv/conv_cuda.h"

#include <memory>
#include <utility>

#include "ops/conv/conv_params.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"

namespace onyx::cuda {
namespace {

absl::Status RequireFloat(const Node& node, const Tensor& t, const char* name) {
  if (t.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrFormat("%s: the cuDNN %s kernel takes float32 %s, got %s", node.Describe(),
                      node.op_type, name, t.DebugString()));
}

// A device scratch buffer of `bytes` from the session's caching allocator
// (empty for 0). Freed when the Tensor goes, which stream order makes safe.
absl::StatusOr<Tensor> Workspace(CudaBackend& backend, size_t bytes) {
  if (bytes == 0) return Tensor();
  return backend.Allocate(DataType::kUInt8, {static_cast<int64_t>(bytes)}, kDefaultMaxTensorBytes);
}

void* Data(Tensor& t) { return t.empty() ? nullptr : t.raw_data(); }

struct ForwardPlan {
  Shape x_shape, w_shape, y_shape;
  ConvTensorDescs t;
  ConvDesc conv;
  cudnnConvolutionFwdAlgo_t algo{};
  size_t workspace_bytes = 0;
};

absl::StatusOr<std::unique_ptr<ForwardPlan>> MakeForwardPlan(const CudnnContext& cudnn,
                                                             const conv::CudnnConvDims& d) {
  const CudnnApi& api = *cudnn.api;
  auto plan = std::make_unique<ForwardPlan>();
  ONYX_RETURN_IF_ERROR(MakeConvTensorDescs(d, plan->t));
  ONYX_ASSIGN_OR_RETURN(plan->conv, MakeCheckedConvDesc(d, plan->t));
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int returned = 0;
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api.get_forward_algorithm(cudnn.handle, plan->t.x.get(), plan->t.w.get(), plan->conv.get(),
                                plan->t.y.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf),
      "cudnnGetConvolutionForwardAlgorithm_v7"));
  ONYX_ASSIGN_OR_RETURN(auto chosen,
                        PickConvAlgorithm(api, perf, returned, plan->conv.get(), "forward"));
  plan->algo = chosen.algo;
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api.forward_workspace_size(cudnn.handle, plan->t.x.get(), plan->t.w.get(), plan->conv.get(),
                                 plan->t.y.get(), plan->algo, &plan->workspace_bytes),
      "cudnnGetConvolutionForwardWorkspaceSize"));
  return plan;
}

class ConvCudaKernel final : public Kernel {
 public:
  explicit ConvCudaKernel(conv::ConvAttrs attrs) : attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* b = ctx.input(2);
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *x, "X"));
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *w, "W"));
    if (b != nullptr) ONYX_RETURN_IF_ERROR(RequireFloat(node, *b, "B"));
    ONYX_ASSIGN_OR_RETURN(const CudnnContext cudnn, CudnnFor(node, *backend));
    if (plan_ == nullptr || plan_->x_shape != x->shape() || plan_->w_shape != w->shape()) {
      plan_.reset();
      ONYX_ASSIGN_OR_RETURN(conv::ConvGeometry g,
                            conv::ResolveConv(node, attrs_, x->shape(), w->shape()));
      ONYX_ASSIGN_OR_RETURN(conv::CudnnConvDims dims, conv::MapConvToCudnn(node, g));
      auto plan = MakeForwardPlan(cudnn, dims);
      if (!plan.ok()) return AtNode(node, plan.status());
      plan_ = *std::move(plan);
      plan_->x_shape = x->shape();
      plan_->w_shape = w->shape();
      plan_->y_shape = g.OutputShape();
    }
    const int64_t m = plan_->y_shape[1];
    if (b != nullptr && b->shape() != Shape{m}) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input B has shape %s, expected [%d] (one per output channel)",
                          node.Describe(), ShapeToString(b->shape()), m));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, plan_->y_shape));
    ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, plan_->workspace_bytes));
    const CudnnApi& api = *cudnn.api;
    const float one = 1.f, zero = 0.f;
    ONYX_RETURN_IF_ERROR(AtNode(
        node, CudnnStatus(api.convolution_forward(
                              cudnn.handle, &one, plan_->t.x.get(), x->raw_data(), plan_->t.w.get(),
                              w->raw_data(), plan_->conv.get(), plan_->algo, Data(workspace),
                              plan_->workspace_bytes, &zero, plan_->t.y.get(), y->raw_data()),
                          "cudnnConvolutionForward")));
    if (b == nullptr) return absl::OkStatus();
    return AtNode(node,
                  CudnnStatus(api.add_tensor(cudnn.handle, &one, plan_->t.bias.get(), b->raw_data(),
                                             &one, plan_->t.y.get(), y->raw_data()),
                              "cudnnAddTensor"));
  }

 private:
  conv::ConvAttrs attrs_;
  std::unique_ptr<ForwardPlan> plan_;  // for the last (X, W) shapes
};

// Both backward passes of one (X, W) shape; each its own convolution
// descriptor, since the chosen algorithms may want different math types.
struct GradPlan {
  Shape x_shape, w_shape, y_shape;
  ConvTensorDescs t;  // t.y describes dY
  ConvDesc data_conv, filter_conv;
  cudnnConvolutionBwdDataAlgo_t data_algo{};
  cudnnConvolutionBwdFilterAlgo_t filter_algo{};
  size_t data_workspace = 0, filter_workspace = 0;
};

absl::StatusOr<std::unique_ptr<GradPlan>> MakeGradPlan(const CudnnContext& cudnn,
                                                       const conv::CudnnConvDims& d) {
  const CudnnApi& api = *cudnn.api;
  auto plan = std::make_unique<GradPlan>();
  ONYX_RETURN_IF_ERROR(MakeConvTensorDescs(d, plan->t));
  ONYX_ASSIGN_OR_RETURN(plan->data_conv, MakeCheckedConvDesc(d, plan->t));
  ONYX_ASSIGN_OR_RETURN(plan->filter_conv, MakeCheckedConvDesc(d, plan->t));
  const ConvTensorDescs& t = plan->t;
  cudnnConvolutionBwdDataAlgoPerf_t data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
  int returned = 0;
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api.get_backward_data_algorithm(cudnn.handle, t.w.get(), t.y.get(), plan->data_conv.get(),
                                      t.x.get(), CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned,
                                      data),
      "cudnnGetConvolutionBackwardDataAlgorithm_v7"));
  ONYX_ASSIGN_OR_RETURN(
      auto data_choice,
      PickConvAlgorithm(api, data, returned, plan->data_conv.get(), "backward-data"));
  plan->data_algo = data_choice.algo;
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api.backward_data_workspace_size(cudnn.handle, t.w.get(), t.y.get(), plan->data_conv.get(),
                                       t.x.get(), plan->data_algo, &plan->data_workspace),
      "cudnnGetConvolutionBackwardDataWorkspaceSize"));
  cudnnConvolutionBwdFilterAlgoPerf_t filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api.get_backward_filter_algorithm(cudnn.handle, t.x.get(), t.y.get(), plan->filter_conv.get(),
                                        t.w.get(), CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT,
                                        &returned, filter),
      "cudnnGetConvolutionBackwardFilterAlgorithm_v7"));
  ONYX_ASSIGN_OR_RETURN(
      auto filter_choice,
      PickConvAlgorithm(api, filter, returned, plan->filter_conv.get(), "backward-filter"));
  plan->filter_algo = filter_choice.algo;
  ONYX_RETURN_IF_ERROR(CudnnStatus(api.backward_filter_workspace_size(
                                       cudnn.handle, t.x.get(), t.y.get(), plan->filter_conv.get(),
                                       t.w.get(), plan->filter_algo, &plan->filter_workspace),
                                   "cudnnGetConvolutionBackwardFilterWorkspaceSize"));
  return plan;
}

class ConvGradCudaKernel final : public Kernel {
 public:
  explicit ConvGradCudaKernel(conv::ConvAttrs attrs) : attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *dy, "dY"));
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *x, "X"));
    ONYX_RETURN_IF_ERROR(RequireFloat(node, *w, "W"));
    ONYX_ASSIGN_OR_RETURN(const CudnnContext cudnn, CudnnFor(node, *backend));
    if (plan_ == nullptr || plan_->x_shape != x->shape() || plan_->w_shape != w->shape()) {
      plan_.reset();
      ONYX_ASSIGN_OR_RETURN(conv::ConvGeometry g,
                            conv::ResolveConv(node, attrs_, x->shape(), w->shape()));
      ONYX_ASSIGN_OR_RETURN(conv::CudnnConvDims dims, conv::MapConvToCudnn(node, g));
      auto plan = MakeGradPlan(cudnn, dims);
      if (!plan.ok()) return AtNode(node, plan.status());
      plan_ = *std::move(plan);
      plan_->x_shape = x->shape();
      plan_->w_shape = w->shape();
      plan_->y_shape = g.OutputShape();
    }
    if (dy->shape() != plan_->y_shape) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: input dY has shape %s, expected the forward output shape %s", node.Describe(),
          ShapeToString(dy->shape()), ShapeToString(plan_->y_shape)));
    }
    const CudnnApi& api = *cudnn.api;
    const float one = 1.f, zero = 0.f;
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, DataType::kFloat32, x->shape()));
      ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, plan_->data_workspace));
      ONYX_RETURN_IF_ERROR(AtNode(
          node,
          CudnnStatus(api.convolution_backward_data(
                          cudnn.handle, &one, plan_->t.w.get(), w->raw_data(), plan_->t.y.get(),
                          dy->raw_data(), plan_->data_conv.get(), plan_->data_algo, Data(workspace),
                          plan_->data_workspace, &zero, plan_->t.x.get(), dx->raw_data()),
                      "cudnnConvolutionBackwardData")));
    }
    if (ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * dw, ctx.AllocateOutput(1, DataType::kFloat32, w->shape()));
      ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, plan_->filter_workspace));
      ONYX_RETURN_IF_ERROR(
          AtNode(node, CudnnStatus(api.convolution_backward_filter(
                                       cudnn.handle, &one, plan_->t.x.get(), x->raw_data(),
                                       plan_->t.y.get(), dy->raw_data(), plan_->filter_conv.get(),
                                       plan_->filter_algo, Data(workspace), plan_->filter_workspace,
                                       &zero, plan_->t.w.get(), dw->raw_data()),
                                   "cudnnConvolutionBackwardFilter")));
    }
    if (ctx.wants_output(2)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * db,
                            ctx.AllocateOutput(2, DataType::kFloat32, {plan_->y_shape[1]}));
      ONYX_RETURN_IF_ERROR(AtNode(
          node, CudnnStatus(api.convolution_backward_bias(cudnn.handle, &one, plan_->t.y.get(),
                                                          dy->raw_data(), &zero,
                                                          plan_->t.bias.get(), db->raw_data()),
                            "cudnnConvolutionBackwardBias")));
    }
    return absl::OkStatus();
  }

 private:
  conv::ConvAttrs attrs_;
  std::unique_ptr<GradPlan> plan_;  // for the last (X, W) shapes
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeConv(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, /*transpose=*/false));
  return std::unique_ptr<Kernel>(new ConvCudaKernel(std::move(attrs)));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeConvGrad(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, /*transpose=*/false));
  return std::unique_ptr<Kernel>(new ConvGradCudaKernel(std::move(attrs)));
}

}  // namespace

void RegisterConvCudaOps(OpRegistry& registry) {
  for (int since : {1, 11, 22}) {
    registry.Register(kOnnxDomain, "Conv", since, Device::kCuda, MakeConv);
  }
  registry.Register(kOnyxDomain, "ConvGrad", 1, Device::kCuda, MakeConvGrad);
}

}  // namespace onyx::cuda
