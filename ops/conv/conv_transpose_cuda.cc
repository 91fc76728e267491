// ConvTranspose (opset 1, 11, 22) on cuDNN, float32: the backward-data pass of
// the convolution whose input is ConvTranspose's output (conv_cuda_mapping.h),
// then the bias. 1-D (as 2-D) to 3-D, strides, dilations, groups, pads,
// output_padding, output_shape and auto_pad as ResolveConvTranspose resolves
// them. Asymmetric pads and other dtypes return Unimplemented before the
// output is touched, so the session runs the CPU kernel.
#include <memory>
#include <utility>

#include "ops/conv/conv_cuda.h"
#include "ops/register_all.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

class ConvTransposeCudaKernel final : public Kernel {
 public:
  explicit ConvTransposeCudaKernel(conv::ConvAttrs attrs) : attrs_(std::move(attrs)) {}

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
    ONYX_RETURN_IF_ERROR(
        EnsureConvPlan(node, cudnn, attrs_, x->shape(), w->shape(), kBackwardDataPass, plan_));
    ONYX_RETURN_IF_ERROR(CheckBias(node, b, plan_->y_shape[1]));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, plan_->y_shape));
    const ConvPass<cudnnConvolutionBwdDataAlgo_t>& pass = plan_->backward_data;
    ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, pass.workspace_bytes));
    // cuDNN's view: t.y describes ConvTranspose's X, t.x its output Y.
    const float one = 1.f, zero = 0.f;
    ONYX_RETURN_IF_ERROR(AtNode(
        node, CudnnStatus(cudnn.api->convolution_backward_data(
                              cudnn.handle, &one, plan_->t.w.get(), w->raw_data(), plan_->t.y.get(),
                              x->raw_data(), pass.conv.get(), pass.algo, Data(workspace),
                              pass.workspace_bytes, &zero, plan_->t.x.get(), y->raw_data()),
                          "cudnnConvolutionBackwardData")));
    if (b == nullptr) return absl::OkStatus();
    return AddBias(node, cudnn, *plan_, plan_->t.x, *b, *y);
  }

 private:
  conv::ConvAttrs attrs_;
  std::unique_ptr<ConvPlan> plan_;  // for the last (X, W) shapes
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeConvTranspose(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, /*transpose=*/true));
  return std::unique_ptr<Kernel>(new ConvTransposeCudaKernel(std::move(attrs)));
}

}  // namespace

void RegisterConvTransposeCudaOps(OpRegistry& registry) {
  for (int since : {1, 11, 22}) {
    registry.Register(kOnnxDomain, "ConvTranspose", since, Device::kCuda, MakeConvTranspose);
  }
}

}  // namespace onyx::cuda
