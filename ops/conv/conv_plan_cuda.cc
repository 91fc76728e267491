// The cuDNN convolution plans of conv_cuda.h: descriptors, the algorithm of
// each pass and its workspace, written once for the three passes through a
// small traits struct per pass.
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/conv/conv_cuda.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// From cuDNN's heuristic ranking (best first, `returned` entries of `perf`): the
// first algorithm that works with FMA math and fits the workspace cap, else the
// first that fits. Sets `conv`'s math type to the chosen one; Unimplemented if none.
template <typename Perf>
absl::StatusOr<Perf> PickConvAlgorithm(const CudnnApi& api, const Perf* perf, int returned,
                                       cudnnConvolutionDescriptor_t conv, const char* pass) {
  for (bool fma_only : {true, false}) {
    for (int i = 0; i < returned; ++i) {
      if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > kMaxConvWorkspaceBytes) {
        continue;
      }
      if (fma_only && perf[i].mathType != CUDNN_FMA_MATH) continue;
      ONYX_RETURN_IF_ERROR(
          CudnnStatus(api.set_conv_math(conv, perf[i].mathType), "cudnnSetConvolutionMathType"));
      return perf[i];
    }
  }
  return absl::UnimplementedError(absl::StrFormat(
      "cuDNN offers no %s algorithm within a %d-byte workspace", pass, kMaxConvWorkspaceBytes));
}

// The cuDNN calls that rank the algorithms of one pass and size its workspace.
struct ForwardPass {
  using Algo = cudnnConvolutionFwdAlgo_t;
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
  static constexpr const char* kName = "forward";
  static absl::Status Rank(const CudnnContext& c, const ConvTensorDescs& t,
                           cudnnConvolutionDescriptor_t conv, Perf* perf, int* returned) {
    return CudnnStatus(c.api->get_forward_algorithm(c.handle, t.x.get(), t.w.get(), conv, t.y.get(),
                                                    kCount, returned, perf),
                       "cudnnGetConvolutionForwardAlgorithm_v7");
  }
  static absl::Status Size(const CudnnContext& c, const ConvTensorDescs& t,
                           cudnnConvolutionDescriptor_t conv, Algo algo, size_t* bytes) {
    return CudnnStatus(
        c.api->forward_workspace_size(c.handle, t.x.get(), t.w.get(), conv, t.y.get(), algo, bytes),
        "cudnnGetConvolutionForwardWorkspaceSize");
  }
};

