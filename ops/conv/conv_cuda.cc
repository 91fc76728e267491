// Conv (opset 1, 11, 22) and com.onyx ConvGrad (dY, X, W) -> (dX, dW, dB) on
// cuDNN, float32: 1-D (as 2-D), 2-D and 3-D, strides, dilations, groups,
// explicit or auto pads, optional bias. Plans (descriptors, algorithms,
// workspace sizes, conv_cuda.h) are built once per (X, W) shape and cached;
// workspaces come from the session's caching allocator on every run. What
// cuDNN cannot express (conv_cuda_mapping.h) and other dtypes return
// Unimplemented, so the session runs the CPU kernel instead.
#include "ops/conv/conv_cuda.h"

#include <memory>
#include <utility>

#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

class ConvCudaKernel final : public ConvCudaKernelBase {
 public:
  using ConvCudaKernelBase::ConvCudaKernelBase;

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const ConvRun run, StartConvRun(ctx, attrs_, kForwardPass, plan_));
    const auto& [backend, x, w, b, cudnn, y] = run;
    const ConvPass<cudnnConvolutionFwdAlgo_t>& pass = plan_->forward;
    ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, pass.workspace_bytes));
    const float one = 1.f, zero = 0.f;
    ONYX_RETURN_IF_ERROR(AtNode(
        node, CudnnStatus(cudnn.api->convolution_forward(
                              cudnn.handle, &one, plan_->t.x.get(), x->raw_data(), plan_->t.w.get(),
                              w->raw_data(), pass.conv.get(), pass.algo, Data(workspace),
                              pass.workspace_bytes, &zero, plan_->t.y.get(), y->raw_data()),
                          "cudnnConvolutionForward")));
    if (b == nullptr) return absl::OkStatus();
    return AddBias(node, cudnn, *plan_, plan_->t.y, *b, *y);
  }
};

class ConvGradCudaKernel final : public ConvCudaKernelBase {
 public:
  using ConvCudaKernelBase::ConvCudaKernelBase;

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
    ONYX_RETURN_IF_ERROR(EnsureConvPlan(node, cudnn, attrs_, x->shape(), w->shape(),
                                        kBackwardDataPass | kBackwardFilterPass, plan_));
    if (dy->shape() != plan_->y_shape) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: input dY has shape %s, expected the forward output shape %s", node.Describe(),
          ShapeToString(dy->shape()), ShapeToString(plan_->y_shape)));
    }
    const CudnnApi& api = *cudnn.api;
    const float one = 1.f, zero = 0.f;
    if (ctx.wants_output(0)) {
      const ConvPass<cudnnConvolutionBwdDataAlgo_t>& pass = plan_->backward_data;
      ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, DataType::kFloat32, x->shape()));
      ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, pass.workspace_bytes));
      ONYX_RETURN_IF_ERROR(AtNode(
          node,
          CudnnStatus(api.convolution_backward_data(
                          cudnn.handle, &one, plan_->t.w.get(), w->raw_data(), plan_->t.y.get(),
                          dy->raw_data(), pass.conv.get(), pass.algo, Data(workspace),
                          pass.workspace_bytes, &zero, plan_->t.x.get(), dx->raw_data()),
                      "cudnnConvolutionBackwardData")));
    }
    if (ctx.wants_output(1)) {
      const ConvPass<cudnnConvolutionBwdFilterAlgo_t>& pass = plan_->backward_filter;
      ONYX_ASSIGN_OR_RETURN(Tensor * dw, ctx.AllocateOutput(1, DataType::kFloat32, w->shape()));
      ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, pass.workspace_bytes));
      ONYX_RETURN_IF_ERROR(AtNode(
          node,
          CudnnStatus(api.convolution_backward_filter(
                          cudnn.handle, &one, plan_->t.x.get(), x->raw_data(), plan_->t.y.get(),
                          dy->raw_data(), pass.conv.get(), pass.algo, Data(workspace),
                          pass.workspace_bytes, &zero, plan_->t.w.get(), dw->raw_data()),
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
};

}  // namespace

void RegisterConvCudaOps(OpRegistry& registry) {
  for (int since : {1, 11, 22}) {
    registry.Register(kOnnxDomain, "Conv", since, Device::kCuda,
                      MakeConvKernel<ConvCudaKernel, /*kTranspose=*/false>);
  }
  registry.Register(kOnyxDomain, "ConvGrad", 1, Device::kCuda,
                    MakeConvKernel<ConvGradCudaKernel, /*kTranspose=*/false>);
  RegisterConvTransposeCudaOps(registry);
}

}  // namespace onyx::cuda
