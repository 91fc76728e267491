// ConvTranspose (opset 1, 11, 22) on cuDNN, float32: the backward-data pass of
// the convolution whose input is ConvTranspose's output (conv_cuda_mapping.h),
// then the bias. 1-D (as 2-D) to 3-D, strides, dilations, groups, pads,
// output_padding, output_shape and auto_pad as ResolveConvTranspose resolves
// them. Where cuDNN's symmetric pads cannot give Y's extent directly (uneven
// pads, SAME_UPPER with an odd total, a large output_shape) it runs into a
// scratch buffer and Y gets its leading block (CopyLeadingBlock). What the
// mapping refuses and other dtypes return Unimplemented before the output is
// touched, so the session runs the CPU kernel.
#include "ops/conv/conv_transpose_cuda.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ops/conv/conv_cuda.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

class ConvTransposeCudaKernel final : public ConvCudaKernelBase {
 public:
  using ConvCudaKernelBase::ConvCudaKernelBase;

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const ConvRun run, StartConvRun(ctx, attrs_, kBackwardDataPass, plan_));
    const auto& [backend, x, w, b, cudnn, y] = run;
    const std::optional<BlockCopyDims> copy = ScratchCopy(*plan_);
    Tensor scratch;
    if (copy.has_value()) {
      ONYX_ASSIGN_OR_RETURN(
          scratch,
          backend->Allocate(DataType::kFloat32, Shape(plan_->cudnn_x.begin(), plan_->cudnn_x.end()),
                            kDefaultMaxTensorBytes));
    }
    Tensor& result = copy.has_value() ? scratch : *y;
    const ConvPass<cudnnConvolutionBwdDataAlgo_t>& pass = plan_->backward_data;
    ONYX_ASSIGN_OR_RETURN(Tensor workspace, Workspace(*backend, pass.workspace_bytes));
    // cuDNN's view: t.y describes ConvTranspose's X, t.x its output Y (or the scratch).
    const float one = 1.f, zero = 0.f;
    ONYX_RETURN_IF_ERROR(AtNode(
        node, CudnnStatus(cudnn.api->convolution_backward_data(
                              cudnn.handle, &one, plan_->t.w.get(), w->raw_data(), plan_->t.y.get(),
                              x->raw_data(), pass.conv.get(), pass.algo, Data(workspace),
                              pass.workspace_bytes, &zero, plan_->t.x.get(), result.raw_data()),
                          "cudnnConvolutionBackwardData")));
    if (copy.has_value()) {
      ONYX_RETURN_IF_ERROR(
          AtNode(node, CudaStatus(CopyLeadingBlock(*copy, scratch.data<float>(), y->data<float>(),
                                                   backend->stream()),
                                  "CopyLeadingBlock")));
      if (b == nullptr) return absl::OkStatus();
      if (y_desc_ == nullptr || y_desc_shape_ != plan_->y_shape) {
        y_desc_.reset();
        ONYX_ASSIGN_OR_RETURN(y_desc_, MakeTensorDesc(CudnnDims(plan_->y_shape)));
        y_desc_shape_ = plan_->y_shape;
      }
      return AddBias(node, cudnn, *plan_, y_desc_, *b, *y);
    }
    if (b == nullptr) return absl::OkStatus();
    return AddBias(node, cudnn, *plan_, plan_->t.x, *b, *y);
  }

 private:
  // Y's shape as a cuDNN tensor (1-D gets the leading unit axis).
  static std::vector<int> CudnnDims(const Shape& y) {
    std::vector<int> d(y.begin(), y.end());
    if (d.size() == 3) d.insert(d.begin() + 2, 1);
    return d;
  }

  // The copy from the scratch into Y when cuDNN's input dims are not Y's.
  static std::optional<BlockCopyDims> ScratchCopy(const ConvPlan& plan) {
    const std::vector<int> y = CudnnDims(plan.y_shape);
    if (y == plan.cudnn_x) return std::nullopt;
    BlockCopyDims d;
    d.planes = int64_t{y[0]} * y[1];
    const size_t offset = 5 - y.size();  // right-align the spatial dims into 3 slots
    for (size_t k = 2; k < y.size(); ++k) {
      d.src[offset + k - 2] = plan.cudnn_x[k];
      d.dst[offset + k - 2] = y[k];
    }
    return d;
  }

  TensorDesc y_desc_;  // Y when it is not cuDNN's t.x (for the bias), of shape y_desc_shape_
  Shape y_desc_shape_;
};

}  // namespace

void RegisterConvTransposeCudaOps(OpRegistry& registry) {
  for (int since : {1, 11, 22}) {
    registry.Register(kOnnxDomain, "ConvTranspose", since, Device::kCuda,
                      MakeConvKernel<ConvTransposeCudaKernel, /*kTranspose=*/true>);
  }
}

}  // namespace onyx::cuda