struct BackwardDataPass {
  using Algo = cudnnConvolutionBwdDataAlgo_t;
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  static constexpr const char* kName = "backward-data";
  static absl::Status Rank(const CudnnContext& c, const ConvTensorDescs& t,
                           cudnnConvolutionDescriptor_t conv, Perf* perf, int* returned) {
    return CudnnStatus(c.api->get_backward_data_algorithm(c.handle, t.w.get(), t.y.get(), conv,
                                                          t.x.get(), kCount, returned, perf),
                       "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  }
  static absl::Status Size(const CudnnContext& c, const ConvTensorDescs& t,
                           cudnnConvolutionDescriptor_t conv, Algo algo, size_t* bytes) {
    return CudnnStatus(c.api->backward_data_workspace_size(c.handle, t.w.get(), t.y.get(), conv,
                                                           t.x.get(), algo, bytes),
                       "cudnnGetConvolutionBackwardDataWorkspaceSize");
  }
};

struct BackwardFilterPass {
  using Algo = cudnnConvolutionBwdFilterAlgo_t;
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static constexpr int kCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  static constexpr const char* kName = "backward-filter";
  static absl::Status Rank(const CudnnContext& c, const ConvTensorDescs& t,
                           cudnnConvolutionDescriptor_t conv, Perf* perf, int* returned) {
    return CudnnStatus(c.api->get_backward_filter_algorithm(c.handle, t.x.get(), t.y.get(), conv,
                                                            t.w.get(), kCount, returned, perf),
                       "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  }
  static absl::Status Size(const CudnnContext& c, const ConvTensorDescs& t,
                           cudnnConvolutionDescriptor_t conv, Algo algo, size_t* bytes) {
    return CudnnStatus(c.api->backward_filter_workspace_size(c.handle, t.x.get(), t.y.get(), conv,
                                                             t.w.get(), algo, bytes),
                       "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  }
};

template <typename Pass>
absl::Status PlanPass(const CudnnContext& cudnn, const conv::CudnnConvDims& d,
                      const ConvTensorDescs& t, ConvPass<typename Pass::Algo>& pass) {
  ONYX_ASSIGN_OR_RETURN(pass.conv, MakeCheckedConvDesc(d, t));
  typename Pass::Perf perf[Pass::kCount];
  int returned = 0;
  ONYX_RETURN_IF_ERROR(Pass::Rank(cudnn, t, pass.conv.get(), perf, &returned));
  ONYX_ASSIGN_OR_RETURN(
      auto chosen, PickConvAlgorithm(*cudnn.api, perf, returned, pass.conv.get(), Pass::kName));
  pass.algo = chosen.algo;
  return Pass::Size(cudnn, t, pass.conv.get(), pass.algo, &pass.workspace_bytes);
}

absl::Status MakeConvPlan(const CudnnContext& cudnn, const conv::CudnnConvDims& d, unsigned passes,
                          ConvPlan& plan) {
  ONYX_RETURN_IF_ERROR(MakeConvTensorDescs(d, plan.t));
  if (passes & kForwardPass) {
    ONYX_RETURN_IF_ERROR(PlanPass<ForwardPass>(cudnn, d, plan.t, plan.forward));
  }
  if (passes & kBackwardDataPass) {
    ONYX_RETURN_IF_ERROR(PlanPass<BackwardDataPass>(cudnn, d, plan.t, plan.backward_data));
  }
  if (passes & kBackwardFilterPass) {
    ONYX_RETURN_IF_ERROR(PlanPass<BackwardFilterPass>(cudnn, d, plan.t, plan.backward_filter));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeConvTensorDescs(const conv::CudnnConvDims& d, ConvTensorDescs& descs) {
  ONYX_ASSIGN_OR_RETURN(descs.x, MakeTensorDesc(d.x));
  ONYX_ASSIGN_OR_RETURN(descs.y, MakeTensorDesc(d.y));
  ONYX_ASSIGN_OR_RETURN(descs.bias, MakeTensorDesc(d.bias));
  ONYX_ASSIGN_OR_RETURN(descs.w, MakeFilterDesc(d.w));
  return absl::OkStatus();
}

absl::StatusOr<ConvDesc> MakeCheckedConvDesc(const conv::CudnnConvDims& d,
                                             const ConvTensorDescs& descs) {
  ONYX_ASSIGN_OR_RETURN(ConvDesc conv, MakeConvDesc(d.pads, d.strides, d.dilations, d.groups));
  ONYX_ASSIGN_OR_RETURN(std::vector<int> out,
                        ConvOutputDims(conv, descs.x, descs.w, static_cast<int>(d.y.size())));
  ONYX_RETURN_IF_ERROR(CheckOutputDims(out, d.y));
  return conv;
}

absl::Status EnsureConvPlan(const Node& node, const CudnnContext& cudnn,
                            const conv::ConvAttrs& attrs, const Shape& x, const Shape& w,
                            unsigned passes, std::unique_ptr<ConvPlan>& plan) {
  if (plan != nullptr && plan->x_shape == x && plan->w_shape == w) return absl::OkStatus();
  plan.reset();
  conv::ConvGeometry g;
  conv::CudnnConvDims dims;
  if (attrs.transpose) {
    ONYX_ASSIGN_OR_RETURN(g, conv::ResolveConvTranspose(node, attrs, x, w));
    ONYX_ASSIGN_OR_RETURN(dims, conv::MapConvTransposeToCudnn(node, g));
  } else {
    ONYX_ASSIGN_OR_RETURN(g, conv::ResolveConv(node, attrs, x, w));
    ONYX_ASSIGN_OR_RETURN(dims, conv::MapConvToCudnn(node, g));
  }
  auto made = std::make_unique<ConvPlan>();
  ONYX_RETURN_IF_ERROR(AtNode(node, MakeConvPlan(cudnn, dims, passes, *made)));
  made->x_shape = x;
  made->w_shape = w;
  made->y_shape = g.OutputShape();
  made->cudnn_x = dims.x;
  plan = std::move(made);
  return absl::OkStatus();
}

absl::StatusOr<ConvRun> StartConvRun(KernelContext& ctx, const conv::ConvAttrs& attrs,
                                     unsigned passes, std::unique_ptr<ConvPlan>& plan) {
  const Node& node = ctx.node();
  ConvRun run;
  ONYX_ASSIGN_OR_RETURN(run.backend, BackendOf(ctx));
  ONYX_ASSIGN_OR_RETURN(run.x, ctx.RequiredInput(0));
  ONYX_ASSIGN_OR_RETURN(run.w, ctx.RequiredInput(1));
  run.b = ctx.input(2);
  ONYX_RETURN_IF_ERROR(RequireFloat(node, *run.x, "X"));
  ONYX_RETURN_IF_ERROR(RequireFloat(node, *run.w, "W"));
  if (run.b != nullptr) ONYX_RETURN_IF_ERROR(RequireFloat(node, *run.b, "B"));
  ONYX_ASSIGN_OR_RETURN(run.cudnn, CudnnFor(node, *run.backend));
  ONYX_RETURN_IF_ERROR(
      EnsureConvPlan(node, run.cudnn, attrs, run.x->shape(), run.w->shape(), passes, plan));
  ONYX_RETURN_IF_ERROR(CheckBias(node, run.b, plan->y_shape[1]));
  ONYX_ASSIGN_OR_RETURN(run.y, ctx.AllocateOutput(0, DataType::kFloat32, plan->y_shape));
  return run;
}

absl::Status RequireFloat(const Node& node, const Tensor& t, const char* name) {
  if (t.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrFormat("%s: the cuDNN %s kernel takes float32 %s, got %s", node.Describe(),
                      node.op_type, name, t.DebugString()));
}

absl::StatusOr<Tensor> Workspace(CudaBackend& backend, size_t bytes) {
  if (bytes == 0) return Tensor();
  return backend.Allocate(DataType::kUInt8, {static_cast<int64_t>(bytes)}, kDefaultMaxTensorBytes);
}

absl::Status CheckBias(const Node& node, const Tensor* b, int64_t channels) {
  if (b == nullptr || b->shape() == Shape{channels}) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrFormat("%s: input B has shape %s, expected [%d] (one per output channel)",
                      node.Describe(), ShapeToString(b->shape()), channels));
}

absl::Status AddBias(const Node& node, const CudnnContext& cudnn, const ConvPlan& plan,
                     const TensorDesc& y_desc, const Tensor& b, Tensor& y) {
  const float one = 1.f;
  return AtNode(
      node, CudnnStatus(cudnn.api->add_tensor(cudnn.handle, &one, plan.t.bias.get(), b.raw_data(),
                                              &one, y_desc.get(), y.raw_data()),
                        "cudnnAddTensor"));
}

}  // namespace onyx::cuda
