// Conv (opset 1, 11, 22) on cuDNN, float32: 1-D (as 2-D), 2-D and 3-D, strides,
// dilations, groups, explicit or auto pads, optional bias. Descriptors, the
// algorithm and its workspace size are built once per (X, W) shape and cached;
// the workspace comes from the session's caching allocator on every run.
// What cuDNN cannot express (conv_cuda_mapping.h) and other dtypes return
// Unimplemented, so the session runs the CPU kernel instead.
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/conv/conv_cuda_mapping.h"
#include "ops/conv/conv_params.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/cuda/cudnn_descriptors.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// Largest workspace an algorithm may ask for; faster ones that want more are skipped.
constexpr size_t kMaxWorkspaceBytes = size_t{512} << 20;

absl::Status RequireFloat(const Node& node, const Tensor& t, const char* name) {
  if (t.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrFormat(
      "%s: the cuDNN Conv kernel takes float32 %s, got %s", node.Describe(), name,
      t.DebugString()));
}

// Everything that depends only on the X and W shapes.
struct ConvPlan {
  Shape x_shape, w_shape, y_shape;
  TensorDesc x, y, bias;
  FilterDesc w;
  ConvDesc conv;
  cudnnConvolutionFwdAlgo_t algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  size_t workspace_bytes = 0;
};

// cuDNN's heuristic ranking, best first: the first algorithm that works with
// FMA math (no TF32) and fits the workspace cap, else the first that fits.
absl::Status ChooseAlgorithm(const CudnnApi& api, cudnnHandle_t handle, ConvPlan& plan) {
  cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
  int returned = 0;
  ONYX_RETURN_IF_ERROR(CudnnStatus(
      api.get_forward_algorithm(handle, plan.x.get(), plan.w.get(), plan.conv.get(),
                                plan.y.get(), CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf),
      "cudnnGetConvolutionForwardAlgorithm_v7"));
  const cudnnConvolutionFwdAlgoPerf_t* chosen = nullptr;
  for (bool fma_only : {true, false}) {
    for (int i = 0; i < returned && chosen == nullptr; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxWorkspaceBytes) continue;
      if (fma_only && perf[i].mathType != CUDNN_FMA_MATH) continue;
      chosen = &perf[i];
    }
  }
  if (chosen == nullptr) {
    return absl::UnimplementedError(absl::StrFormat(
        "cuDNN offers no forward algorithm within a %d-byte workspace", kMaxWorkspaceBytes));
  }
  plan.algo = chosen->algo;
  ONYX_RETURN_IF_ERROR(CudnnStatus(api.set_conv_math(plan.conv.get(), chosen->mathType),
                                   "cudnnSetConvolutionMathType"));
  return CudnnStatus(api.forward_workspace_size(handle, plan.x.get(), plan.w.get(),
                                                plan.conv.get(), plan.y.get(), plan.algo,
                                                &plan.workspace_bytes),
                     "cudnnGetConvolutionForwardWorkspaceSize");
}

absl::StatusOr<std::unique_ptr<ConvPlan>> MakePlan(const CudnnApi& api, cudnnHandle_t handle,
                                                   const conv::CudnnConvDims& d) {
  auto plan = std::make_unique<ConvPlan>();
  ONYX_ASSIGN_OR_RETURN(plan->x, MakeTensorDesc(d.x));
  ONYX_ASSIGN_OR_RETURN(plan->y, MakeTensorDesc(d.y));
  ONYX_ASSIGN_OR_RETURN(plan->bias, MakeTensorDesc(d.bias));
  ONYX_ASSIGN_OR_RETURN(plan->w, MakeFilterDesc(d.w));
  ONYX_ASSIGN_OR_RETURN(plan->conv, MakeConvDesc(d.pads, d.strides, d.dilations, d.groups));
  ONYX_RETURN_IF_ERROR(ChooseAlgorithm(api, handle, *plan));
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
    const CudnnApi* api = cudnn.api;
    cudnnHandle_t handle = cudnn.handle;
    if (plan_ == nullptr || plan_->x_shape != x->shape() || plan_->w_shape != w->shape()) {
      plan_.reset();
      ONYX_ASSIGN_OR_RETURN(conv::ConvGeometry g,
                            conv::ResolveConv(node, attrs_, x->shape(), w->shape()));
      ONYX_ASSIGN_OR_RETURN(conv::CudnnConvDims dims, conv::MapConvToCudnn(node, g));
      auto plan = MakePlan(*api, handle, dims);
      if (!plan.ok()) return AtNode(node, plan.status());
      plan_ = *std::move(plan);
      plan_->x_shape = x->shape();
      plan_->w_shape = w->shape();
      plan_->y_shape = g.OutputShape();
    }
    const int64_t m = plan_->y_shape[1];
    if (b != nullptr && b->shape() != Shape{m}) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input B has shape %s, expected [%d] (one per output channel)", node.Describe(),
          ShapeToString(b->shape()), m));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, plan_->y_shape));
    Tensor workspace;
    if (plan_->workspace_bytes > 0) {
      ONYX_ASSIGN_OR_RETURN(workspace, backend->Allocate(
                                           DataType::kUInt8,
                                           {static_cast<int64_t>(plan_->workspace_bytes)},
                                           kDefaultMaxTensorBytes));
    }
    const float one = 1.f, zero = 0.f;
    ONYX_RETURN_IF_ERROR(AtNode(
        node, CudnnStatus(api->convolution_forward(
                              handle, &one, plan_->x.get(), x->raw_data(), plan_->w.get(),
                              w->raw_data(), plan_->conv.get(), plan_->algo,
                              workspace.empty() ? nullptr : workspace.raw_data(),
                              plan_->workspace_bytes, &zero, plan_->y.get(), y->raw_data()),
                          "cudnnConvolutionForward")));
    if (b == nullptr) return absl::OkStatus();
    return AtNode(node, CudnnStatus(api->add_tensor(handle, &one, plan_->bias.get(),
                                                    b->raw_data(), &one, plan_->y.get(),
                                                    y->raw_data()),
                                    "cudnnAddTensor"));
  }

 private:
  conv::ConvAttrs attrs_;
  std::unique_ptr<ConvPlan> plan_;  // for the last (X, W) shapes
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeConv(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, /*transpose=*/false));
  return std::unique_ptr<Kernel>(new ConvCudaKernel(std::move(attrs)));
}

}  // namespace

void RegisterConvCudaOps(OpRegistry& registry) {
  for (int since : {1, 11, 22}) {
    registry.Register(kOnnxDomain, "Conv", since, Device::kCuda, MakeConv);
  }
}

}  // namespace onyx::cuda
